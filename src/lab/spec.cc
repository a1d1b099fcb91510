#include "lab/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <tuple>

#include "config/bootstrap.h"
#include "init/capture_config.h"
#include "lab/pilot_config.h"
#include "lab/system.h"

namespace remora::lab {
namespace {

using network::CidrRange;
using network::IpAddress;

uint32_t toU32(const IpAddress& ip) {
  const uint8_t* b = ip.bytes();
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

IpAddress fromU32(uint32_t v) {
  in_addr a;
  a.s_addr = htonl(v);
  return IpAddress::fromV4(a);
}

bool rangeInside(const CidrRange& inner, const CidrRange& outer) {
  return inner.prefixLen() >= outer.prefixLen() && outer.contains(inner.address());
}

bool rangesOverlap(const CidrRange& a, const CidrRange& b) {
  return a.contains(b.address()) || b.contains(a.address());
}

// First and last host address of a range (no network, no broadcast address).
std::pair<uint32_t, uint32_t> hostBounds(const CidrRange& r) {
  uint32_t base = toU32(r.address());
  uint32_t size = r.prefixLen() == 0 ? 0 : (uint32_t{1} << (32 - r.prefixLen()));
  return {base + 1, base + size - 2};
}

bool isHostAddress(const CidrRange& r, const IpAddress& ip) {
  if (!ip.isV4() || !r.contains(ip)) return false;
  auto [first, last] = hostBounds(r);
  uint32_t v = toU32(ip);
  return v >= first && v <= last;
}

StatusOr<CidrRange> parsePrivateRange(const std::string& flag, const std::string& text) {
  auto range = CidrRange::parse(text);
  if (!range.ok() || text.find('/') == std::string::npos) {
    return invalidArgumentError(flag + ": \"" + text +
                                "\" is not a CIDR range such as 10.244.0.0/16");
  }
  if (!range->address().isV4()) {
    return invalidArgumentError(flag + ": " + text + " is IPv6; the lab is IPv4 only");
  }
  if (range->toString() != text) {
    return invalidArgumentError(flag + ": " + text + " has host bits set; did you mean " +
                                range->toString() + "?");
  }
  if (range->prefixLen() < 8 || range->prefixLen() > 30) {
    return invalidArgumentError(flag + ": " + text + " must have a prefix length from /8 to /30");
  }
  static const char* kPrivate[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"};
  for (const char* p : kPrivate) {
    if (rangeInside(*range, *CidrRange::parse(p))) return range;
  }
  return invalidArgumentError(flag + ": " + text +
                              " is not inside a private range (10.0.0.0/8, 172.16.0.0/12, "
                              "192.168.0.0/16); the lab only uses private addresses");
}

// Error context while reading one document: "<source>:<line>: Pod reviews: ".
class Context {
 public:
  Context(std::string source, int line, std::string object)
      : source_(std::move(source)), line_(line), object_(std::move(object)) {}

  Status error(const YAML::Node& at, const std::string& field, const std::string& what) const {
    int line = at.IsDefined() ? at.Mark().line + 1 : line_;
    if (line <= 0) line = line_;
    std::string where = source_ + ":" + std::to_string(line) + ": ";
    if (!object_.empty()) where += object_ + ": ";
    return invalidArgumentError(where + (field.empty() ? "" : field + ": ") + what);
  }
  void setObject(std::string object) { object_ = std::move(object); }
  int line() const { return line_; }

 private:
  std::string source_;
  int line_;
  std::string object_;
};

// node[key] without yaml-cpp's traps: a missing key yields an Undefined node
// that every accessor here may be called on (yaml-cpp's own "zombie" nodes
// throw on most accessors).
YAML::Node child(const YAML::Node& node, const char* key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node found = node[key];
  if (!found.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return found;
}

// A scalar field, or `fallback` when absent. Maps and lists are errors.
StatusOr<std::string> scalarField(const Context& ctx, const YAML::Node& parent, const char* key,
                                  const std::string& path, const std::string& fallback = "") {
  YAML::Node n = child(parent, key);
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) return ctx.error(n, path, "must be a string");
  return n.Scalar();
}

StatusOr<std::vector<std::string>> stringList(const Context& ctx, const YAML::Node& parent,
                                              const char* key, const std::string& path) {
  std::vector<std::string> out;
  YAML::Node n = child(parent, key);
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) return ctx.error(n, path, "must be a list of strings");
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      return ctx.error(n[i], path + "[" + std::to_string(i) + "]", "must be a string");
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> stringMap(const Context& ctx, const YAML::Node& parent,
                                                       const char* key, const std::string& path) {
  std::map<std::string, std::string> out;
  YAML::Node n = child(parent, key);
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsMap()) return ctx.error(n, path, "must be a map of strings");
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    if (!kv.second.IsScalar()) {
      return ctx.error(kv.second, path + "." + k, "must be a string (quote \"true\" and numbers)");
    }
    out[k] = kv.second.Scalar();
  }
  return out;
}

StatusOr<uint16_t> portField(const Context& ctx, const YAML::Node& parent, const char* key,
                             const std::string& path) {
  YAML::Node n = child(parent, key);
  if (!n.IsDefined() || n.IsNull()) return ctx.error(parent, path, "required");
  if (!n.IsScalar()) return ctx.error(n, path, "must be a port number");
  const std::string& s = n.Scalar();
  bool digits = !s.empty() && s.size() <= 5 &&
                std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c) != 0; });
  long v = digits ? std::stol(s) : 0;
  if (v < 1 || v > 65535) return ctx.error(n, path, "\"" + s + "\" is not a port (1-65535)");
  return static_cast<uint16_t>(v);
}

struct Metadata {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

StatusOr<Metadata> parseMetadata(Context& ctx, const YAML::Node& doc, const std::string& kind,
                                 bool dns1035) {
  Metadata m;
  YAML::Node meta = child(doc, "metadata");
  if (!meta.IsMap()) return ctx.error(doc, "metadata", "required (a map with a name)");
  REMORA_ASSIGN_OR_RETURN(m.name, scalarField(ctx, meta, "name", "metadata.name"));
  if (m.name.empty()) return ctx.error(meta, "metadata.name", "required");
  ctx.setObject(kind + " " + m.name);
  Status s = dns1035 ? validateDns1035Label("metadata.name", m.name)
                     : validateDnsLabel("metadata.name", m.name);
  if (!s.ok()) return ctx.error(child(meta, "name"), "", s.message());
  REMORA_ASSIGN_OR_RETURN(m.ns,
                          scalarField(ctx, meta, "namespace", "metadata.namespace", "default"));
  if (Status ns = validateDnsLabel("metadata.namespace", m.ns); !ns.ok()) {
    return ctx.error(child(meta, "namespace"), "", ns.message());
  }
  REMORA_ASSIGN_OR_RETURN(m.labels, stringMap(ctx, meta, "labels", "metadata.labels"));
  REMORA_ASSIGN_OR_RETURN(m.annotations,
                          stringMap(ctx, meta, "annotations", "metadata.annotations"));
  return m;
}

StatusOr<Container> parseContainer(const Context& ctx, const YAML::Node& node, size_t index) {
  std::string path = "spec.containers[" + std::to_string(index) + "]";
  if (!node.IsMap()) return ctx.error(node, path, "must be a map");
  Container c;
  std::string fallback = index == 0 ? "app" : "app-" + std::to_string(index);
  REMORA_ASSIGN_OR_RETURN(c.name, scalarField(ctx, node, "name", path + ".name", fallback));
  if (Status s = validateDnsLabel(path + ".name", c.name); !s.ok()) {
    return ctx.error(child(node, "name"), "", s.message());
  }
  REMORA_ASSIGN_OR_RETURN(c.argv, stringList(ctx, node, "command", path + ".command"));
  if (c.argv.empty() || c.argv[0].empty()) {
    return ctx.error(node, path + ".command",
                     "required: the lab runs no images, so each container needs a command");
  }
  REMORA_ASSIGN_OR_RETURN(std::vector<std::string> args,
                          stringList(ctx, node, "args", path + ".args"));
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  YAML::Node env = child(node, "env");
  if (env.IsDefined() && !env.IsNull()) {
    if (!env.IsSequence()) return ctx.error(env, path + ".env", "must be a list");
    for (size_t i = 0; i < env.size(); ++i) {
      std::string ep = path + ".env[" + std::to_string(i) + "]";
      if (child(env[i], "valueFrom").IsDefined()) {
        return ctx.error(env[i], ep + ".valueFrom", "not supported in the lab; use value");
      }
      EnvVar v;
      REMORA_ASSIGN_OR_RETURN(v.name, scalarField(ctx, env[i], "name", ep + ".name"));
      if (v.name.empty() || v.name.find('=') != std::string::npos) {
        return ctx.error(env[i], ep + ".name", "required, without '='");
      }
      REMORA_ASSIGN_OR_RETURN(v.value, scalarField(ctx, env[i], "value", ep + ".value"));
      c.env.push_back(std::move(v));
    }
  }
  YAML::Node ports = child(node, "ports");
  if (ports.IsDefined() && !ports.IsNull()) {
    if (!ports.IsSequence()) return ctx.error(ports, path + ".ports", "must be a list");
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string pp = path + ".ports[" + std::to_string(i) + "]";
      REMORA_ASSIGN_OR_RETURN(uint16_t p,
                              portField(ctx, ports[i], "containerPort", pp + ".containerPort"));
      REMORA_ASSIGN_OR_RETURN(std::string name, scalarField(ctx, ports[i], "name", pp + ".name"));
      c.ports.push_back(p);
      c.port_names.push_back(std::move(name));
    }
  }
  return c;
}

StatusOr<bool> readInject(const Context& ctx, const YAML::Node& doc, const Metadata& m) {
  // Istio reads the annotation, and in newer releases the label; either works.
  for (const auto* map : {&m.annotations, &m.labels}) {
    auto it = map->find(kInjectAnnotation);
    if (it == map->end()) continue;
    if (it->second == "true") return true;
    if (it->second == "false") return false;
    return ctx.error(child(doc, "metadata"),
                     std::string("metadata.") + (map == &m.labels ? "labels." : "annotations.") +
                         kInjectAnnotation,
                     "must be \"true\" or \"false\", not \"" + it->second + "\"");
  }
  return false;
}

// A Pod as read, before IPs are known; the bootstrap is still a template.
struct RawPod {
  Pod pod;
  std::string bootstrap_template;
  std::string bootstrap_source;  // file name or annotation, for messages
  std::string explicit_ip;
  YAML::Node ip_node;
  Context ctx;
};

struct RawService {
  Service service;
  std::string explicit_ip;
  YAML::Node ip_node;
  Context ctx;
};

Status parsePod(Context ctx, const YAML::Node& doc, const std::string& base_dir,
                std::vector<RawPod>* out) {
  REMORA_ASSIGN_OR_RETURN(Metadata m, parseMetadata(ctx, doc, "Pod", false));
  Pod pod;
  pod.name = m.name;
  pod.ns = m.ns;
  pod.labels = m.labels;
  pod.annotations = m.annotations;
  pod.line = ctx.line();
  YAML::Node spec = child(doc, "spec");
  YAML::Node containers = child(spec, "containers");
  if (!containers.IsSequence() || containers.size() == 0) {
    return ctx.error(spec.IsDefined() ? spec : doc, "spec.containers",
                     "required: a list with at least one container");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < containers.size(); ++i) {
    REMORA_ASSIGN_OR_RETURN(Container c, parseContainer(ctx, containers[i], i));
    if (!names.insert(c.name).second) {
      return ctx.error(containers[i], "spec.containers[" + std::to_string(i) + "].name",
                       "\"" + c.name + "\" is used twice");
    }
    pod.containers.push_back(std::move(c));
  }
  REMORA_ASSIGN_OR_RETURN(pod.sidecar, readInject(ctx, doc, m));
  // serviceAccount is the deprecated spelling Kubernetes still reads.
  REMORA_ASSIGN_OR_RETURN(pod.service_account,
                          scalarField(ctx, spec, "serviceAccount", "spec.serviceAccount"));
  REMORA_ASSIGN_OR_RETURN(
      pod.service_account,
      scalarField(ctx, spec, "serviceAccountName", "spec.serviceAccountName", pod.service_account));
  RawPod raw{std::move(pod), "", "", "", child(child(doc, "status"), "podIP"), ctx};
  REMORA_ASSIGN_OR_RETURN(raw.explicit_ip,
                          scalarField(ctx, child(doc, "status"), "podIP", "status.podIP"));
  auto file = m.annotations.find(kBootstrapAnnotation);
  auto inline_yaml = m.annotations.find(kBootstrapYamlAnnotation);
  std::string ann_path = std::string("metadata.annotations.") + kBootstrapAnnotation;
  if (file != m.annotations.end() && inline_yaml != m.annotations.end()) {
    return ctx.error(child(doc, "metadata"), ann_path,
                     std::string("give either this or ") + kBootstrapYamlAnnotation + ", not both");
  }
  bool has_bootstrap = file != m.annotations.end() || inline_yaml != m.annotations.end();
  // Without a bootstrap of its own, the sidecar gets its config from pilot.
  raw.pod.pilot_bootstrap = raw.pod.sidecar && !has_bootstrap;
  if (!raw.pod.sidecar && has_bootstrap) {
    return ctx.error(child(doc, "metadata"), "metadata.annotations",
                     std::string("a proxy bootstrap is given but the pod does not ask for a "
                                 "sidecar: add ") +
                         kInjectAnnotation + ": \"true\"");
  }
  if (file != m.annotations.end()) {
    std::string path = file->second;
    if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
    auto text = readTextFile(path);
    if (!text.ok()) return ctx.error(child(doc, "metadata"), ann_path, text.status().message());
    raw.bootstrap_template = *text;
    raw.bootstrap_source = file->second;
  } else if (inline_yaml != m.annotations.end()) {
    raw.bootstrap_template = inline_yaml->second;
    raw.bootstrap_source = kBootstrapYamlAnnotation;
  }
  out->push_back(std::move(raw));
  return Status::okStatus();
}

Status parseService(Context ctx, const YAML::Node& doc, std::vector<RawService>* out) {
  REMORA_ASSIGN_OR_RETURN(Metadata m, parseMetadata(ctx, doc, "Service", true));
  RawService raw{Service{m.name, m.ns, {}, {}, m.labels, {}, false}, "", {}, ctx};
  YAML::Node spec = child(doc, "spec");
  YAML::Node selector = child(spec, "selector");
  if (selector.IsDefined() && !selector.IsNull()) {
    REMORA_ASSIGN_OR_RETURN(raw.service.selector,
                            stringMap(ctx, spec, "selector", "spec.selector"));
    raw.service.has_selector = true;
  }
  raw.ip_node = child(spec, "clusterIP");
  REMORA_ASSIGN_OR_RETURN(raw.explicit_ip, scalarField(ctx, spec, "clusterIP", "spec.clusterIP"));
  if (raw.explicit_ip == "None") {
    return ctx.error(raw.ip_node, "spec.clusterIP",
                     "headless Services (clusterIP: None) are not supported in the lab");
  }
  YAML::Node ports = child(spec, "ports");
  if (ports.IsDefined() && !ports.IsNull()) {
    if (!ports.IsSequence()) return ctx.error(ports, "spec.ports", "must be a list");
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string p = "spec.ports[" + std::to_string(i) + "]";
      ServicePort sp;
      REMORA_ASSIGN_OR_RETURN(sp.port, portField(ctx, ports[i], "port", p + ".port"));
      REMORA_ASSIGN_OR_RETURN(sp.name, scalarField(ctx, ports[i], "name", p + ".name"));
      REMORA_ASSIGN_OR_RETURN(sp.target_port,
                              scalarField(ctx, ports[i], "targetPort", p + ".targetPort"));
      REMORA_ASSIGN_OR_RETURN(sp.protocol, scalarField(ctx, ports[i], "protocol", p + ".protocol"));
      REMORA_ASSIGN_OR_RETURN(sp.app_protocol,
                              scalarField(ctx, ports[i], "appProtocol", p + ".appProtocol"));
      raw.service.ports.push_back(std::move(sp));
    }
  }
  out->push_back(std::move(raw));
  return Status::okStatus();
}

bool validSubdomain(const std::string& v) {
  if (v.empty() || v.size() > 253) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  };
  return std::all_of(v.begin(), v.end(), ok) &&
         std::isalnum(static_cast<unsigned char>(v.front())) &&
         std::isalnum(static_cast<unsigned char>(v.back()));
}

// An Istio resource, kept as written for pilot, which validates it; the lab
// only needs its kind, namespace and name (they name its file).
Status parseIstioObject(Context ctx, const YAML::Node& doc, const std::string& kind,
                        std::vector<IstioObject>* out) {
  IstioObject o;
  o.kind = kind;
  o.line = ctx.line();
  if (kind.empty()) return ctx.error(doc, "kind", "required");
  bool word = std::isalpha(static_cast<unsigned char>(kind[0])) &&
              std::all_of(kind.begin(), kind.end(),
                          [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
  if (!word) return ctx.error(child(doc, "kind"), "kind", "\"" + kind + "\" is not a kind name");
  YAML::Node meta = child(doc, "metadata");
  if (!meta.IsMap()) return ctx.error(doc, "metadata", "required (a map with a name)");
  REMORA_ASSIGN_OR_RETURN(o.name, scalarField(ctx, meta, "name", "metadata.name"));
  ctx.setObject(kind + " " + o.name);
  if (!validSubdomain(o.name)) {
    return ctx.error(child(meta, "name"), "metadata.name",
                     "\"" + o.name +
                         "\" is not a valid name: lowercase letters, digits, '-' and '.', "
                         "starting and ending with a letter or digit");
  }
  REMORA_ASSIGN_OR_RETURN(o.ns,
                          scalarField(ctx, meta, "namespace", "metadata.namespace", "default"));
  if (Status ns = validateDnsLabel("metadata.namespace", o.ns); !ns.ok()) {
    return ctx.error(child(meta, "namespace"), "", ns.message());
  }
  YAML::Emitter e;
  e << doc;
  o.yaml = std::string(e.c_str()) + "\n";
  out->push_back(std::move(o));
  return Status::okStatus();
}

Status parseDocument(const YAML::Node& doc, const std::string& source, const std::string& base_dir,
                     std::vector<RawPod>* pods, std::vector<RawService>* services,
                     std::vector<IstioObject>* istio) {
  if (doc.IsNull()) return Status::okStatus();  // an empty document between ---
  Context ctx(source, doc.Mark().line + 1, "");
  if (!doc.IsMap()) return ctx.error(doc, "", "a document must be a map with apiVersion and kind");
  REMORA_ASSIGN_OR_RETURN(std::string api, scalarField(ctx, doc, "apiVersion", "apiVersion"));
  REMORA_ASSIGN_OR_RETURN(std::string kind, scalarField(ctx, doc, "kind", "kind"));
  auto endsWith = [](const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
  };
  std::string group = api.substr(0, api.find('/'));
  if (endsWith(group, ".istio.io")) return parseIstioObject(ctx, doc, kind, istio);
  if (endsWith(group, "remora.io")) return Status::okStatus();
  if (api != "v1") {
    return ctx.error(child(doc, "apiVersion"), "apiVersion",
                     "\"" + api + "\" (" + kind +
                         ") is not supported by the lab: it reads v1 Pods and Services");
  }
  if (kind == "Pod") return parsePod(ctx, doc, base_dir, pods);
  if (kind == "Service") return parseService(ctx, doc, services);
  if (kind == "List") {
    YAML::Node items = child(doc, "items");
    if (!items.IsSequence()) return ctx.error(doc, "items", "a List needs a list of items");
    for (const auto& item : items) {
      REMORA_RETURN_IF_ERROR(parseDocument(item, source, base_dir, pods, services, istio));
    }
    return Status::okStatus();
  }
  return ctx.error(child(doc, "kind"), "kind",
                   "\"" + kind + "\" is not supported by the lab (Pod, Service, List)");
}

// Gives every object without an explicit address the next free one.
// `reserved` (if any) is never given out, and a fixed address equal to it is
// refused with `reserved_why`.
template <typename Raw, typename SetIp>
Status assignAddresses(std::vector<Raw>& objects, const CidrRange& range, const char* field,
                       const char* flag, const std::optional<IpAddress>& reserved,
                       const std::string& reserved_why, SetIp set_ip) {
  std::set<uint32_t> used;
  if (reserved) used.insert(toU32(*reserved));
  for (Raw& r : objects) {
    if (r.explicit_ip.empty()) continue;
    auto ip = IpAddress::parse(r.explicit_ip);
    if (!ip.ok() || !ip->isV4()) {
      return r.ctx.error(r.ip_node, field, "\"" + r.explicit_ip + "\" is not an IPv4 address");
    }
    if (!isHostAddress(range, *ip)) {
      return r.ctx.error(
          r.ip_node, field,
          r.explicit_ip + " is not a host address inside " + flag + " " + range.toString());
    }
    if (reserved && *ip == *reserved) {
      return r.ctx.error(r.ip_node, field, r.explicit_ip + " " + reserved_why);
    }
    if (!used.insert(toU32(*ip)).second) {
      return r.ctx.error(r.ip_node, field, r.explicit_ip + " is used twice");
    }
    set_ip(r, *ip);
  }
  auto [next, last] = hostBounds(range);
  for (Raw& r : objects) {
    if (!r.explicit_ip.empty()) continue;
    while (next <= last && used.count(next))
      ++next;
    if (next > last) {
      return r.ctx.error(YAML::Node(), "",
                         std::string(flag) + " " + range.toString() + " has no free address left");
    }
    used.insert(next);
    set_ip(r, fromU32(next++));
  }
  return Status::okStatus();
}

bool validLabel(const std::string& v, bool must_start_with_letter) {
  if (v.empty() || v.size() > 63) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  if (!std::all_of(v.begin(), v.end(), ok)) return false;
  if (v.front() == '-' || v.back() == '-') return false;
  return !must_start_with_letter || (v.front() >= 'a' && v.front() <= 'z');
}

}  // namespace

Status validateDnsLabel(const std::string& what, const std::string& value) {
  if (validLabel(value, false)) return Status::okStatus();
  return invalidArgumentError(what + ": \"" + value +
                              "\" is not a valid name: at most 63 characters, lowercase letters, "
                              "digits and '-', starting and ending with a letter or digit");
}

Status validateDns1035Label(const std::string& what, const std::string& value) {
  if (validLabel(value, true)) return Status::okStatus();
  return invalidArgumentError(what + ": \"" + value +
                              "\" is not a valid name: at most 63 characters, lowercase letters, "
                              "digits and '-', starting with a letter and ending with a letter "
                              "or digit");
}

network::IpAddress hubAddress(const Network& network) {
  return fromU32(hostBounds(network.pod_cidr).first);
}

bool needsPilot(const LabSpec& spec) {
  return std::any_of(spec.pods.begin(), spec.pods.end(),
                     [](const Pod& p) { return p.pilot_bootstrap; });
}

StatusOr<Network> parseNetwork(const std::string& pod_cidr, const std::string& service_cidr) {
  REMORA_ASSIGN_OR_RETURN(CidrRange pods, parsePrivateRange("--pod-cidr", pod_cidr));
  REMORA_ASSIGN_OR_RETURN(CidrRange services, parsePrivateRange("--service-cidr", service_cidr));
  if (rangesOverlap(pods, services)) {
    return invalidArgumentError("--pod-cidr " + pod_cidr + " and --service-cidr " + service_cidr +
                                " overlap; they must be disjoint");
  }
  return Network{pods, services};
}

StatusOr<LabSpec> parseLabSpec(std::string_view text, const std::string& source,
                               const std::string& base_dir, const Network& network) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalidArgumentError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  std::vector<RawPod> pods;
  std::vector<RawService> services;
  std::vector<IstioObject> istio;
  try {
    for (const auto& doc : docs) {
      REMORA_RETURN_IF_ERROR(parseDocument(doc, source, base_dir, &pods, &services, &istio));
    }
  } catch (const YAML::Exception& e) {
    return invalidArgumentError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (pods.empty()) return invalidArgumentError(source + ": no Pod in the file; nothing to run");

  std::map<std::string, int> pod_lines;
  for (const RawPod& r : pods) {
    auto [it, fresh] = pod_lines.emplace(r.pod.name, r.pod.line);
    if (!fresh) {
      return r.ctx.error(YAML::Node(), "metadata.name",
                         "a pod with this name is already defined at line " +
                             std::to_string(it->second) +
                             "; pod names must be unique in a lab, even across namespaces");
    }
  }
  std::set<std::pair<std::string, std::string>> service_names;
  for (const RawService& r : services) {
    if (!service_names.insert({r.service.ns, r.service.name}).second) {
      return r.ctx.error(
          YAML::Node(), "metadata.name",
          "a Service with this name is already defined in namespace " + r.service.ns);
    }
  }
  std::map<std::tuple<std::string, std::string, std::string>, int> istio_lines;
  for (const IstioObject& o : istio) {
    auto [it, fresh] = istio_lines.emplace(std::tuple{o.kind, o.ns, o.name}, o.line);
    if (!fresh) {
      return invalidArgumentError(source + ":" + std::to_string(o.line) + ": " + o.kind + " " +
                                  o.name + ": metadata.name: a " + o.kind +
                                  " with this name is already defined in namespace " + o.ns +
                                  " at line " + std::to_string(it->second));
    }
  }
  REMORA_RETURN_IF_ERROR(assignAddresses(
      pods, network.pod_cidr, "status.podIP", "--pod-cidr", hubAddress(network),
      "is the hub's address on the bridge (the first host of --pod-cidr); pods get the others",
      [](RawPod& r, IpAddress ip) { r.pod.ip = ip; }));
  REMORA_RETURN_IF_ERROR(assignAddresses(
      services, network.service_cidr, "spec.clusterIP", "--service-cidr", std::nullopt, "",
      [](RawService& r, IpAddress ip) { r.service.cluster_ip = ip; }));

  LabSpec spec;
  spec.network = network;
  spec.source = source;
  for (RawService& r : services)
    spec.services.push_back(std::move(r.service));
  for (RawPod& r : pods)
    spec.pods.push_back(r.pod);
  spec.istio_objects = std::move(istio);
  const network::SocketAddress xds{hubAddress(network), kPilotGrpcPort};
  // Bootstraps and init arguments need every address, so they come last.
  for (size_t i = 0; i < pods.size(); ++i) {
    Pod& pod = spec.pods[i];
    if (!pod.sidecar) continue;
    const Context& ctx = pods[i].ctx;
    auto args = initArgsFor(pod);
    if (!args.ok()) return ctx.error(YAML::Node(), "metadata.annotations", args.status().message());
    pod.init_args = std::move(*args);
    std::string what =
        pod.pilot_bootstrap
            ? std::string("the bootstrap generated for pilot")
            : std::string("metadata.annotations.") +
                  (pods[i].bootstrap_source == kBootstrapYamlAnnotation
                       ? kBootstrapYamlAnnotation
                       : std::string(kBootstrapAnnotation) + " (" + pods[i].bootstrap_source + ")");
    auto text = pod.pilot_bootstrap ? StatusOr<std::string>(pilotBootstrapFor(pod, xds))
                                    : expandBootstrap(pods[i].bootstrap_template, spec, pod);
    if (!text.ok()) return ctx.error(YAML::Node(), what, text.status().message());
    auto bootstrap = config::loadBootstrap("", *text);
    Status valid = bootstrap.ok() ? config::validateBootstrap(*bootstrap) : bootstrap.status();
    if (!valid.ok()) return ctx.error(YAML::Node(), what, "invalid bootstrap:\n" + valid.message());
    if (!bootstrap->has_admin() || !bootstrap->admin().has_address()) {
      return ctx.error(YAML::Node(), what,
                       "the bootstrap needs admin.address: the lab asks the proxy's /ready there");
    }
    auto admin = config::toSocketAddress(bootstrap->admin().address());
    if (!admin.ok())
      return ctx.error(YAML::Node(), what, "admin.address: " + admin.status().message());
    pod.admin = *admin;
    // The lab asks from inside the pod, where a wildcard admin is on loopback.
    if (pod.admin.ip.isAny()) pod.admin.ip = *IpAddress::parse("127.0.0.1");
    pod.bootstrap = std::move(*text);
  }
  return spec;
}

StatusOr<LabSpec> loadLabSpec(const std::string& path, const Network& network) {
  REMORA_ASSIGN_OR_RETURN(std::string text, readTextFile(path));
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  return parseLabSpec(text, path, dir, network);
}

std::string hostsFileFor(const LabSpec& spec, const Pod& pod) {
  std::string out = "# Written by `remoractl lab up` for pod " + pod.name +
                    "; `remoractl lab down` removes it.\n";
  out += "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const Service& s : spec.services) {
    std::string fqdn = s.name + "." + s.ns + ".svc.cluster.local";
    out += s.cluster_ip.toString() + "\t";
    // Kubernetes DNS resolves the short name only from the same namespace.
    if (s.ns == pod.ns) out += s.name + " ";
    out += s.name + "." + s.ns + " " + s.name + "." + s.ns + ".svc " + fqdn + "\n";
  }
  // The pod's own name, unless a Service has it (easy in a lab, rare in
  // Kubernetes with its generated pod names): getaddrinfo would list both and
  // prefer the pod's own, nearer address, and the app would bypass its proxy.
  bool taken = std::any_of(spec.services.begin(), spec.services.end(),
                           [&](const Service& s) { return s.ns == pod.ns && s.name == pod.name; });
  if (!taken) out += pod.ip.toString() + "\t" + pod.name + "\n";
  return out;
}

std::string resolvConfFor(const Pod& pod) {
  return "# Written by `remoractl lab up`: names come from /etc/hosts; no query leaves the pod.\n"
         "search " +
         pod.ns + ".svc.cluster.local svc.cluster.local cluster.local\n" +
         "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
}

StatusOr<std::string> expandBootstrap(std::string_view text, const LabSpec& spec, const Pod& pod) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos || dollar + 1 >= text.size()) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    if (text[dollar + 1] == '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (text[dollar + 1] != '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    size_t close = text.find('}', dollar);
    if (close == std::string_view::npos) {
      return invalidArgumentError("unterminated ${ in the bootstrap");
    }
    std::string var(text.substr(dollar + 2, close - dollar - 2));
    std::string name = var.substr(0, var.find(':'));
    std::string arg = var.find(':') == std::string::npos ? "" : var.substr(var.find(':') + 1);
    std::string value;
    if (var == "POD_IP") {
      value = pod.ip.toString();
    } else if (var == "POD_NAME") {
      value = pod.name;
    } else if (var == "POD_NAMESPACE") {
      value = pod.ns;
    } else if (name == "POD_IP" && !arg.empty()) {
      auto it = std::find_if(spec.pods.begin(), spec.pods.end(),
                             [&](const Pod& p) { return p.name == arg; });
      if (it == spec.pods.end())
        return invalidArgumentError("${" + var + "}: no pod \"" + arg + "\"");
      value = it->ip.toString();
    } else if (name == "CLUSTER_IP" && !arg.empty()) {
      std::string svc = arg.substr(0, arg.find('.'));
      std::string ns = arg.find('.') == std::string::npos ? pod.ns : arg.substr(arg.find('.') + 1);
      auto it = std::find_if(spec.services.begin(), spec.services.end(),
                             [&](const Service& s) { return s.name == svc && s.ns == ns; });
      if (it == spec.services.end()) {
        return invalidArgumentError("${" + var + "}: no Service \"" + svc + "\" in namespace " +
                                    ns);
      }
      value = it->cluster_ip.toString();
    } else {
      return invalidArgumentError(
          "unknown variable ${" + var +
          "} (known: POD_IP, POD_NAME, POD_NAMESPACE, POD_IP:<pod>, CLUSTER_IP:<service>[.<ns>]; "
          "$$ is a literal $)");
    }
    out += value;
    i = close + 1;
  }
  return out;
}

StatusOr<std::vector<std::string>> initArgsFor(const Pod& pod) {
  // Istio's injected istio-init arguments (istio-facts.md 2.1).
  struct Arg {
    const char* flag;
    const char* annotation;  // nullptr: not settable
    std::string value;
    bool append = false;  // the annotation adds to the default instead of replacing it
  };
  std::vector<Arg> args = {
      {"-p", nullptr, "15001"},
      // Pilot's default layout is the seed's: inbound also arrives at 15001.
      {"-z", kInboundCapturePortAnnotation, pod.pilot_bootstrap ? "15001" : "15006"},
      {"-u", nullptr, std::to_string(kProxyUid)},
      {"-g", nullptr, std::to_string(kProxyUid)},
      {"-m", kInterceptionModeAnnotation, "REDIRECT"},
      {"-i", "traffic.sidecar.istio.io/includeOutboundIPRanges", "*"},
      {"-x", "traffic.sidecar.istio.io/excludeOutboundIPRanges", ""},
      {"-b", "traffic.sidecar.istio.io/includeInboundPorts", "*"},
      {"-d", "traffic.sidecar.istio.io/excludeInboundPorts", "15090,15021,15020", true},
      {"-q", "traffic.sidecar.istio.io/includeOutboundPorts", ""},
      {"-o", "traffic.sidecar.istio.io/excludeOutboundPorts", ""},
      {"-c", "traffic.sidecar.istio.io/excludeInterfaces", ""},
      {"-k", "traffic.sidecar.istio.io/kubevirtInterfaces", ""},
  };
  auto flagsOf = [](const std::vector<Arg>& list) {
    init::CaptureFlags f;
    for (const Arg& a : list) {
      std::string_view flag = a.flag;
      std::string* field = flag == "-p"   ? &f.outbound_capture_port
                           : flag == "-z" ? &f.inbound_capture_port
                           : flag == "-u" ? &f.proxy_uid
                           : flag == "-g" ? &f.proxy_gid
                           : flag == "-m" ? &f.interception_mode
                           : flag == "-i" ? &f.include_outbound_cidrs
                           : flag == "-x" ? &f.exclude_outbound_cidrs
                           : flag == "-b" ? &f.include_inbound_ports
                           : flag == "-d" ? &f.exclude_inbound_ports
                           : flag == "-q" ? &f.include_outbound_ports
                           : flag == "-o" ? &f.exclude_outbound_ports
                           : flag == "-c" ? &f.exclude_interfaces
                                          : &f.kube_virt_interfaces;
      *field = a.value;
    }
    return f;
  };
  // With a port list, -d means nothing; Istio's default exclusions are then
  // left out rather than warned about (a -d the pod asked for stays).
  auto dropMeaninglessExclusions = [&](std::vector<Arg>& list) {
    if (list[7].value != "*" && pod.annotations.count(list[8].annotation) == 0) {
      list[8].value.clear();
    }
  };
  const std::vector<Arg> defaults = args;
  for (Arg& a : args) {
    if (a.annotation == nullptr) continue;
    auto it = pod.annotations.find(a.annotation);
    if (it == pod.annotations.end()) continue;
    std::string value = it->second;
    value.erase(std::remove(value.begin(), value.end(), ' '), value.end());
    if (!a.append) {
      a.value = value;
    } else if (!value.empty()) {
      a.value += "," + value;
    }
    // Checked alone on the defaults, so that an error names its annotation.
    std::vector<Arg> alone = defaults;
    alone[static_cast<size_t>(&a - args.data())].value = a.value;
    dropMeaninglessExclusions(alone);
    auto checked = init::captureConfigFromFlags(flagsOf(alone));
    if (!checked.ok()) {
      return invalidArgumentError(std::string("annotation ") + a.annotation + ": \"" + it->second +
                                  "\": " + checked.status().message());
    }
  }
  dropMeaninglessExclusions(args);
  auto together = init::captureConfigFromFlags(flagsOf(args));
  if (!together.ok()) {
    return invalidArgumentError("traffic annotations together: " + together.status().message());
  }
  std::vector<std::string> out;
  for (const Arg& a : args) {
    // Empty optional lists are left out, as Istio's injector does.
    std::string_view flag = a.flag;
    bool optional = flag != "-x" && flag != "-i" && flag != "-b";
    if (a.value.empty() && optional) continue;
    out.push_back(a.flag);
    out.push_back(a.value);
  }
  return out;
}

}  // namespace remora::lab
