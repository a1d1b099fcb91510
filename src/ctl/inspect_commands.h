// `remoractl proxy-config` and `remoractl explain`: istioctl's look inside a
// sidecar, and the seed's walk of one request through it (docs/remoractl.md).
#pragma once

#include "ctl/command_line.h"

namespace remora::ctl {

void addProxyConfigCommand(CommandLine& cli);
void addExplainCommand(CommandLine& cli);

}  // namespace remora::ctl
