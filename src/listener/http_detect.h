// Sniffing whether plaintext bytes start an HTTP request, for the
// http_inspector listener filter (sets the application protocol used by
// filter chain matching). Untrusted input; never reads past `data`.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace remora::listener {

// A request line longer than this without a line end is not HTTP we accept.
inline constexpr size_t kMaxHttpRequestLine = 8192;

struct HttpDetection {
  enum class Kind { kNeedMoreData, kHttp1x, kH2c, kNotHttp };
  Kind kind = Kind::kNeedMoreData;
  // The application protocol to match on: "http/1.1", "http/1.0" or "h2c";
  // empty unless kind is kHttp1x or kH2c.
  std::string_view application_protocol;
};

// kH2c: the HTTP/2 connection preface (prior knowledge). kHttp1x: a complete
// request line "METHOD SP target SP HTTP/1.x" ending in CRLF (or LF).
// kNeedMoreData: a valid beginning of either. Final answers do not change as
// more bytes arrive. Thread: any.
HttpDetection detectHttp(std::span<const uint8_t> data);
inline HttpDetection detectHttp(std::string_view data) {
  return detectHttp(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

}  // namespace remora::listener
