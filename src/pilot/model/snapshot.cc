#include "pilot/model/snapshot.h"

#include <algorithm>
#include <cstddef>
#include <set>
#include <tuple>
#include <unordered_map>

namespace remora::pilot {
namespace {

bool selects(const Labels& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

bool podServesTraffic(const K8sPod& pod) {
  return !pod.pod_ip.empty() && pod.ready && pod.phase != "Succeeded" && pod.phase != "Failed";
}

uint32_t podTargetPort(const K8sServicePort& port, const K8sPod& pod) {
  if (!port.target_port_name.empty()) {
    auto it = pod.named_ports.find(port.target_port_name);
    return it == pod.named_ports.end() ? 0 : it->second;
  }
  return port.target_port != 0 ? port.target_port : port.port;
}

uint64_t hashLabels(const Labels& labels, uint64_t h) {
  for (const auto& [k, v] : labels) {
    h = fnv1a(k, h);
    h = fnv1a("=", h);
    h = fnv1a(v, h);
    h = fnv1a(";", h);
  }
  return h;
}

uint64_t hashInstances(const std::vector<ServiceInstance>& instances) {
  uint64_t h = fnv1a("instances");
  for (const auto& i : instances) {
    h = fnv1a(i.address, h);
    for (uint32_t p : i.ports)
      h = fnv1a(std::to_string(p) + ",", h);
    h = hashLabels(i.labels, h);
    h = fnv1a(i.uid + "|" + i.locality + "|" + std::to_string(i.weight), h);
  }
  return h;
}

void sortInstances(Service* s) {
  std::sort(s->instances.begin(), s->instances.end(),
            [](const ServiceInstance& a, const ServiceInstance& b) {
              return std::tie(a.address, a.ports) < std::tie(b.address, b.ports);
            });
  s->endpoints_hash = hashInstances(s->instances);
}

bool appliesToSidecars(const std::vector<std::string>& gateways) {
  return gateways.empty() || std::find(gateways.begin(), gateways.end(), "mesh") != gateways.end();
}

}  // namespace

const ServicePort* Service::findPort(uint32_t port) const {
  for (const auto& p : ports) {
    if (p.port == port) return &p;
  }
  return nullptr;
}

std::shared_ptr<const MeshSnapshot> MeshSnapshot::build(ConfigSet config, uint64_t version) {
  return build(std::move(config), version, nullptr);
}

std::shared_ptr<const MeshSnapshot> MeshSnapshot::build(ConfigSet config, uint64_t version,
                                                        const MeshSnapshot* previous) {
  std::shared_ptr<MeshSnapshot> s(new MeshSnapshot());
  s->version_ = version;
  s->config_ = std::move(config);
  s->warnings_ = s->config_.warnings;
  s->config_warnings_ = s->warnings_.size();
  s->index();
  if (previous && previous->config_hash_ == s->config_hash_ && s->patchFrom(*previous)) {
    s->patched_ = true;
    return s;
  }
  s->warnings_.resize(s->config_warnings_);
  s->buildServices();
  s->linkRules();
  return s;
}

void MeshSnapshot::index() {
  uint64_t h = fnv1a("config");
  for (const auto& o : config_.objects) {
    switch (o.kind) {
      case ObjectKind::kPod: {
        const auto& pod = std::get<K8sPod>(o.value);
        std::string id = pod.meta.name + "." + pod.meta.namespace_;
        pod_object_hashes_[id] = o.content_hash;
        pods_[std::move(id)] = &pod;
        continue;
      }
      case ObjectKind::kEndpoints: {
        const auto& eps = std::get<K8sEndpoints>(o.value);
        std::string key = eps.meta.namespace_ + "/" + eps.meta.name;
        endpoints_object_hashes_[key] = o.content_hash;
        endpoints_[std::move(key)] = &eps;
        continue;
      }
      default:
        break;
    }
    h = fnv1a(std::to_string(o.content_hash) + ";", h);
  }
  for (const auto& [key, pod] : pods_) {
    for (const auto& [k, v] : pod->meta.labels) {
      pods_by_label_[pod->meta.namespace_ + '\0' + k + "=" + v].emplace_back(&key, pod);
    }
  }
  const MeshConfig& m = config_.mesh;
  h = fnv1a(std::to_string(static_cast<int>(m.outbound_policy)) + m.trust_domain + m.domain_suffix +
                m.root_namespace + std::to_string(m.connect_timeout_ms) +
                std::to_string(m.proxy_listen_port) + "/" +
                std::to_string(m.proxy_inbound_listen_port),
            h);
  config_hash_ = h;
}

void MeshSnapshot::selectInstances(const K8sService& k, const std::string& key, Service* s) const {
  if (k.has_selector) {
    // An empty selector selects nothing (Kubernetes' rule for Services).
    auto first = k.selector.begin();
    auto candidates =
        k.selector.empty()
            ? pods_by_label_.end()
            : pods_by_label_.find(k.meta.namespace_ + '\0' + first->first + "=" + first->second);
    if (candidates != pods_by_label_.end()) {
      for (const auto& [key_ptr, pod] : candidates->second) {
        if (!podServesTraffic(*pod) || !selects(k.selector, pod->meta.labels)) continue;
        ServiceInstance inst;
        inst.address = pod->pod_ip;
        inst.labels = pod->meta.labels;
        inst.uid = "kubernetes://" + *key_ptr;
        for (const auto& p : k.ports)
          inst.ports.push_back(podTargetPort(p, *pod));
        s->instances.push_back(std::move(inst));
      }
    }
  } else if (auto it = endpoints_.find(key); it != endpoints_.end()) {
    for (const auto& subset : it->second->subsets) {
      for (const auto& addr : subset.addresses) {
        ServiceInstance inst;
        inst.address = addr.ip;
        if (!addr.pod_name.empty()) {
          std::string ns = addr.pod_namespace.empty() ? k.meta.namespace_ : addr.pod_namespace;
          inst.uid = "kubernetes://" + addr.pod_name + "." + ns;
          if (auto pod = pods_.find(addr.pod_name + "." + ns); pod != pods_.end()) {
            inst.labels = pod->second->meta.labels;
          }
        }
        for (const auto& sp : k.ports) {
          uint32_t number = 0;
          for (const auto& ep : subset.ports) {
            if (ep.name == sp.name || (k.ports.size() == 1 && subset.ports.size() == 1)) {
              number = ep.port;
            }
          }
          inst.ports.push_back(number);
        }
        s->instances.push_back(std::move(inst));
      }
    }
  }
}

void MeshSnapshot::buildServices() {
  const std::string& suffix = config_.mesh.domain_suffix;
  for (const auto& o : config_.objects) {
    if (o.kind == ObjectKind::kService) {
      const auto& k = std::get<K8sService>(o.value);
      Service s;
      s.fqdn = serviceFqdn(k.meta.name, k.meta.namespace_, suffix);
      s.name = k.meta.name;
      s.namespace_ = k.meta.namespace_;
      s.source = "Service " + o.key();
      if (!k.cluster_ip.empty() && k.cluster_ip != "None") s.vips.push_back(k.cluster_ip);
      for (const auto& p : k.ports) {
        s.ports.push_back(
            {p.name, p.port, protocolForServicePort(p.name, p.app_protocol, p.protocol)});
      }
      selectInstances(k, o.key(), &s);
      services_.push_back(std::move(s));
    } else if (o.kind == ObjectKind::kServiceEntry) {
      const auto& se = std::get<ServiceEntry>(o.value);
      for (const auto& host : se.hosts) {
        Service s;
        s.fqdn = host;
        s.name = se.meta.name;
        s.namespace_ = se.meta.namespace_;
        s.origin = Service::Origin::kServiceEntry;
        s.source = "ServiceEntry " + o.key();
        s.vips = se.addresses;
        s.passthrough = se.resolution == ServiceEntry::Resolution::kNone;
        s.export_to = se.export_to;
        for (const auto& p : se.ports) {
          s.ports.push_back({p.name, p.number, protocolForServiceEntryPort(p.protocol)});
        }
        for (const auto& ep : se.endpoints) {
          ServiceInstance inst;
          inst.address = ep.address;
          inst.labels = ep.labels;
          inst.locality = ep.locality;
          inst.weight = ep.weight == 0 ? 1 : ep.weight;
          for (const auto& p : se.ports) {
            auto it = ep.ports.find(p.name);
            inst.ports.push_back(it != ep.ports.end() ? it->second
                                                      : (p.target_port ? p.target_port : p.number));
          }
          s.instances.push_back(std::move(inst));
        }
        services_.push_back(std::move(s));
      }
    }
  }
  // Kubernetes services win a host clash, then the first object in file order.
  std::stable_sort(services_.begin(), services_.end(), [](const Service& a, const Service& b) {
    return std::tie(a.fqdn, a.origin) < std::tie(b.fqdn, b.origin);
  });
  std::vector<Service> unique;
  for (auto& s : services_) {
    if (!unique.empty() && unique.back().fqdn == s.fqdn) {
      warnings_.push_back(s.source + ": host " + s.fqdn + " is already defined by " +
                          unique.back().source + "; ignored");
      continue;
    }
    sortInstances(&s);
    unique.push_back(std::move(s));
  }
  services_ = std::move(unique);
  for (size_t i = 0; i < services_.size(); ++i)
    service_by_fqdn_[services_[i].fqdn] = i;
  buildInbound();
}

void MeshSnapshot::buildInbound() {
  // The inbound side of every pod, computed once rather than per proxy.
  for (const auto& svc : services_) {
    if (svc.origin != Service::Origin::kKubernetes) continue;
    for (const auto& inst : svc.instances) {
      auto& targets = inbound_[svc.namespace_ + "/" + inst.address];
      for (size_t i = 0; i < svc.ports.size(); ++i) {
        if (inst.ports[i] != 0 && svc.ports[i].protocol != Protocol::kUdp) {
          targets.push_back({&svc, svc.ports[i], inst.ports[i]});
        }
      }
    }
  }
  for (auto& [key, targets] : inbound_) {
    std::sort(targets.begin(), targets.end(), [](const InboundTarget& a, const InboundTarget& b) {
      return std::tie(a.target_port, a.service->fqdn, a.port.port) <
             std::tie(b.target_port, b.service->fqdn, b.port.port);
    });
    // A pod listed twice by one service (two Endpoints subsets) serves each
    // port once.
    targets.erase(std::unique(targets.begin(), targets.end(),
                              [](const InboundTarget& a, const InboundTarget& b) {
                                return a.service == b.service && a.port.port == b.port.port &&
                                       a.target_port == b.target_port;
                              }),
                  targets.end());
  }
}

bool MeshSnapshot::patchFrom(const MeshSnapshot& previous) {
  // Equal config hashes mean the same Services, ServiceEntries, rules and
  // mesh config, in the same order; what they resolve to does not depend on
  // pods. Rules point into each snapshot's own ConfigSet, so they are taken
  // over by position: the i-th VirtualService of one is the i-th of the
  // other.
  auto rulesOf = [](const ConfigSet& config, std::vector<const VirtualService*>* vs,
                    std::vector<const DestinationRule*>* dr) {
    for (const auto& o : config.objects) {
      if (o.kind == ObjectKind::kVirtualService) vs->push_back(&std::get<VirtualService>(o.value));
      if (o.kind == ObjectKind::kDestinationRule) {
        dr->push_back(&std::get<DestinationRule>(o.value));
      }
    }
  };
  std::vector<const VirtualService*> old_vs, new_vs;
  std::vector<const DestinationRule*> old_dr, new_dr;
  rulesOf(previous.config_, &old_vs, &old_dr);
  rulesOf(config_, &new_vs, &new_dr);
  if (old_vs.size() != new_vs.size() || old_dr.size() != new_dr.size()) return false;
  std::unordered_map<const VirtualService*, const VirtualService*> vs_map;
  for (size_t i = 0; i < old_vs.size(); ++i)
    vs_map.emplace(old_vs[i], new_vs[i]);
  std::unordered_map<const DestinationRule*, const DestinationRule*> dr_map;
  for (size_t i = 0; i < old_dr.size(); ++i)
    dr_map.emplace(old_dr[i], new_dr[i]);
  virtual_services_ = previous.virtual_services_;
  for (auto& r : virtual_services_)
    r.spec = vs_map.at(r.spec);
  virtual_service_index_ = previous.virtual_service_index_;
  destination_rules_ = previous.destination_rules_;
  for (auto& r : destination_rules_)
    r.spec = dr_map.at(r.spec);
  destination_rule_index_ = previous.destination_rule_index_;
  warnings_.insert(
      warnings_.end(),
      previous.warnings_.begin() + static_cast<std::ptrdiff_t>(previous.config_warnings_),
      previous.warnings_.end());
  services_ = previous.services_;
  service_by_fqdn_ = previous.service_by_fqdn_;

  // Pods whose documents differ (added, removed or edited), both versions.
  std::vector<const K8sPod*> changed_pods;
  std::set<std::string_view> changed_namespaces;
  {
    const auto& a = previous.pod_object_hashes_;
    const auto& b = pod_object_hashes_;
    auto note = [&](const MeshSnapshot& s, const std::string& id) {
      if (auto it = s.pods_.find(id); it != s.pods_.end()) {
        changed_pods.push_back(it->second);
        changed_namespaces.insert(it->second->meta.namespace_);
      }
    };
    auto i = a.begin();
    auto j = b.begin();
    while (i != a.end() || j != b.end()) {
      if (j == b.end() || (i != a.end() && i->first < j->first)) {
        note(previous, (i++)->first);
      } else if (i == a.end() || j->first < i->first) {
        note(*this, (j++)->first);
      } else {
        if (i->second != j->second) {
          note(previous, i->first);
          note(*this, j->first);
        }
        ++i;
        ++j;
      }
    }
  }
  bool endpoints_changed = previous.endpoints_object_hashes_ != endpoints_object_hashes_;
  if (!changed_pods.empty() || endpoints_changed) {
    // Only Kubernetes Services read pods or Endpoints; a ServiceEntry's
    // backends are in its own spec.
    const std::string& suffix = config_.mesh.domain_suffix;
    for (const auto& o : config_.objects) {
      if (o.kind != ObjectKind::kService) continue;
      const auto& k = std::get<K8sService>(o.value);
      bool affected = false;
      if (k.has_selector) {
        if (k.selector.empty() || !changed_namespaces.count(k.meta.namespace_)) continue;
        for (const K8sPod* pod : changed_pods) {
          affected = affected || (pod->meta.namespace_ == k.meta.namespace_ &&
                                  selects(k.selector, pod->meta.labels));
        }
      } else {
        // Its Endpoints may name any pod (for labels): few such services,
        // so any change recomputes them all.
        affected = true;
      }
      if (!affected) continue;
      auto it = service_by_fqdn_.find(serviceFqdn(k.meta.name, k.meta.namespace_, suffix));
      if (it == service_by_fqdn_.end()) continue;
      Service& svc = services_[it->second];
      // The service of that host may be another object's that won a clash.
      if (svc.origin != Service::Origin::kKubernetes || svc.source != "Service " + o.key()) {
        continue;
      }
      svc.instances.clear();
      selectInstances(k, o.key(), &svc);
      sortInstances(&svc);
    }
  }
  buildInbound();
  return true;
}

void MeshSnapshot::HostIndex::add(const std::string& host, size_t rule) {
  if (!host.empty() && host.front() == '*') {
    wildcard.emplace_back(host, rule);
  } else {
    auto& rules = exact[host];
    if (rules.empty() || rules.back() != rule) rules.push_back(rule);
  }
}

void MeshSnapshot::linkRules() {
  for (const auto& o : config_.objects) {
    if (o.kind == ObjectKind::kVirtualService) {
      const auto& vs = std::get<VirtualService>(o.value);
      ResolvedVirtualService r;
      r.spec = &vs;
      r.ref = o.key();
      for (const auto& h : vs.hosts)
        r.hosts.push_back(resolveHost(h, vs.meta.namespace_));
      virtual_services_.push_back(std::move(r));
    } else if (o.kind == ObjectKind::kDestinationRule) {
      const auto& dr = std::get<DestinationRule>(o.value);
      destination_rules_.push_back({&dr, resolveHost(dr.host, dr.meta.namespace_)});
    }
  }
  std::stable_sort(virtual_services_.begin(), virtual_services_.end(),
                   [](const ResolvedVirtualService& a, const ResolvedVirtualService& b) {
                     return std::tie(a.spec->meta.creation_timestamp, a.ref) <
                            std::tie(b.spec->meta.creation_timestamp, b.ref);
                   });
  for (size_t i = 0; i < virtual_services_.size(); ++i) {
    for (const auto& h : virtual_services_[i].hosts)
      virtual_service_index_.add(h, i);
  }
  for (size_t i = 0; i < destination_rules_.size(); ++i) {
    destination_rule_index_.add(destination_rules_[i].host, i);
  }
  // Report references that will not work, without refusing the rule: the seed
  // shows that a route to an undefined subset is still served (and gives 503).
  for (const auto& r : virtual_services_) {
    const auto& vs = *r.spec;
    auto check = [&](const RouteDestination& d, const std::string& path) {
      std::string host = resolveHost(d.destination.host, vs.meta.namespace_);
      const Service* svc = findService(host);
      std::string where = "VirtualService " + r.ref + ": " + path + ".destination: ";
      if (!svc) {
        warnings_.push_back(where + "host " + host + " is not in the registry");
        return;
      }
      if (d.destination.port && !svc->findPort(d.destination.port)) {
        warnings_.push_back(where + "port " + std::to_string(d.destination.port) +
                            " is not a port of " + host);
      }
      if (d.destination.subset.empty()) return;
      bool defined = false;
      destination_rule_index_.forEachCandidate(host, [&](size_t i) {
        for (const auto& s : destination_rules_[i].spec->subsets)
          defined = defined || s.name == d.destination.subset;
      });
      if (!defined) {
        warnings_.push_back(where + "subset \"" + d.destination.subset + "\" of " + host +
                            " is not defined by any DestinationRule (requests will get 503 NC)");
      }
    };
    for (size_t i = 0; i < vs.http.size(); ++i) {
      for (size_t j = 0; j < vs.http[i].route.size(); ++j) {
        check(vs.http[i].route[j],
              "spec.http[" + std::to_string(i) + "].route[" + std::to_string(j) + "]");
      }
    }
    for (size_t i = 0; i < vs.tcp.size(); ++i) {
      for (size_t j = 0; j < vs.tcp[i].route.size(); ++j) {
        check(vs.tcp[i].route[j],
              "spec.tcp[" + std::to_string(i) + "].route[" + std::to_string(j) + "]");
      }
    }
  }
}

const Service* MeshSnapshot::findService(std::string_view fqdn) const {
  auto it = service_by_fqdn_.find(fqdn);
  return it == service_by_fqdn_.end() ? nullptr : &services_[it->second];
}

bool MeshSnapshot::visibleTo(const std::vector<std::string>& export_to, std::string_view owner_ns,
                             std::string_view proxy_ns) const {
  if (export_to.empty()) return true;
  for (const auto& e : export_to) {
    if (e == "*" || e == proxy_ns || (e == "." && owner_ns == proxy_ns)) return true;
  }
  return false;
}

std::optional<ProxyNode> MeshSnapshot::findProxy(std::string_view id) const {
  auto it = pods_.find(id);
  if (it == pods_.end()) return std::nullopt;
  const K8sPod& pod = *it->second;
  return ProxyNode{pod.meta.name, pod.meta.namespace_, pod.pod_ip, pod.meta.labels,
                   pod.service_account};
}

std::vector<std::string> MeshSnapshot::proxyIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, pod] : pods_) {
    if (!pod->pod_ip.empty()) ids.push_back(id);
  }
  return ids;
}

std::vector<InboundTarget> MeshSnapshot::inboundTargets(const ProxyNode& proxy) const {
  if (proxy.ip.empty()) return {};
  auto it = inbound_.find(proxy.namespace_ + "/" + proxy.ip);
  return it == inbound_.end() ? std::vector<InboundTarget>{} : it->second;
}

std::string MeshSnapshot::resolveHost(std::string_view host, std::string_view ns) const {
  if (host.find('.') != std::string_view::npos && findService(host)) return std::string(host);
  return pilot::resolveHost(host, ns, config_.mesh.domain_suffix);
}

const ResolvedVirtualService* MeshSnapshot::virtualServiceFor(std::string_view fqdn,
                                                              std::string_view proxy_ns) const {
  const ResolvedVirtualService* exact = nullptr;
  const ResolvedVirtualService* wildcard = nullptr;
  virtual_service_index_.forEachCandidate(fqdn, [&](size_t i) {
    const ResolvedVirtualService& r = virtual_services_[i];
    const auto& vs = *r.spec;
    if (!appliesToSidecars(vs.gateways) || !visibleTo(vs.export_to, vs.meta.namespace_, proxy_ns)) {
      return;
    }
    bool names_exactly = std::find(r.hosts.begin(), r.hosts.end(), fqdn) != r.hosts.end();
    if (names_exactly) {
      if (!exact || (exact->spec->meta.namespace_ != proxy_ns && vs.meta.namespace_ == proxy_ns)) {
        exact = &r;
      }
    } else if (!wildcard) {
      wildcard = &r;
    }
  });
  return exact ? exact : wildcard;
}

const DestinationRule* MeshSnapshot::destinationRuleFor(const Service& service,
                                                        std::string_view proxy_ns) const {
  const DestinationRule* best = nullptr;
  int best_rank = 100;
  destination_rule_index_.forEachCandidate(service.fqdn, [&](size_t i) {
    const auto& [dr, host] = destination_rules_[i];
    if (!visibleTo(dr->export_to, dr->meta.namespace_, proxy_ns)) return;
    int rank = 3;
    if (dr->meta.namespace_ == proxy_ns) {
      rank = 0;
    } else if (dr->meta.namespace_ == service.namespace_) {
      rank = 1;
    } else if (dr->meta.namespace_ == config_.mesh.root_namespace) {
      rank = 2;
    }
    if (host != service.fqdn) rank += 4;  // exact host beats a wildcard
    if (rank < best_rank) {
      best = dr;
      best_rank = rank;
    }
  });
  return best;
}

uint64_t MeshSnapshot::proxyHash(std::string_view id) const {
  auto proxy = findProxy(id);
  if (!proxy) return 0;
  uint64_t h = fnv1a(proxy->ip + "|" + proxy->service_account);
  h = hashLabels(proxy->labels, h);
  for (const auto& t : inboundTargets(*proxy)) {
    h = fnv1a(
        t.service->fqdn + ":" + std::to_string(t.port.port) + ">" + std::to_string(t.target_port),
        h);
  }
  return h;
}

SnapshotChanges compareSnapshots(const MeshSnapshot& before, const MeshSnapshot& after) {
  SnapshotChanges c;
  c.config_changed = before.configHash() != after.configHash();
  std::set<std::string> fqdns;
  for (const auto& s : before.services())
    fqdns.insert(s.fqdn);
  for (const auto& s : after.services())
    fqdns.insert(s.fqdn);
  for (const auto& f : fqdns) {
    const Service* a = before.findService(f);
    const Service* b = after.findService(f);
    if (!a || !b || a->endpoints_hash != b->endpoints_hash) c.endpoint_services.push_back(f);
  }
  if (c.config_changed) return c;
  // Services, rules and the mesh config are the same: a proxy's own config
  // changes only with its pod's document. Both maps are sorted by id, and
  // so is the result.
  const auto& a = before.podObjectHashes();
  const auto& b = after.podObjectHashes();
  auto consider = [&](const std::string& id) {
    auto ip = [&](const MeshSnapshot& s) {
      auto p = s.findProxy(id);
      return p && !p->ip.empty();
    };
    if ((ip(before) || ip(after)) && before.proxyHash(id) != after.proxyHash(id)) {
      c.changed_proxies.push_back(id);
    }
  };
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (j == b.end() || (i != a.end() && i->first < j->first)) {
      consider((i++)->first);
    } else if (i == a.end() || j->first < i->first) {
      consider((j++)->first);
    } else {
      if (i->second != j->second) consider(i->first);
      ++i;
      ++j;
    }
  }
  return c;
}

}  // namespace remora::pilot
