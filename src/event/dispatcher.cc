#include "event/dispatcher.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "common/logging.h"

namespace remora::event {

namespace {
// Stands in, in an epoll batch, for a FileEvent destroyed during the batch.
char dead_event_marker;
}  // namespace

FileEvent::FileEvent(Dispatcher& d, int fd, Callback cb, uint32_t events)
    : dispatcher_(d), fd_(fd), cb_(std::move(cb)), enabled_(events) {}

FileEvent::~FileEvent() {
  if (registered_) dispatcher_.updateEpoll(this, EPOLL_CTL_DEL);
  // Objects are normally deferred-deleted, but an owner may destroy one at
  // once (a posted task, a callback of another connection); its readiness may
  // still be waiting later in the current batch.
  for (int i = 0; i < dispatcher_.batch_size_; ++i) {
    if (dispatcher_.batch_[i].data.ptr == this) dispatcher_.batch_[i].data.ptr = &dead_event_marker;
  }
}

void FileEvent::setEnabled(uint32_t events) {
  if (events == enabled_) return;
  enabled_ = events;
  if (events == 0) {
    if (registered_) dispatcher_.updateEpoll(this, EPOLL_CTL_DEL);
    registered_ = false;
  } else {
    dispatcher_.updateEpoll(this, registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD);
    registered_ = true;
  }
}

Timer::~Timer() {
  disable();
}

void Timer::enable(std::chrono::milliseconds after) {
  disable();
  pos_ = dispatcher_.timers_.emplace(dispatcher_.now() + after, this);
  armed_ = true;
}

void Timer::disable() {
  if (!armed_) return;
  dispatcher_.timers_.erase(pos_);
  armed_ = false;
}

StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::create(std::string name) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return errnoError("epoll_create1", errno);
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    close(ep);
    return errnoError("eventfd", err);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake fd is the only registration without a FileEvent
  epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev);
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(name), ep, wake));
}

Dispatcher::Dispatcher(std::string name, int epoll_fd, int wake_fd)
    : name_(std::move(name)),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      owner_(std::this_thread::get_id()),
      now_(std::chrono::steady_clock::now()) {}

Dispatcher::~Dispatcher() {
  to_delete_.clear();
  close(wake_fd_);
  close(epoll_fd_);
}

std::unique_ptr<FileEvent> Dispatcher::createFileEvent(int fd, FileEvent::Callback cb,
                                                       uint32_t events) {
  std::unique_ptr<FileEvent> ev(new FileEvent(*this, fd, std::move(cb), events));
  if (events != 0) {
    updateEpoll(ev.get(), EPOLL_CTL_ADD);
    ev->registered_ = true;
  }
  return ev;
}

std::unique_ptr<Timer> Dispatcher::createTimer(std::function<void()> cb) {
  return std::unique_ptr<Timer>(new Timer(*this, std::move(cb)));
}

void Dispatcher::deferredDelete(std::unique_ptr<DeferredDeletable> object) {
  to_delete_.push_back(std::move(object));
}

void Dispatcher::updateEpoll(FileEvent* ev, int op) {
  epoll_event e{};
  e.data.ptr = ev;
  if (ev->enabled_ & kRead) e.events |= EPOLLIN | EPOLLRDHUP;
  if (ev->enabled_ & kWrite) e.events |= EPOLLOUT;
  if (epoll_ctl(epoll_fd_, op, ev->fd_, op == EPOLL_CTL_DEL ? nullptr : &e) < 0 &&
      op != EPOLL_CTL_DEL) {
    REMORA_LOG_ERROR("epoll_ctl({}, fd {}): {}", op, ev->fd_, std::strerror(errno));
  }
}

void Dispatcher::post(std::function<void()> cb) {
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    posted_.push_back(std::move(cb));
  }
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake.
}

void Dispatcher::exit() {
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    exit_posted_ = true;
  }
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void Dispatcher::runPosted() {
  uint64_t count;
  ssize_t n = read(wake_fd_, &count, sizeof(count));
  (void)n;
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    batch.swap(posted_);
    if (exit_posted_) exit_requested_ = true;
  }
  for (auto& cb : batch)
    cb();
}

int Dispatcher::nextTimeoutMs() const {
  if (!to_delete_.empty()) return 0;
  if (timers_.empty()) return -1;
  auto delta = timers_.begin()->first - std::chrono::steady_clock::now();
  if (delta <= std::chrono::steady_clock::duration::zero()) return 0;
  // Round up so we never wake before the deadline and spin.
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(delta).count() + 1);
}

void Dispatcher::runTimers() {
  while (!timers_.empty() && timers_.begin()->first <= now_) {
    Timer* t = timers_.begin()->second;
    timers_.erase(timers_.begin());
    t->armed_ = false;
    t->cb_();  // may destroy or re-arm t
  }
}

void Dispatcher::run() {
  owner_ = std::this_thread::get_id();
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!exit_requested_) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, nextTimeoutMs());
    now_ = std::chrono::steady_clock::now();
    if (n < 0 && errno != EINTR) {
      REMORA_LOG_ERROR("{}: epoll_wait: {}", name_, std::strerror(errno));
      break;
    }
    batch_ = events;
    batch_size_ = n > 0 ? n : 0;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == &dead_event_marker) continue;
      auto* ev = static_cast<FileEvent*>(events[i].data.ptr);
      if (ev == nullptr) {
        runPosted();
        continue;
      }
      uint32_t ready = 0;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ready |= kRead;
      if (events[i].events & EPOLLOUT) ready |= kWrite;
      if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ready |= kClosed;
      ev->cb_(ready);
      // A callback may have deferred-deleted other FileEvents reported in this
      // batch; they are still alive until the batch ends (see below).
    }
    batch_ = nullptr;
    batch_size_ = 0;
    runTimers();
    to_delete_.clear();
  }
  to_delete_.clear();
}

}  // namespace remora::event
