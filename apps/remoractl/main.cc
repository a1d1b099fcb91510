// remoractl: Remora's command line. Each command group registers itself.
#include "ctl/command_line.h"
#include "ctl/inspect_commands.h"
#include "ctl/pilot_commands.h"
#include "lab/lab_command.h"

int main(int argc, char** argv) {
  remora::ctl::CommandLine cli;
  remora::lab::addLabCommand(cli);
  remora::ctl::addProxyConfigCommand(cli);
  remora::ctl::addExplainCommand(cli);
  remora::ctl::addProxyStatusCommand(cli);
  remora::ctl::addObjectCommands(cli);
  return cli.run(argc, argv);
}
