#include "lab/system.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace remora::lab {

StatusOr<ProcessId> spawnDaemon(const SpawnOptions& options) {
  if (options.argv.empty()) return invalidArgumentError("empty command");
  REMORA_ASSIGN_OR_RETURN(std::string path, init::findProgram(options.argv[0]));
  int log = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return errnoError("open " + options.log_path, errno);
  int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  // The child reports a failed exec through this pipe; success closes it.
  int report[2];
  if (null_in < 0 || pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    close(log);
    if (null_in >= 0) close(null_in);
    return errnoError("pipe", err);
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls (the caller may have threads).
  std::vector<char*> argv;
  for (const auto& a : options.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(log);
    close(null_in);
    close(report[0]);
    close(report[1]);
    return errnoError("fork", err);
  }
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD})
      signal(sig, SIG_DFL);
    int err = 0;
    if (dup2(null_in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) err = errno;
    if (err == 0 && chdir(options.cwd.c_str()) != 0) err = errno;
    if (err == 0) {
      // The lab's daemons must not hold the caller's sockets and files open.
      syscall(SYS_close_range, 3U, ~0U, 0U);
      execve(path.c_str(), argv.data(), envp.data());
      err = errno;
    }
    (void)!write(report[1], &err, sizeof(err));
    _exit(127);
  }
  close(log);
  close(null_in);
  close(report[1]);
  int child_err = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_err, sizeof(child_err));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_err))) {
    waitpid(pid, nullptr, 0);
    return errnoError("cannot start " + options.argv[0], child_err);
  }
  ProcessId id{pid, processStartTime(pid)};
  if (id.start_time == 0) {
    // It exec'd and already died; still hand it back so the caller sees its log.
    id.start_time = 1;
  }
  return id;
}

uint64_t processStartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return 0;
  // The command name (field 2) may contain spaces and parentheses; fields
  // after it start behind the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  rest >> field;  // field 3: state
  if (field == "Z" || field == "X") return 0;
  for (int i = 4; i <= 22; ++i)
    rest >> field;
  return std::strtoull(field.c_str(), nullptr, 10);
}

namespace {

// Exit statuses of our children reaped by isRunning, for exitStatusOf.
std::mutex g_reaped_lock;
std::map<pid_t, int> g_reaped;

// Reaps `id` if it is our child and has exited; returns its status or -1.
int reap(const ProcessId& id) {
  int st = 0;
  pid_t r = waitpid(id.pid, &st, WNOHANG);
  std::lock_guard<std::mutex> l(g_reaped_lock);
  if (r == id.pid) g_reaped[id.pid] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  auto it = g_reaped.find(id.pid);
  return it == g_reaped.end() ? -1 : it->second;
}

}  // namespace

bool isRunning(const ProcessId& id) {
  if (id.pid <= 0) return false;
  reap(id);
  uint64_t start = processStartTime(id.pid);
  return start != 0 && (id.start_time <= 1 || start == id.start_time);
}

int exitStatusOf(const ProcessId& id) {
  return id.pid <= 0 ? -1 : reap(id);
}

void stopProcess(const ProcessId& id, std::chrono::milliseconds grace) {
  if (!isRunning(id)) return;
  // The daemon leads its own process group (spawnDaemon's setsid), so its
  // children (a container's `sh -c` pipeline) go with it.
  pid_t group = getpgid(id.pid) == id.pid ? -id.pid : id.pid;
  kill(group, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (isRunning(id) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (isRunning(id))
    kill(group, SIGKILL);
  else if (group < 0)
    kill(group, SIGKILL);  // leftovers of the group
  for (int i = 0; i < 200 && isRunning(id); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool netnsExists(const std::string& name) {
  struct stat st;
  return stat(("/run/netns/" + name).c_str(), &st) == 0;
}

Status inNetns(const std::string& name, const std::function<void()>& fn) {
  int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoError("open network namespace " + name, errno);
  Status result;
  std::thread t([&] {
    if (setns(fd, CLONE_NEWNET) != 0) {
      result = errnoError("setns " + name, errno);
      return;
    }
    fn();
  });
  t.join();
  close(fd);
  return result;
}

StatusOr<std::string> runToolOutput(init::CommandRunner& runner,
                                    const std::vector<std::string>& argv) {
  REMORA_ASSIGN_OR_RETURN(init::CommandResult r, runner.run(argv, ""));
  if (r.exit_code == 0) return r.out;
  std::string line;
  for (const auto& a : argv)
    line += (line.empty() ? "" : " ") + a;
  std::string err = r.err.empty() ? r.out : r.err;
  while (!err.empty() && err.back() == '\n')
    err.pop_back();
  return internalError("`" + line + "` failed (exit " + std::to_string(r.exit_code) + "): " + err);
}

Status runTool(init::CommandRunner& runner, const std::vector<std::string>& argv) {
  return runToolOutput(runner, argv).status();
}

Status writeFileAtomic(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errnoError("create " + tmp, errno);
  fchmod(fd, mode);  // not narrowed by the umask
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return errnoError("write " + tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return errnoError("rename " + tmp, err);
  }
  return Status::okStatus();
}

StatusOr<std::string> readTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return notFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status makeDir(const std::string& path, mode_t mode, bool* created) {
  if (created) *created = false;
  if (mkdir(path.c_str(), mode) == 0) {
    chmod(path.c_str(), mode);
    if (created) *created = true;
    return Status::okStatus();
  }
  if (errno == EEXIST) return Status::okStatus();
  return errnoError("mkdir " + path, errno);
}

std::string tailOfFile(const std::string& path, int lines) {
  auto text = readTextFile(path);
  if (!text.ok()) return "";
  std::string s = *text;
  size_t pos = s.size();
  if (pos > 0 && s[pos - 1] == '\n') --pos;
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) {
    pos = s.rfind('\n', pos - 1);
  }
  return pos == std::string::npos ? s : s.substr(pos + 1);
}

}  // namespace remora::lab
