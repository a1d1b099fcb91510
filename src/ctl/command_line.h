// remoractl's command tree. Each command group (lab today; proxy-config,
// proxy-status, apply, explain later) is a function that adds its subcommand
// to a CommandLine, so apps/remoractl/main.cc only lists the groups.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace CLI {
class App;
}

namespace remora::ctl {

// Exit codes shared by every remoractl command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;   // bad command line or bad input file

class CommandLine {
 public:
  CommandLine();
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // The root ("remoractl"); command groups add subcommands to it.
  CLI::App& root();

  // Called from a subcommand's CLI11 callback: the action to run once parsing
  // is done. Running it after parse (not inside CLI11's callback) keeps
  // CLI11's exceptions away from our code.
  void setAction(std::function<int()> action);

  // Parses argv and runs the chosen action; returns the exit code. Usage
  // errors print CLI11's message and exit 2.
  int run(int argc, char** argv);

 private:
  std::unique_ptr<CLI::App> app_;
  std::function<int()> action_;
};

// Prints "remoractl: <message>" on stderr.
void printError(const std::string& message);

// Prints the error and returns its exit code: kExitUsage for an invalid
// argument, kExitFailed otherwise.
int failWith(const Status& status);

}  // namespace remora::ctl
