// When to rebuild after file events. A change that arrives after a quiet
// period (no event and no rebuild for `quiet`) is due at once: a lone edit
// should not wait out a window meant for bursts. Events that follow within
// `quiet` of the last event or rebuild are coalesced: due once the folder has
// been quiet for `quiet`, but never later than `max_wait` after the first
// event of the burst (so a file rewritten every 50 ms still gets picked up).
// Pure timing logic; the caller supplies the clock.
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
    if (!pending_) {
      first_ = now;
      leading_ = !active_ || now - last_ >= quiet_;
    }
    last_ = now;
    active_ = true;
    pending_ = true;
  }
  bool pending() const { return pending_; }
  // Only meaningful while pending().
  Clock::time_point deadline() const {
    if (leading_) return first_;
    auto quiet_end = last_ + quiet_;
    auto max_end = first_ + max_wait_;
    return quiet_end < max_end ? quiet_end : max_end;
  }
  bool due(Clock::time_point now) const { return pending_ && now >= deadline(); }
  // The caller rebuilt at `now`: events within `quiet` of it join a new
  // burst rather than being processed at once, since a rebuild can take
  // longer than the gap between an editor's writes.
  void fired(Clock::time_point now) {
    pending_ = false;
    if (!active_ || now > last_) last_ = now;
    active_ = true;
  }

 private:
  std::chrono::milliseconds quiet_;
  std::chrono::milliseconds max_wait_;
  bool pending_ = false;
  bool leading_ = false;
  bool active_ = false;  // last_ is set: some event or rebuild was seen
  Clock::time_point first_{};
  Clock::time_point last_{};
};

}  // namespace remora::pilot
