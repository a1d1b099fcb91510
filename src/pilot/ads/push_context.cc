#include "pilot/ads/push_context.h"

#include <algorithm>
#include <cstring>

#include "envoy/config/route/v3/route.pb.h"
#include "pilot/translate/proxyless.h"

namespace remora::pilot {
namespace {

size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void putVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

const Resource* findByName(const ResourceList& list, std::string_view name) {
  auto it = std::lower_bound(list.begin(), list.end(), name,
                             [](const Resource& r, std::string_view n) { return r.name() < n; });
  return it != list.end() && it->name() == name ? &*it : nullptr;
}

}  // namespace

namespace {

// The entry's header up to the value's bytes, with room for them.
std::shared_ptr<std::string> entryHeader(const char* type_url, size_t value_len) {
  // DiscoveryResponse.resources is field 2 and Any's type_url and value are
  // fields 1 and 2, all length-delimited (wire type 2).
  constexpr char kResourcesTag = 0x12, kTypeUrlTag = 0x0a, kValueTag = 0x12;
  size_t url_len = std::strlen(type_url);
  size_t any_len = 1 + varintSize(url_len) + url_len + 1 + varintSize(value_len) + value_len;
  auto out = std::make_shared<std::string>();
  out->reserve(1 + varintSize(any_len) + any_len);
  out->push_back(kResourcesTag);
  putVarint(any_len, out.get());
  out->push_back(kTypeUrlTag);
  putVarint(url_len, out.get());
  out->append(type_url, url_len);
  out->push_back(kValueTag);
  putVarint(value_len, out.get());
  return out;
}

}  // namespace

std::shared_ptr<const std::string> encodeResourceEntry(const char* type_url,
                                                       const google::protobuf::Message& message) {
  size_t value_len = message.ByteSizeLong();
  auto out = entryHeader(type_url, value_len);
  size_t at = out->size();
  out->resize(at + value_len);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
  return out;
}

std::shared_ptr<const std::string> encodeResourceEntry(const char* type_url,
                                                       std::string_view serialized) {
  auto out = entryHeader(type_url, serialized.size());
  out->append(serialized);
  return out;
}

PushContext::PushContext(std::shared_ptr<const MeshSnapshot> snapshot, SteadyTime published,
                         const PushContext* previous)
    : snapshot_(std::move(snapshot)),
      generator_(snapshot_, previous ? &previous->generator_ : nullptr),
      version_(std::to_string(snapshot_->version())),
      published_(published) {}

ProxyNode PushContext::proxyFor(const NodeIdentity& node, bool* known) const {
  auto pod = snapshot_->findProxy(node.proxyId());
  if (pod && !pod->ip.empty()) {
    *known = true;
    return *pod;
  }
  *known = false;
  ProxyNode n;
  n.pod_name = node.pod;
  n.namespace_ = node.namespace_;
  return n;
}

ResourceList PushContext::resources(const SendPlan& plan, const ProxyNode& proxy,
                                    bool proxyless) const {
  ResourceList out;
  switch (plan.type) {
    case ResourceType::kCluster: {
      ResourceList all = generator_.generate(ResourceType::kCluster, proxy);
      if (plan.wildcard) {
        out = std::move(all);
      } else {
        for (const auto& n : plan.names) {
          if (const Resource* r = findByName(all, n)) out.push_back(*r);
        }
      }
      if (proxyless) {
        for (auto& r : out)
          r = adaptClusterForGrpc(r);
      }
      return out;
    }
    case ResourceType::kEndpoint:
      return generator_.generate(ResourceType::kEndpoint, proxy, plan.names);
    case ResourceType::kListener: {
      if (plan.wildcard) return generator_.generate(ResourceType::kListener, proxy);
      ResourceList sidecar;
      for (const auto& n : plan.names) {
        if (findServicePort(*snapshot_, n, proxy.namespace_)) {
          out.push_back(buildApiListener(n));
          continue;
        }
        if (sidecar.empty()) sidecar = generator_.generate(ResourceType::kListener, proxy);
        if (const Resource* r = findByName(sidecar, n)) out.push_back(*r);
      }
      sortByName(&out);
      return out;
    }
    case ResourceType::kRoute: {
      ResourceList sidecar = generator_.generate(ResourceType::kRoute, proxy);
      for (const auto& n : plan.names) {
        if (const Resource* r = findByName(sidecar, n)) {
          out.push_back(*r);
        } else if (auto ref = findServicePort(*snapshot_, n, proxy.namespace_)) {
          out.push_back(buildProxylessRouteConfig(*snapshot_, proxy, n, *ref));
        } else if (!proxyless) {
          // Envoy keeps a listener warming until its route config arrives:
          // an empty one lets it start (and answer 404), as Istio does.
          auto rc = std::make_shared<envoy::config::route::v3::RouteConfiguration>();
          rc->set_name(n);
          rc->mutable_validate_clusters()->set_value(false);
          out.emplace_back(
              std::shared_ptr<const envoy::config::route::v3::RouteConfiguration>(std::move(rc)));
        }
      }
      sortByName(&out);
      return out;
    }
  }
  return out;
}

EncodedResource PushContext::encode(ResourceType type, const Resource& r) const {
  // Shared resources: those built in wire format, and messages on the
  // generator's arena. Never parses an encoded resource.
  const EncodedMessage* encoded = r.encoded();
  const google::protobuf::Message* m = encoded ? nullptr : &r.message();
  const void* key = encoded ? static_cast<const void*>(encoded) : m;
  bool shared = encoded || m->GetArena() != nullptr;
  if (shared) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = encoded_.find(key);
    if (it != encoded_.end()) return {r.name(), it->second.bytes, r.shared()};
  }
  auto bytes = encoded ? encodeResourceEntry(typeUrl(type), encoded->bytes())
                       : encodeResourceEntry(typeUrl(type), *m);
  if (shared) {
    std::lock_guard<std::mutex> lock(mu_);
    bytes = encoded_.emplace(key, Encoded{std::move(bytes), r.shared()}).first->second.bytes;
  }
  return {r.name(), std::move(bytes), r.shared()};
}

EncodedResponse PushContext::build(const SendPlan& plan, const ProxyNode& proxy,
                                   bool proxyless) const {
  EncodedResponse out;
  ResourceList list = resources(plan, proxy, proxyless);
  out.resources.reserve(list.size());
  for (const auto& r : list) {
    out.resources.push_back(encode(plan.type, r));
    out.bytes += out.resources.back().bytes->size();
  }
  return out;
}

}  // namespace remora::pilot
