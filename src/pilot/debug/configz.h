// The /debug/configz page: what pilot accepted, what it refused and why, and
// the warnings of one snapshot, as JSON. Refusals carry the same fields as
// the log line (file, document, object, field, message) so a user can go
// from either to the YAML that needs fixing. The ADS server (issue 6) serves
// it over HTTP; `remora-pilot configz` prints it.
#pragma once

#include <string>

#include "pilot/model/snapshot.h"

namespace remora::pilot {

std::string renderConfigz(const MeshSnapshot& snapshot);

class JsonWriter;
// One refusal as configz shows it: text (the log line), file, document,
// line, kind, object, field, message.
void writeRefusal(const Refusal& refusal, JsonWriter* w);

}  // namespace remora::pilot
