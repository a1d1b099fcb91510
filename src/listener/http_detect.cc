#include "listener/http_detect.h"

#include <algorithm>
#include <cstring>

namespace remora::listener {
namespace {

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kMaxMethod = 32;

// RFC 9110 token characters.
bool isTchar(uint8_t c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

HttpDetection result(HttpDetection::Kind kind, std::string_view proto = {}) {
  return HttpDetection{kind, proto};
}

}  // namespace

HttpDetection detectHttp(std::span<const uint8_t> data) {
  using Kind = HttpDetection::Kind;
  size_t n = std::min(data.size(), kH2Preface.size());
  if (std::equal(data.begin(), data.begin() + n, kH2Preface.begin())) {
    if (data.size() >= kH2Preface.size()) return result(Kind::kH2c, "h2c");
    // Also a prefix of an HTTP/1 line with method "PRI", but that line would
    // carry HTTP/2.0, which is not HTTP/1.x: wait for the whole preface.
    return result(Kind::kNeedMoreData);
  }
  // METHOD SP
  size_t i = 0;
  while (i < data.size() && isTchar(data[i])) {
    if (++i > kMaxMethod) return result(Kind::kNotHttp);
  }
  if (i == data.size()) return result(Kind::kNeedMoreData);
  if (i == 0 || data[i] != ' ') return result(Kind::kNotHttp);
  ++i;
  // request-target SP: visible characters, no spaces or controls.
  size_t target_start = i;
  while (i < data.size() && data[i] > 0x20 && data[i] != 0x7f) {
    if (i >= kMaxHttpRequestLine) return result(Kind::kNotHttp);
    ++i;
  }
  if (i == data.size()) return result(Kind::kNeedMoreData);
  if (i == target_start || data[i] != ' ') return result(Kind::kNotHttp);
  ++i;
  // HTTP/1.x then CRLF or LF.
  static constexpr std::string_view kVersion = "HTTP/1.";
  for (char c : kVersion) {
    if (i == data.size()) return result(Kind::kNeedMoreData);
    if (data[i] != static_cast<uint8_t>(c)) return result(Kind::kNotHttp);
    ++i;
  }
  if (i == data.size()) return result(Kind::kNeedMoreData);
  uint8_t minor = data[i++];
  if (minor != '0' && minor != '1') return result(Kind::kNotHttp);
  if (i == data.size()) return result(Kind::kNeedMoreData);
  if (data[i] == '\r') {
    if (++i == data.size()) return result(Kind::kNeedMoreData);
  }
  if (data[i] != '\n') return result(Kind::kNotHttp);
  return result(Kind::kHttp1x, minor == '1' ? "http/1.1" : "http/1.0");
}

}  // namespace remora::listener
