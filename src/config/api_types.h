// Keeps every generated message of remora_api in the binary.
#pragma once

#include <string>
#include <vector>

namespace remora::config {

// Static libraries drop object files nobody references, and a .proto whose
// object was dropped is missing from the generated descriptor pool, so an Any
// naming its type would fail to resolve. This references one symbol of each
// api/ file. Idempotent and cheap; parseYamlOrJson calls it. Thread: any.
void ensureApiTypesLinked();

// The .proto files (paths as in api/, e.g. "envoy/config/listener/v3/listener.proto")
// that ensureApiTypesLinked() covers; a test checks it against api/.
std::vector<std::string> linkedApiFiles();

}  // namespace remora::config
