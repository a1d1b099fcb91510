#include "http/header_map.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "http/word_scan.h"

namespace remora::http {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Known::kCount)> kNames = {
    ":method",
    ":path",
    ":authority",
    ":scheme",
    ":status",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "expect",
    "keep-alive",
    "proxy-connection",
    "te",
    "date",
    "server",
    "content-type",
    "user-agent",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-upstream-service-time",
};

}  // namespace

std::string_view knownName(Known h) {
  return kNames[static_cast<size_t>(h)];
}

Known knownFromName(std::string_view n) {
  // Dispatch on length first: most names miss after one integer compare.
  switch (n.size()) {
    case 2:
      return n == "te" ? Known::kTe : Known::kCount;
    case 4:
      if (n == "host") return Known::kHost;
      if (n == "date") return Known::kDate;
      return Known::kCount;
    case 5:
      return n == ":path" ? Known::kPath : Known::kCount;
    case 6:
      if (n == "expect") return Known::kExpect;
      if (n == "server") return Known::kServer;
      return Known::kCount;
    case 7:
      if (n == ":method") return Known::kMethod;
      if (n == ":scheme") return Known::kScheme;
      if (n == ":status") return Known::kStatus;
      if (n == "upgrade") return Known::kUpgrade;
      return Known::kCount;
    case 10:
      if (n == ":authority") return Known::kAuthority;
      if (n == "connection") return Known::kConnection;
      if (n == "keep-alive") return Known::kKeepAlive;
      if (n == "user-agent") return Known::kUserAgent;
      return Known::kCount;
    case 12:
      if (n == "content-type") return Known::kContentType;
      if (n == "x-request-id") return Known::kXRequestId;
      return Known::kCount;
    case 15:
      return n == "x-forwarded-for" ? Known::kXForwardedFor : Known::kCount;
    case 14:
      return n == "content-length" ? Known::kContentLength : Known::kCount;
    case 16:
      return n == "proxy-connection" ? Known::kProxyConnection : Known::kCount;
    case 17:
      if (n == "transfer-encoding") return Known::kTransferEncoding;
      if (n == "x-forwarded-proto") return Known::kXForwardedProto;
      return Known::kCount;
    case 29:
      return n == "x-envoy-upstream-service-time" ? Known::kXEnvoyUpstreamServiceTime
                                                  : Known::kCount;
    case 30:
      return n == "x-envoy-expected-rq-timeout-ms" ? Known::kXEnvoyExpectedRqTimeoutMs
                                                   : Known::kCount;
    default:
      return Known::kCount;
  }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return word::equalsIgnoreCase(a, b);
}

HeaderMap::HeaderMap(const HeaderMap& other) {
  index_.fill(kAbsent);
  copyFrom(other);
}

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this != &other) {
    clear();
    copyFrom(other);
  }
  return *this;
}

// Moving the buffer does not move its characters: the entries stay valid.
HeaderMap::HeaderMap(HeaderMap&& other) noexcept
    : entries_(std::move(other.entries_)),
      chars_(std::move(other.chars_)),
      chars_used_(std::exchange(other.chars_used_, 0)),
      chars_capacity_(std::exchange(other.chars_capacity_, 0)),
      index_(other.index_),
      byte_size_(std::exchange(other.byte_size_, 0)) {
  other.entries_.clear();
  other.index_.fill(kAbsent);
}

HeaderMap& HeaderMap::operator=(HeaderMap&& other) noexcept {
  if (this != &other) {
    entries_ = std::move(other.entries_);
    chars_ = std::move(other.chars_);
    chars_used_ = std::exchange(other.chars_used_, 0);
    chars_capacity_ = std::exchange(other.chars_capacity_, 0);
    index_ = other.index_;
    byte_size_ = std::exchange(other.byte_size_, 0);
    other.entries_.clear();
    other.index_.fill(kAbsent);
  }
  return *this;
}

void HeaderMap::copyFrom(const HeaderMap& other) {
  entries_.reserve(other.entries_.size());
  for (const Entry& e : other.entries_) {
    add(e.name, e.value);
    entries_.back().parsed = e.parsed;
  }
}

std::unique_ptr<char[]> HeaderMap::reserveChars(size_t n) {
  size_t capacity = std::max({chars_capacity_ * 2, chars_used_ + n, size_t{256}});
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  if (chars_used_ > 0) std::memcpy(grown.get(), chars_.get(), chars_used_);
  const char* old_base = chars_.get();
  auto rebase = [&](std::string_view v) {
    return std::string_view(grown.get() + (v.data() - old_base), v.size());
  };
  for (Entry& e : entries_) {
    e.name = rebase(e.name);
    e.value = rebase(e.value);
  }
  chars_capacity_ = capacity;
  std::swap(chars_, grown);
  return grown;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  size_t n = name.size() + value.size();
  std::unique_ptr<char[]> old_chars;  // keeps name and value valid if they view it
  if (!hasRoom(n)) [[unlikely]]
    old_chars = reserveChars(n);
  char* out = chars_.get() + chars_used_;
  word::copyLowercase(out, name);
  if (!value.empty()) std::memcpy(out + name.size(), value.data(), value.size());
  chars_used_ += n;
  Entry& e = entries_.emplace_back();
  e.name = std::string_view(out, name.size());
  e.value = std::string_view(out + name.size(), value.size());
  e.known = knownFromName(e.name);
  if (e.known != Known::kCount && index_[static_cast<size_t>(e.known)] == kAbsent &&
      entries_.size() <= static_cast<size_t>(std::numeric_limits<int16_t>::max())) {
    index_[static_cast<size_t>(e.known)] = static_cast<int16_t>(entries_.size() - 1);
  }
  byte_size_ += n;
}

std::string_view HeaderMap::storeValue(std::string_view value) {
  std::unique_ptr<char[]> old_chars;
  if (!hasRoom(value.size())) old_chars = reserveChars(value.size());
  char* out = chars_.get() + chars_used_;
  if (!value.empty()) std::memcpy(out, value.data(), value.size());
  chars_used_ += value.size();
  return std::string_view(out, value.size());
}

// Replaces the value of entry `i`: in place when it fits (memmove: the new
// value may be part of the old one), else at the end of the buffer.
void HeaderMap::replaceValue(size_t i, std::string_view value) {
  Entry& e = entries_[i];
  byte_size_ = byte_size_ - e.value.size() + value.size();
  if (value.size() <= e.value.size()) {
    char* at = chars_.get() + (e.value.data() - chars_.get());
    if (!value.empty()) std::memmove(at, value.data(), value.size());
    e.value = std::string_view(at, value.size());
  } else {
    std::string_view stored = storeValue(value);
    entries_[i].value = stored;  // storeValue may have rebased entries_
  }
  entries_[i].parsed = false;
}

void HeaderMap::addParsed(std::string_view name, std::string_view value) {
  add(name, value);
  entries_.back().parsed = true;
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!equalsIgnoreCase(entries_[i].name, name)) continue;
    // Later duplicates go first: `name` may view this map's buffer, which
    // replaceValue() can move. (Their characters stay until clear(), so a
    // `value` that views one of them is still intact.)
    size_t w = i + 1;
    for (size_t r = i + 1; r < entries_.size(); ++r) {
      if (equalsIgnoreCase(entries_[r].name, name)) {
        byte_size_ -= entries_[r].name.size() + entries_[r].value.size();
        continue;
      }
      entries_[w++] = entries_[r];
    }
    bool dropped = w != entries_.size();
    entries_.resize(w);
    replaceValue(i, value);
    if (dropped) reindex();
    return;
  }
  add(name, value);
}

void HeaderMap::set(Known h, std::string_view value) {
  int16_t i = index_[static_cast<size_t>(h)];
  if (i == kAbsent) {
    add(knownName(h), value);
    return;
  }
  for (size_t j = static_cast<size_t>(i) + 1; j < entries_.size(); ++j) {
    if (entries_[j].known == h) {
      // Rare: drop the later duplicates the slow way.
      set(knownName(h), value);
      return;
    }
  }
  replaceValue(static_cast<size_t>(i), value);
}

size_t HeaderMap::remove(std::string_view name) {
  return removeIf([name](const Entry& e) { return equalsIgnoreCase(e.name, name); });
}

void HeaderMap::clear() {
  entries_.clear();
  chars_used_ = 0;
  index_.fill(kAbsent);
  byte_size_ = 0;
}

size_t HeaderMap::retainedBytes() const {
  return entries_.capacity() * sizeof(Entry) + chars_capacity_;
}

namespace {

// The free list of this thread. A plain pointer (trivially destructible) so
// that a map released while the thread's other thread_locals are being
// destroyed can still tell that the list is gone.
struct FreeMaps {
  std::vector<HeaderMap*> maps;
};
thread_local FreeMaps* t_free_maps = nullptr;
thread_local bool t_thread_exiting = false;
struct FreeMapsOwner {
  ~FreeMapsOwner() {
    t_thread_exiting = true;
    if (!t_free_maps) return;
    for (HeaderMap* m : t_free_maps->maps)
      delete m;
    delete t_free_maps;
    t_free_maps = nullptr;
  }
};
thread_local FreeMapsOwner t_free_maps_owner;

// Enough for the streams in flight on a busy worker; maps that grew large
// (a request with a big header block) are freed rather than kept.
constexpr size_t kMaxFreeMaps = 64;
constexpr size_t kMaxRecycledBytes = 16 * 1024;

FreeMaps* freeMaps() {
  if (t_thread_exiting) return nullptr;
  if (!t_free_maps) {
    (void)&t_free_maps_owner;  // constructs it, so the list is freed at thread exit
    t_free_maps = new FreeMaps;
  }
  return t_free_maps;
}

}  // namespace

void HeaderMapRecycler::operator()(HeaderMap* map) const {
  FreeMaps* list = freeMaps();
  if (list && list->maps.size() < kMaxFreeMaps && map->retainedBytes() <= kMaxRecycledBytes) {
    map->clear();
    list->maps.push_back(map);
    return;
  }
  delete map;
}

HeaderMapPtr newHeaderMap() {
  FreeMaps* list = freeMaps();
  if (list && !list->maps.empty()) {
    HeaderMap* map = list->maps.back();
    list->maps.pop_back();
    return HeaderMapPtr(map);
  }
  return HeaderMapPtr(new HeaderMap);
}

void HeaderMap::reindex() {
  index_.fill(kAbsent);
  size_t n = std::min(entries_.size(), static_cast<size_t>(std::numeric_limits<int16_t>::max()));
  for (size_t i = 0; i < n; ++i) {
    Known k = entries_[i].known;
    if (k != Known::kCount && index_[static_cast<size_t>(k)] == kAbsent) {
      index_[static_cast<size_t>(k)] = static_cast<int16_t>(i);
    }
  }
}

const std::string_view* HeaderMap::get(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (equalsIgnoreCase(e.name, name)) return &e.value;
  }
  return nullptr;
}

std::string HeaderMap::getJoined(std::string_view name) const {
  std::string out;
  bool first = true;
  for (const Entry& e : entries_) {
    if (!equalsIgnoreCase(e.name, name)) continue;
    if (!first) out.append(", ");
    out.append(e.value);
    first = false;
  }
  return out;
}

bool HeaderMap::hasToken(std::string_view name, std::string_view token) const {
  for (const Entry& e : entries_) {
    if (!equalsIgnoreCase(e.name, name)) continue;
    std::string_view v = e.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
        item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
        item.remove_suffix(1);
      if (equalsIgnoreCase(item, token)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string HeaderMap::toString() const {
  std::string out;
  for (const Entry& e : entries_) {
    out.append(e.name).append(": ").append(e.value).append("\n");
  }
  return out;
}

bool HeaderMap::operator==(const HeaderMap& other) const {
  if (entries_.size() != other.entries_.size()) return false;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name != other.entries_[i].name || entries_[i].value != other.entries_[i].value)
      return false;
  }
  return true;
}

}  // namespace remora::http
