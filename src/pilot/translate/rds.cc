#include "pilot/translate/rds.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <initializer_list>
#include <map>
#include <string_view>
#include <vector>

#include "pilot/translate/envoy_util.h"
#include "pilot/translate/proto_writer.h"

namespace remora::pilot {
namespace {

using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;

// Field numbers below: envoy/config/route/v3/route{,_components}.proto,
// envoy/config/core/v3/base.proto, envoy/type/matcher/v3/{string,regex}.proto.
// Every message writes its fields in field-number order (proto_writer.h).

// envoy.type.matcher.v3.StringMatcher (its match_pattern is a oneof: written
// even when empty).
void writeStringMatcher(int field, const StringMatch& m, ProtoWriter* w) {
  size_t at = w->begin(field);
  switch (m.kind) {
    case StringMatch::Kind::kExact:
      w->stringAlways(1, m.value);  // exact
      break;
    case StringMatch::Kind::kPrefix:
      w->stringAlways(2, m.value);  // prefix
      break;
    case StringMatch::Kind::kRegex: {
      size_t regex = w->begin(5);  // safe_regex
      w->string(2, m.value);       // RegexMatcher.regex
      w->end(regex);
      break;
    }
  }
  w->end(at);
}

// RouteMatch.headers: a HeaderMatcher with a string_match.
void writeHeaderMatch(std::string_view name, const StringMatch& m, bool invert, ProtoWriter* w) {
  size_t at = w->begin(6);
  w->string(1, name);               // HeaderMatcher.name
  if (invert) w->uintAlways(8, 1);  // HeaderMatcher.invert_match
  writeStringMatcher(13, m, w);     // HeaderMatcher.string_match
  w->end(at);
}

bool matchApplies(const HttpMatchRequest& m, const ProxyNode& proxy, uint32_t port) {
  if (m.port != 0 && m.port != port) return false;
  if (!m.source_namespace.empty() && m.source_namespace != proxy.namespace_) return false;
  for (const auto& [k, v] : m.source_labels) {
    auto it = proxy.labels.find(k);
    if (it == proxy.labels.end() || it->second != v) return false;
  }
  if (!m.gateways.empty() &&
      std::find(m.gateways.begin(), m.gateways.end(), "mesh") == m.gateways.end()) {
    return false;
  }
  return true;
}

// The header operations of a route or of a weighted cluster, which name the
// same four lists with different field numbers. A route gets the operations
// of its single destination, then those of its rule, in each list.
struct HeaderFields {
  int request_to_add, response_to_add, response_to_remove, request_to_remove;
};
constexpr HeaderFields kRouteHeaderFields{9, 10, 11, 12};
constexpr HeaderFields kClusterWeightHeaderFields{4, 5, 6, 9};

// Repeated HeaderValueOption: `set` overwrites, `add` appends (the enum's
// default, so not written).
void writeHeadersToAdd(int field, const HeaderOperations& ops, ProtoWriter* w) {
  auto option = [&](const std::string& key, const std::string& value, bool overwrite) {
    size_t at = w->begin(field);
    size_t header = w->begin(1);  // HeaderValueOption.header
    w->string(1, key);            // HeaderValue.key
    w->string(2, value);          // HeaderValue.value
    w->end(header);
    if (overwrite) w->uintAlways(3, 2);  // append_action: OVERWRITE_IF_EXISTS_OR_ADD
    w->end(at);
  };
  for (const auto& [k, v] : ops.set)
    option(k, v, true);
  for (const auto& [k, v] : ops.add)
    option(k, v, false);
}

void writeHeaderOperations(std::initializer_list<const Headers*> all, const HeaderFields& fields,
                           ProtoWriter* w) {
  for (const Headers* h : all)
    writeHeadersToAdd(fields.request_to_add, h->request, w);
  for (const Headers* h : all)
    writeHeadersToAdd(fields.response_to_add, h->response, w);
  for (const Headers* h : all) {
    for (const auto& r : h->response.remove)
      w->stringAlways(fields.response_to_remove, r);
  }
  for (const Headers* h : all) {
    for (const auto& r : h->request.remove)
      w->stringAlways(fields.request_to_remove, r);
  }
}

std::string destinationCluster(const MeshSnapshot& snapshot, const Destination& d,
                               const std::string& vs_namespace, uint32_t listener_port) {
  std::string host = snapshot.resolveHost(d.host, vs_namespace);
  uint32_t port = d.port;
  if (port == 0) {
    // Istio's rule: a destination service with a single port needs no port.
    const Service* svc = snapshot.findService(host);
    port = svc && svc->ports.size() == 1 ? svc->ports.front().port : listener_port;
  }
  return clusterName(TrafficDirection::kOutbound, port, d.subset, host);
}

// RouteAction.retry_policy. Istio's defaults when retryOn is not given;
// status codes in retryOn become retriable_status_codes.
void writeRetryPolicy(const HttpRetry& r, ProtoWriter* w) {
  std::string retry_on =
      r.retry_on.empty()
          ? "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
          : "";
  std::vector<uint64_t> codes;
  if (r.retry_on.empty()) codes.push_back(503);
  size_t start = 0;
  while (!r.retry_on.empty() && start <= r.retry_on.size()) {
    size_t end = r.retry_on.find(',', start);
    if (end == std::string::npos) end = r.retry_on.size();
    std::string item = r.retry_on.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty() && std::all_of(item.begin(), item.end(), ::isdigit)) {
      codes.push_back(std::stoul(item));
    } else if (!item.empty()) {
      retry_on += (retry_on.empty() ? "" : ",") + item;
    }
    start = end + 1;
  }
  if (!r.retry_on.empty() && !codes.empty() &&
      retry_on.find("retriable-status-codes") == std::string::npos) {
    retry_on += (retry_on.empty() ? "" : ",") + std::string("retriable-status-codes");
  }
  size_t at = w->begin(9);                                            // RouteAction.retry_policy
  w->string(1, retry_on);                                             // retry_on
  w->uint32Value(2, r.attempts);                                      // num_retries
  if (r.per_try_timeout_ms) w->durationMs(3, *r.per_try_timeout_ms);  // per_try_timeout
  w->packedUints(7, codes);                                           // retriable_status_codes
  w->end(at);
}

// RedirectAction's response_code enum, from the HTTP status.
uint64_t redirectCode(uint32_t status) {
  switch (status) {
    case 302:
      return 1;  // FOUND
    case 303:
      return 2;  // SEE_OTHER
    case 307:
      return 3;  // TEMPORARY_REDIRECT
    case 308:
      return 4;  // PERMANENT_REDIRECT
    default:
      return 0;  // MOVED_PERMANENTLY
  }
}

// Field numbers: envoy/config/route/v3/route{,_components}.proto.
// A route `prefix: /` to `cluster` with timeout and max_grpc_timeout 0 (the
// seed's default route), written straight in wire format: most virtual hosts
// have only this one. `cluster` and the decorator's operation are given in
// parts, to write them without building them first.
void writePrefixRoute(std::string_view name, std::initializer_list<std::string_view> cluster,
                      std::initializer_list<std::string_view> operation, ProtoWriter* w) {
  size_t route = w->begin(3);  // VirtualHost.routes
  size_t match = w->begin(1);  // Route.match
  w->stringAlways(1, "/");     // RouteMatch.prefix (oneof)
  w->end(match);
  size_t action = w->begin(2);  // Route.route
  w->stringOf(1, cluster);      // RouteAction.cluster (oneof)
  w->durationMs(8, 0);          // RouteAction.timeout
  w->durationMs(23, 0);         // RouteAction.max_grpc_timeout
  w->end(action);
  if (operation.size() != 0) {
    size_t decorator = w->begin(5);  // Route.decorator
    w->stringOf(1, operation);       // Decorator.operation
    w->end(decorator);
  }
  w->string(14, name);  // Route.name
  w->end(route);
}

// The default route: `outbound|<port>||<fqdn>`, decorator `<fqdn>:<port>/*`
// (what clusterName and hostPort make).
void writeDefaultRoute(const Service& svc, uint32_t port, ProtoWriter* w) {
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), port);
  std::string_view p(digits, static_cast<size_t>(end - digits));
  writePrefixRoute("default", {"outbound|", p, "||", svc.fqdn}, {svc.fqdn, ":", p, "/*"}, w);
}

// VirtualHost.routes: one Envoy route per match block of an HTTP rule (or one
// without match).
void writeVirtualServiceRoute(const MeshSnapshot& snapshot, const ResolvedVirtualService& rvs,
                              const HttpRoute& rule, const HttpMatchRequest* m, const Service& svc,
                              uint32_t port, ProtoWriter* w) {
  const std::string& ns = rvs.spec->meta.namespace_;
  size_t route = w->begin(3);
  // Route.match. Its path specifier is a oneof whose regex member (10) comes
  // after the headers and query parameters.
  size_t match = w->begin(1);
  std::string op_path = "/*";
  const StringMatch* uri = m && m->uri ? &*m->uri : nullptr;
  if (!uri) {
    w->stringAlways(1, "/");  // prefix
  } else if (uri->kind == StringMatch::Kind::kPrefix) {
    w->stringAlways(1, uri->value);  // prefix
    op_path = uri->value + "*";
  } else if (uri->kind == StringMatch::Kind::kExact) {
    w->stringAlways(2, uri->value);  // path
    op_path = uri->value;
  }
  if (m) {
    if (m->ignore_uri_case) w->uint32Value(4, 0);  // case_sensitive: false
    if (m->method) writeHeaderMatch(":method", *m->method, false, w);
    if (m->authority) writeHeaderMatch(":authority", *m->authority, false, w);
    if (m->scheme) writeHeaderMatch(":scheme", *m->scheme, false, w);
    for (const auto& [k, v] : m->headers)
      writeHeaderMatch(k, v, false, w);
    for (const auto& [k, v] : m->without_headers)
      writeHeaderMatch(k, v, true, w);
    for (const auto& [k, v] : m->query_params) {
      size_t q = w->begin(7);  // query_parameters
      w->string(1, k);         // QueryParameterMatcher.name
      writeStringMatcher(5, v, w);
      w->end(q);
    }
  }
  if (uri && uri->kind == StringMatch::Kind::kRegex) {
    size_t regex = w->begin(10);  // safe_regex
    w->string(2, uri->value);     // RegexMatcher.regex
    w->end(regex);
  }
  w->end(match);

  // The single destination whose header operations join the route's.
  const RouteDestination* single = nullptr;
  if (rule.redirect) {
    const HttpRedirect& rd = *rule.redirect;
    size_t at = w->begin(3);                                // Route.redirect
    w->string(1, rd.authority);                             // host_redirect
    if (!rd.uri.empty()) w->stringAlways(2, rd.uri);        // path_redirect (oneof)
    w->uint(3, redirectCode(rd.redirect_code));             // response_code
    if (!rd.scheme.empty()) w->stringAlways(7, rd.scheme);  // scheme_redirect (oneof)
    w->uint(8, rd.port);                                    // port_redirect
    w->end(at);
  } else if (!rule.direct_response) {
    size_t action = w->begin(2);  // Route.route
    std::vector<const RouteDestination*> dests;
    for (const auto& d : rule.route) {
      if (!d.weight || *d.weight > 0 || rule.route.size() == 1) dests.push_back(&d);
    }
    if (dests.size() == 1) {
      single = dests[0];
      w->stringAlways(1, destinationCluster(snapshot, single->destination, ns, port));  // cluster
    } else {
      size_t weighted = w->begin(3);  // weighted_clusters
      for (const auto* d : dests) {
        size_t c = w->begin(1);  // WeightedCluster.clusters
        w->string(1, destinationCluster(snapshot, d->destination, ns, port));  // name
        w->uint32Value(2, d->weight.value_or(0));                              // weight
        writeHeaderOperations({&d->headers}, kClusterWeightHeaderFields, w);
        w->end(c);
      }
      w->end(weighted);
    }
    if (rule.rewrite) w->string(5, rule.rewrite->uri);  // prefix_rewrite
    if (rule.rewrite && !rule.rewrite->authority.empty())
      w->stringAlways(6, rule.rewrite->authority);  // host_rewrite_literal (oneof)
    int64_t timeout = rule.timeout_ms.value_or(0);
    w->durationMs(8, timeout);  // timeout
    if (rule.retries && rule.retries->attempts > 0) writeRetryPolicy(*rule.retries, w);
    w->durationMs(23, timeout);  // max_grpc_timeout
    w->end(action);
  }
  // Route.metadata: the VirtualService the route came from.
  w->stringMetadata(4, "istio", "config",
                    "/apis/networking.istio.io/v1alpha3/namespaces/" + ns + "/virtual-service/" +
                        rvs.spec->meta.name);
  size_t decorator = w->begin(5);                    // Route.decorator
  w->string(1, hostPort(svc.fqdn, port) + op_path);  // Decorator.operation
  w->end(decorator);
  if (rule.direct_response) {
    const HttpDirectResponse& dr = *rule.direct_response;
    size_t at = w->begin(7);  // Route.direct_response
    w->uint(1, dr.status);    // status
    if (!dr.body.empty()) {
      size_t body = w->begin(2);    // body
      w->stringAlways(3, dr.body);  // DataSource.inline_string (oneof)
      w->end(body);
    }
    w->end(at);
  }
  if (single) {
    writeHeaderOperations({&single->headers, &rule.headers}, kRouteHeaderFields, w);
  } else {
    writeHeaderOperations({&rule.headers}, kRouteHeaderFields, w);
  }
  std::string name = rule.name;
  if (m && !m->name.empty()) name = name.empty() ? m->name : name + "." + m->name;
  w->string(14, name);  // Route.name
  w->end(route);
}

// The routes of the virtual host of `svc`:`port` (VirtualHost.routes): the
// VirtualService's, else the default route.
// `rvs`: the VirtualService `proxy` sees for `svc` (virtualServiceFor), or null.
void writeRoutes(const MeshSnapshot& snapshot, const ProxyNode& proxy, const Service& svc,
                 uint32_t port, const ResolvedVirtualService* rvs, ProtoWriter* w) {
  int routes = 0;
  auto add = [&](const HttpRoute& rule, const HttpMatchRequest* m) {
    writeVirtualServiceRoute(snapshot, *rvs, rule, m, svc, port, w);
    ++routes;
  };
  if (rvs) {
    for (const auto& rule : rvs->spec->http) {
      bool catch_all = false;
      if (rule.match.empty()) {
        add(rule, nullptr);
        catch_all = true;
      } else {
        for (const auto& m : rule.match) {
          if (!matchApplies(m, proxy, port)) continue;
          add(rule, &m);
          // A block with nothing to match on takes every request: later rules
          // could never match, so Istio stops there too.
          bool empty = !m.uri && !m.method && !m.authority && !m.scheme && m.headers.empty() &&
                       m.without_headers.empty() && m.query_params.empty();
          catch_all = catch_all || empty;
        }
      }
      if (catch_all) break;
    }
  }
  if (routes == 0) writeDefaultRoute(svc, port, w);
}

}  // namespace

namespace {

// The domains already in a route config: Envoy refuses one in which a domain
// appears twice. Kept as ranges of one text that every candidate is appended
// to, in an open-addressing table: checking ~10 000 domains then allocates
// nothing per domain.
class DomainSet {
 public:
  explicit DomainSet(size_t expected) {
    size_t capacity = 64;
    while (capacity < expected * 2)
      capacity *= 2;
    slots_.resize(capacity);
    text_.reserve(expected * 32);
  }
  std::string* text() { return &text_; }
  std::string_view view(size_t start, size_t end) const {
    return std::string_view(text_).substr(start, end - start);
  }
  // Whether the domain at [start, end) of text() is in the set.
  bool contains(size_t start, size_t end) const {
    uint64_t hash = std::hash<std::string_view>{}(view(start, end));
    return slots_[find(view(start, end), hash)].used();
  }
  // Adds it; false when an equal one was there.
  bool insert(size_t start, size_t end) {
    std::string_view d = view(start, end);
    uint64_t hash = std::hash<std::string_view>{}(d);
    Slot& slot = slots_[find(d, hash)];
    if (slot.used()) return false;
    slot = {static_cast<uint32_t>(hash), static_cast<uint32_t>(start),
            static_cast<uint32_t>(end - start + 1)};
    if (++size_ * 2 > slots_.size()) grow();
    return true;
  }

 private:
  // 12 bytes: route configs of big meshes have tens of thousands of slots.
  struct Slot {
    uint32_t hash = 0;  // low half of the hash
    uint32_t start = 0;
    uint32_t size_plus_one = 0;  // 0: free
    bool used() const { return size_plus_one != 0; }
  };
  // The slot holding `d`, else the free one where it would go.
  size_t find(std::string_view d, uint64_t hash) const {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.used()) return i;
      if (s.hash == static_cast<uint32_t>(hash) &&
          std::string_view(text_).substr(s.start, s.size_plus_one - 1) == d) {
        return i;
      }
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (!s.used()) continue;
      size_t i = s.hash & mask;
      while (slots_[i].used())
        i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::string text_;
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Route config `<port>` written straight in wire format: ~800 virtual hosts
// with ~10 000 domains for a namespace. `vh_inputs` (with `reuse`): per
// service, what its virtual host is made of; a virtual host built from the
// same inputs before is copied as bytes (when none of its domains is taken by
// an earlier one), and the complete ones built here are offered for the next
// time (`kept`: their inputs' index, and where their body is in the bytes).
struct KeptVirtualHost {
  size_t input;
  size_t offset;
  size_t size;
};
WireBytes encodeOutboundRouteConfig(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                    uint32_t port, const std::vector<const Service*>& services,
                                    const std::vector<const ResolvedVirtualService*>& rules,
                                    const ResourceReuse* reuse = nullptr,
                                    std::string_view vh_scope = {},
                                    const std::vector<std::string_view>* vh_inputs = nullptr,
                                    std::vector<KeptVirtualHost>* kept = nullptr) {
  const MeshConfig& mesh = snapshot.mesh();
  ProtoWriter w(services.size() * 640 + 128);
  w.string(1, std::to_string(port));  // RouteConfiguration.name
  DomainSet used(services.size() * 12);
  std::string& text = *used.text();
  std::vector<size_t> ends;
  for (size_t i = 0; i < services.size(); ++i) {
    const Service* svc = services[i];
    if (reuse) {
      ResourceReuse::Part part = reuse->findPart(vh_scope, (*vh_inputs)[i]);
      if (part.keep) {
        // Its domains (VirtualHost.domains), appended to the text as candidates.
        ends.clear();
        const size_t first = text.size();
        ProtoReader reader(part.bytes);
        int field = 0;
        uint64_t value = 0;
        std::string_view v;
        while (reader.next(&field, &value, &v)) {
          if (field != 2) continue;
          text.append(v);
          ends.push_back(text.size());
        }
        bool free = true;
        for (size_t k = 0, start = first; k < ends.size(); start = ends[k++])
          free = free && !used.contains(start, ends[k]);
        if (free) {
          for (size_t k = 0, start = first; k < ends.size(); start = ends[k++])
            used.insert(start, ends[k]);
          w.raw(2, part.bytes);  // RouteConfiguration.virtual_hosts
          kept->push_back({i, w.size() - part.bytes.size(), part.bytes.size()});
          continue;
        }
      }
    }
    size_t vh = w.begin(2);                  // RouteConfiguration.virtual_hosts
    w.string(1, hostPort(svc->fqdn, port));  // VirtualHost.name
    // The first (FQDN-ordered) virtual host keeps a domain.
    ends.clear();
    const size_t first = text.size();
    appendVirtualHostDomains(svc->fqdn, port, svc->vips, proxy.namespace_, mesh.domain_suffix,
                             &text, &ends);
    bool complete = true;
    bool any = false;
    for (size_t k = 0, start = first; k < ends.size(); start = ends[k++]) {
      if (!used.insert(start, ends[k])) {
        complete = false;
        continue;
      }
      w.string(2, used.view(start, ends[k]));  // VirtualHost.domains
      any = true;
    }
    if (!any) {
      w.cancel(2, vh);
      continue;
    }
    writeRoutes(snapshot, proxy, *svc, port, rules[i], &w);
    size_t size = w.end(vh);
    if (reuse && complete) kept->push_back({i, w.size() - size, size});
  }
  size_t catch_all = w.begin(2);  // RouteConfiguration.virtual_hosts
  bool allow_any = mesh.outbound_policy == MeshConfig::OutboundPolicy::kAllowAny;
  w.string(1, allow_any ? "allow_any" : "block_all");  // VirtualHost.name
  w.string(2, "*");                                    // VirtualHost.domains
  if (allow_any) {
    writePrefixRoute("allow_any", {kPassthroughCluster}, {}, &w);
  } else {
    size_t route = w.begin(3);  // VirtualHost.routes
    size_t match = w.begin(1);  // Route.match
    w.stringAlways(1, "/");     // RouteMatch.prefix (oneof)
    w.end(match);
    size_t direct = w.begin(7);  // Route.direct_response
    w.uint(1, 502);              // DirectResponseAction.status
    w.end(direct);
    w.string(14, "block_all");  // Route.name
    w.end(route);
  }
  w.end(catch_all);
  w.empty(7);  // RouteConfiguration.validate_clusters: false
  return w.take();
}

}  // namespace

void appendVirtualServiceInputs(const MeshSnapshot& snapshot, const ResolvedVirtualService* rvs,
                                const ResourceReuse& reuse, std::string* out) {
  if (!rvs) {
    *out += "-;";
    return;
  }
  *out += rvs->ref;
  *out += '#';
  *out += std::to_string(reuse.objectHash(rvs->spec));
  const std::string& ns = rvs->spec->meta.namespace_;
  auto destination = [&](const Destination& d) {
    std::string host = snapshot.resolveHost(d.host, ns);
    const Service* svc = snapshot.findService(host);
    *out += '>';
    *out += host;
    *out += '|';
    *out += std::to_string(svc && svc->ports.size() == 1 ? svc->ports.front().port : 0);
  };
  for (const auto& rule : rvs->spec->http) {
    for (const auto& d : rule.route)
      destination(d.destination);
  }
  for (const auto& rule : rvs->spec->tcp) {
    for (const auto& d : rule.route)
      destination(d.destination);
  }
  *out += ';';
}

ResourceList buildOutboundRouteConfigs(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                       const ResourceReuse* reuse) {
  // port -> services with an HTTP port there, in FQDN order (services() is sorted).
  std::map<uint32_t, std::vector<const Service*>> by_port;
  for (const auto& svc : snapshot.services()) {
    if (!snapshot.visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
    for (const auto& p : svc.ports) {
      if (isHttpProtocol(p.protocol)) by_port[p.port].push_back(&svc);
    }
  }
  const MeshConfig& mesh = snapshot.mesh();
  ResourceList out;
  std::vector<const ResolvedVirtualService*> rules;
  for (const auto& [port, services] : by_port) {
    // Looked up once per service for the inputs and the routes.
    rules.clear();
    for (const Service* svc : services)
      rules.push_back(snapshot.virtualServiceFor(svc->fqdn, proxy.namespace_));
    if (!reuse) {
      out.emplace_back(std::make_shared<const EncodedMessage>(
          ResourceType::kRoute, encodeOutboundRouteConfig(snapshot, proxy, port, services, rules)));
      continue;
    }
    // Everything the route config is made of: which services (with their
    // names and addresses, for domains) and the rules each one's routes come
    // from, as seen from this proxy.
    std::string head = "rds;" + reuse->proxyKey(proxy) + ";" + std::to_string(port) + ";" +
                       mesh.domain_suffix + ";" +
                       std::to_string(static_cast<int>(mesh.outbound_policy)) + ";";
    // Each virtual host is keyed by the head and its service's part of
    // `inputs` (ContentKey::of(head, part)).
    std::vector<size_t> ends;
    ends.reserve(services.size());
    std::string inputs = head;
    for (size_t i = 0; i < services.size(); ++i) {
      inputs += services[i]->fqdn;
      for (const auto& vip : services[i]->vips) {
        inputs += ',';
        inputs += vip;
      }
      inputs += ';';
      appendVirtualServiceInputs(snapshot, rules[i], *reuse, &inputs);
      ends.push_back(inputs.size());
    }
    auto got = reuse->get(inputs, [&, port = port, &services = services]() -> ResourceList {
      std::vector<std::string_view> vh_inputs;
      vh_inputs.reserve(services.size());
      size_t start = head.size();
      for (size_t end : ends) {
        vh_inputs.push_back(std::string_view(inputs).substr(start, end - start));
        start = end;
      }
      std::vector<KeptVirtualHost> kept;
      auto rc = std::make_shared<const EncodedMessage>(
          ResourceType::kRoute, encodeOutboundRouteConfig(snapshot, proxy, port, services, rules,
                                                          reuse, head, &vh_inputs, &kept));
      const char* bytes = rc->bytes().data();
      for (const auto& k : kept)
        reuse->keepPart(head, vh_inputs[k.input], {rc, std::string_view(bytes + k.offset, k.size)});
      return {Resource(rc)};
    });
    out.insert(out.end(), got.begin(), got.end());
  }
  sortByName(&out);
  return out;
}

void buildServiceVirtualHost(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                             const Service& service, uint32_t port, VirtualHost* out) {
  // The sidecar's shape, parsed: one builder for both.
  ProtoWriter w;
  w.string(1, hostPort(service.fqdn, port));  // VirtualHost.name
  for (const auto& d : virtualHostDomains(service.fqdn, port, service.vips, proxy.namespace_,
                                          snapshot.mesh().domain_suffix)) {
    w.string(2, d);  // VirtualHost.domains
  }
  writeRoutes(snapshot, proxy, service, port,
              snapshot.virtualServiceFor(service.fqdn, proxy.namespace_), &w);
  WireBytes body = w.take();
  if (!out->ParseFromArray(body.view().data(), static_cast<int>(body.view().size()))) out->Clear();
}

RouteConfiguration buildInboundRouteConfig(const InboundTarget& target) {
  std::string cluster =
      clusterName(TrafficDirection::kInbound, target.port.port, "", target.service->fqdn);
  RouteConfiguration rc;
  rc.set_name(cluster);
  rc.mutable_validate_clusters()->set_value(false);
  VirtualHost* vh = rc.add_virtual_hosts();
  vh->set_name("inbound|http|" + std::to_string(target.port.port));
  vh->add_domains("*");
  Route* r = vh->add_routes();
  r->set_name("default");
  r->mutable_match()->set_prefix("/");
  r->mutable_route()->set_cluster(cluster);
  setDurationMs(0, r->mutable_route()->mutable_timeout());
  setDurationMs(0, r->mutable_route()->mutable_max_grpc_timeout());
  r->mutable_decorator()->set_operation(hostPort(target.service->fqdn, target.port.port) + "/*");
  return rc;
}

}  // namespace remora::pilot
