// `remoractl lab up FILE | down | status | exec POD -- CMD...`.
#pragma once

#include "ctl/command_line.h"

namespace remora::lab {

// Adds the `lab` command group to remoractl.
void addLabCommand(ctl::CommandLine& cli);

}  // namespace remora::lab
