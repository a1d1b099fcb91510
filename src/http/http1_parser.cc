#include "http/http1_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "http/word_scan.h"

namespace remora::http {
namespace {

// Byte classes of RFC 9110/9112, as lookup tables so validation is one load
// per byte.
struct Tables {
  std::array<bool, 256> tchar{};   // token characters (names, methods, codings)
  std::array<bool, 256> vchar{};   // field-value bytes: VCHAR, obs-text, SP, HTAB
  std::array<bool, 256> target{};  // request-target bytes: visible ASCII
  std::array<bool, 256> host{};    // uri-host [":" port], IP literals included
};

constexpr Tables makeTables() {
  Tables t;
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    t.tchar[c] = alpha || digit ||
                 (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos);
    t.vchar[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
    t.target[c] = c > 0x20 && c < 0x7f;
    t.host[c] = alpha || digit ||
                (c != 0 && std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) !=
                               std::string_view::npos);
  }
  return t;
}
constexpr Tables kTables = makeTables();

inline bool isTchar(char c) {
  return kTables.tchar[static_cast<unsigned char>(c)];
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "HTTP/1.1" -> 11; -1 if malformed. Exactly RFC 9112's HTTP-version.
int parseVersion(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return -1;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return -1;
  return (v[5] - '0') * 10 + (v[7] - '0');
}

}  // namespace

Http1Parser::Http1Parser(Type type, const Http1Settings& settings, Callbacks& callbacks)
    : type_(type), settings_(settings), callbacks_(callbacks) {
  fields_.reserve(32);
}

int Http1Parser::failStatus(int request_status) const {
  return type_ == Type::kResponse ? 502 : request_status;
}

void Http1Parser::fail(int status, std::string_view reason, std::string_view field,
                       uint64_t offset) {
  if (state_ == State::kError) return;
  state_ = State::kError;
  error_.status = failStatus(status);
  error_.reason.assign(reason);
  error_.field.assign(field);
  error_.offset = offset;
  head_buf_.clear();
  body_.clear();
}

size_t Http1Parser::parse(std::string_view data) {
  size_t pos = 0;
  while (pos < data.size() && state_ != State::kError) {
    std::string_view in = data.substr(pos);
    size_t n = 0;
    switch (state_) {
      case State::kHead:
      case State::kTrailers:
        n = consumeHead(in, state_ == State::kTrailers);
        break;
      case State::kBodyLength: {
        n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        body_.add(in.substr(0, n));
        remaining_ -= n;
        if (remaining_ == 0) {
          flushBody(true);
          finishMessage();
        }
        break;
      }
      case State::kBodyUntilClose:
        n = in.size();
        body_.add(in);
        break;
      default:
        n = parseChunked(in);
        break;
    }
    pos += n;
    offset_ += n;
    if (message_complete_) {
      message_complete_ = false;
      return pos;
    }
  }
  if (state_ != State::kError && state_ != State::kHead && !body_.empty()) flushBody(false);
  return pos;
}

void Http1Parser::consumeBody(Buffer& data, size_t size) {
  size = static_cast<size_t>(std::min<uint64_t>({size, bodyBytesExpected(), data.length()}));
  if (size == 0) return;
  body_.move(data, size);
  offset_ += size;
  switch (state_) {
    case State::kBodyLength:
      remaining_ -= size;
      if (remaining_ == 0) {
        flushBody(true);
        finishMessage();
        message_complete_ = false;
        return;
      }
      break;
    case State::kChunkData:
      remaining_ -= size;
      if (remaining_ == 0) state_ = State::kChunkDataCr;
      break;
    default:
      break;
  }
  flushBody(false);
}

bool Http1Parser::onEof() {
  if (state_ == State::kBodyUntilClose) {
    flushBody(true);
    finishMessage();
    message_complete_ = false;
    return true;
  }
  return betweenMessages();
}

void Http1Parser::flushBody(bool end) {
  callbacks_.onBody(body_, end);
  body_.clear();
}

void Http1Parser::finishMessage() {
  state_ = State::kHead;
  scan_ = Scan{};
  message_complete_ = true;
  callbacks_.onMessageComplete();
}

size_t Http1Parser::consumeHead(std::string_view in, bool trailers) {
  size_t end = 0;
  if (head_buf_.empty()) {
    // Fast path: the head is scanned and parsed where it lies.
    int r = scanHead(in, trailers, end);
    if (r < 0) return 0;
    if (r > 0) {
      std::string_view block = in.substr(scan_.first_line, end - scan_.first_line);
      uint64_t base = offset_ + scan_.first_line;
      scan_ = Scan{};
      trailers ? processTrailers(block, base) : processHead(block, base);
      return end;
    }
    head_buf_.assign(in);
    head_buf_base_ = offset_;
    return in.size();
  }
  // Slow path: the head arrives in pieces. Take no more than could still
  // belong to an acceptable head, so a flood is refused without buffering it.
  size_t old = head_buf_.size();
  size_t limit = scan_.first_line + settings_.max_header_bytes + 2;
  size_t take = old < limit ? std::min(in.size(), limit - old) : std::min<size_t>(in.size(), 1);
  head_buf_.append(in.substr(0, take));
  int r = scanHead(head_buf_, trailers, end);
  if (r < 0) return 0;
  if (r == 0) return take;
  std::string head = std::move(head_buf_);
  head_buf_.clear();
  std::string_view block = std::string_view(head).substr(scan_.first_line, end - scan_.first_line);
  uint64_t base = head_buf_base_ + scan_.first_line;
  scan_ = Scan{};
  trailers ? processTrailers(block, base) : processHead(block, base);
  return end - old;
}

int Http1Parser::scanHead(std::string_view buf, bool trailers, size_t& end) {
  uint64_t base = head_buf_.empty() ? offset_ : head_buf_base_;
  const bool start_line = !trailers;
  while (true) {
    const void* p = std::memchr(buf.data() + scan_.pos, '\n', buf.size() - scan_.pos);
    if (p == nullptr) {
      scan_.pos = buf.size();
      // The limits are judged on the bytes before the line's LF (its CR
      // included), the same whether or not the LF came in this read.
      if (start_line && scan_.lines == 0 &&
          buf.size() - scan_.line_start > settings_.max_request_line_bytes + 1) {
        fail(414, type_ == Type::kRequest ? "request line too long" : "status line too long", {},
             base + scan_.line_start);
        return -1;
      }
      if (buf.size() - scan_.first_line > settings_.max_header_bytes) {
        fail(431, "header section too large", {},
             base + scan_.first_line + settings_.max_header_bytes);
        return -1;
      }
      return 0;
    }
    size_t lf = static_cast<size_t>(static_cast<const char*>(p) - buf.data());
    if (start_line && scan_.lines == 0 &&
        lf - scan_.line_start > settings_.max_request_line_bytes + 1) {
      fail(414, type_ == Type::kRequest ? "request line too long" : "status line too long", {},
           base + scan_.line_start);
      return -1;
    }
    if (lf - scan_.first_line > settings_.max_header_bytes) {
      fail(431, "header section too large", {},
           base + scan_.first_line + settings_.max_header_bytes);
      return -1;
    }
    if (lf == scan_.line_start || buf[lf - 1] != '\r') {
      fail(400, "bare LF", {}, base + lf);
      return -1;
    }
    size_t line_len = lf - 1 - scan_.line_start;
    size_t next = lf + 1;
    if (start_line && scan_.lines == 0) {
      if (line_len == 0) {
        // RFC 9112 2.2: empty lines before a request line are ignored (a
        // client's stray CRLF after a body). They count toward the head limit.
        scan_.line_start = scan_.pos = next;
        if (next > settings_.max_header_bytes) {
          fail(431, "header section too large", {}, base + settings_.max_header_bytes);
          return -1;
        }
        continue;
      }
      if (line_len > settings_.max_request_line_bytes) {
        fail(414, type_ == Type::kRequest ? "request line too long" : "status line too long", {},
             base + scan_.line_start);
        return -1;
      }
      scan_.first_line = scan_.line_start;
      scan_.lines = 1;
    } else if (line_len == 0) {
      end = next;
      return 1;
    } else if (++scan_.lines > settings_.max_header_count + (start_line ? 1 : 0)) {
      fail(431, "too many header fields", {}, base + scan_.line_start);
      return -1;
    }
    if (next - scan_.first_line > settings_.max_header_bytes) {
      fail(431, "header section too large", {},
           base + scan_.first_line + settings_.max_header_bytes);
      return -1;
    }
    scan_.line_start = scan_.pos = next;
  }
}

bool Http1Parser::parseFields(std::string_view block, uint64_t base, bool trailers) {
  fields_.clear();
  framing_ = Framing{};
  size_t pos = 0;
  while (true) {
    size_t crlf = block.find("\r\n", pos);
    // scanHead guaranteed the block ends with an empty line.
    std::string_view line = block.substr(pos, crlf - pos);
    if (line.empty()) return true;
    uint64_t at = base + pos;
    if (line[0] == ' ' || line[0] == '\t') {
      fail(400, "obsolete line folding", {}, at);
      return false;
    }
    size_t i = 0;
    while (i < line.size() && isTchar(line[i]))
      ++i;
    if (i == line.size() || line[i] != ':') {
      if (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
        fail(400, "whitespace before colon", line.substr(0, i), at + i);
      } else if (i == line.size()) {
        fail(400, "header field without colon", {}, at);
      } else {
        fail(400, "invalid character in header name", {}, at + i);
      }
      return false;
    }
    if (i == 0) {
      fail(400, "empty header name", {}, at);
      return false;
    }
    std::string_view name = line.substr(0, i);
    std::string_view raw = line.substr(i + 1);
    if (size_t k = word::firstInvalidFieldValueByte(raw); k != std::string_view::npos) {
      fail(400, "invalid character in header value", name, at + i + 1 + k);
      return false;
    }
    std::string_view value = trimOws(raw);
    if (!trailers) {
      // Framing fields are interpreted here, while the name is at hand.
      switch (name.size()) {
        case 4:
          if (equalsIgnoreCase(name, "host")) {
            if (++framing_.hosts > 1) {
              fail(400, "multiple host fields", name, at);
              return false;
            }
            for (size_t k = 0; k < value.size(); ++k) {
              if (!kTables.host[static_cast<unsigned char>(value[k])]) {
                fail(400, "invalid host", name, at);
                return false;
              }
            }
            framing_.host = value;
            pos = crlf + 2;
            continue;  // becomes :authority
          }
          break;
        case 6:
          if (equalsIgnoreCase(name, "expect") && equalsIgnoreCase(value, "100-continue")) {
            framing_.expect_continue = true;
          }
          break;
        case 7:
          if (equalsIgnoreCase(name, "upgrade")) framing_.has_upgrade = true;
          break;
        case 10:
          if (equalsIgnoreCase(name, "connection")) {
            std::string_view v = value;
            while (true) {
              size_t comma = v.find(',');
              std::string_view token = trimOws(v.substr(0, comma));
              if (equalsIgnoreCase(token, "close")) framing_.conn_close = true;
              if (equalsIgnoreCase(token, "keep-alive")) framing_.conn_keep_alive = true;
              if (equalsIgnoreCase(token, "upgrade")) framing_.conn_upgrade = true;
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
          }
          break;
        case 14:
          if (equalsIgnoreCase(name, "content-length")) {
            if (value.empty()) {
              fail(400, "empty content-length", name, at);
              return false;
            }
            uint64_t cl = 0;
            for (size_t k = 0; k < value.size(); ++k) {
              char c = value[k];
              if (c == ',') {
                fail(400, "content-length list", name, at);
                return false;
              }
              if (c < '0' || c > '9') {
                fail(400, "invalid content-length", name, at);
                return false;
              }
              if (cl > (UINT64_MAX >> 4) / 10) {
                fail(400, "content-length too large", name, at);
                return false;
              }
              cl = cl * 10 + static_cast<uint64_t>(c - '0');
            }
            if (framing_.has_cl) {
              if (cl != framing_.cl) {
                fail(400, "conflicting content-length", name, at);
                return false;
              }
              pos = crlf + 2;
              continue;  // an identical repeat adds nothing
            }
            framing_.has_cl = true;
            framing_.cl = cl;
          }
          break;
        case 17:
          if (equalsIgnoreCase(name, "transfer-encoding")) {
            framing_.has_te = true;
            if (!parseTransferEncoding(value, at)) return false;
          }
          break;
        default:
          break;
      }
    }
    fields_.push_back(Field{name, value});
    pos = crlf + 2;
  }
}

// Each field line adds codings to the list; the order across lines matters,
// so the verdict (chunked last, exactly once) is taken after all lines:
// te_codings_ counts codings, te_last_chunked_ tracks the latest one.
bool Http1Parser::parseTransferEncoding(std::string_view value, uint64_t at) {
  std::string_view v = value;
  while (true) {
    size_t comma = v.find(',');
    std::string_view item = trimOws(v.substr(0, comma));
    // Transfer-coding parameters (";q=1") are legal syntax; none of ours take any.
    std::string_view coding = trimOws(item.substr(0, item.find(';')));
    if (coding.empty()) {
      fail(400, "empty transfer coding", "transfer-encoding", at);
      return false;
    }
    for (char c : coding) {
      if (!isTchar(c)) {
        fail(400, "invalid transfer coding", "transfer-encoding", at);
        return false;
      }
    }
    if (te_last_chunked_) te_chunked_not_last_ = true;
    te_last_chunked_ = equalsIgnoreCase(coding, "chunked") && coding.size() == item.size();
    if (!te_last_chunked_) te_other_ = true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return true;
}

void Http1Parser::processHead(std::string_view block, uint64_t base) {
  size_t crlf = block.find("\r\n");
  std::string_view line = block.substr(0, crlf);
  head_offset_ = base;
  te_last_chunked_ = te_chunked_not_last_ = te_other_ = false;
  if (!parseFields(block.substr(crlf + 2), base + crlf + 2, false)) return;
  Head head;
  bool ok = type_ == Type::kRequest ? finishRequestHead(line, base, head)
                                    : finishResponseHead(line, base, head);
  if (!ok) return;
  for (const Field& f : fields_)
    head.headers->addParsed(f.name, f.value);
  fields_.clear();

  callbacks_.onHead(head);
  if (state_ == State::kError) return;
  switch (head.body) {
    case BodyKind::kNone:
      finishMessage();
      break;
    case BodyKind::kLength:
      remaining_ = head.content_length;
      state_ = State::kBodyLength;
      break;
    case BodyKind::kChunked:
      state_ = State::kChunkSize;
      remaining_ = 0;
      chunk_digits_ = 0;
      break;
    case BodyKind::kUntilClose:
      state_ = State::kBodyUntilClose;
      break;
  }
}

bool Http1Parser::finishRequestHead(std::string_view line, uint64_t base, Head& head) {
  size_t sp1 = line.find(' ');
  std::string_view method = line.substr(0, sp1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), isTchar)) {
    fail(400, "invalid method", {}, base);
    return false;
  }
  if (sp1 == std::string_view::npos) {
    fail(400, "malformed request line", {}, base + line.size());
    return false;
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    fail(400, "malformed request line", {}, base + line.size());
    return false;
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  int v = parseVersion(version);
  if (v < 0) {
    fail(400, "invalid HTTP version", {}, base + sp2 + 1);
    return false;
  }
  if (v != 10 && v != 11) {
    // Includes the HTTP/2 connection preface, "PRI * HTTP/2.0".
    fail(505, "HTTP version not supported", {}, base + sp2 + 1);
    return false;
  }
  head.version = v == 10 ? Protocol::kHttp10 : Protocol::kHttp11;
  if (target.empty()) {
    fail(400, "empty request target", {}, base + sp1 + 1);
    return false;
  }
  for (size_t k = 0; k < target.size(); ++k) {
    if (!kTables.target[static_cast<unsigned char>(target[k])]) {
      fail(400, "invalid character in request target", {}, base + sp1 + 1 + k);
      return false;
    }
  }

  // Request-target forms, RFC 9112 3.2.
  std::string_view path;
  std::string_view authority = framing_.host;
  std::string_view scheme = settings_.default_scheme;
  std::string path_storage;
  bool has_authority = framing_.hosts > 0;
  head.connect = method == "CONNECT";
  if (head.connect) {
    if (target.find_first_of("/?#@") != std::string_view::npos ||
        target.find(':') == std::string_view::npos) {
      fail(400, "CONNECT target must be host:port", {}, base + sp1 + 1);
      return false;
    }
    authority = target;
    has_authority = true;
  } else if (target[0] == '/') {
    path = target;
  } else if (target == "*") {
    if (method != "OPTIONS") {
      fail(400, "asterisk target is for OPTIONS only", {}, base + sp1 + 1);
      return false;
    }
    path = target;
  } else {
    size_t sep = target.find("://");
    std::string_view s = sep == std::string_view::npos ? std::string_view() : target.substr(0, sep);
    if (!equalsIgnoreCase(s, "http") && !equalsIgnoreCase(s, "https")) {
      fail(400, "invalid request target", {}, base + sp1 + 1);
      return false;
    }
    std::string_view rest = target.substr(sep + 3);
    size_t slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    if (authority.empty() || authority.find('@') != std::string_view::npos ||
        !std::all_of(authority.begin(), authority.end(),
                     [](char c) { return kTables.host[static_cast<unsigned char>(c)]; })) {
      fail(400, "invalid authority in request target", {}, base + sp1 + 1);
      return false;
    }
    // RFC 9112 3.2.2: the target's authority replaces Host.
    has_authority = true;
    scheme = s;
    if (slash == std::string_view::npos) {
      path = "/";
    } else if (rest[slash] == '?') {
      path_storage = "/";
      path_storage.append(rest.substr(slash));
      path = path_storage;
    } else {
      path = rest.substr(slash);
    }
  }
  if (head.version == Protocol::kHttp11 && framing_.hosts == 0) {
    fail(400, "missing host", "host", base);
    return false;
  }

  // Message body length, RFC 9112 6.3, refusing every ambiguity.
  const Framing& f = framing_;
  if (f.has_te) {
    if (head.version == Protocol::kHttp10) {
      fail(400, "transfer-encoding in HTTP/1.0", "transfer-encoding", base);
      return false;
    }
    if (f.has_cl) {
      fail(400, "content-length with transfer-encoding", "transfer-encoding", base);
      return false;
    }
    if (!te_last_chunked_) {
      fail(400, "transfer-encoding does not end in chunked", "transfer-encoding", base);
      return false;
    }
    if (te_chunked_not_last_) {
      fail(400, "chunked applied more than once", "transfer-encoding", base);
      return false;
    }
    if (te_other_) {
      fail(501, "transfer coding not implemented", "transfer-encoding", base);
      return false;
    }
    head.body = BodyKind::kChunked;
  } else if (f.has_cl && f.cl > 0) {
    head.body = BodyKind::kLength;
    head.content_length = f.cl;
  }
  if (head.connect && head.body != BodyKind::kNone) {
    fail(400, "CONNECT with a body", {}, base);
    return false;
  }
  head.keep_alive = !f.conn_close && (head.version == Protocol::kHttp11 || f.conn_keep_alive);
  head.upgrade = head.version == Protocol::kHttp11 && f.conn_upgrade && f.has_upgrade &&
                 head.body == BodyKind::kNone && !head.connect;
  head.expect_continue = head.version == Protocol::kHttp11 && f.expect_continue;

  head.headers = newHeaderMap();
  // Room for the fields, the pseudo-headers and what a proxy adds, so the
  // request path does not grow the vector field by field.
  head.headers->reserve(fields_.size() + 10);
  head.headers->add(":method", method);
  if (!head.connect) head.headers->add(":path", path);
  if (has_authority) head.headers->add(":authority", authority);
  if (!head.connect) head.headers->add(":scheme", scheme);
  return true;
}

bool Http1Parser::finishResponseHead(std::string_view line, uint64_t base, Head& head) {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing
  // final SP is tolerated (common, and harmless to framing).
  int v = parseVersion(line.substr(0, 8));
  if (v != 10 && v != 11) {
    fail(502, v < 0 ? "invalid HTTP version" : "HTTP version not supported", {}, base);
    return false;
  }
  head.version = v == 10 ? Protocol::kHttp10 : Protocol::kHttp11;
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    fail(502, "malformed status line", {}, base);
    return false;
  }
  int status = 0;
  for (size_t k = 9; k < 12; ++k) {
    if (line[k] < '0' || line[k] > '9') {
      fail(502, "invalid status code", {}, base + k);
      return false;
    }
    status = status * 10 + (line[k] - '0');
  }
  if (status < 100 || status > 599) {
    fail(502, "invalid status code", {}, base + 9);
    return false;
  }
  // reason-phrase has the bytes of a field value (RFC 9112 4).
  std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  if (size_t k = word::firstInvalidFieldValueByte(reason); k != std::string_view::npos) {
    fail(502, "invalid character in reason phrase", {}, base + 13 + k);
    return false;
  }
  head.status = status;
  const Framing& f = framing_;
  if (f.has_te) {
    if (f.has_cl) {
      fail(502, "content-length with transfer-encoding", "transfer-encoding", base);
      return false;
    }
    if (head.version == Protocol::kHttp10) {
      fail(502, "transfer-encoding in HTTP/1.0", "transfer-encoding", base);
      return false;
    }
    // RFC 9112 6.3 would read a non-chunked coding until close; a proxy
    // cannot pass that on faithfully, so it is refused like the rest.
    if (!te_last_chunked_ || te_chunked_not_last_ || te_other_) {
      fail(502, "unsupported transfer-encoding", "transfer-encoding", base);
      return false;
    }
  }
  head.keep_alive = !f.conn_close && (head.version == Protocol::kHttp11 || f.conn_keep_alive);
  if (status < 200 || status == 204 || status == 304) {
    head.body = BodyKind::kNone;
  } else if (f.has_te) {
    head.body = BodyKind::kChunked;
  } else if (f.has_cl) {
    head.body = f.cl > 0 ? BodyKind::kLength : BodyKind::kNone;
    head.content_length = f.cl;
  } else {
    head.body = BodyKind::kUntilClose;
    head.keep_alive = false;
  }
  head.upgrade = status == 101;
  head.headers = newHeaderMap();
  head.headers->reserve(fields_.size() + 6);
  char code[4] = {line[9], line[10], line[11], 0};
  head.headers->add(":status", std::string_view(code, 3));
  return true;
}

void Http1Parser::processTrailers(std::string_view block, uint64_t base) {
  if (!parseFields(block, base, true)) return;
  if (fields_.empty()) {
    flushBody(true);
  } else {
    if (!body_.empty()) flushBody(false);
    auto trailers = newHeaderMap();
    for (const Field& f : fields_)
      trailers->addParsed(f.name, f.value);
    fields_.clear();
    callbacks_.onTrailers(std::move(trailers));
  }
  finishMessage();
}

size_t Http1Parser::parseChunked(std::string_view in) {
  size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    switch (state_) {
      case State::kChunkSize: {
        int h = hexValue(c);
        if (h >= 0) {
          if (++chunk_digits_ > 15) {
            fail(400, "chunk size too large", {}, offset_ + i);
            return i;
          }
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(h);
          ++i;
          continue;
        }
        if (chunk_digits_ == 0) {
          fail(400, "invalid chunk size", {}, offset_ + i);
          return i;
        }
        if (c == '\r') {
          state_ = State::kChunkSizeLf;
        } else if (c == ';') {
          state_ = State::kChunkExt;
          chunk_ext_bytes_ = 0;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kChunkSizeWs;
        } else {
          fail(400, "invalid chunk size", {}, offset_ + i);
          return i;
        }
        ++i;
        continue;
      }
      case State::kChunkSizeWs:
        // BWS is allowed only before a chunk extension.
        if (c == ';') {
          state_ = State::kChunkExt;
          chunk_ext_bytes_ = 0;
        } else if (c != ' ' && c != '\t') {
          fail(400, "invalid chunk size", {}, offset_ + i);
          return i;
        }
        ++i;
        continue;
      case State::kChunkExt:
        if (c == '\r') {
          state_ = State::kChunkSizeLf;
        } else if (!kTables.vchar[static_cast<unsigned char>(c)] || ++chunk_ext_bytes_ > 4096) {
          fail(400, "invalid chunk extension", {}, offset_ + i);
          return i;
        }
        ++i;
        continue;
      case State::kChunkSizeLf:
        if (c != '\n') {
          fail(400, "invalid chunk size line", {}, offset_ + i);
          return i;
        }
        ++i;
        chunk_digits_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailers;
          scan_ = Scan{};
          return i;  // the trailer section is read like a head
        }
        state_ = State::kChunkData;
        continue;
      case State::kChunkData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        body_.add(in.substr(i, take));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) {
          state_ = State::kChunkDataCr;
          // A complete chunk is delivered at once, so what a decoder sees
          // before a later framing error does not depend on how the bytes
          // were sliced into reads.
          flushBody(false);
        }
        continue;
      }
      case State::kChunkDataCr:
        if (c != '\r') {
          fail(400, "missing CRLF after chunk data", {}, offset_ + i);
          return i;
        }
        state_ = State::kChunkDataLf;
        ++i;
        continue;
      case State::kChunkDataLf:
        if (c != '\n') {
          fail(400, "missing CRLF after chunk data", {}, offset_ + i);
          return i;
        }
        state_ = State::kChunkSize;
        remaining_ = 0;
        ++i;
        continue;
      default:
        return i;
    }
  }
  return i;
}

std::string CodecError::toString() const {
  std::string out = std::to_string(status) + " " + reason;
  if (!field.empty()) out += " (" + field + ")";
  out += " at byte " + std::to_string(offset);
  return out;
}

}  // namespace remora::http
