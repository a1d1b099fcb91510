// Everything one snapshot needs to answer ADS requests: the snapshot, its
// ConfigGenerator, the version string every response built from it carries,
// and the serialized form of the resources it shares between proxies.
//
// Serialized resources: each shared resource (everything the generator
// caches per namespace, on its arena) is serialized once per snapshot, as the
// bytes of one `resources` entry of a DiscoveryResponse, and every response
// to every proxy refers to those bytes (wire.h sends them without copying).
// A full push to N proxies of a namespace then serializes the namespace's
// config once instead of N times. Per-proxy resources (inbound listeners and
// clusters, proxyless resources) are serialized per response.
//
// Immutable once built apart from the caches, which are filled under a
// mutex: any thread may call any method.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pilot/ads/node.h"
#include "pilot/ads/xds_stream.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/generator.h"

namespace remora::pilot {

// One entry of DiscoveryResponse.resources, ready for the wire: field tag,
// length and the Any (type_url + serialized resource).
struct EncodedResource {
  std::string_view name;  // views the resource, kept alive by `keep`
  std::shared_ptr<const std::string> bytes;
  std::shared_ptr<const void> keep;
};

struct EncodedResponse {
  std::vector<EncodedResource> resources;
  size_t bytes = 0;
};

// Serializes `message` as one `resources` entry with the given type URL.
std::shared_ptr<const std::string> encodeResourceEntry(const char* type_url,
                                                       const google::protobuf::Message& message);
// The same for an already serialized resource.
std::shared_ptr<const std::string> encodeResourceEntry(const char* type_url,
                                                       std::string_view serialized);

class PushContext {
 public:
  // `previous`: the context this one replaces; its generator's resources
  // whose inputs did not change are reused instead of rebuilt (the first
  // proxy of a namespace after a change then pays only for what changed).
  // Only read during construction.
  PushContext(std::shared_ptr<const MeshSnapshot> snapshot, SteadyTime published,
              const PushContext* previous = nullptr);

  const MeshSnapshot& snapshot() const { return *snapshot_; }
  const std::shared_ptr<const MeshSnapshot>& snapshotPtr() const { return snapshot_; }
  const ConfigGenerator& generator() const { return generator_; }
  // version_info of every response built from this context: the snapshot's
  // number, which /debug/syncz and the pilot log show too.
  const std::string& version() const { return version_; }
  SteadyTime published() const { return published_; }

  // The proxy a node stands for: its pod when the snapshot has it (`known`),
  // else a pod-less proxy of the namespace its id names, which gets the
  // namespace's outbound config and nothing inbound.
  ProxyNode proxyFor(const NodeIdentity& node, bool* known) const;

  // The resources of one response. `proxyless`: a gRPC client (proxyless.h).
  EncodedResponse build(const SendPlan& plan, const ProxyNode& proxy, bool proxyless) const;
  // The same, as messages (config_dump, tests).
  ResourceList resources(const SendPlan& plan, const ProxyNode& proxy, bool proxyless) const;

 private:
  EncodedResource encode(ResourceType type, const Resource& r) const;

  std::shared_ptr<const MeshSnapshot> snapshot_;
  ConfigGenerator generator_;
  std::string version_;
  SteadyTime published_;
  mutable std::mutex mu_;
  // By message: messages on the generator's arena, which live as long as
  // this context, and EncodedMessages, kept alive by their entry: an address
  // is never reused for another message while its entry is here.
  struct Encoded {
    std::shared_ptr<const std::string> bytes;
    std::shared_ptr<const void> keep;
  };
  mutable std::unordered_map<const void*, Encoded> encoded_;
};

}  // namespace remora::pilot
