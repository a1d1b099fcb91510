#include "http/header_map.h"

#include <limits>

namespace remora::http {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Known::kCount)> kNames = {
    ":method",           ":path",      ":authority",     ":scheme",
    ":status",           "host",       "content-length", "transfer-encoding",
    "connection",        "upgrade",    "expect",         "keep-alive",
    "proxy-connection",  "te",         "date",           "server",
    "content-type",      "user-agent", "x-request-id",   "x-forwarded-for",
    "x-forwarded-proto",
};

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

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
    default:
      return Known::kCount;
  }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  Entry e;
  if (!spare_.empty()) {
    e = std::move(spare_.back());
    spare_.pop_back();
  }
  // Lower-cased while copied (branch-free, so the compiler can vectorise).
  e.name.resize(name.size());
  char* lower_name = e.name.data();
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    lower_name[i] = static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
  }
  e.value.assign(value);
  e.parsed = false;
  Known k = knownFromName(e.name);
  e.known = k;
  if (k != Known::kCount && index_[static_cast<size_t>(k)] == kAbsent &&
      entries_.size() < static_cast<size_t>(std::numeric_limits<int16_t>::max())) {
    index_[static_cast<size_t>(k)] = static_cast<int16_t>(entries_.size());
  }
  byte_size_ += e.name.size() + e.value.size();
  entries_.push_back(std::move(e));
}

void HeaderMap::addParsed(std::string_view name, std::string_view value) {
  add(name, value);
  entries_.back().parsed = true;
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (equalsIgnoreCase(entries_[i].name, name)) {
      byte_size_ -= entries_[i].value.size();
      entries_[i].value.assign(value);
      entries_[i].parsed = false;
      byte_size_ += value.size();
      // Drop later duplicates.
      size_t w = i + 1;
      for (size_t r = i + 1; r < entries_.size(); ++r) {
        if (equalsIgnoreCase(entries_[r].name, name)) {
          byte_size_ -= entries_[r].name.size() + entries_[r].value.size();
          continue;
        }
        if (w != r) entries_[w] = std::move(entries_[r]);
        ++w;
      }
      if (w != entries_.size()) {
        entries_.resize(w);
        reindex();
      }
      return;
    }
  }
  add(name, value);
}

void HeaderMap::set(Known h, std::string_view value) {
  int16_t i = index_[static_cast<size_t>(h)];
  if (i == kAbsent) {
    add(knownName(h), value);
    return;
  }
  Entry& e = entries_[static_cast<size_t>(i)];
  byte_size_ = byte_size_ - e.value.size() + value.size();
  e.value.assign(value);
  e.parsed = false;
  for (size_t j = static_cast<size_t>(i) + 1; j < entries_.size(); ++j) {
    if (entries_[j].known == h) {
      // Rare: drop the later duplicates the slow way.
      set(knownName(h), value);
      return;
    }
  }
}

size_t HeaderMap::remove(std::string_view name) {
  return removeIf([name](const Entry& e) { return equalsIgnoreCase(e.name, name); });
}

void HeaderMap::clear() {
  // Reversed, so that add() pops them in their old order: a next message of
  // the same shape finds each field's buffers the right size.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    spare_.push_back(std::move(*it));
  entries_.clear();
  index_.fill(kAbsent);
  byte_size_ = 0;
}

size_t HeaderMap::retainedBytes() const {
  size_t n = (entries_.capacity() + spare_.capacity()) * sizeof(Entry);
  for (const auto* list : {&entries_, &spare_}) {
    for (const Entry& e : *list)
      n += e.name.capacity() + e.value.capacity();
  }
  return n;
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

const std::string* HeaderMap::get(std::string_view name) const {
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
