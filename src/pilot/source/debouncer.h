// When to rebuild after a burst of file events: once the folder has been quiet
// for `quiet`, but never later than `max_wait` after the first event of the
// burst (so a file rewritten every 50 ms still gets picked up). Pure timing
// logic; the caller supplies the clock.
#pragma once

#include <chrono>

namespace remora::pilot {

class Debouncer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Debouncer(std::chrono::milliseconds quiet = std::chrono::milliseconds(100),
                     std::chrono::milliseconds max_wait = std::chrono::seconds(10))
      : quiet_(quiet), max_wait_(max_wait) {}

  void onEvent(Clock::time_point now) {
    if (!pending_) first_ = now;
    last_ = now;
    pending_ = true;
  }
  bool pending() const { return pending_; }
  // Only meaningful while pending().
  Clock::time_point deadline() const {
    auto quiet_end = last_ + quiet_;
    auto max_end = first_ + max_wait_;
    return quiet_end < max_end ? quiet_end : max_end;
  }
  bool due(Clock::time_point now) const { return pending_ && now >= deadline(); }
  void reset() { pending_ = false; }

 private:
  std::chrono::milliseconds quiet_;
  std::chrono::milliseconds max_wait_;
  bool pending_ = false;
  Clock::time_point first_{};
  Clock::time_point last_{};
};

}  // namespace remora::pilot
