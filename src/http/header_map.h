// HeaderMap: the header fields of one HTTP message, in arrival order, with
// names stored lower-case (HTTP/2 requires it and it makes lookups cheap).
// Requests carry the pseudo-headers :method, :path, :authority and :scheme and
// responses carry :status, as in HTTP/2, so routers and filters see one shape
// whatever the codec. The headers every request consults (framing,
// connection, pseudo-headers) are indexed, so those lookups never scan.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace remora::http {

enum class Known : uint8_t {
  kMethod,
  kPath,
  kAuthority,
  kScheme,
  kStatus,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kUpgrade,
  kExpect,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kDate,
  kServer,
  kContentType,
  kUserAgent,
  kXRequestId,
  kXForwardedFor,
  kXForwardedProto,
  kCount,
};

// The lower-case name of a known header, e.g. "content-length".
std::string_view knownName(Known h);
// The known header whose lower-case name is `lower_name`, or kCount.
Known knownFromName(std::string_view lower_name);

// ASCII case-insensitive equality, for header names and tokens.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

class HeaderMap {
 public:
  struct Entry {
    std::string name;  // lower-case
    std::string value;
    Known known = Known::kCount;  // knownFromName(name), computed once
    // Came from the HTTP/1 parser, which refuses every byte an encoder must
    // not write (CR, LF, NUL, separators in names): no need to check again.
    bool parsed = false;
  };

  HeaderMap() { index_.fill(kAbsent); }

  // Appends a field; `name` is lower-cased. Repeated names are kept as
  // separate entries, in order.
  void add(std::string_view name, std::string_view value);
  // add() for a field the parser validated (see Entry::parsed).
  void addParsed(std::string_view name, std::string_view value);
  // Replaces every field called `name` by one field with `value` (kept at the
  // position of the first, or appended).
  void set(std::string_view name, std::string_view value);
  // Removes every field called `name`; returns how many were removed.
  size_t remove(std::string_view name);
  size_t remove(Known h) { return has(h) ? remove(knownName(h)) : 0; }
  // Removes every field for which `pred(entry)` is true, in one pass.
  template <typename Pred>
  size_t removeIf(Pred pred) {
    size_t w = 0;
    for (size_t r = 0; r < entries_.size(); ++r) {
      if (pred(static_cast<const Entry&>(entries_[r]))) {
        byte_size_ -= entries_[r].name.size() + entries_[r].value.size();
        continue;
      }
      if (w != r) entries_[w] = std::move(entries_[r]);
      ++w;
    }
    size_t removed = entries_.size() - w;
    if (removed > 0) {
      entries_.resize(w);
      reindex();
    }
    return removed;
  }
  // set() for a known header, without comparing names.
  void set(Known h, std::string_view value);
  void reserve(size_t n) { entries_.reserve(n); }
  // Removes every field but keeps the memory of their strings, which later
  // add() calls reuse: a recycled map (newHeaderMap) then fills without
  // allocating.
  void clear();
  // Heap bytes the map holds (entries and string buffers, used or spare).
  size_t retainedBytes() const;

  // The first value of `name`, or nullptr.
  const std::string* get(std::string_view name) const;
  const std::string* get(Known h) const {
    int16_t i = index_[static_cast<size_t>(h)];
    return i == kAbsent ? nullptr : &entries_[static_cast<size_t>(i)].value;
  }
  bool has(Known h) const { return index_[static_cast<size_t>(h)] != kAbsent; }
  // The value of `h`, or "" when absent.
  std::string_view value(Known h) const {
    const std::string* v = get(h);
    return v ? std::string_view(*v) : std::string_view();
  }
  // Every value of `name` joined with ", " (the list form of RFC 9110 5.3).
  std::string getJoined(std::string_view name) const;
  // Whether the comma-separated list in the fields called `name` holds
  // `token` (case-insensitive), e.g. hasToken("connection", "close").
  bool hasToken(std::string_view name, std::string_view token) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }
  // Sum of name and value lengths, as HTTP/2 and limits count them.
  size_t byteSize() const { return byte_size_; }

  // "name: value\n" per field, for tests and logs.
  std::string toString() const;
  bool operator==(const HeaderMap& other) const;

  // Well-known accessors.
  std::string_view method() const { return value(Known::kMethod); }
  std::string_view path() const { return value(Known::kPath); }
  std::string_view authority() const { return value(Known::kAuthority); }
  std::string_view scheme() const { return value(Known::kScheme); }
  std::string_view status() const { return value(Known::kStatus); }

 private:
  static constexpr int16_t kAbsent = -1;
  void reindex();

  std::vector<Entry> entries_;
  // Cleared entries whose string buffers add() reuses.
  std::vector<Entry> spare_;
  std::array<int16_t, static_cast<size_t>(Known::kCount)> index_;
  size_t byte_size_ = 0;
};

// Every request and response needs a map or two; on the request path their
// allocations (the map, its vector, its longer strings) were most of the
// proxy's mallocs. Maps therefore go back to a small per-thread free list when
// released and come out cleared from newHeaderMap().
struct HeaderMapRecycler {
  void operator()(HeaderMap* map) const;
};
using HeaderMapPtr = std::unique_ptr<HeaderMap, HeaderMapRecycler>;

// An empty map: one from this thread's free list, or a new one.
HeaderMapPtr newHeaderMap();

}  // namespace remora::http
