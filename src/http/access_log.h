// Access logs: one line per request, in Envoy's format-string language
// (%START_TIME%, %REQ(:METHOD)%, %RESPONSE_FLAGS%, ...). The default format
// is Envoy's; Istio's longer format works too. Lines go to a file or stdout
// with one append-mode write each, so workers writing the same file never
// interleave within a line.
//
// Thread: parse() and AccessLog::create() on the main thread; log() on any
// worker (the formatter is immutable and the file write is atomic).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/stream_info.h"

namespace remora::http {

class AccessLogFormatter {
 public:
  // Envoy's default text format, trailing newline included.
  static constexpr std::string_view kDefaultFormat =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
      "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
      "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

  // Refuses unknown operators, naming them, rather than printing them
  // literally.
  static StatusOr<AccessLogFormatter> parse(std::string_view format);
  void format(const StreamInfo& info, std::string& out) const;

 private:
  enum class Op : uint8_t {
    kLiteral,
    kStartTime,
    kRequestHeader,
    kResponseHeader,
    kProtocol,
    kResponseCode,
    kResponseFlags,
    kResponseCodeDetails,
    kBytesReceived,
    kBytesSent,
    kDuration,
    kUpstreamHost,
    kUpstreamCluster,
    kUpstreamLocalAddress,
    kDownstreamRemoteAddress,
    kDownstreamRemoteAddressWithoutPort,
    kDownstreamLocalAddress,
    kDownstreamLocalAddressWithoutPort,
    kRequestedServerName,
    kRouteName,
    kLocalReplyBody,
    kConnectionId,
    kAlwaysEmpty,  // operators about things we do not have (TLS failures): "-"
  };
  struct Part {
    Op op = Op::kLiteral;
    std::string text;         // literal text, or the header name (lower-case)
    std::string alternative;  // REQ(A?B): B, lower-case
    size_t max_length = 0;    // %REQ(X):N%; 0 = unlimited
  };
  std::vector<Part> parts_;
};

class AccessLog {
 public:
  // `path` "/dev/stdout" writes to the process's standard output.
  static StatusOr<std::shared_ptr<const AccessLog>> create(const std::string& path,
                                                           AccessLogFormatter formatter);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void log(const StreamInfo& info) const;
  const std::string& path() const { return path_; }

 private:
  AccessLog(std::string path, int fd, bool owned, AccessLogFormatter formatter)
      : path_(std::move(path)), fd_(fd), owned_(owned), formatter_(std::move(formatter)) {}
  std::string path_;
  int fd_;
  bool owned_;
  AccessLogFormatter formatter_;
};

}  // namespace remora::http
