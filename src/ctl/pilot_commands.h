// remoractl's control-plane commands, through remora-pilot's HTTP server
// (docs/remoractl.md): `proxy-status`, istioctl's view of what each proxy
// has received; `apply`, `create`, `delete` and `get`, kubectl's verbs on
// the objects pilot serves (its config API writes them to its folder).
#pragma once

#include "ctl/command_line.h"

namespace remora::ctl {

void addProxyStatusCommand(CommandLine& cli);
void addObjectCommands(CommandLine& cli);

}  // namespace remora::ctl
