// What generators produce: named, immutable xDS resources. Shared pointers let
// the per-namespace caches of ConfigGenerator hand the same Cluster object to
// every proxy in a namespace without copying.
#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "pilot/model/snapshot.h"

namespace remora::pilot {

enum class ResourceType { kListener, kRoute, kCluster, kEndpoint };

// "type.googleapis.com/envoy.config.listener.v3.Listener" etc.
const char* typeUrl(ResourceType type);
// "lds", "rds", "cds", "eds".
const char* shortTypeName(ResourceType type);
bool parseShortTypeName(std::string_view name, ResourceType* type);

// `name` views the name field inside `message`, which every copy of the
// Resource keeps alive: lists of thousands of resources are copied per proxy,
// and copying a view costs nothing where copying the string would allocate.
class Resource {
 public:
  explicit Resource(std::shared_ptr<const envoy::config::listener::v3::Listener> m)
      : name_(m->name()), message_(std::move(m)) {}
  explicit Resource(std::shared_ptr<const envoy::config::route::v3::RouteConfiguration> m)
      : name_(m->name()), message_(std::move(m)) {}
  explicit Resource(std::shared_ptr<const envoy::config::cluster::v3::Cluster> m)
      : name_(m->name()), message_(std::move(m)) {}
  explicit Resource(std::shared_ptr<const envoy::config::endpoint::v3::ClusterLoadAssignment> m)
      : name_(m->cluster_name()), message_(std::move(m)) {}

  std::string_view name() const { return name_; }
  const google::protobuf::Message& message() const { return *message_; }
  const std::shared_ptr<const google::protobuf::Message>& shared() const { return message_; }

 private:
  std::string_view name_;
  std::shared_ptr<const google::protobuf::Message> message_;
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
ResourceList mergeByName(std::initializer_list<const ResourceList*> lists);

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
  // Parts of resources: a message inside `holder` (e.g. virtual host `index`
  // of a route config) built from `inputs`, to be copied into a new resource
  // when only its neighbours changed. Null holder when none is known.
  struct Part {
    std::shared_ptr<const ResourceList> holder;
    int index = 0;
  };
  virtual Part findPart(std::string_view inputs) const = 0;
  virtual void keepPart(std::string_view inputs, const Resource& holder, int index) const = 0;
  // What the outbound config depends on of a proxy: its namespace, plus its
  // labels when some rule matches on them.
  virtual std::string proxyKey(const ProxyNode& proxy) const = 0;
};

}  // namespace remora::pilot
