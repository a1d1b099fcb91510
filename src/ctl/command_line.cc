#include "ctl/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace remora::ctl {

CommandLine::CommandLine()
    : app_(std::make_unique<CLI::App>(
          "remoractl: Remora's command line (see docs/lab.md for `remoractl lab`)", "remoractl")) {
  app_->require_subcommand(1);
  app_->get_formatter()->column_width(36);
}

CommandLine::~CommandLine() = default;

CLI::App& CommandLine::root() {
  return *app_;
}

void CommandLine::setAction(std::function<int()> action) {
  action_ = std::move(action);
}

int CommandLine::run(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // exit() prints help for --help (exit 0) and the message otherwise.
    int code = app_->exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!action_) {
    printError("no command given; see remoractl --help");
    return kExitUsage;
  }
  return action_();
}

void printError(const std::string& message) {
  std::fprintf(stderr, "remoractl: %s\n", message.c_str());
}

int failWith(const Status& status) {
  printError(status.message());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

}  // namespace remora::ctl
