// remora-pilot's command line, kept out of main.cc so tests can drive it:
//   remora-pilot --config-dir DIR [--mesh-config FILE]        watch and log snapshots
//   remora-pilot translate --config-dir DIR --proxy POD.NS [--type lds|rds|cds|eds]
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "pilot/translate/resources.h"

namespace remora::pilot {

int pilotMain(int argc, char** argv);

// `translate`: prints the config dump JSON on `out`, refusals and warnings on
// `err`. Returns the process exit code (0 also when objects were refused: the
// valid ones are still translated; 2 for an unknown proxy or unreadable input).
int runTranslate(const std::string& config_dir, const std::string& mesh_config,
                 const std::string& proxy, std::optional<ResourceType> type, std::ostream& out,
                 std::ostream& err);

}  // namespace remora::pilot
