#include "http/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <ctime>

namespace remora::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

void appendNumber(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void appendOrDash(std::string& out, std::string_view v, size_t max_length = 0) {
  if (v.empty()) {
    out += '-';
    return;
  }
  if (max_length > 0 && v.size() > max_length) v = v.substr(0, max_length);
  out.append(v);
}

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::kHttp10:
      return "HTTP/1.0";
    case Protocol::kHttp11:
      return "HTTP/1.1";
    case Protocol::kHttp2:
      return "HTTP/2";
  }
  return "-";
}

// The value of a header as %REQ% sees it: pseudo-headers by name, others by
// (lower-case) name; several fields of one name are joined with ",".
std::string_view headerValue(const HeaderMap* h, const std::string& name, std::string& scratch) {
  if (h == nullptr) return {};
  const std::string_view* first = nullptr;
  bool several = false;
  for (const HeaderMap::Entry& e : *h) {
    if (e.name != name) continue;
    if (first == nullptr) {
      first = &e.value;
    } else {
      several = true;
      break;
    }
  }
  if (first == nullptr) return {};
  if (!several) return *first;
  scratch.clear();
  for (const HeaderMap::Entry& e : *h) {
    if (e.name != name) continue;
    if (!scratch.empty()) scratch += ',';
    scratch += e.value;
  }
  return scratch;
}

}  // namespace

std::string responseFlagsToString(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kNoHealthyUpstream, "UH"},
      {kUpstreamRequestTimeout, "UT"},
      {kLocalReset, "LR"},
      {kUpstreamRemoteReset, "UR"},
      {kUpstreamConnectionFailure, "UF"},
      {kUpstreamConnectionTermination, "UC"},
      {kUpstreamOverflow, "UO"},
      {kNoRouteFound, "NR"},
      {kDownstreamConnectionTermination, "DC"},
      {kUpstreamRetryLimitExceeded, "URX"},
      {kStreamIdleTimeout, "SI"},
      {kDownstreamProtocolError, "DPE"},
      {kUpstreamProtocolError, "UPE"},
      {kNoClusterFound, "NC"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "-" : out;
}

StatusOr<AccessLogFormatter> AccessLogFormatter::parse(std::string_view format) {
  struct Simple {
    std::string_view name;
    Op op;
  };
  static constexpr Simple kSimple[] = {
      {"START_TIME", Op::kStartTime},
      {"PROTOCOL", Op::kProtocol},
      {"RESPONSE_CODE", Op::kResponseCode},
      {"RESPONSE_FLAGS", Op::kResponseFlags},
      {"RESPONSE_CODE_DETAILS", Op::kResponseCodeDetails},
      {"BYTES_RECEIVED", Op::kBytesReceived},
      {"BYTES_SENT", Op::kBytesSent},
      {"DURATION", Op::kDuration},
      {"UPSTREAM_HOST", Op::kUpstreamHost},
      {"UPSTREAM_CLUSTER", Op::kUpstreamCluster},
      {"UPSTREAM_LOCAL_ADDRESS", Op::kUpstreamLocalAddress},
      {"DOWNSTREAM_REMOTE_ADDRESS", Op::kDownstreamRemoteAddress},
      {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Op::kDownstreamRemoteAddressWithoutPort},
      {"DOWNSTREAM_LOCAL_ADDRESS", Op::kDownstreamLocalAddress},
      {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", Op::kDownstreamLocalAddressWithoutPort},
      {"REQUESTED_SERVER_NAME", Op::kRequestedServerName},
      {"ROUTE_NAME", Op::kRouteName},
      {"LOCAL_REPLY_BODY", Op::kLocalReplyBody},
      {"CONNECTION_ID", Op::kConnectionId},
      {"CONNECTION_TERMINATION_DETAILS", Op::kAlwaysEmpty},
      {"UPSTREAM_TRANSPORT_FAILURE_REASON", Op::kAlwaysEmpty},
  };
  AccessLogFormatter f;
  std::string literal;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c != '%') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    size_t close = format.find('%', i + 1);
    if (close == std::string_view::npos) {
      return invalidArgumentError("unterminated command operator at offset " + std::to_string(i));
    }
    std::string_view cmd = format.substr(i + 1, close - i - 1);
    i = close + 1;
    if (!literal.empty()) {
      f.parts_.push_back(Part{Op::kLiteral, std::move(literal), {}, 0});
      literal.clear();
    }
    Part p;
    if (cmd.substr(0, 4) == "REQ(" || cmd.substr(0, 5) == "RESP(") {
      bool req = cmd[2] == 'Q';
      size_t open = cmd.find('(');
      size_t end = cmd.find(')');
      if (end == std::string_view::npos) {
        return invalidArgumentError("%" + std::string(cmd) + "%: missing ')'");
      }
      std::string_view arg = cmd.substr(open + 1, end - open - 1);
      std::string_view rest = cmd.substr(end + 1);
      size_t q = arg.find('?');
      p.op = req ? Op::kRequestHeader : Op::kResponseHeader;
      p.text = lower(arg.substr(0, q));
      if (q != std::string_view::npos) p.alternative = lower(arg.substr(q + 1));
      if (p.text.empty()) return invalidArgumentError("%" + std::string(cmd) + "%: empty header");
      if (!rest.empty()) {
        if (rest[0] != ':') {
          return invalidArgumentError("%" + std::string(cmd) + "%: unexpected text after ')'");
        }
        std::string_view n = rest.substr(1);
        auto r = std::from_chars(n.data(), n.data() + n.size(), p.max_length);
        if (r.ec != std::errc() || r.ptr != n.data() + n.size() || p.max_length == 0) {
          return invalidArgumentError("%" + std::string(cmd) + "%: bad length");
        }
      }
      f.parts_.push_back(std::move(p));
      continue;
    }
    bool found = false;
    for (const Simple& s : kSimple) {
      if (cmd == s.name) {
        p.op = s.op;
        found = true;
        break;
      }
    }
    if (!found) {
      return invalidArgumentError("unsupported command operator %" + std::string(cmd) + "%");
    }
    f.parts_.push_back(std::move(p));
  }
  if (!literal.empty()) f.parts_.push_back(Part{Op::kLiteral, std::move(literal), {}, 0});
  return f;
}

void AccessLogFormatter::format(const StreamInfo& info, std::string& out) const {
  std::string scratch;
  for (const Part& p : parts_) {
    switch (p.op) {
      case Op::kLiteral:
        out += p.text;
        break;
      case Op::kStartTime: {
        auto since = info.start_time.time_since_epoch();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
        time_t secs = static_cast<time_t>(ms / 1000);
        tm g;
        gmtime_r(&secs, &g);
        char buf[48];
        size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &g);
        out.append(buf, n);
        char frac[8];
        snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(ms % 1000));
        out += frac;
        break;
      }
      case Op::kRequestHeader:
      case Op::kResponseHeader: {
        const HeaderMap* h =
            p.op == Op::kRequestHeader ? info.request_headers : info.response_headers;
        std::string_view v = headerValue(h, p.text, scratch);
        if (v.empty() && !p.alternative.empty()) v = headerValue(h, p.alternative, scratch);
        appendOrDash(out, v, p.max_length);
        break;
      }
      case Op::kProtocol:
        out += protocolName(info.protocol);
        break;
      case Op::kResponseCode:
        appendNumber(out, info.response_code);
        break;
      case Op::kResponseFlags:
        out += responseFlagsToString(info.response_flags);
        break;
      case Op::kResponseCodeDetails:
        appendOrDash(out, info.response_code_details);
        break;
      case Op::kBytesReceived:
        appendNumber(out, info.bytes_received);
        break;
      case Op::kBytesSent:
        appendNumber(out, info.bytes_sent);
        break;
      case Op::kDuration:
        appendNumber(
            out, static_cast<uint64_t>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(info.end - info.start)
                         .count()));
        break;
      case Op::kUpstreamHost:
        appendOrDash(out, info.upstream_host ? info.upstream_host->toString() : "");
        break;
      case Op::kUpstreamCluster:
        appendOrDash(out, info.upstream_cluster);
        break;
      case Op::kUpstreamLocalAddress:
        appendOrDash(out,
                     info.upstream_local_address ? info.upstream_local_address->toString() : "");
        break;
      case Op::kDownstreamRemoteAddress:
        appendOrDash(out, info.connection ? info.connection->remote.toString() : "");
        break;
      case Op::kDownstreamRemoteAddressWithoutPort:
        appendOrDash(out, info.connection ? info.connection->remote.ip.toString() : "");
        break;
      case Op::kDownstreamLocalAddress:
        appendOrDash(out, info.connection ? info.connection->local.toString() : "");
        break;
      case Op::kDownstreamLocalAddressWithoutPort:
        appendOrDash(out, info.connection ? info.connection->local.ip.toString() : "");
        break;
      case Op::kRequestedServerName:
        appendOrDash(out, info.connection ? std::string_view(info.connection->requested_server_name)
                                          : std::string_view());
        break;
      case Op::kRouteName:
        appendOrDash(out, info.route_name);
        break;
      case Op::kLocalReplyBody:
        appendOrDash(out, info.local_reply_body);
        break;
      case Op::kConnectionId:
        appendNumber(out, info.connection ? info.connection->id : 0);
        break;
      case Op::kAlwaysEmpty:
        out += '-';
        break;
    }
  }
}

StatusOr<std::shared_ptr<const AccessLog>> AccessLog::create(const std::string& path,
                                                             AccessLogFormatter formatter) {
  if (path == "/dev/stdout") {
    return std::shared_ptr<const AccessLog>(
        new AccessLog(path, STDOUT_FILENO, false, std::move(formatter)));
  }
  if (path == "/dev/stderr") {
    return std::shared_ptr<const AccessLog>(
        new AccessLog(path, STDERR_FILENO, false, std::move(formatter)));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errnoError("cannot open access log " + path, errno);
  return std::shared_ptr<const AccessLog>(new AccessLog(path, fd, true, std::move(formatter)));
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::log(const StreamInfo& info) const {
  std::string line;
  line.reserve(256);
  formatter_.format(info, line);
  // One write per line: O_APPEND keeps lines from different workers whole.
  ssize_t n = ::write(fd_, line.data(), line.size());
  (void)n;  // a full disk must not fail requests
}

}  // namespace remora::http
