// The lab's hands on the machine: daemons started in their own process group
// and stopped by PID, network namespaces entered per thread, files written
// atomically. Everything the lab does to the machine goes through here or
// through `ip` (run with init::CommandRunner).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "init/command.h"

namespace remora::lab {

// A process, named so that a reused PID is never mistaken for it: the start
// time is field 22 of /proc/<pid>/stat, which no later process with the same
// PID can share.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] looked up in PATH
  std::vector<std::string> env;   // the whole environment, "NAME=value"
  std::string log_path;           // stdout and stderr, appended
  std::string cwd = "/";
};

// Starts a process in a new session (so it and its children form one process
// group) with stdin from /dev/null; does not wait for it. Fails if argv[0]
// cannot be executed.
StatusOr<ProcessId> spawnDaemon(const SpawnOptions& options);

// Start time of a live process (not a zombie), or 0 if there is none.
uint64_t processStartTime(pid_t pid);
// True while the process named by `id` runs. Reaps it if it is our child.
bool isRunning(const ProcessId& id);
// If it is our child and has exited: its exit status (128+N for signal N);
// otherwise -1.
int exitStatusOf(const ProcessId& id);
// SIGTERM to the process group, SIGKILL to it after `grace`; no-op when the
// process is already gone or the PID now belongs to someone else.
void stopProcess(const ProcessId& id, std::chrono::milliseconds grace);

// Runs `fn` on a new thread that has joined network namespace /run/netns/<name>;
// sockets it creates live in that namespace.
Status inNetns(const std::string& name, const std::function<void()>& fn);
bool netnsExists(const std::string& name);

// Runs a tool to completion; a non-zero exit becomes an error carrying the
// command line and its stderr.
Status runTool(init::CommandRunner& runner, const std::vector<std::string>& argv);
StatusOr<std::string> runToolOutput(init::CommandRunner& runner,
                                    const std::vector<std::string>& argv);

// Writes through a temporary file and rename(), so readers never see half.
Status writeFileAtomic(const std::string& path, const std::string& text, mode_t mode);
StatusOr<std::string> readTextFile(const std::string& path);
// mkdir that succeeds if the directory exists; `created` says whether it did.
Status makeDir(const std::string& path, mode_t mode, bool* created = nullptr);

// The last `lines` lines of a file, for error messages.
std::string tailOfFile(const std::string& path, int lines);

}  // namespace remora::lab
