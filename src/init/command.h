// Running external tools (iptables-restore, iptables-save). Behind a small
// interface so the apply/cleanup logic can be tested without root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace remora::init {

struct CommandResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv (argv[0] looked up in PATH, then /usr/sbin and /sbin) with
  // `input` on stdin and waits for it. A non-zero exit is a result, not an
  // error; the error cases are "not found" and failures to start it.
  virtual StatusOr<CommandResult> run(const std::vector<std::string>& argv,
                                      std::string_view input) = 0;
};

// Forks and execs the real program.
class SubprocessRunner final : public CommandRunner {
 public:
  StatusOr<CommandResult> run(const std::vector<std::string>& argv,
                              std::string_view input) override;
};

// Full path of `program`, or NotFound. Also searches /usr/sbin and /sbin,
// which a non-root user's PATH on Debian lacks.
StatusOr<std::string> findProgram(const std::string& program);

}  // namespace remora::init
