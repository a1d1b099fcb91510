// remoractl: Remora's command line. Each command group registers itself;
// add new ones (proxy-config, proxy-status, apply, explain) the same way.
#include "ctl/command_line.h"
#include "lab/lab_command.h"

int main(int argc, char** argv) {
  remora::ctl::CommandLine cli;
  remora::lab::addLabCommand(cli);
  return cli.run(argc, argv);
}
