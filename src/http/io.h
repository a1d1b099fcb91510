// Socket I/O for the HTTP connections on both sides (the connection manager's
// downstream sockets and the connection pools' upstream sockets), and the few
// per-worker helpers they share. The point of all of it is system calls: one
// read per readable socket, one write per socket per event handled, and no
// epoll changes or timer reinsertions per request.
//
// Thread: everything here belongs to one worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event/dispatcher.h"
#include "http/buffer.h"

namespace remora::http {

enum class IoResult : uint8_t {
  kOk,     // progress made (or nothing to do)
  kAgain,  // would block
  kEof,    // peer closed its sending side (reads)
  kError,  // the connection is broken; errno-like detail in the int
};

struct IoStatus {
  IoResult result = IoResult::kOk;
  int error = 0;  // errno for kError
  size_t bytes = 0;
};

// One recv into `buffer`'s tail, of at most `max` bytes.
IoStatus readOnce(int fd, Buffer& buffer, size_t max);
// Sends as much of `buffer` as the socket takes (small messages in one
// piece with send(), larger ones as an iovec); drains what was written.
IoStatus writeSome(int fd, Buffer& buffer);

// Sockets with pending output register here while an event is handled; the
// handler flushes them all once at its end, so an event that produces output
// for several sockets (a request forwarded upstream, a response sent back)
// costs one write per socket, however many pieces were produced.
//
// Socket event handlers open a Scope: the outermost one flushes when it
// ends. Output scheduled outside any scope (a filter's own timer) is
// flushed by a zero-delay timer, so nothing waits for an unrelated event.
class FlushList {
 public:
  explicit FlushList(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  class Scope {
   public:
    explicit Scope(FlushList& list) : list_(list) { ++list_.depth_; }
    ~Scope() {
      if (--list_.depth_ == 0) list_.run();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    FlushList& list_;
  };

  class Entry {
   public:
    virtual ~Entry();
    // Writes what is pending (may schedule other entries).
    virtual void flushNow() = 0;

   private:
    friend class FlushList;
    FlushList* list_ = nullptr;  // set while queued
  };

  void schedule(Entry& e);
  void cancel(Entry& e);
  // Flushes every scheduled entry, including ones scheduled meanwhile.
  void run();

 private:
  event::Dispatcher& dispatcher_;
  std::vector<Entry*> queue_;
  int depth_ = 0;
  std::unique_ptr<event::Timer> timer_;  // for schedules outside any scope
};

// A deadline that moves often and fires rarely (idle and request timeouts):
// arm() only records the deadline while the underlying timer is already due
// no later, so a keep-alive connection re-arming on every request touches the
// dispatcher's timer queue about once per timeout period, not per request.
class DeadlineTimer {
 public:
  DeadlineTimer(event::Dispatcher& dispatcher, std::function<void()> on_expiry);
  // Fires `on_expiry` at `deadline` unless re-armed or disarmed before.
  void arm(event::MonotonicTime deadline);
  void disarm() { deadline_ = event::MonotonicTime::max(); }
  bool armed() const { return deadline_ != event::MonotonicTime::max(); }

 private:
  void onTimer();

  event::Dispatcher& dispatcher_;
  std::function<void()> on_expiry_;
  std::unique_ptr<event::Timer> timer_;
  event::MonotonicTime deadline_ = event::MonotonicTime::max();
  event::MonotonicTime timer_due_ = event::MonotonicTime::max();
};

// A fast per-worker generator (splitmix64 seeding xoshiro256**) for request
// ids and load balancing; not for secrets.
class RandomGenerator {
 public:
  explicit RandomGenerator(uint64_t seed);
  uint64_t next();

 private:
  uint64_t s_[4];
};

// A version 4 UUID in its 36-character text form, for x-request-id.
void writeUuid(RandomGenerator& random, char out[36]);

// The Date header value ("Tue, 15 Nov 1994 08:12:31 GMT"), formatted once a second.
class DateCache {
 public:
  const std::string& now();

 private:
  int64_t second_ = -1;
  std::string value_;
};

}  // namespace remora::http
