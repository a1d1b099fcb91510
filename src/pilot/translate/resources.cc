#include "pilot/translate/resources.h"

#include <algorithm>
#include <cstring>

#include "pilot/model/parse.h"
#include "pilot/translate/proto_writer.h"

namespace remora::pilot {

const char* typeUrl(ResourceType type) {
  switch (type) {
    case ResourceType::kListener:
      return "type.googleapis.com/envoy.config.listener.v3.Listener";
    case ResourceType::kRoute:
      return "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    case ResourceType::kCluster:
      return "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    case ResourceType::kEndpoint:
      return "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  }
  return "";
}

const char* shortTypeName(ResourceType type) {
  switch (type) {
    case ResourceType::kListener:
      return "lds";
    case ResourceType::kRoute:
      return "rds";
    case ResourceType::kCluster:
      return "cds";
    case ResourceType::kEndpoint:
      return "eds";
  }
  return "";
}

bool parseShortTypeName(std::string_view name, ResourceType* type) {
  for (auto t : {ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster,
                 ResourceType::kEndpoint}) {
    if (name == shortTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

namespace {
bool byName(const Resource& a, const Resource& b) {
  return a.name() < b.name();
}
}  // namespace

void sortByName(ResourceList* list) {
  // Sorted as (name, index) pairs, then moved into place once: moving a
  // Resource moves a shared_ptr, and a sort moves each element many times.
  if (list->size() < 2) return;
  std::vector<std::pair<std::string_view, uint32_t>> keys(list->size());
  for (size_t i = 0; i < list->size(); ++i)
    keys[i] = {(*list)[i].name(), static_cast<uint32_t>(i)};
  // Ties broken by position: the order of a stable sort, without its buffer.
  auto less = [](const auto& a, const auto& b) {
    int c = a.first.compare(b.first);
    return c < 0 || (c == 0 && a.second < b.second);
  };
  if (std::is_sorted(keys.begin(), keys.end(), less)) return;
  std::sort(keys.begin(), keys.end(), less);
  ResourceList out;
  out.reserve(list->size());
  for (const auto& k : keys)
    out.push_back(std::move((*list)[k.second]));
  *list = std::move(out);
}

ResourceList mergeByName(std::initializer_list<std::span<const Resource>> lists) {
  ResourceList out;
  size_t total = 0;
  for (const auto& l : lists)
    total += l.size();
  out.reserve(total);
  for (const auto& l : lists) {
    size_t middle = out.size();
    out.insert(out.end(), l.begin(), l.end());
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(middle), out.end(),
                       byName);
  }
  return out;
}

EncodedMessage::EncodedMessage(ResourceType type, WireBytes bytes)
    : type_(type), owned_(std::move(bytes)), bytes_(owned_.view()) {
  findName();
}

EncodedMessage::EncodedMessage(CopyTag, ResourceType type, std::string_view bytes,
                               char* const* copy_to)
    : type_(type), bytes_(*copy_to, bytes.size()) {
  if (!bytes.empty()) std::memcpy(*copy_to, bytes.data(), bytes.size());
  findName();
}

void EncodedMessage::findName() {
  // The name is field 1 of every resource type and written first.
  ProtoReader reader(bytes_);
  int field = 0;
  uint64_t value = 0;
  std::string_view name;
  if (reader.next(&field, &value, &name) && field == 1) name_ = name;
}

namespace {
// allocate_shared's allocator for copyOf: the block it allocates (shared
// count and message) gets `extra` bytes after it, whose address it stores in
// `*trailing` before the message is constructed.
template <typename T>
struct TrailingBytes {
  using value_type = T;
  size_t extra;
  char** trailing;
  TrailingBytes(size_t e, char** t) : extra(e), trailing(t) {}
  template <typename U>
  TrailingBytes(const TrailingBytes<U>& o) : extra(o.extra), trailing(o.trailing) {}
  T* allocate(size_t n) {
    char* block = static_cast<char*>(::operator new(n * sizeof(T) + extra));
    *trailing = block + n * sizeof(T);
    return reinterpret_cast<T*>(block);
  }
  void deallocate(T* p, size_t) { ::operator delete(p); }
  template <typename U>
  bool operator==(const TrailingBytes<U>&) const {
    return true;
  }
};
}  // namespace

std::shared_ptr<const EncodedMessage> EncodedMessage::copyOf(ResourceType type,
                                                             std::string_view bytes) {
  char* trailing = nullptr;
  return std::allocate_shared<EncodedMessage>(
      TrailingBytes<EncodedMessage>(bytes.size(), &trailing), CopyTag{}, type, bytes, &trailing);
}

const google::protobuf::Message& EncodedMessage::message() const {
  std::call_once(parsed_once_, [this] {
    switch (type_) {
      case ResourceType::kListener:
        parsed_ = std::make_unique<envoy::config::listener::v3::Listener>();
        break;
      case ResourceType::kRoute:
        parsed_ = std::make_unique<envoy::config::route::v3::RouteConfiguration>();
        break;
      case ResourceType::kCluster:
        parsed_ = std::make_unique<envoy::config::cluster::v3::Cluster>();
        break;
      case ResourceType::kEndpoint:
        parsed_ = std::make_unique<envoy::config::endpoint::v3::ClusterLoadAssignment>();
        break;
    }
    // Our own bytes: they parse.
    if (!parsed_->ParseFromArray(bytes_.data(), static_cast<int>(bytes_.size()))) parsed_->Clear();
  });
  return *parsed_;
}

namespace {

uint64_t rotl(uint64_t v, int n) {
  return (v << n) | (v >> (64 - n));
}

// Murmur3's finaliser, with the constants given.
uint64_t finish(uint64_t h, uint64_t m1, uint64_t m2) {
  h ^= h >> 33;
  h *= m1;
  h ^= h >> 33;
  h *= m2;
  h ^= h >> 33;
  return h;
}

}  // namespace

ContentKey ContentKey::of(std::string_view s) {
  // Two hashes of different arithmetic (xor then multiply, add then
  // multiply; other constants) in one pass, eight bytes at a time: the two
  // multiply chains run side by side, so the pair costs about one. Input
  // texts are long (a namespace's services), and hashing them showed in
  // profiles of the first proxy.
  constexpr uint64_t kA = 0x9ddfea08eb382d69ULL, kB = 0x87c37b91114253d5ULL;
  constexpr uint64_t kC = 0x9e3779b97f4a7c15ULL, kD = 0xd6e8feb86659fd93ULL;
  uint64_t a = 0x2545f4914f6cdd1dULL ^ (s.size() * kA);
  uint64_t b = 0x6a09e667f3bcc909ULL + s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    a = rotl(a ^ (v * kA), 31) * kB;
    b = rotl(b + (v ^ kC), 27) * kD;
  }
  uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  a = rotl(a ^ (tail * kA), 31) * kB;
  b = rotl(b + (tail ^ kC), 27) * kD;
  return {finish(a, 0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL),
          finish(b, 0x62a9d9ed799705f5ULL, 0xcb24d0a5c88c35b3ULL)};
}

ContentKey ContentKey::of(std::string_view a, std::string_view b) {
  // Each half mixes both texts' hashes, and the first text's length keeps
  // ("ab", "c") and ("a", "bc") apart.
  ContentKey x = of(a), y = of(b);
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  return {(x.a ^ (a.size() * kMul)) * kMul + y.a,
          ((x.b + a.size()) * kMul) ^ (y.b * 0xff51afd7ed558ccdULL)};
}

}  // namespace remora::pilot
