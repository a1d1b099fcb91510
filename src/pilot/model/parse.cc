#include "pilot/model/parse.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

namespace remora::pilot {
namespace {

// Collects the first validation error of a document. Readers keep going after
// a failure (cheaper than threading Status through every field) but only the
// first message is reported, as that is the one the user must fix first.
class FieldErrors {
 public:
  // yaml-cpp's marks count from the start of the text it parsed; a document
  // cut out of a multi-document file starts at `line_offset` (0-based).
  explicit FieldErrors(int line_offset = 0) : line_offset_(line_offset) {}
  void fail(const YAML::Node& at, const std::string& path, std::string message) {
    if (failed_) return;
    failed_ = true;
    path_ = path;
    message_ = std::move(message);
    if (at.IsDefined()) line_ = at.Mark().line + 1 + line_offset_;
  }
  bool failed() const { return failed_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int lineOffset() const { return line_offset_; }

 private:
  int line_offset_ = 0;
  bool failed_ = false;
  std::string path_;
  std::string message_;
  int line_ = 0;
};

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? "string \"" + node.Scalar() + "\"" : "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

// Reads the keys of one YAML map, remembering which were consumed so that
// finish() can refuse the rest as unknown fields.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, FieldErrors* errors)
      : node_(node), path_(std::move(path)), errors_(errors) {
    if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
      errors_->fail(node_, path_, "wrong type: expected a map, got " + describe(node_));
    }
  }

  YAML::Node take(const std::string& key) {
    known_.insert(key);
    if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  // A field Kubernetes/Istio defines that pilot has no use for.
  void ignore(std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      known_.insert(k);
  }
  // A field Istio defines that remora does not implement: refusing it beats
  // serving a config that silently behaves differently.
  void refuseUnsupported(std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      YAML::Node n = take(k);
      if (n.IsDefined() && !n.IsNull()) {
        errors_->fail(n, child(k), "field is not supported by remora (see docs/pilot.md)");
      }
    }
  }
  void finish() {
    if (!node_.IsMap()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      if (!known_.count(key)) {
        errors_->fail(it->first, child(key), "unknown field");
        return;
      }
    }
  }
  std::string child(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  const std::string& path() const { return path_; }
  bool present() const { return node_.IsDefined() && !node_.IsNull(); }

 private:
  YAML::Node node_;
  std::string path_;
  FieldErrors* errors_;
  std::set<std::string> known_;
};

bool isSet(const YAML::Node& n) {
  return n.IsDefined() && !n.IsNull();
}

bool readString(const YAML::Node& n, const std::string& path, FieldErrors* e, std::string* out) {
  if (!isSet(n)) return false;
  if (!n.IsScalar()) {
    e->fail(n, path, "wrong type: expected a string, got " + describe(n));
    return false;
  }
  *out = n.Scalar();
  return true;
}

bool readUint(const YAML::Node& n, const std::string& path, FieldErrors* e, uint64_t max,
              uint64_t* out) {
  if (!isSet(n)) return false;
  const std::string& s = n.IsScalar() ? n.Scalar() : "";
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!n.IsScalar() || n.Tag() == "!" || s.empty() || ec != std::errc() ||
      p != s.data() + s.size()) {
    e->fail(n, path, "wrong type: expected a non-negative integer, got " + describe(n));
    return false;
  }
  if (v > max) {
    e->fail(n, path, "value " + s + " is out of range (max " + std::to_string(max) + ")");
    return false;
  }
  *out = v;
  return true;
}

bool readU32(const YAML::Node& n, const std::string& path, FieldErrors* e, uint32_t* out,
             uint64_t max = 0xffffffffULL) {
  uint64_t v = 0;
  if (!readUint(n, path, e, max, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool readPort(const YAML::Node& n, const std::string& path, FieldErrors* e, uint32_t* out) {
  if (!readU32(n, path, e, out, 65535)) return false;
  if (*out == 0) {
    e->fail(n, path, "port must be between 1 and 65535");
    return false;
  }
  return true;
}

bool readBool(const YAML::Node& n, const std::string& path, FieldErrors* e, bool* out) {
  if (!isSet(n)) return false;
  if (n.IsScalar() && n.Tag() != "!" && (n.Scalar() == "true" || n.Scalar() == "false")) {
    *out = n.Scalar() == "true";
    return true;
  }
  e->fail(n, path, "wrong type: expected true or false, got " + describe(n));
  return false;
}

void readStringMap(const YAML::Node& n, const std::string& path, FieldErrors* e,
                   std::map<std::string, std::string>* out) {
  if (!isSet(n)) return;
  if (!n.IsMap()) {
    e->fail(n, path, "wrong type: expected a map of strings, got " + describe(n));
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    std::string value;
    if (!it->second.IsScalar()) {
      e->fail(it->second, path + "." + key,
              "wrong type: expected a string, got " + describe(it->second));
      return;
    }
    (*out)[key] = it->second.Scalar();
  }
}

void readStringList(const YAML::Node& n, const std::string& path, FieldErrors* e,
                    std::vector<std::string>* out) {
  if (!isSet(n)) return;
  if (!n.IsSequence()) {
    e->fail(n, path, "wrong type: expected a list of strings, got " + describe(n));
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    std::string s;
    if (readString(n[i], path + "[" + std::to_string(i) + "]", e, &s)) out->push_back(s);
  }
}

// Calls fn(node, path) for each element of a list field.
template <typename Fn>
void forEach(const YAML::Node& n, const std::string& path, FieldErrors* e, Fn fn) {
  if (!isSet(n)) return;
  if (!n.IsSequence()) {
    e->fail(n, path, "wrong type: expected a list, got " + describe(n));
    return;
  }
  for (size_t i = 0; i < n.size() && !e->failed(); ++i) {
    fn(n[i], path + "[" + std::to_string(i) + "]");
  }
}

bool readDuration(const YAML::Node& n, const std::string& path, FieldErrors* e, int64_t* ms) {
  std::string s;
  if (!readString(n, path, e, &s)) return false;
  auto v = parseDurationMs(s);
  if (!v) {
    e->fail(n, path, "invalid duration \"" + s + "\" (expected e.g. 10s, 250ms, 1m)");
    return false;
  }
  *ms = *v;
  return true;
}

void readHost(const YAML::Node& n, const std::string& path, FieldErrors* e, bool allow_wildcard,
              std::string* out) {
  if (!readString(n, path, e, out)) return;
  if (!isValidHostName(*out, allow_wildcard)) {
    e->fail(n, path, "\"" + *out + "\" is not a valid host name");
  }
}

void readIPv4(const YAML::Node& n, const std::string& path, FieldErrors* e, std::string* out) {
  if (!readString(n, path, e, out)) return;
  int parts = 0;
  const std::string& s = *out;
  size_t i = 0;
  bool ok = true;
  while (ok && i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    ok = !part.empty() && part.size() <= 3 && ec == std::errc() && p == part.data() + part.size() &&
         v <= 255;
    ++parts;
    i = j + 1;
  }
  if (!ok || parts != 4) e->fail(n, path, "\"" + s + "\" is not an IPv4 address");
}

void readExportTo(MapReader& spec, FieldErrors* e, std::vector<std::string>* out) {
  readStringList(spec.take("exportTo"), spec.child("exportTo"), e, out);
}

// ---- metadata ----

void readMeta(const YAML::Node& n, FieldErrors* e, ObjectMeta* meta) {
  MapReader m(n, "metadata", e);
  if (!isSet(n)) {
    e->fail(n, "metadata", "missing");
    return;
  }
  if (!readString(m.take("name"), "metadata.name", e, &meta->name)) {
    if (!e->failed()) e->fail(n, "metadata.name", "missing");
  } else if (!isValidHostName(meta->name, false)) {
    e->fail(n, "metadata.name", "\"" + meta->name + "\" is not a valid DNS-1123 name");
  }
  std::string ns;
  if (readString(m.take("namespace"), "metadata.namespace", e, &ns)) meta->namespace_ = ns;
  readStringMap(m.take("labels"), "metadata.labels", e, &meta->labels);
  readString(m.take("creationTimestamp"), "metadata.creationTimestamp", e,
             &meta->creation_timestamp);
  m.ignore({"annotations", "uid", "resourceVersion", "generation", "managedFields",
            "ownerReferences", "finalizers", "generateName", "selfLink", "deletionTimestamp",
            "deletionGracePeriodSeconds"});
  m.finish();
}

// ---- Kubernetes ----

void parseService(MapReader& top, FieldErrors* e, K8sService* svc) {
  MapReader spec(top.take("spec"), "spec", e);
  YAML::Node ip = spec.take("clusterIP");
  if (isSet(ip)) {
    std::string v;
    readString(ip, "spec.clusterIP", e, &v);
    if (v == "None" || v.empty()) {
      svc->cluster_ip = v;
    } else {
      readIPv4(ip, "spec.clusterIP", e, &svc->cluster_ip);
    }
  }
  YAML::Node sel = spec.take("selector");
  if (isSet(sel)) {
    svc->has_selector = true;
    readStringMap(sel, "spec.selector", e, &svc->selector);
  }
  std::set<std::string> names;
  std::set<uint32_t> numbers;
  forEach(spec.take("ports"), "spec.ports", e, [&](const YAML::Node& pn, const std::string& path) {
    MapReader p(pn, path, e);
    K8sServicePort port;
    readString(p.take("name"), p.child("name"), e, &port.name);
    if (!readPort(p.take("port"), p.child("port"), e, &port.port) && !e->failed()) {
      e->fail(pn, p.child("port"), "missing");
    }
    YAML::Node tp = p.take("targetPort");
    if (isSet(tp)) {
      if (tp.IsScalar() && tp.Tag() != "!" && !tp.Scalar().empty() &&
          std::all_of(tp.Scalar().begin(), tp.Scalar().end(), ::isdigit)) {
        readPort(tp, p.child("targetPort"), e, &port.target_port);
      } else {
        readString(tp, p.child("targetPort"), e, &port.target_port_name);
      }
    }
    if (readString(p.take("protocol"), p.child("protocol"), e, &port.protocol) &&
        port.protocol != "TCP" && port.protocol != "UDP" && port.protocol != "SCTP") {
      e->fail(p.take("protocol"), p.child("protocol"), "must be TCP, UDP or SCTP");
    }
    readString(p.take("appProtocol"), p.child("appProtocol"), e, &port.app_protocol);
    p.ignore({"nodePort"});
    p.finish();
    if (e->failed()) return;
    if (!names.insert(port.name).second) {
      e->fail(pn, p.child("name"), "duplicate port name \"" + port.name + "\"");
    } else if (!numbers.insert(port.port).second) {
      e->fail(pn, p.child("port"), "duplicate port " + std::to_string(port.port));
    }
    svc->ports.push_back(port);
  });
  spec.ignore({"type", "sessionAffinity", "sessionAffinityConfig", "clusterIPs", "ipFamilies",
               "ipFamilyPolicy", "internalTrafficPolicy", "externalTrafficPolicy",
               "publishNotReadyAddresses", "externalIPs", "loadBalancerIP",
               "loadBalancerSourceRanges", "healthCheckNodePort", "externalName",
               "allocateLoadBalancerNodePorts", "loadBalancerClass", "trafficDistribution"});
  spec.finish();
  if (!e->failed() && svc->ports.size() > 1) {
    for (size_t i = 0; i < svc->ports.size(); ++i) {
      if (svc->ports[i].name.empty()) {
        e->fail(top.take("spec"), "spec.ports[" + std::to_string(i) + "].name",
                "required when a Service has more than one port");
        break;
      }
    }
  }
  top.ignore({"status"});
}

void parsePod(MapReader& top, FieldErrors* e, K8sPod* pod) {
  // Pod spec and status belong to Kubernetes; only what routing needs is read
  // and the rest is left unchecked.
  YAML::Node spec = top.take("spec");
  if (isSet(spec) && spec.IsMap()) {
    std::string sa;
    if (readString(spec["serviceAccountName"], "spec.serviceAccountName", e, &sa) ||
        readString(spec["serviceAccount"], "spec.serviceAccount", e, &sa)) {
      pod->service_account = sa;
    }
    forEach(
        spec["containers"], "spec.containers", e, [&](const YAML::Node& c, const std::string& cp) {
          if (!c.IsMap()) return;
          forEach(c["ports"], cp + ".ports", e, [&](const YAML::Node& p, const std::string& pp) {
            if (!p.IsMap()) return;
            std::string name;
            uint32_t number = 0;
            if (readString(p["name"], pp + ".name", e, &name) &&
                readPort(p["containerPort"], pp + ".containerPort", e, &number)) {
              pod->named_ports[name] = number;
            }
          });
        });
  }
  YAML::Node status = top.take("status");
  if (isSet(status) && status.IsMap()) {
    if (isSet(status["podIP"])) readIPv4(status["podIP"], "status.podIP", e, &pod->pod_ip);
    readString(status["phase"], "status.phase", e, &pod->phase);
    forEach(status["conditions"], "status.conditions", e,
            [&](const YAML::Node& c, const std::string& cp) {
              if (!c.IsMap()) return;
              std::string type, value;
              readString(c["type"], cp + ".type", e, &type);
              readString(c["status"], cp + ".status", e, &value);
              if (type == "Ready" && value == "False") pod->ready = false;
            });
  }
}

void parseEndpoints(MapReader& top, FieldErrors* e, K8sEndpoints* eps) {
  forEach(top.take("subsets"), "subsets", e, [&](const YAML::Node& sn, const std::string& path) {
    MapReader s(sn, path, e);
    K8sEndpointSubset subset;
    forEach(
        s.take("addresses"), s.child("addresses"), e,
        [&](const YAML::Node& an, const std::string& ap) {
          MapReader a(an, ap, e);
          K8sEndpointAddress addr;
          if (!isSet(a.take("ip"))) e->fail(an, a.child("ip"), "missing");
          readIPv4(a.take("ip"), a.child("ip"), e, &addr.ip);
          MapReader ref(a.take("targetRef"), a.child("targetRef"), e);
          std::string kind;
          readString(ref.take("kind"), ref.child("kind"), e, &kind);
          if (kind == "Pod") {
            readString(ref.take("name"), ref.child("name"), e, &addr.pod_name);
            readString(ref.take("namespace"), ref.child("namespace"), e, &addr.pod_namespace);
          }
          ref.ignore({"name", "namespace", "uid", "resourceVersion", "apiVersion", "fieldPath"});
          ref.finish();
          a.ignore({"nodeName", "hostname"});
          a.finish();
          subset.addresses.push_back(addr);
        });
    forEach(s.take("ports"), s.child("ports"), e, [&](const YAML::Node& pn, const std::string& pp) {
      MapReader p(pn, pp, e);
      K8sEndpointPort port;
      readString(p.take("name"), p.child("name"), e, &port.name);
      if (!readPort(p.take("port"), p.child("port"), e, &port.port) && !e->failed()) {
        e->fail(pn, p.child("port"), "missing");
      }
      p.ignore({"protocol", "appProtocol"});
      p.finish();
      subset.ports.push_back(port);
    });
    s.ignore({"notReadyAddresses"});
    s.finish();
    eps->subsets.push_back(std::move(subset));
  });
}

// ---- Istio ----

void readStringMatch(const YAML::Node& n, const std::string& path, FieldErrors* e,
                     std::optional<StringMatch>* out) {
  if (!isSet(n)) return;
  MapReader m(n, path, e);
  int count = 0;
  StringMatch sm;
  for (auto [key, kind] : {std::pair{"exact", StringMatch::Kind::kExact},
                           std::pair{"prefix", StringMatch::Kind::kPrefix},
                           std::pair{"regex", StringMatch::Kind::kRegex}}) {
    YAML::Node v = m.take(key);
    if (!isSet(v)) continue;
    ++count;
    sm.kind = kind;
    readString(v, m.child(key), e, &sm.value);
    if (kind == StringMatch::Kind::kRegex && !e->failed()) {
      RE2 re(sm.value, RE2::Quiet);
      if (!re.ok()) e->fail(v, m.child(key), "invalid RE2 regex: " + re.error());
    }
  }
  m.finish();
  if (e->failed()) return;
  if (count != 1) {
    e->fail(n, path, "exactly one of exact, prefix or regex is required");
    return;
  }
  *out = sm;
}

void readStringMatchMap(const YAML::Node& n, const std::string& path, FieldErrors* e,
                        std::map<std::string, StringMatch>* out) {
  if (!isSet(n)) return;
  if (!n.IsMap()) {
    e->fail(n, path, "wrong type: expected a map, got " + describe(n));
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string key = it->first.Scalar();
    std::optional<StringMatch> sm;
    readStringMatch(it->second, path + "." + key, e, &sm);
    if (sm) (*out)[key] = *sm;
  }
}

void readHeaderOps(const YAML::Node& n, const std::string& path, FieldErrors* e,
                   HeaderOperations* ops) {
  MapReader m(n, path, e);
  readStringMap(m.take("set"), m.child("set"), e, &ops->set);
  readStringMap(m.take("add"), m.child("add"), e, &ops->add);
  readStringList(m.take("remove"), m.child("remove"), e, &ops->remove);
  m.finish();
}

void readHeaders(const YAML::Node& n, const std::string& path, FieldErrors* e, Headers* h) {
  MapReader m(n, path, e);
  readHeaderOps(m.take("request"), m.child("request"), e, &h->request);
  readHeaderOps(m.take("response"), m.child("response"), e, &h->response);
  m.finish();
}

void readDestination(const YAML::Node& n, const std::string& path, FieldErrors* e, Destination* d) {
  MapReader m(n, path, e);
  if (!isSet(m.take("host")) && !e->failed()) e->fail(n, m.child("host"), "missing");
  readHost(m.take("host"), m.child("host"), e, false, &d->host);
  readString(m.take("subset"), m.child("subset"), e, &d->subset);
  MapReader port(m.take("port"), m.child("port"), e);
  readPort(port.take("number"), port.child("number"), e, &d->port);
  port.finish();
  m.finish();
}

void readRouteDestinations(const YAML::Node& n, const std::string& path, FieldErrors* e,
                           std::vector<RouteDestination>* out) {
  forEach(n, path, e, [&](const YAML::Node& rn, const std::string& rp) {
    MapReader r(rn, rp, e);
    RouteDestination rd;
    if (!isSet(r.take("destination")) && !e->failed()) {
      e->fail(rn, r.child("destination"), "missing");
    }
    readDestination(r.take("destination"), r.child("destination"), e, &rd.destination);
    uint32_t w = 0;
    if (readU32(r.take("weight"), r.child("weight"), e, &w, 100)) rd.weight = w;
    readHeaders(r.take("headers"), r.child("headers"), e, &rd.headers);
    r.finish();
    out->push_back(std::move(rd));
  });
  if (e->failed() || !isSet(n)) return;
  bool any_weight = std::any_of(out->begin(), out->end(), [](auto& d) { return d.weight; });
  if (out->size() > 1 || any_weight) {
    uint32_t sum = 0;
    for (const auto& d : *out)
      sum += d.weight.value_or(0);
    if (!(out->size() == 1 && !any_weight) && sum != 100) {
      e->fail(n, path, "weights sum to " + std::to_string(sum) + ", want 100");
    }
  }
}

const std::set<std::string>& retryOnValues() {
  static const std::set<std::string> kValues = {"5xx",
                                                "gateway-error",
                                                "reset",
                                                "connect-failure",
                                                "retriable-4xx",
                                                "refused-stream",
                                                "retriable-status-codes",
                                                "retriable-headers",
                                                "envoy-ratelimited",
                                                "cancelled",
                                                "deadline-exceeded",
                                                "internal",
                                                "resource-exhausted",
                                                "unavailable",
                                                "http3-post-connect-failure",
                                                "reset-before-request"};
  return kValues;
}

void parseHttpRoute(const YAML::Node& n, const std::string& path, FieldErrors* e, HttpRoute* hr) {
  MapReader r(n, path, e);
  readString(r.take("name"), r.child("name"), e, &hr->name);
  forEach(r.take("match"), r.child("match"), e, [&](const YAML::Node& mn, const std::string& mp) {
    MapReader m(mn, mp, e);
    HttpMatchRequest mr;
    readString(m.take("name"), m.child("name"), e, &mr.name);
    readStringMatch(m.take("uri"), m.child("uri"), e, &mr.uri);
    readStringMatch(m.take("method"), m.child("method"), e, &mr.method);
    readStringMatch(m.take("authority"), m.child("authority"), e, &mr.authority);
    readStringMatch(m.take("scheme"), m.child("scheme"), e, &mr.scheme);
    readStringMatchMap(m.take("headers"), m.child("headers"), e, &mr.headers);
    readStringMatchMap(m.take("withoutHeaders"), m.child("withoutHeaders"), e, &mr.without_headers);
    readStringMatchMap(m.take("queryParams"), m.child("queryParams"), e, &mr.query_params);
    readBool(m.take("ignoreUriCase"), m.child("ignoreUriCase"), e, &mr.ignore_uri_case);
    readPort(m.take("port"), m.child("port"), e, &mr.port);
    readStringMap(m.take("sourceLabels"), m.child("sourceLabels"), e, &mr.source_labels);
    readString(m.take("sourceNamespace"), m.child("sourceNamespace"), e, &mr.source_namespace);
    readStringList(m.take("gateways"), m.child("gateways"), e, &mr.gateways);
    m.refuseUnsupported({"statPrefix"});
    m.finish();
    hr->match.push_back(std::move(mr));
  });
  readRouteDestinations(r.take("route"), r.child("route"), e, &hr->route);
  YAML::Node redirect = r.take("redirect");
  if (isSet(redirect)) {
    MapReader m(redirect, r.child("redirect"), e);
    HttpRedirect rd;
    readString(m.take("uri"), m.child("uri"), e, &rd.uri);
    readString(m.take("authority"), m.child("authority"), e, &rd.authority);
    readPort(m.take("port"), m.child("port"), e, &rd.port);
    readString(m.take("scheme"), m.child("scheme"), e, &rd.scheme);
    if (readU32(m.take("redirectCode"), m.child("redirectCode"), e, &rd.redirect_code) &&
        !std::set<uint32_t>{301, 302, 303, 307, 308}.count(rd.redirect_code)) {
      e->fail(redirect, m.child("redirectCode"), "must be one of 301, 302, 303, 307, 308");
    }
    m.refuseUnsupported({"derivePort"});
    m.finish();
    hr->redirect = rd;
  }
  YAML::Node direct = r.take("directResponse");
  if (isSet(direct)) {
    MapReader m(direct, r.child("directResponse"), e);
    HttpDirectResponse dr;
    if (!readU32(m.take("status"), m.child("status"), e, &dr.status, 599) && !e->failed()) {
      e->fail(direct, m.child("status"), "missing");
    }
    MapReader body(m.take("body"), m.child("body"), e);
    readString(body.take("string"), body.child("string"), e, &dr.body);
    body.refuseUnsupported({"bytes"});
    body.finish();
    m.finish();
    hr->direct_response = dr;
  }
  YAML::Node rewrite = r.take("rewrite");
  if (isSet(rewrite)) {
    MapReader m(rewrite, r.child("rewrite"), e);
    HttpRewrite rw;
    readString(m.take("uri"), m.child("uri"), e, &rw.uri);
    readString(m.take("authority"), m.child("authority"), e, &rw.authority);
    m.refuseUnsupported({"uriRegexRewrite"});
    m.finish();
    hr->rewrite = rw;
  }
  int64_t ms = 0;
  if (readDuration(r.take("timeout"), r.child("timeout"), e, &ms)) hr->timeout_ms = ms;
  YAML::Node retries = r.take("retries");
  if (isSet(retries)) {
    MapReader m(retries, r.child("retries"), e);
    HttpRetry rt;
    readU32(m.take("attempts"), m.child("attempts"), e, &rt.attempts, 1000);
    if (readDuration(m.take("perTryTimeout"), m.child("perTryTimeout"), e, &ms)) {
      rt.per_try_timeout_ms = ms;
    }
    if (readString(m.take("retryOn"), m.child("retryOn"), e, &rt.retry_on)) {
      size_t start = 0;
      while (start <= rt.retry_on.size()) {
        size_t end = rt.retry_on.find(',', start);
        if (end == std::string::npos) end = rt.retry_on.size();
        std::string item = rt.retry_on.substr(start, end - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        bool code = !item.empty() && std::all_of(item.begin(), item.end(), ::isdigit);
        if (!code && !retryOnValues().count(item)) {
          e->fail(retries, m.child("retryOn"), "unknown retry condition \"" + item + "\"");
          break;
        }
        start = end + 1;
      }
    }
    m.refuseUnsupported({"retryRemoteLocalities", "backoff"});
    m.finish();
    hr->retries = rt;
  }
  readHeaders(r.take("headers"), r.child("headers"), e, &hr->headers);
  r.refuseUnsupported({"fault", "mirror", "mirrors", "mirrorPercentage", "mirrorPercent",
                       "mirror_percent", "corsPolicy", "delegate"});
  r.finish();
  if (e->failed()) return;
  int actions =
      (hr->route.empty() ? 0 : 1) + (hr->redirect ? 1 : 0) + (hr->direct_response ? 1 : 0);
  if (actions == 0) {
    e->fail(n, r.child("route"), "one of route, redirect or directResponse is required");
  } else if (actions > 1) {
    e->fail(n, path, "route, redirect and directResponse are mutually exclusive");
  }
}

void parseVirtualService(MapReader& top, FieldErrors* e, VirtualService* vs) {
  MapReader spec(top.take("spec"), "spec", e);
  forEach(spec.take("hosts"), "spec.hosts", e, [&](const YAML::Node& h, const std::string& p) {
    std::string host;
    readHost(h, p, e, true, &host);
    vs->hosts.push_back(host);
  });
  if (!e->failed() && vs->hosts.empty())
    e->fail(top.take("spec"), "spec.hosts", "at least one host is required");
  readStringList(spec.take("gateways"), "spec.gateways", e, &vs->gateways);
  forEach(spec.take("http"), "spec.http", e, [&](const YAML::Node& n, const std::string& p) {
    HttpRoute hr;
    parseHttpRoute(n, p, e, &hr);
    vs->http.push_back(std::move(hr));
  });
  forEach(spec.take("tcp"), "spec.tcp", e, [&](const YAML::Node& n, const std::string& p) {
    MapReader t(n, p, e);
    TcpRoute tr;
    forEach(t.take("match"), t.child("match"), e, [&](const YAML::Node& mn, const std::string& mp) {
      MapReader m(mn, mp, e);
      L4Match lm;
      readPort(m.take("port"), m.child("port"), e, &lm.port);
      readStringMap(m.take("sourceLabels"), m.child("sourceLabels"), e, &lm.source_labels);
      readString(m.take("sourceNamespace"), m.child("sourceNamespace"), e, &lm.source_namespace);
      readStringList(m.take("gateways"), m.child("gateways"), e, &lm.gateways);
      m.refuseUnsupported({"destinationSubnets", "sourceSubnet"});
      m.finish();
      tr.match.push_back(lm);
    });
    readRouteDestinations(t.take("route"), t.child("route"), e, &tr.route);
    if (!e->failed() && tr.route.empty())
      e->fail(n, t.child("route"), "at least one destination is required");
    t.finish();
    vs->tcp.push_back(std::move(tr));
  });
  readExportTo(spec, e, &vs->export_to);
  spec.refuseUnsupported({"tls"});
  spec.finish();
  if (!e->failed() && vs->http.empty() && vs->tcp.empty()) {
    e->fail(top.take("spec"), "spec", "at least one of http or tcp is required");
  }
}

void readTrafficPolicy(const YAML::Node& n, const std::string& path, FieldErrors* e,
                       std::optional<TrafficPolicy>* out) {
  if (!isSet(n)) return;
  MapReader m(n, path, e);
  TrafficPolicy tp;
  YAML::Node lb = m.take("loadBalancer");
  if (isSet(lb)) {
    MapReader l(lb, m.child("loadBalancer"), e);
    std::string simple;
    if (readString(l.take("simple"), l.child("simple"), e, &simple)) {
      if (simple == "ROUND_ROBIN") {
        tp.lb_policy = TrafficPolicy::LbPolicy::kRoundRobin;
      } else if (simple == "LEAST_REQUEST" || simple == "LEAST_CONN") {
        tp.lb_policy = TrafficPolicy::LbPolicy::kLeastRequest;
      } else if (simple == "RANDOM") {
        tp.lb_policy = TrafficPolicy::LbPolicy::kRandom;
      } else {
        e->fail(lb, l.child("simple"),
                "\"" + simple + "\" is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM)");
      }
    }
    l.refuseUnsupported({"consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup"});
    l.finish();
  }
  YAML::Node pool = m.take("connectionPool");
  if (isSet(pool)) {
    MapReader p(pool, m.child("connectionPool"), e);
    MapReader tcp(p.take("tcp"), p.child("tcp"), e);
    uint32_t v = 0;
    int64_t ms = 0;
    if (readU32(tcp.take("maxConnections"), tcp.child("maxConnections"), e, &v))
      tp.max_connections = v;
    if (readDuration(tcp.take("connectTimeout"), tcp.child("connectTimeout"), e, &ms)) {
      tp.connect_timeout_ms = ms;
    }
    tcp.refuseUnsupported({"tcpKeepalive", "maxConnectionDuration", "idleTimeout"});
    tcp.finish();
    MapReader http(p.take("http"), p.child("http"), e);
    if (readU32(http.take("http1MaxPendingRequests"), http.child("http1MaxPendingRequests"), e,
                &v)) {
      tp.http1_max_pending_requests = v;
    }
    if (readU32(http.take("maxRequestsPerConnection"), http.child("maxRequestsPerConnection"), e,
                &v)) {
      tp.max_requests_per_connection = v;
    }
    if (readDuration(http.take("idleTimeout"), http.child("idleTimeout"), e, &ms))
      tp.idle_timeout_ms = ms;
    http.refuseUnsupported({"http2MaxRequests", "maxRetries", "h2UpgradePolicy",
                            "useClientProtocol", "maxConcurrentStreams"});
    http.finish();
    p.finish();
  }
  YAML::Node tls = m.take("tls");
  if (isSet(tls)) {
    // DISABLE is what remora does anyway, so accepting it changes nothing.
    MapReader t(tls, m.child("tls"), e);
    std::string mode;
    readString(t.take("mode"), t.child("mode"), e, &mode);
    if (!e->failed() && mode != "DISABLE") {
      e->fail(tls, t.child("mode"), "only DISABLE is supported (remora has no mTLS yet)");
    }
    t.finish();
  }
  m.refuseUnsupported({"outlierDetection", "portLevelSettings", "tunnel", "proxyProtocol"});
  m.finish();
  *out = tp;
}

void parseDestinationRule(MapReader& top, FieldErrors* e, DestinationRule* dr) {
  MapReader spec(top.take("spec"), "spec", e);
  if (!isSet(spec.take("host")) && !e->failed()) e->fail(top.take("spec"), "spec.host", "missing");
  readHost(spec.take("host"), "spec.host", e, true, &dr->host);
  readTrafficPolicy(spec.take("trafficPolicy"), "spec.trafficPolicy", e, &dr->traffic_policy);
  std::set<std::string> names;
  forEach(spec.take("subsets"), "spec.subsets", e, [&](const YAML::Node& n, const std::string& p) {
    MapReader s(n, p, e);
    Subset subset;
    if (!readString(s.take("name"), s.child("name"), e, &subset.name) && !e->failed()) {
      e->fail(n, s.child("name"), "missing");
    }
    if (!e->failed() && !isValidHostName(subset.name, false)) {
      e->fail(n, s.child("name"), "\"" + subset.name + "\" is not a valid subset name");
    }
    if (!e->failed() && !names.insert(subset.name).second) {
      e->fail(n, s.child("name"), "duplicate subset \"" + subset.name + "\"");
    }
    readStringMap(s.take("labels"), s.child("labels"), e, &subset.labels);
    readTrafficPolicy(s.take("trafficPolicy"), s.child("trafficPolicy"), e, &subset.traffic_policy);
    s.finish();
    dr->subsets.push_back(std::move(subset));
  });
  readExportTo(spec, e, &dr->export_to);
  spec.refuseUnsupported({"workloadSelector"});
  spec.finish();
}

void parseServiceEntry(MapReader& top, FieldErrors* e, ServiceEntry* se) {
  YAML::Node spec_node = top.take("spec");
  MapReader spec(spec_node, "spec", e);
  forEach(spec.take("hosts"), "spec.hosts", e, [&](const YAML::Node& h, const std::string& p) {
    std::string host;
    readHost(h, p, e, true, &host);
    se->hosts.push_back(host);
  });
  if (!e->failed() && se->hosts.empty())
    e->fail(spec_node, "spec.hosts", "at least one host is required");
  forEach(spec.take("addresses"), "spec.addresses", e,
          [&](const YAML::Node& a, const std::string& p) {
            std::string addr;
            readIPv4(a, p, e, &addr);
            se->addresses.push_back(addr);
          });
  std::set<std::string> names;
  forEach(spec.take("ports"), "spec.ports", e, [&](const YAML::Node& n, const std::string& p) {
    MapReader m(n, p, e);
    ServiceEntryPort port;
    if (!readPort(m.take("number"), m.child("number"), e, &port.number) && !e->failed()) {
      e->fail(n, m.child("number"), "missing");
    }
    if (!readString(m.take("name"), m.child("name"), e, &port.name) && !e->failed()) {
      e->fail(n, m.child("name"), "missing");
    }
    if (!readString(m.take("protocol"), m.child("protocol"), e, &port.protocol) && !e->failed()) {
      e->fail(n, m.child("protocol"), "missing");
    }
    readPort(m.take("targetPort"), m.child("targetPort"), e, &port.target_port);
    m.finish();
    if (!e->failed() && !names.insert(port.name).second) {
      e->fail(n, m.child("name"), "duplicate port name \"" + port.name + "\"");
    }
    se->ports.push_back(port);
  });
  if (!e->failed() && se->ports.empty())
    e->fail(spec_node, "spec.ports", "at least one port is required");
  std::string location;
  if (readString(spec.take("location"), "spec.location", e, &location)) {
    if (location == "MESH_INTERNAL") {
      se->location = ServiceEntry::Location::kMeshInternal;
    } else if (location != "MESH_EXTERNAL") {
      e->fail(spec.take("location"), "spec.location", "must be MESH_EXTERNAL or MESH_INTERNAL");
    }
  }
  std::string resolution;
  if (readString(spec.take("resolution"), "spec.resolution", e, &resolution)) {
    if (resolution == "STATIC") {
      se->resolution = ServiceEntry::Resolution::kStatic;
    } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
      e->fail(spec.take("resolution"), "spec.resolution",
              "resolution " + resolution + " is not supported yet (use STATIC or NONE)");
    } else if (resolution != "NONE") {
      e->fail(spec.take("resolution"), "spec.resolution", "must be NONE or STATIC");
    }
  }
  forEach(
      spec.take("endpoints"), "spec.endpoints", e, [&](const YAML::Node& n, const std::string& p) {
        MapReader m(n, p, e);
        WorkloadEntry we;
        if (!isSet(m.take("address")) && !e->failed()) e->fail(n, m.child("address"), "missing");
        readIPv4(m.take("address"), m.child("address"), e, &we.address);
        YAML::Node ports = m.take("ports");
        if (isSet(ports)) {
          if (!ports.IsMap()) {
            e->fail(ports, m.child("ports"), "wrong type: expected a map of port name to number");
          } else {
            for (auto it = ports.begin(); it != ports.end(); ++it) {
              uint32_t number = 0;
              if (readPort(it->second, m.child("ports") + "." + it->first.Scalar(), e, &number)) {
                if (!names.count(it->first.Scalar())) {
                  e->fail(it->first, m.child("ports") + "." + it->first.Scalar(),
                          "no port named \"" + it->first.Scalar() + "\" in spec.ports");
                }
                we.ports[it->first.Scalar()] = number;
              }
            }
          }
        }
        readStringMap(m.take("labels"), m.child("labels"), e, &we.labels);
        readString(m.take("locality"), m.child("locality"), e, &we.locality);
        readU32(m.take("weight"), m.child("weight"), e, &we.weight);
        m.ignore({"network", "serviceAccount"});
        m.finish();
        se->endpoints.push_back(std::move(we));
      });
  if (!e->failed() && se->resolution == ServiceEntry::Resolution::kNone && !se->endpoints.empty()) {
    e->fail(spec_node, "spec.endpoints", "endpoints require resolution STATIC");
  }
  readExportTo(spec, e, &se->export_to);
  spec.ignore({"subjectAltNames"});
  spec.refuseUnsupported({"workloadSelector"});
  spec.finish();
}

bool isIstioNetworking(const std::string& api_version) {
  return api_version == "networking.istio.io/v1alpha3" ||
         api_version == "networking.istio.io/v1beta1" || api_version == "networking.istio.io/v1";
}

void parseOne(const YAML::Node& doc, const SourceRef& where, int line_offset, ParsedDocument* out);

void readMeshFields(const YAML::Node& n, const std::string& path, FieldErrors* e, MeshConfig* mc) {
  MapReader m(n, path, e);
  MapReader otp(m.take("outboundTrafficPolicy"), m.child("outboundTrafficPolicy"), e);
  std::string mode;
  if (readString(otp.take("mode"), otp.child("mode"), e, &mode)) {
    if (mode == "REGISTRY_ONLY") {
      mc->outbound_policy = MeshConfig::OutboundPolicy::kRegistryOnly;
    } else if (mode == "ALLOW_ANY") {
      mc->outbound_policy = MeshConfig::OutboundPolicy::kAllowAny;
    } else {
      e->fail(otp.take("mode"), otp.child("mode"), "must be ALLOW_ANY or REGISTRY_ONLY");
    }
  }
  otp.refuseUnsupported({"egressProxy"});
  otp.finish();
  readString(m.take("trustDomain"), m.child("trustDomain"), e, &mc->trust_domain);
  if (readString(m.take("domainSuffix"), m.child("domainSuffix"), e, &mc->domain_suffix) &&
      !isValidHostName(mc->domain_suffix, false)) {
    e->fail(m.take("domainSuffix"), m.child("domainSuffix"),
            "\"" + mc->domain_suffix + "\" is not a valid domain");
  }
  readString(m.take("rootNamespace"), m.child("rootNamespace"), e, &mc->root_namespace);
  readDuration(m.take("connectTimeout"), m.child("connectTimeout"), e, &mc->connect_timeout_ms);
  readPort(m.take("proxyListenPort"), m.child("proxyListenPort"), e, &mc->proxy_listen_port);
  readPort(m.take("proxyInboundListenPort"), m.child("proxyInboundListenPort"), e,
           &mc->proxy_inbound_listen_port);
  if (!e->failed() && mc->proxy_inbound_listen_port == mc->proxy_listen_port) {
    e->fail(m.take("proxyInboundListenPort"), m.child("proxyInboundListenPort"),
            "must differ from proxyListenPort (leave it out for the seed's single-port layout)");
  }
  // Fields that only matter to parts remora does not have (telemetry, CA,
  // ingress) are accepted so an existing istio ConfigMap loads unchanged.
  m.ignore({"defaultConfig",
            "accessLogFile",
            "accessLogEncoding",
            "accessLogFormat",
            "enableTracing",
            "enablePrometheusMerge",
            "extensionProviders",
            "defaultProviders",
            "ingressClass",
            "ingressService",
            "ingressControllerMode",
            "ingressSelector",
            "trustDomainAliases",
            "caCertificates",
            "localityLbSetting",
            "protocolDetectionTimeout",
            "enableAutoMtls",
            "discoverySelectors",
            "proxyHttpPort",
            "defaultServiceExportTo",
            "defaultVirtualServiceExportTo",
            "defaultDestinationRuleExportTo"});
  m.finish();
}

void parseOne(const YAML::Node& doc, const SourceRef& where, int line_offset, ParsedDocument* out) {
  SourceRef src = where;
  if (doc.IsDefined()) src.line = doc.Mark().line + 1 + line_offset;
  if (doc.IsNull()) return;  // empty document, e.g. trailing "---"
  FieldErrors e(line_offset);
  Refusal refusal;
  refusal.source = src;
  auto refuse = [&](const std::string& field, const std::string& message, int line) {
    refusal.field = field;
    refusal.message = message;
    if (line > 0) refusal.source.line = line;
    out->refusals.push_back(refusal);
  };
  if (!doc.IsMap()) {
    refuse("", "document is not a map", 0);
    return;
  }
  MapReader top(doc, "", &e);
  std::string api_version, kind;
  readString(top.take("apiVersion"), "apiVersion", &e, &api_version);
  readString(top.take("kind"), "kind", &e, &kind);
  refusal.kind = kind;
  if (e.failed()) {
    refuse(e.path(), e.message(), e.line());
    return;
  }
  if (kind.empty()) {
    refuse("kind", "missing", 0);
    return;
  }
  if (kind == "List") {
    YAML::Node items = top.take("items");
    if (!items.IsSequence()) {
      refuse("items", "expected a list", 0);
      return;
    }
    for (const auto& item : items)
      parseOne(item, where, line_offset, out);
    return;
  }
  ConfigObject obj;
  obj.source = src;
  bool k8s = api_version == "v1";
  bool istio = isIstioNetworking(api_version);
  auto wantApi = [&](bool ok, const char* expected) {
    if (!ok) {
      refuse("apiVersion",
             "\"" + api_version + "\" is not valid for kind " + kind + " (want " + expected + ")",
             0);
    }
    return ok;
  };
  ObjectMeta meta;
  readMeta(top.take("metadata"), &e, &meta);
  if (!e.failed()) refusal.object = meta.namespace_ + "/" + meta.name;
  if (kind == "Service") {
    if (!wantApi(k8s, "v1")) return;
    obj.kind = ObjectKind::kService;
    K8sService v;
    v.meta = meta;
    parseService(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "Pod") {
    if (!wantApi(k8s, "v1")) return;
    obj.kind = ObjectKind::kPod;
    K8sPod v;
    v.meta = meta;
    parsePod(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "Endpoints") {
    if (!wantApi(k8s, "v1")) return;
    obj.kind = ObjectKind::kEndpoints;
    K8sEndpoints v;
    v.meta = meta;
    parseEndpoints(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "VirtualService") {
    if (!wantApi(istio, "networking.istio.io/v1alpha3, v1beta1 or v1")) return;
    obj.kind = ObjectKind::kVirtualService;
    VirtualService v;
    v.meta = meta;
    parseVirtualService(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "DestinationRule") {
    if (!wantApi(istio, "networking.istio.io/v1alpha3, v1beta1 or v1")) return;
    obj.kind = ObjectKind::kDestinationRule;
    DestinationRule v;
    v.meta = meta;
    parseDestinationRule(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "ServiceEntry") {
    if (!wantApi(istio, "networking.istio.io/v1alpha3, v1beta1 or v1")) return;
    obj.kind = ObjectKind::kServiceEntry;
    ServiceEntry v;
    v.meta = meta;
    parseServiceEntry(top, &e, &v);
    obj.value = std::move(v);
  } else if (kind == "ConfigMap" && k8s && meta.name == "istio" &&
             meta.namespace_ == "istio-system" && !e.failed()) {
    obj.kind = ObjectKind::kMeshConfig;
    MeshConfig mc;
    YAML::Node data = top.take("data");
    if (isSet(data) && data.IsMap() && isSet(data["mesh"])) {
      std::string text;
      readString(data["mesh"], "data.mesh", &e, &text);
      YAML::Node mesh;
      try {
        mesh = YAML::Load(text);
      } catch (const YAML::Exception& ex) {
        e.fail(data["mesh"], "data.mesh", std::string("invalid YAML: ") + ex.what());
      }
      if (!e.failed()) readMeshFields(mesh, "data.mesh", &e, &mc);
    }
    top.ignore({"binaryData", "immutable"});
    obj.value = mc;
  } else {
    if (!(kind == "ConfigMap" && k8s)) {
      out->warnings.push_back(src.file + ":" + std::to_string(src.line) + ": document " +
                              std::to_string(src.document) + ": ignoring unknown kind \"" + kind +
                              "\" (" + api_version + ")");
    }
    return;
  }
  top.finish();
  if (e.failed()) {
    refuse(e.path(), e.message(), e.line());
    return;
  }
  out->objects.push_back(std::move(obj));
}

}  // namespace

const char* objectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kService:
      return "Service";
    case ObjectKind::kPod:
      return "Pod";
    case ObjectKind::kEndpoints:
      return "Endpoints";
    case ObjectKind::kVirtualService:
      return "VirtualService";
    case ObjectKind::kDestinationRule:
      return "DestinationRule";
    case ObjectKind::kServiceEntry:
      return "ServiceEntry";
    case ObjectKind::kMeshConfig:
      return "ConfigMap";
  }
  return "?";
}

const ObjectMeta& ConfigObject::meta() const {
  static const ObjectMeta kMesh{"istio", "istio-system", {}, {}};
  return std::visit(
      [](const auto& v) -> const ObjectMeta& {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, MeshConfig>) {
          return kMesh;
        } else {
          return v.meta;
        }
      },
      value);
}

uint64_t fnv1a(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string ConfigObject::key() const {
  return meta().namespace_ + "/" + meta().name;
}

std::string Refusal::toString() const {
  std::string s = source.file + ":" + std::to_string(source.line) + ": document " +
                  std::to_string(source.document) + ": " + (kind.empty() ? "object" : kind);
  if (!object.empty()) s += " " + object;
  s += ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

ParsedDocument parseDocument(const YAML::Node& doc, const SourceRef& where, int line_offset) {
  ParsedDocument out;
  parseOne(doc, where, line_offset, &out);
  return out;
}

std::variant<MeshConfig, Refusal> parseMeshConfig(const YAML::Node& node, const SourceRef& where) {
  FieldErrors e;
  MeshConfig mc;
  if (!node.IsNull() && node.IsDefined()) readMeshFields(node, "", &e, &mc);
  if (!e.failed()) return mc;
  Refusal r;
  r.source = where;
  r.source.line = e.line();
  r.kind = "MeshConfig";
  r.field = e.path();
  r.message = e.message();
  return r;
}

std::optional<int64_t> parseDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return std::nullopt;
    std::string number = text.substr(start, i - start);
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "h") {
      scale = 3600e3;
    } else if (unit == "m") {
      scale = 60e3;
    } else if (unit == "s") {
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "us" || unit == "µs") {
      scale = 1e-3;
    } else if (unit == "ns") {
      scale = 1e-6;
    } else {
      return std::nullopt;
    }
    total_ms += v * scale;
  }
  return static_cast<int64_t>(total_ms + 0.5);
}

bool isValidHostName(const std::string& host, bool allow_wildcard) {
  std::string h = host;
  if (allow_wildcard) {
    if (h == "*") return true;
    if (h.rfind("*.", 0) == 0) h = h.substr(2);
  }
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string::npos) end = h.size();
    size_t len = end - start;
    if (len == 0 || len > 63) return false;
    for (size_t i = start; i < end; ++i) {
      char c = h[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                (c == '-' && i != start && i != end - 1);
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace remora::pilot
