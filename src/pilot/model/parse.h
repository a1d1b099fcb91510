// Turns one YAML document into one validated object, or a refusal that names
// the file, document, object and field. Strict for Istio kinds (a typo in a
// VirtualService must not be silently ignored); lenient for Pod spec/status,
// whose schema belongs to Kubernetes and is mostly irrelevant to routing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pilot/model/types.h"

namespace remora::pilot {

enum class ObjectKind {
  kService,
  kPod,
  kEndpoints,
  kVirtualService,
  kDestinationRule,
  kServiceEntry,
  kMeshConfig,  // ConfigMap istio-system/istio (data.mesh), as Istio reads it
};

const char* objectKindName(ObjectKind kind);

struct ConfigObject {
  ObjectKind kind = ObjectKind::kService;
  SourceRef source;
  // Hash of the document text; equal hashes mean an unchanged object, which
  // lets snapshots tell endpoint-only changes from config changes cheaply.
  uint64_t content_hash = 0;
  std::variant<K8sService, K8sPod, K8sEndpoints, VirtualService, DestinationRule, ServiceEntry,
               MeshConfig>
      value;

  const ObjectMeta& meta() const;
  // "default/reviews"
  std::string key() const;
};

// Why an object was not accepted. toString() gives the one-line form used in
// logs, `translate` output and the configz page:
//   bookinfo.yaml:42: document 3: VirtualService default/reviews:
//   spec.http[0].route: weights sum to 90, want 100
struct Refusal {
  SourceRef source;
  std::string kind;    // as written in the document, may be empty
  std::string object;  // "namespace/name", or "" when metadata is unusable
  std::string field;   // dotted path, e.g. spec.http[0].route[1].weight
  std::string message;
  std::string toString() const;
};

struct ParsedDocument {
  std::vector<ConfigObject> objects;  // several for kind: List
  std::vector<Refusal> refusals;
  std::vector<std::string> warnings;  // ignored kinds
};

// FNV-1a, used for content hashes (stable across runs, unlike std::hash).
uint64_t fnv1a(std::string_view data, uint64_t seed = 14695981039346656037ULL);

// Parses one document; `where` carries file and document index, the line is
// taken from the node. `line_offset` is the 0-based line of the file at which
// the text given to yaml-cpp started, so that quoted lines are the file's.
ParsedDocument parseDocument(const YAML::Node& doc, const SourceRef& where, int line_offset = 0);

// Parses a mesh config in Istio's MeshConfig YAML form (the `mesh` key of the
// istio ConfigMap, or the file given by --mesh-config). On failure the Refusal
// names the field.
std::variant<MeshConfig, Refusal> parseMeshConfig(const YAML::Node& node, const SourceRef& where);

// Go-style durations as Istio accepts them: "10s", "1.5s", "250ms", "1m", "1h30m".
std::optional<int64_t> parseDurationMs(const std::string& text);

// DNS-1123 subdomain; with allow_wildcard also "*" and "*.suffix".
bool isValidHostName(const std::string& host, bool allow_wildcard);

}  // namespace remora::pilot
