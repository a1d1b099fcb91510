// Parsing Envoy-style YAML or JSON into protobuf messages with errors that name
// the field path. Used for the bootstrap and, later, for xDS resources.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace remora::config {

// Parses `text` (YAML or JSON; JSON is read as YAML) into `out`, replacing its
// contents, with protobuf's JSON mapping: lowerCamel or original field names,
// "@type" inside google.protobuf.Any, durations as "5s", wrapper types as plain
// values. Unknown fields, wrong value types and unknown enum values are errors.
// Plain YAML scalars that look like numbers, booleans or null are those values
// (YAML 1.2 core schema: `yes`/`on` stay strings); quoted scalars are strings,
// so a string field given an unquoted number is an error with a hint to quote.
//
// Every error line reads "<source_name>:<line>:<column>: <field path>: <what>",
// e.g. `envoy.yaml:12:9: static_resources.clusters[1].connect_timeout: invalid
// duration "5 seconds" ...`; several errors are joined with newlines.
// Thread: any.
Status parseYamlOrJson(std::string_view text, google::protobuf::Message* out,
                       std::string_view source_name);

// Each document of a YAML stream (`---` between documents; JSON is YAML) as
// compact JSON, without a schema: scalars are typed as above (plain `9080` a
// number, quoted `"9080"` a string), key order kept, empty documents left
// out. Syntax errors read "<source_name>:<line>:<column>: syntax error: ...".
// For remoractl, which shows Kubernetes objects as JSON. Thread: any.
StatusOr<std::vector<std::string>> yamlDocumentsToJson(std::string_view text,
                                                       std::string_view source_name);

}  // namespace remora::config
