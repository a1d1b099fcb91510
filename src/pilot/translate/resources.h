// What generators produce: named, immutable xDS resources. Shared pointers let
// the per-namespace caches of ConfigGenerator hand the same Cluster object to
// every proxy in a namespace without copying.
#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/proto_writer.h"

namespace remora::pilot {

enum class ResourceType : uint8_t { kListener, kRoute, kCluster, kEndpoint };

// "type.googleapis.com/envoy.config.listener.v3.Listener" etc.
const char* typeUrl(ResourceType type);
// "lds", "rds", "cds", "eds".
const char* shortTypeName(ResourceType type);
bool parseShortTypeName(std::string_view name, ResourceType* type);

// A resource written straight in wire format (proto_writer.h): the hot
// shared shapes (assignments, outbound clusters, outbound TCP listeners and
// route configs) are built this way, since the ADS server only needs their
// bytes. Whoever needs a message (proxyless adaptation, debug pages, tests)
// gets one parsed from the bytes on first use and kept with them: slow
// paths only.
class EncodedMessage {
 public:
  EncodedMessage(ResourceType type, WireBytes bytes);
  EncodedMessage(const EncodedMessage&) = delete;
  EncodedMessage& operator=(const EncodedMessage&) = delete;
  // A copy of `bytes` in the same heap block as the message and its shared
  // count (one allocation per resource: thousands are built at a time).
  static std::shared_ptr<const EncodedMessage> copyOf(ResourceType type, std::string_view bytes);

  ResourceType type() const { return type_; }
  // The serialized message.
  std::string_view bytes() const { return bytes_; }
  // Field 1 of every xDS resource type (name, cluster_name), viewing bytes().
  std::string_view name() const { return name_; }
  // Parsed once, on first use; any thread.
  const google::protobuf::Message& message() const;

  // For copyOf: `bytes` copied to `*copy_to`, which the allocation has set
  // by the time this runs.
  struct CopyTag {};
  EncodedMessage(CopyTag, ResourceType type, std::string_view bytes, char* const* copy_to);

 private:
  void findName();

  ResourceType type_;
  WireBytes owned_;  // empty for copyOf's
  std::string_view bytes_;
  std::string_view name_;
  mutable std::once_flag parsed_once_;
  mutable std::unique_ptr<google::protobuf::Message> parsed_;
};

// A named resource, as a message or as an EncodedMessage. `name` views the
// name inside what the Resource keeps alive: lists of thousands of resources
// are copied per proxy, and copying a view costs nothing where copying the
// string would allocate (which is also why this stays 32 bytes).
class Resource {
 public:
  explicit Resource(std::shared_ptr<const envoy::config::listener::v3::Listener> m)
      : Resource(ResourceType::kListener, m->name(), &m) {}
  explicit Resource(std::shared_ptr<const envoy::config::route::v3::RouteConfiguration> m)
      : Resource(ResourceType::kRoute, m->name(), &m) {}
  explicit Resource(std::shared_ptr<const envoy::config::cluster::v3::Cluster> m)
      : Resource(ResourceType::kCluster, m->name(), &m) {}
  explicit Resource(std::shared_ptr<const envoy::config::endpoint::v3::ClusterLoadAssignment> m)
      : Resource(ResourceType::kEndpoint, m->cluster_name(), &m) {}
  explicit Resource(std::shared_ptr<const EncodedMessage> m)
      : name_(m->name().data()),
        name_size_(static_cast<uint32_t>(m->name().size())),
        type_(m->type()),
        encoded_(true),
        payload_(std::move(m)) {}

  std::string_view name() const { return {name_, name_size_}; }
  ResourceType type() const { return type_; }
  // For an encoded resource, parsed on first use (slow paths only).
  const google::protobuf::Message& message() const {
    return encoded_ ? encoded()->message()
                    : *static_cast<const google::protobuf::Message*>(payload_.get());
  }
  // Null when the resource was built as a message.
  const EncodedMessage* encoded() const {
    return encoded_ ? static_cast<const EncodedMessage*>(payload_.get()) : nullptr;
  }
  // What keeps name() and message() alive.
  const std::shared_ptr<const void>& shared() const { return payload_; }

 private:
  // `m` by pointer: moved from only after `name` was taken from it.
  template <typename T>
  Resource(ResourceType type, std::string_view name, std::shared_ptr<const T>* m)
      : name_(name.data()),
        name_size_(static_cast<uint32_t>(name.size())),
        type_(type),
        payload_(std::shared_ptr<const google::protobuf::Message>(std::move(*m))) {}

  const char* name_;
  uint32_t name_size_;
  ResourceType type_;
  bool encoded_ = false;
  // A google::protobuf::Message or an EncodedMessage (encoded_).
  std::shared_ptr<const void> payload_;
};

// Where generated messages live. Shared resources (everything cached per
// namespace) go on one arena per ConfigGenerator: building thousands of
// clusters and routes then costs a pointer bump per object instead of a
// malloc, and freeing them is one arena reset. Resources built per proxy and
// not cached use the heap (no arena), so they are freed when dropped.
class MessageAllocator {
 public:
  MessageAllocator() = default;  // heap
  explicit MessageAllocator(std::shared_ptr<google::protobuf::Arena> arena)
      : arena_(std::move(arena)) {}

  // The shared_ptr keeps the arena (not the message alone) alive.
  template <typename T>
  std::shared_ptr<T> make() const {
    if (!arena_) return std::make_shared<T>();
    return std::shared_ptr<T>(arena_, google::protobuf::Arena::CreateMessage<T>(arena_.get()));
  }

 private:
  std::shared_ptr<google::protobuf::Arena> arena_;
};

// Always sorted by name, so output and pushes are deterministic.
using ResourceList = std::vector<Resource>;

void sortByName(ResourceList* list);
// Merges lists that are each sorted by name into one sorted list.
ResourceList mergeByName(std::initializer_list<std::span<const Resource>> lists);

// Two independent 64-bit hashes of a text describing everything some
// resources were built from: equal keys mean equal inputs, hence equal
// resources, across snapshots. Two hashes, because a collision would serve a
// stale resource without any error. (Object contents enter the text as the
// 64-bit document and endpoint hashes the snapshot already trusts to decide
// what to push.)
struct ContentKey {
  uint64_t a = 0;
  uint64_t b = 0;
  static ContentKey of(std::string_view inputs);
  // Of two texts, as one key (not equal to of(a + b)).
  static ContentKey of(std::string_view a, std::string_view b);
  bool operator==(const ContentKey&) const = default;
};
struct ContentKeyHash {
  size_t operator()(const ContentKey& k) const { return static_cast<size_t>(k.a); }
};

// Where builders get resources whose inputs they can describe: from what this
// or an earlier generator already built (ConfigGenerator implements it), so
// that the first proxy after a change pays only for what changed.
class ResourceReuse {
 public:
  virtual ~ResourceReuse() = default;
  // The resources built from `inputs`, else `build()` (remembered).
  virtual ResourceList get(std::string_view inputs,
                           const std::function<ResourceList()>& build) const = 0;
  // The content hash of the document a VirtualService or DestinationRule of
  // the snapshot came from (0 if unknown).
  virtual uint64_t objectHash(const void* spec) const = 0;
  // Parts of resources: the serialized body of a message inside a resource
  // (e.g. a virtual host of a route config) built from `inputs`, to be
  // copied into a new resource when only its neighbours changed. `keep`
  // keeps `bytes` alive; null when none is known.
  struct Part {
    std::shared_ptr<const void> keep;
    std::string_view bytes;
  };
  // The inputs are `scope` (what all parts of the resource share) and
  // `inputs` (this part's own): a key of both, without joining them.
  virtual Part findPart(std::string_view scope, std::string_view inputs) const = 0;
  virtual void keepPart(std::string_view scope, std::string_view inputs, Part part) const = 0;
  // What the outbound config depends on of a proxy: its namespace, plus its
  // labels when some rule matches on them.
  virtual std::string proxyKey(const ProxyNode& proxy) const = 0;
};

}  // namespace remora::pilot
