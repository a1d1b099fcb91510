// remora-pilot's offline subcommand, kept apart so that tests drive it without
// the server (pilot_main.h has the whole command line):
//   remora-pilot translate --config-dir DIR --proxy POD.NS [--type lds|rds|cds|eds]
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "pilot/translate/resources.h"

namespace remora::pilot {

// `translate`: prints the config dump JSON on `out`, refusals and warnings on
// `err`. Returns the process exit code (0 also when objects were refused: the
// valid ones are still translated; 2 for an unknown proxy or unreadable input).
int runTranslate(const std::string& config_dir, const std::string& mesh_config,
                 const std::string& proxy, std::optional<ResourceType> type, std::ostream& out,
                 std::ostream& err);

}  // namespace remora::pilot
