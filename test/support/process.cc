#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "network/socket.h"
#include "support/paths.h"

namespace remora::test {

std::string binaryPath(const std::string& name) {
  return buildDir() + "/apps/" + name + "/" + name;
}

uint16_t freePort() {
  network::ListenOptions opts;
  opts.reuse_port = false;
  auto fd = network::listenTcp(*network::SocketAddress::parse("127.0.0.1:0"), opts);
  if (!fd.ok()) return 0;
  return network::localAddress(fd->get())->port;
}

static std::string tempDir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/remora-test.XXXXXX";
    const char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

std::string writeTempFile(const std::string& name, const std::string& text) {
  std::string path = tempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && running()) {
    signal(SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

bool ChildProcess::start(const std::vector<std::string>& argv) {
  static int counter = 0;
  log_path_ = tempDir() + "/child-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".log";
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    // The child must not inherit the test's blocked signals.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return true;
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && status_ == -1) kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string ChildProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int runCommand(const std::vector<std::string>& argv, std::string* output) {
  ChildProcess p;
  if (!p.start(argv)) return -1;
  int st = p.wait(std::chrono::seconds(60));
  if (output) *output = p.output();
  return st;
}

HttpResult httpRequest(const network::SocketAddress& to, const std::string& method,
                       const std::string& path) {
  HttpResult result;
  int fd = socket(to.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss;
  socklen_t len = to.toSockaddr(&ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    close(fd);
    return result;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = method + " " + path + " HTTP/1.1\r\nhost: admin\r\ncontent-length: 0\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  if (resp.rfind("HTTP/1.1 ", 0) != 0) return result;
  result.status = std::atoi(resp.c_str() + 9);
  size_t body = resp.find("\r\n\r\n");
  if (body != std::string::npos) result.body = resp.substr(body + 4);
  return result;
}

bool waitReady(const network::SocketAddress& admin, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (httpRequest(admin, "GET", "/ready").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int64_t statValue(const network::SocketAddress& admin, const std::string& name) {
  auto r = httpRequest(admin, "GET", "/stats");
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ": ", 0) == 0) return std::atoll(line.c_str() + name.size() + 2);
  }
  return -1;
}

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace remora::test
