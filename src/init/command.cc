#include "init/command.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace remora::init {
namespace {

// memfds instead of pipes: the child's output is small, and with files there
// is no pipe-buffer deadlock to reason about.
StatusOr<int> makeMemfd(const char* name) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return errnoError("memfd_create", errno);
  return fd;
}

Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("write", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::okStatus();
}

std::string readAll(int fd) {
  std::string out;
  if (lseek(fd, 0, SEEK_SET) < 0) return out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool isExecutable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

StatusOr<std::string> findProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (isExecutable(program)) return program;
    return notFoundError(program + " not found or not executable");
  }
  std::string dirs = getenv("PATH") ? getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (!dir.empty() && isExecutable(dir + "/" + program)) return dir + "/" + program;
    start = colon + 1;
  }
  return notFoundError(program + " not found in PATH, /usr/sbin or /sbin");
}

StatusOr<CommandResult> SubprocessRunner::run(const std::vector<std::string>& argv,
                                              std::string_view input) {
  if (argv.empty()) return invalidArgumentError("empty command");
  REMORA_ASSIGN_OR_RETURN(std::string path, findProgram(argv[0]));
  REMORA_ASSIGN_OR_RETURN(int in_fd, makeMemfd("stdin"));
  auto in_status = writeAll(in_fd, input);
  REMORA_ASSIGN_OR_RETURN(int out_fd, makeMemfd("stdout"));
  REMORA_ASSIGN_OR_RETURN(int err_fd, makeMemfd("stderr"));
  auto closeAll = [&] {
    close(in_fd);
    close(out_fd);
    close(err_fd);
  };
  if (!in_status.ok() || lseek(in_fd, 0, SEEK_SET) < 0) {
    closeAll();
    return internalError("cannot prepare input for " + argv[0]);
  }

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    closeAll();
    return errnoError("fork", err);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
    execv(path.c_str(), args.data());
    _exit(127);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      int err = errno;
      closeAll();
      return errnoError("waitpid", err);
    }
  }
  CommandResult result;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = readAll(out_fd);
  result.err = readAll(err_fd);
  closeAll();
  return result;
}

}  // namespace remora::init
