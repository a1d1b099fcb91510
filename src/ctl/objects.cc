#include "ctl/objects.h"

#include <algorithm>
#include <cctype>

#include "config/parse.h"
#include "ctl/json_value.h"
#include "ctl/tab_writer.h"

namespace remora::ctl {
namespace {

constexpr KindInfo kKinds[] = {
    {"VirtualService", "virtualservices", "virtualservice", "vs", "networking.istio.io"},
    {"DestinationRule", "destinationrules", "destinationrule", "dr", "networking.istio.io"},
    {"ServiceEntry", "serviceentries", "serviceentry", "se", "networking.istio.io"},
    {"Service", "services", "service", "svc", ""},
    {"Pod", "pods", "pod", "po", ""},
    {"Endpoints", "endpoints", "endpoints", "ep", ""},
    {"ConfigMap", "configmaps", "configmap", "cm", ""},
};

// kubectl's table writer: tabwriter.NewWriter(out, 6, 4, 3, ' ', 0).
constexpr TabWriterOptions kKubectlTable{6, 4, 3};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The name pilot gives the request body in its messages.
constexpr std::string_view kRequestName = "request";

// Pilot's "request:12: document 0: ..." -> "<source>:12: document 0: ...".
std::string renameSource(const std::string& text, const std::string& source) {
  if (text.compare(0, kRequestName.size() + 1, std::string(kRequestName) + ":") == 0) {
    return source + text.substr(kRequestName.size());
  }
  return text;
}

const JsonValue* path(const JsonValue& v, std::initializer_list<std::string_view> keys) {
  const JsonValue* cur = &v;
  for (auto k : keys) {
    cur = cur->find(k);
    if (!cur) return nullptr;
  }
  return cur;
}

std::string textAt(const JsonValue& v, std::initializer_list<std::string_view> keys) {
  const JsonValue* found = path(v, keys);
  return found ? found->text() : std::string();
}

// A list value as kubectl's JSONPath column prints it: ["a","b"]; "" if absent.
std::string listCell(const JsonValue& v, std::initializer_list<std::string_view> keys) {
  const JsonValue* found = path(v, keys);
  return found ? writeJson(*found, 0) : std::string();
}

std::string orNone(const std::string& s) {
  return s.empty() ? "<none>" : s;
}

// kubectl's PORT(S): 9080/TCP, 80:30080/TCP for a node port.
std::string servicePorts(const JsonValue& svc) {
  const JsonValue* ports = path(svc, {"spec", "ports"});
  if (!ports || !ports->isArray() || ports->items().empty()) return "<none>";
  std::string out;
  for (const JsonValue& p : ports->items()) {
    std::string protocol = textAt(p, {"protocol"});
    std::string port = textAt(p, {"port"});
    if (std::string node = textAt(p, {"nodePort"}); !node.empty()) port += ":" + node;
    out += (out.empty() ? "" : ",") + port + "/" + (protocol.empty() ? "TCP" : protocol);
  }
  return out;
}

// kubectl's READY and RESTARTS. Without containerStatuses (pilot's pods are
// written by hand), readiness comes from the Ready condition, else the phase.
std::pair<std::string, std::string> podReadiness(const JsonValue& pod) {
  const JsonValue* containers = path(pod, {"spec", "containers"});
  size_t total = containers && containers->isArray() ? containers->items().size() : 0;
  size_t ready = 0;
  int64_t restarts = 0;
  const JsonValue* statuses = path(pod, {"status", "containerStatuses"});
  if (statuses && statuses->isArray() && !statuses->items().empty()) {
    for (const JsonValue& s : statuses->items()) {
      if (const JsonValue* r = s.find("ready"); r && r->asBool()) ++ready;
      restarts += std::strtoll(textAt(s, {"restartCount"}).c_str(), nullptr, 10);
    }
  } else {
    bool is_ready = textAt(pod, {"status", "phase"}) == "Running";
    const JsonValue* conditions = path(pod, {"status", "conditions"});
    if (conditions && conditions->isArray()) {
      for (const JsonValue& c : conditions->items()) {
        if (textAt(c, {"type"}) == "Ready") is_ready = textAt(c, {"status"}) == "True";
      }
    }
    ready = is_ready ? total : 0;
  }
  return {std::to_string(ready) + "/" + std::to_string(total), std::to_string(restarts)};
}

// The columns after NAME, per kind (kubectl's, and Istio's CRD printer columns).
TableRow headerFor(const KindInfo& kind) {
  std::string k = kind.kind;
  if (k == "VirtualService") return {"GATEWAYS", "HOSTS"};
  if (k == "DestinationRule") return {"HOST"};
  if (k == "ServiceEntry") return {"HOSTS", "LOCATION", "RESOLUTION"};
  if (k == "Service") return {"TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"};
  if (k == "Pod") return {"READY", "STATUS", "RESTARTS"};
  return {};
}

TableRow cellsFor(const KindInfo& kind, const JsonValue& o) {
  std::string k = kind.kind;
  if (k == "VirtualService")
    return {listCell(o, {"spec", "gateways"}), listCell(o, {"spec", "hosts"})};
  if (k == "DestinationRule") return {textAt(o, {"spec", "host"})};
  if (k == "ServiceEntry") {
    return {listCell(o, {"spec", "hosts"}), textAt(o, {"spec", "location"}),
            textAt(o, {"spec", "resolution"})};
  }
  if (k == "Service") {
    std::string type = textAt(o, {"spec", "type"});
    if (type.empty()) type = "ClusterIP";
    std::string cluster_ip = textAt(o, {"spec", "clusterIP"});
    std::string external = type == "ExternalName" ? textAt(o, {"spec", "externalName"}) : "";
    return {type, orNone(cluster_ip), orNone(external), servicePorts(o)};
  }
  if (k == "Pod") {
    auto [ready, restarts] = podReadiness(o);
    return {ready, textAt(o, {"status", "phase"}), restarts};
  }
  return {};
}

struct Object {
  std::string namespace_;
  std::string name;
  JsonValue json;
};

}  // namespace

StatusOr<const KindInfo*> resolveKind(std::string_view name) {
  std::string n = lower(name);
  std::string known;
  for (const KindInfo& k : kKinds) {
    if (n == k.plural || n == k.singular || n == k.short_name || n == lower(k.kind) ||
        (*k.group && n == std::string(k.plural) + "." + k.group)) {
      return &k;
    }
    known += (known.empty() ? "" : ", ") + std::string(k.plural) + " (" + k.short_name + ")";
  }
  return invalidArgumentError("unknown resource type \"" + std::string(name) +
                              "\" (known: " + known + ")");
}

const KindInfo* findKind(std::string_view kind) {
  for (const KindInfo& k : kKinds) {
    if (kind == k.kind) return &k;
  }
  return nullptr;
}

std::string resourceName(std::string_view kind) {
  const KindInfo* k = findKind(kind);
  if (!k) return lower(kind);
  return *k->group ? std::string(k->singular) + "." + k->group : k->singular;
}

std::string pluralResourceName(const KindInfo& kind) {
  return *kind.group ? std::string(kind.plural) + "." + kind.group : kind.plural;
}

StatusOr<std::vector<ObjectId>> objectIds(std::string_view yaml, const std::string& source) {
  REMORA_ASSIGN_OR_RETURN(auto docs, config::yamlDocumentsToJson(yaml, source));
  std::vector<ObjectId> out;
  auto add = [&](const JsonValue& o) {
    std::string kind = textAt(o, {"kind"});
    std::string name = textAt(o, {"metadata", "name"});
    if (kind.empty() || name.empty()) return;
    ObjectId id{kind, textAt(o, {"metadata", "namespace"}), name};
    if (id.namespace_.empty()) id.namespace_ = "default";
    out.push_back(std::move(id));
  };
  for (const std::string& doc : docs) {
    REMORA_ASSIGN_OR_RETURN(JsonValue o, JsonValue::parse(doc));
    if (textAt(o, {"kind"}) == "List") {
      if (const JsonValue* items = o.find("items"); items && items->isArray()) {
        for (const JsonValue& item : items->items())
          add(item);
      }
      continue;
    }
    add(o);
  }
  return out;
}

WriteReport reportWrite(int status, std::string_view body, bool is_delete,
                        const std::string& source) {
  WriteReport r;
  auto json = JsonValue::parse(body);
  if (!json.ok() || !json->isObject()) {
    std::string text(body);
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    r.err = "pilot answered HTTP " + std::to_string(status) + ": " + text + "\n";
    return r;
  }
  const JsonValue& reply = *json;
  if (const JsonValue* changes = reply.find(is_delete ? "deleted" : "applied");
      changes && changes->isArray()) {
    for (const JsonValue& c : changes->items()) {
      std::string kind = textAt(c, {"kind"});
      std::string name = textAt(c, {"name"});
      std::string action = textAt(c, {"action"});
      if (action == "updated") action = "configured";  // kubectl's word
      r.out += is_delete ? resourceName(kind) + " \"" + name + "\" " + action + "\n"
                         : resourceName(kind) + "/" + name + " " + action + "\n";
    }
  }
  bool refused_in_folder = false;
  if (const JsonValue* refused = reply.find("refused"); refused && refused->isArray()) {
    for (const JsonValue& x : refused->items())
      r.err += renameSource(textAt(x, {"text"}), source) + "\n";
  }
  if (const JsonValue* errors = reply.find("errors"); errors && errors->isArray()) {
    for (const JsonValue& e : errors->items())
      r.err += renameSource(e.text(), source) + "\n";
  }
  if (const JsonValue* warnings = reply.find("warnings"); warnings && warnings->isArray()) {
    for (const JsonValue& w : warnings->items()) {
      // "refused: ..." is the folder refusing the written file (another file
      // defines the object too): written, but not served.
      if (w.text().rfind("refused: ", 0) == 0) refused_in_folder = true;
      r.err += w.text() + "\n";
    }
  }
  bool served = true;
  if (const JsonValue* s = reply.find("served"); s && s->type() == JsonValue::Type::kBool) {
    served = s->asBool();
  }
  if (status == 200 && !served) {
    r.err += "pilot wrote the change to its config folder but has not served it yet (version " +
             textAt(reply, {"version"}) + ")\n";
  }
  if (status != 200 && r.err.empty()) {
    r.err =
        "pilot answered HTTP " + std::to_string(status) + ": " + textAt(reply, {"error"}) + "\n";
  }
  r.ok = status == 200 && served && !refused_in_folder;
  return r;
}

StatusOr<GetFormat> parseGetFormat(const std::string& output) {
  if (output.empty()) return GetFormat::kTable;
  if (output == "yaml") return GetFormat::kYaml;
  if (output == "json") return GetFormat::kJson;
  return invalidArgumentError("-o/--output: \"" + output + "\" is not one of yaml, json");
}

StatusOr<std::string> renderGet(const GetRequest& request, std::string_view yaml) {
  REMORA_ASSIGN_OR_RETURN(auto docs, config::yamlDocumentsToJson(yaml, "pilot's answer"));
  std::vector<Object> objects;
  for (const std::string& doc : docs) {
    REMORA_ASSIGN_OR_RETURN(JsonValue o, JsonValue::parse(doc));
    std::string ns = textAt(o, {"metadata", "namespace"});
    objects.push_back({ns.empty() ? "default" : ns, textAt(o, {"metadata", "name"}), std::move(o)});
  }
  std::stable_sort(objects.begin(), objects.end(), [](const Object& a, const Object& b) {
    return a.namespace_ != b.namespace_ ? a.namespace_ < b.namespace_ : a.name < b.name;
  });
  if (objects.empty()) return std::string();
  if (request.format != GetFormat::kTable) {
    JsonValue value;
    if (!request.name.empty() && objects.size() == 1) {
      value = std::move(objects.front().json);
    } else {
      value = JsonValue::object();
      value.add("apiVersion", JsonValue::string("v1"));
      JsonValue items = JsonValue::array();
      for (Object& o : objects)
        items.push(std::move(o.json));
      value.add("items", std::move(items));
      value.add("kind", JsonValue::string("List"));
      value.add("metadata", JsonValue::object().add("resourceVersion", JsonValue::string("")));
    }
    return request.format == GetFormat::kJson ? writeJson(value, 4) + "\n" : writeYaml(value);
  }
  std::vector<TableRow> rows;
  TableRow header;
  if (request.all_namespaces) header.push_back("NAMESPACE");
  header.push_back("NAME");
  for (auto& h : headerFor(*request.kind))
    header.push_back(std::move(h));
  rows.push_back(std::move(header));
  for (const Object& o : objects) {
    TableRow row;
    if (request.all_namespaces) row.push_back(o.namespace_);
    row.push_back(o.name);
    for (auto& c : cellsFor(*request.kind, o.json))
      row.push_back(std::move(c));
    rows.push_back(std::move(row));
  }
  return formatTable(rows, kKubectlTable);
}

}  // namespace remora::ctl
