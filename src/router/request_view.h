// What the route table needs from a request, and what it needs to change one.
// The router sits below the HTTP codec in nothing but this file: the connection
// manager adapts its header map to these small interfaces, remoractl adapts a
// request described on the command line (simple_request.h), and neither side
// includes the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace remora::router {

// The values of one header in arrival order. Most headers appear once, so a
// few values live inline and the request path does not allocate for them.
class HeaderValues {
 public:
  void add(std::string_view value) {
    if (size_ < kInline) {
      inline_[size_] = value;
    } else {
      overflow_.push_back(value);
    }
    ++size_;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const {
    return i < kInline ? inline_[i] : overflow_[i - kInline];
  }
  void clear() {
    size_ = 0;
    overflow_.clear();
  }

 private:
  static constexpr size_t kInline = 4;
  std::string_view inline_[kInline];
  std::vector<std::string_view> overflow_;
  size_t size_ = 0;
};

// A read-only view of a request's head. Views handed out stay valid for as
// long as the request is not modified.
class RequestView {
 public:
  virtual ~RequestView() = default;
  virtual std::string_view method() const = 0;
  // The request target as received, query included: "/a/b?x=1".
  virtual std::string_view path() const = 0;
  // Host (HTTP/1.1) or :authority (HTTP/2) as received, port included if sent.
  virtual std::string_view authority() const = 0;
  // "http" or "https" as the connection manager settled it (x-forwarded-proto),
  // used for redirects and require_tls.
  virtual std::string_view scheme() const = 0;
  // Appends every value of the regular header `lowercase_name` to `out`, in
  // arrival order; appends nothing when the header is absent. Pseudo-headers
  // (":method", ":path", ":authority", ":scheme") are answered by the router
  // from the accessors above and never asked for here.
  virtual void headerValues(std::string_view lowercase_name, HeaderValues& out) const = 0;
};

// Write access for request/response header mutations. Names are lowercase.
class HeaderMutator {
 public:
  virtual ~HeaderMutator() = default;
  virtual bool has(std::string_view name) const = 0;
  // Adds one more entry, keeping existing ones.
  virtual void append(std::string_view name, std::string_view value) = 0;
  // Replaces every existing entry with a single one.
  virtual void set(std::string_view name, std::string_view value) = 0;
  virtual void remove(std::string_view name) = 0;
};

// Where weighted cluster selection draws from. Injected so that tests (and
// remoractl explain with --seed) are deterministic; the proxy passes its
// per-worker generator.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t next() = 0;
};

}  // namespace remora::router
