#include "pilot/source/config_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/logging.h"
#include "pilot/model/config_store.h"
#include "pilot/source/debouncer.h"

namespace remora::pilot {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

ConfigWatcher::ConfigWatcher(std::string config_dir, std::string mesh_config_file,
                             Callback on_snapshot, std::chrono::milliseconds quiet,
                             std::chrono::milliseconds max_wait)
    : config_dir_(std::move(config_dir)),
      mesh_config_file_(std::move(mesh_config_file)),
      on_snapshot_(std::move(on_snapshot)),
      quiet_(quiet),
      max_wait_(max_wait) {}

std::shared_ptr<const MeshSnapshot> ConfigWatcher::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ConfigWatcher::rebuild() {
  using Ms = std::chrono::duration<double, std::milli>;
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const MeshSnapshot> previous = current();
  ConfigSet set = loadConfigDir(config_dir_, mesh_config_file_,
                                previous ? &previous->config() : nullptr, &parsed_);
  auto loaded = std::chrono::steady_clock::now();
  // An endpoint-only change patches the previous snapshot instead of
  // building the model again (build() decides, from the config hash).
  auto snapshot = MeshSnapshot::build(std::move(set), ++version_, previous.get());
  REMORA_LOG_INFO(
      "snapshot {} built in {:.1f} ms: read {} files ({} parsed) in {:.1f} ms, model "
      "{} in {:.1f} ms",
      version_, Ms(std::chrono::steady_clock::now() - start).count(), parsed_.files.size(),
      parsed_.parsed_last, Ms(loaded - start).count(), snapshot->patched() ? "patched" : "built",
      Ms(std::chrono::steady_clock::now() - loaded).count());
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = snapshot;
  }
  if (on_snapshot_) on_snapshot_(std::move(snapshot));
}

Status ConfigWatcher::run(const std::function<bool()>& should_stop) {
  Fd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (fd.get() < 0) return errnoError("inotify_init1", errno);
  // Complete writes only: IN_MODIFY fires for every write() of a file still
  // being written, and with a leading-edge debounce the first of them would
  // load a half-written file. IN_CREATE matters only for symlinks (below):
  // a regular file's creation is followed by its IN_CLOSE_WRITE.
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE;
  int dir_wd = ::inotify_add_watch(fd.get(), config_dir_.c_str(), mask);
  if (dir_wd < 0) return errnoError("inotify_add_watch " + config_dir_, errno);
  // The mesh file is watched through its folder: editors replace files by
  // rename, which would silently end a watch on the file itself.
  int mesh_wd = -1;
  std::string mesh_name;
  std::string mesh_dir;
  if (!mesh_config_file_.empty()) {
    std::filesystem::path p(mesh_config_file_);
    std::string parent = p.parent_path().empty() ? "." : p.parent_path().string();
    mesh_name = p.filename().string();
    mesh_dir = parent;
    mesh_wd = ::inotify_add_watch(fd.get(), parent.c_str(), mask);
    if (mesh_wd < 0) return errnoError("inotify_add_watch " + parent, errno);
  }
  rebuild();
  Debouncer debouncer(quiet_, max_wait_);
  debouncer.fired(Debouncer::Clock::now());
  alignas(struct inotify_event) char buf[8192];
  while (!should_stop()) {
    int timeout_ms = 100;
    if (debouncer.pending()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(debouncer.deadline() -
                                                                        Debouncer::Clock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 100));
    }
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) return errnoError("poll", errno);
    if (n > 0) {
      ssize_t len;
      while ((len = ::read(fd.get(), buf, sizeof(buf))) > 0) {
        for (char* p = buf; p < buf + len;) {
          auto* ev = reinterpret_cast<struct inotify_event*>(p);
          std::string name = ev->len ? ev->name : "";
          bool relevant = ev->mask & IN_Q_OVERFLOW;
          bool named = false;
          if (ev->wd == dir_wd) named |= endsWith(name, ".yaml") || endsWith(name, ".yml");
          if (ev->wd == mesh_wd) named |= name == mesh_name;
          if (named && (ev->mask & IN_CREATE)) {
            // A new symlink is complete at once and gets no IN_CLOSE_WRITE.
            struct stat st;
            std::string dir = ev->wd == dir_wd ? config_dir_ : mesh_dir;
            named = ::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
          }
          relevant |= named;
          if (relevant) debouncer.onEvent(Debouncer::Clock::now());
          p += sizeof(struct inotify_event) + ev->len;
        }
      }
    }
    if (debouncer.due(Debouncer::Clock::now())) {
      REMORA_LOG_DEBUG("config change in {}, rebuilding snapshot", config_dir_);
      {
        std::lock_guard<std::mutex> hold(reload_mu_);  // waits out a holdReloads()
        rebuild();
      }
      debouncer.fired(Debouncer::Clock::now());
    }
  }
  return Status::okStatus();
}

}  // namespace remora::pilot
