// The YAML-folder config source: loads the folder, then watches it with
// inotify and, after each debounced burst of changes, builds a new immutable
// MeshSnapshot and hands it to the callback. Runs on the caller's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "pilot/model/config_store.h"
#include "pilot/model/snapshot.h"

namespace remora::pilot {

class ConfigWatcher {
 public:
  using Callback = std::function<void(std::shared_ptr<const MeshSnapshot>)>;

  ConfigWatcher(std::string config_dir, std::string mesh_config_file, Callback on_snapshot,
                std::chrono::milliseconds quiet = std::chrono::milliseconds(100),
                std::chrono::milliseconds max_wait = std::chrono::seconds(10));

  // Publishes the initial snapshot, then loops until should_stop() is true
  // (polled at least every 100 ms). Fails only if inotify cannot be set up.
  Status run(const std::function<bool()>& should_stop);

  // The latest snapshot; any thread.
  std::shared_ptr<const MeshSnapshot> current() const;

  // Held by a writer of several files at once (the object API applying a
  // multi-document request): the folder is not read meanwhile, so what it
  // writes lands in one snapshot although a lone change is loaded at once.
  // Without it a VirtualService and the DestinationRule it needs, applied
  // together, could be served one without the other (503 NC in between).
  std::unique_lock<std::mutex> holdReloads() { return std::unique_lock<std::mutex>(reload_mu_); }

 private:
  void rebuild();

  std::string config_dir_;
  std::string mesh_config_file_;
  Callback on_snapshot_;
  std::chrono::milliseconds quiet_;
  std::chrono::milliseconds max_wait_;
  uint64_t version_ = 0;
  ParsedFileCache parsed_;  // the watcher's thread only
  mutable std::mutex mu_;
  std::shared_ptr<const MeshSnapshot> current_;
  std::mutex reload_mu_;  // holdReloads()
};

}  // namespace remora::pilot
