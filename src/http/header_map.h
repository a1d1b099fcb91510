// HeaderMap: the header fields of one HTTP message, in arrival order, with
// names stored lower-case (HTTP/2 requires it and it makes lookups cheap).
// Requests carry the pseudo-headers :method, :path, :authority and :scheme and
// responses carry :status, as in HTTP/2, so routers and filters see one shape
// whatever the codec. The headers every request consults (framing,
// connection, pseudo-headers) are indexed, so those lookups never scan.
//
// Names and values live in one character buffer per map and entries are views
// into it: adding a field is one copy into that buffer and a small POD pushed
// on a vector, and clearing a map keeps both for the next message. (Per-field
// std::strings cost ~400 instructions per add: most of a proxy hop's header
// work.) The buffer only grows while a message is built; bytes of values that
// set() replaced stay unused until clear().
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
  kXEnvoyExpectedRqTimeoutMs,
  kXEnvoyUpstreamServiceTime,
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
  // Views into the map: valid until the map is next changed.
  struct Entry {
    std::string_view name;  // lower-case
    std::string_view value;
    Known known = Known::kCount;  // knownFromName(name), computed once
    // Came from the HTTP/1 parser, which refuses every byte an encoder must
    // not write (CR, LF, NUL, separators in names): no need to check again.
    bool parsed = false;
  };

  HeaderMap() { index_.fill(kAbsent); }
  HeaderMap(const HeaderMap& other);
  HeaderMap& operator=(const HeaderMap& other);
  HeaderMap(HeaderMap&& other) noexcept;
  HeaderMap& operator=(HeaderMap&& other) noexcept;
  ~HeaderMap() = default;

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
      if (w != r) entries_[w] = entries_[r];
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
  // Removes every field but keeps the memory (entries and characters), which
  // later add() calls reuse: a recycled map (newHeaderMap) then fills without
  // allocating.
  void clear();
  // Heap bytes the map holds (entries and character buffer, used or not).
  size_t retainedBytes() const;

  // The first value of `name`, or nullptr.
  const std::string_view* get(std::string_view name) const;
  const std::string_view* get(Known h) const {
    int16_t i = index_[static_cast<size_t>(h)];
    return i == kAbsent ? nullptr : &entries_[static_cast<size_t>(i)].value;
  }
  bool has(Known h) const { return index_[static_cast<size_t>(h)] != kAbsent; }
  // The value of `h`, or "" when absent.
  std::string_view value(Known h) const {
    const std::string_view* v = get(h);
    return v ? *v : std::string_view();
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
  // Grows the buffer to take `n` more characters: the entries move onto the
  // new one, and the old one is returned, to be freed only after the caller
  // copied arguments that may view it.
  std::unique_ptr<char[]> reserveChars(size_t n);
  // Always a buffer, even for empty fields, so that every view points into
  // it and moves with it.
  bool hasRoom(size_t n) const { return chars_ && chars_capacity_ - chars_used_ >= n; }
  // Copies `value` into the buffer (it may view the buffer itself).
  std::string_view storeValue(std::string_view value);
  void replaceValue(size_t i, std::string_view value);
  void copyFrom(const HeaderMap& other);

  std::vector<Entry> entries_;
  std::unique_ptr<char[]> chars_;
  size_t chars_used_ = 0;
  size_t chars_capacity_ = 0;
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
