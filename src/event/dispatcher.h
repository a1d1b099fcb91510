// Dispatcher: one epoll event loop, owned by one thread (the main thread or a
// worker). Everything registered with a dispatcher (file events, timers,
// deferred deletions) is touched only by that thread; other threads talk to it
// only through post(). This is the threading rule of the whole proxy
// (docs/threading.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

struct epoll_event;

namespace remora::event {

using MonotonicTime = std::chrono::steady_clock::time_point;

// Bits for FileEvent interest and readiness.
enum FileReadyType : uint32_t {
  kRead = 1 << 0,
  kWrite = 1 << 1,
  kClosed = 1 << 2,  // peer hung up or error; reported with kRead
};

class Dispatcher;

// Interest in one file descriptor. Destroying it unregisters the fd (it does
// not close it).
class FileEvent {
 public:
  using Callback = std::function<void(uint32_t ready)>;
  ~FileEvent();
  // Which of kRead / kWrite to watch (level-triggered). With neither, the fd
  // is taken out of epoll entirely, so even a hang-up is not reported: a
  // socket whose both directions are finished cannot wake the loop in vain.
  void setEnabled(uint32_t events);
  uint32_t enabled() const { return enabled_; }

 private:
  friend class Dispatcher;
  FileEvent(Dispatcher& d, int fd, Callback cb, uint32_t events);
  Dispatcher& dispatcher_;
  int fd_;
  Callback cb_;
  uint32_t enabled_;
  bool registered_ = false;
};

// A one-shot timer; enable() again to re-arm. Destroying it cancels it.
class Timer {
 public:
  ~Timer();
  void enable(std::chrono::milliseconds after);
  void disable();
  bool enabled() const { return armed_; }

 private:
  friend class Dispatcher;
  Timer(Dispatcher& d, std::function<void()> cb) : dispatcher_(d), cb_(std::move(cb)) {}
  Dispatcher& dispatcher_;
  std::function<void()> cb_;
  bool armed_ = false;
  std::multimap<MonotonicTime, Timer*>::iterator pos_;
};

// Objects deleted at the end of the current loop iteration, so that a
// callback may drop the object that is calling it.
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};

class Dispatcher {
 public:
  static StatusOr<std::unique_ptr<Dispatcher>> create(std::string name);
  ~Dispatcher();

  const std::string& name() const { return name_; }

  // Owner thread only.
  std::unique_ptr<FileEvent> createFileEvent(int fd, FileEvent::Callback cb, uint32_t events);
  std::unique_ptr<Timer> createTimer(std::function<void()> cb);
  void deferredDelete(std::unique_ptr<DeferredDeletable> object);
  // The time at the start of this loop iteration (cheap, cached).
  MonotonicTime now() const { return now_; }

  // Any thread. Runs `cb` on the owner thread, in posting order.
  void post(std::function<void()> cb);
  // Any thread. Makes run() return after the current iteration.
  void exit();

  // Runs the loop on the calling thread until exit(); that thread becomes the
  // owner.
  void run();
  bool isOwnerThread() const { return std::this_thread::get_id() == owner_; }

 private:
  friend class FileEvent;
  friend class Timer;
  Dispatcher(std::string name, int epoll_fd, int wake_fd);
  void updateEpoll(FileEvent* ev, int op);
  void runPosted();
  void runTimers();
  int nextTimeoutMs() const;

  std::string name_;
  int epoll_fd_;
  int wake_fd_;
  std::thread::id owner_;
  MonotonicTime now_;
  bool exit_requested_ = false;

  std::mutex post_lock_;
  std::vector<std::function<void()>> posted_;  // guarded by post_lock_
  bool exit_posted_ = false;                   // guarded by post_lock_

  std::multimap<MonotonicTime, Timer*> timers_;
  std::vector<std::unique_ptr<DeferredDeletable>> to_delete_;
  // The epoll batch being dispatched: a FileEvent destroyed by an earlier
  // callback in the batch blanks its later entries so they are skipped.
  ::epoll_event* batch_ = nullptr;
  int batch_size_ = 0;
};

}  // namespace remora::event
