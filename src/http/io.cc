#include "http/io.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace remora::http {

IoStatus readOnce(int fd, Buffer& buffer, size_t max) {
  Buffer::Room room = buffer.reserve(1);
  size_t want = room.size < max ? room.size : max;
  while (true) {
    ssize_t n = ::recv(fd, room.data, want, 0);
    if (n > 0) {
      buffer.commit(static_cast<size_t>(n));
      return IoStatus{IoResult::kOk, 0, static_cast<size_t>(n)};
    }
    buffer.commit(0);
    if (n == 0) return IoStatus{IoResult::kEof, 0, 0};
    if (errno == EINTR) {
      room = buffer.reserve(1);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus{IoResult::kAgain, 0, 0};
    return IoStatus{IoResult::kError, errno, 0};
  }
}

namespace {

// A message split over a few slices (headers written here, a body moved in
// from the other side) and small enough is copied together and sent with
// send(): sendmsg() costs the kernel a msghdr and an iovec array copied in
// and checked (~0.4 us per call, perf on the sidecar pair), more than
// copying a few KiB here.
constexpr size_t kCoalesceBytes = 8 * 1024;

ssize_t sendSlices(int fd, const iovec* iov, int count, size_t offered) {
  if (count == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  if (offered <= kCoalesceBytes) {
    char joined[kCoalesceBytes];
    size_t at = 0;
    for (int i = 0; i < count; ++i) {
      std::memcpy(joined + at, iov[i].iov_base, iov[i].iov_len);
      at += iov[i].iov_len;
    }
    return ::send(fd, joined, at, MSG_NOSIGNAL);
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(count);
  return ::sendmsg(fd, &msg, MSG_NOSIGNAL);
}

}  // namespace

IoStatus writeSome(int fd, Buffer& buffer) {
  size_t total = 0;
  while (!buffer.empty()) {
    iovec iov[16];
    int count = buffer.fillIovec(iov, 16);
    size_t offered = 0;
    for (int i = 0; i < count; ++i)
      offered += iov[i].iov_len;
    ssize_t n = sendSlices(fd, iov, count, offered);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus{IoResult::kAgain, 0, total};
      return IoStatus{IoResult::kError, errno, total};
    }
    buffer.drain(static_cast<size_t>(n));
    total += static_cast<size_t>(n);
    // A short write means the socket buffer is full; asking again would only
    // get EAGAIN.
    if (static_cast<size_t>(n) < offered) return IoStatus{IoResult::kAgain, 0, total};
  }
  return IoStatus{IoResult::kOk, 0, total};
}

FlushList::Entry::~Entry() {
  if (list_ != nullptr) list_->cancel(*this);
}

void FlushList::schedule(Entry& e) {
  if (e.list_ != nullptr) return;
  e.list_ = this;
  queue_.push_back(&e);
  if (depth_ == 0) {
    if (!timer_) timer_ = dispatcher_.createTimer([this] { run(); });
    if (!timer_->enabled()) timer_->enable(std::chrono::milliseconds(0));
  }
}

void FlushList::cancel(Entry& e) {
  if (e.list_ != this) return;
  e.list_ = nullptr;
  for (Entry*& q : queue_) {
    if (q == &e) q = nullptr;
  }
}

void FlushList::run() {
  // Flushing may schedule more; they are taken in this same run.
  ++depth_;
  // Index-based: flushing one entry may schedule others (appended) or
  // cancel some (nulled).
  for (size_t i = 0; i < queue_.size(); ++i) {
    Entry* e = queue_[i];
    if (e == nullptr) continue;
    e->list_ = nullptr;
    queue_[i] = nullptr;
    e->flushNow();
  }
  queue_.clear();
  --depth_;
}

DeadlineTimer::DeadlineTimer(event::Dispatcher& dispatcher, std::function<void()> on_expiry)
    : dispatcher_(dispatcher), on_expiry_(std::move(on_expiry)) {}

void DeadlineTimer::arm(event::MonotonicTime deadline) {
  deadline_ = deadline;
  if (timer_due_ <= deadline) return;  // fires first and re-arms for the rest
  if (!timer_) timer_ = dispatcher_.createTimer([this] { onTimer(); });
  auto after = std::chrono::ceil<std::chrono::milliseconds>(deadline - dispatcher_.now());
  if (after.count() < 0) after = std::chrono::milliseconds(0);
  timer_->enable(after);
  timer_due_ = deadline;
}

void DeadlineTimer::onTimer() {
  timer_due_ = event::MonotonicTime::max();
  if (deadline_ == event::MonotonicTime::max()) return;
  if (deadline_ <= dispatcher_.now()) {
    deadline_ = event::MonotonicTime::max();
    on_expiry_();  // may destroy this
    return;
  }
  arm(deadline_);
}

RandomGenerator::RandomGenerator(uint64_t seed) {
  for (uint64_t& v : s_) {
    seed += 0x9e3779b97f4a7c15ull;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    v = z ^ (z >> 31);
  }
}

uint64_t RandomGenerator::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void writeUuid(RandomGenerator& random, char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = random.next();
  uint64_t lo = random.next();
  // Version 4 in the 13th digit, variant 10xx in the 17th (RFC 4122 4.4).
  hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  // Two digits per byte, the dashes at fixed places (8-4-4-4-12): straight
  // line code, as every request without an id needs one.
  auto put = [&](uint64_t word, int first_byte, int n, char* p) {
    for (int i = 0; i < n; ++i) {
      auto b = static_cast<unsigned>((word >> (56 - 8 * (first_byte + i))) & 0xff);
      p[2 * i] = kHex[b >> 4];
      p[2 * i + 1] = kHex[b & 0xf];
    }
  };
  put(hi, 0, 4, out);
  out[8] = '-';
  put(hi, 4, 2, out + 9);
  out[13] = '-';
  put(hi, 6, 2, out + 14);
  out[18] = '-';
  put(lo, 0, 2, out + 19);
  out[23] = '-';
  put(lo, 2, 6, out + 24);
}

const std::string& DateCache::now() {
  time_t t = ::time(nullptr);
  if (t != second_) {
    second_ = t;
    tm g;
    gmtime_r(&t, &g);
    char buf[64];
    size_t n = strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &g);
    value_.assign(buf, n);
  }
  return value_;
}

}  // namespace remora::http
