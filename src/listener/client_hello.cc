#include "listener/client_hello.h"

#include <set>

namespace remora::listener {
namespace {

constexpr uint8_t kRecordHandshake = 0x16;
constexpr uint8_t kHandshakeClientHello = 1;
constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecordBody = 16384;
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;

// Bounds-checked cursor over a byte range; every read fails cleanly at the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  bool u8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool bytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    std::span<const uint8_t> ignored;
    return bytes(n, &ignored);
  }
  // A vector<T> with a 1- or 2-byte length prefix, as TLS writes them.
  bool prefixed(int length_bytes, Reader* out) {
    size_t n = 0;
    if (length_bytes == 1) {
      uint8_t l;
      if (!u8(&l)) return false;
      n = l;
    } else {
      uint16_t l;
      if (!u16(&l)) return false;
      n = l;
    }
    std::span<const uint8_t> body;
    if (!bytes(n, &body)) return false;
    *out = Reader(body);
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

ClientHelloResult notTls(std::string reason) {
  ClientHelloResult r;
  r.kind = ClientHelloResult::Kind::kNotTls;
  r.reason = std::move(reason);
  return r;
}

bool validHostName(std::span<const uint8_t> name) {
  if (name.empty() || name.size() > 255) return false;
  for (uint8_t c : name) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

ClientHelloResult parseServerName(Reader ext, ClientHelloResult r) {
  Reader list(std::span<const uint8_t>{});
  if (!ext.prefixed(2, &list) || ext.remaining() != 0 || list.remaining() == 0) {
    return notTls("malformed server_name extension");
  }
  bool have_host = false;
  while (list.remaining() > 0) {
    uint8_t type;
    Reader name(std::span<const uint8_t>{});
    if (!list.u8(&type) || !list.prefixed(2, &name)) return notTls("malformed server_name entry");
    if (type != 0) continue;  // only host_name is defined; skip unknown kinds
    if (have_host) return notTls("two host names in server_name");
    std::span<const uint8_t> host;
    name.bytes(name.remaining(), &host);
    if (!validHostName(host)) return notTls("invalid host name in server_name");
    have_host = true;
    r.server_name.reserve(host.size());
    for (uint8_t c : host) {
      r.server_name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  return r;
}

ClientHelloResult parseAlpn(Reader ext, ClientHelloResult r) {
  Reader list(std::span<const uint8_t>{});
  if (!ext.prefixed(2, &list) || ext.remaining() != 0 || list.remaining() == 0) {
    return notTls("malformed ALPN extension");
  }
  while (list.remaining() > 0) {
    Reader proto(std::span<const uint8_t>{});
    if (!list.prefixed(1, &proto) || proto.remaining() == 0) return notTls("malformed ALPN entry");
    std::span<const uint8_t> b;
    proto.bytes(proto.remaining(), &b);
    r.application_protocols.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
  }
  return r;
}

// `body` is exactly one ClientHello message body.
ClientHelloResult parseBody(std::span<const uint8_t> body) {
  Reader in(body);
  uint8_t major, minor;
  Reader session(std::span<const uint8_t>{}), ciphers(std::span<const uint8_t>{}),
      compression(std::span<const uint8_t>{});
  if (!in.u8(&major) || !in.u8(&minor) || major != 3) return notTls("bad ClientHello version");
  if (!in.skip(32)) return notTls("truncated ClientHello random");
  if (!in.prefixed(1, &session) || session.remaining() > 32) return notTls("bad session id");
  if (!in.prefixed(2, &ciphers) || ciphers.remaining() < 2 || ciphers.remaining() % 2 != 0) {
    return notTls("bad cipher suites");
  }
  if (!in.prefixed(1, &compression) || compression.remaining() < 1) {
    return notTls("bad compression methods");
  }
  ClientHelloResult r;
  r.kind = ClientHelloResult::Kind::kTls;
  if (in.remaining() == 0) return r;  // no extensions at all (old clients)
  Reader exts(std::span<const uint8_t>{});
  if (!in.prefixed(2, &exts) || in.remaining() != 0) return notTls("bad extensions length");
  std::set<uint16_t> seen;
  while (exts.remaining() > 0) {
    uint16_t type;
    Reader ext(std::span<const uint8_t>{});
    if (!exts.u16(&type) || !exts.prefixed(2, &ext)) return notTls("truncated extension");
    if (!seen.insert(type).second) return notTls("duplicate extension " + std::to_string(type));
    if (type == kExtServerName) {
      r = parseServerName(ext, std::move(r));
    } else if (type == kExtAlpn) {
      r = parseAlpn(ext, std::move(r));
    }
    if (r.kind != ClientHelloResult::Kind::kTls) return r;
  }
  return r;
}

}  // namespace

ClientHelloResult parseClientHello(std::span<const uint8_t> data) {
  // Handshake bytes gathered from consecutive records, which may split the
  // ClientHello anywhere.
  std::vector<uint8_t> handshake;
  size_t pos = 0;
  while (true) {
    size_t avail = data.size() - pos;
    // Reject as soon as a header byte is wrong, even before it is complete.
    if (avail >= 1 && data[pos] != kRecordHandshake) {
      return notTls(pos == 0 ? "first byte is not a TLS handshake record"
                             : "non-handshake record inside the ClientHello");
    }
    if (avail >= 2 && data[pos + 1] != 3) return notTls("bad record version");
    if (avail >= 3 && data[pos + 2] > 4) return notTls("bad record version");
    if (avail < kRecordHeader) return {};
    size_t record_len = static_cast<size_t>(data[pos + 3]) << 8 | data[pos + 4];
    if (record_len == 0) return notTls("empty handshake record");
    if (record_len > kMaxRecordBody) return notTls("record too long");
    size_t take = std::min(record_len, avail - kRecordHeader);
    handshake.insert(handshake.end(), data.begin() + pos + kRecordHeader,
                     data.begin() + pos + kRecordHeader + take);
    if (handshake.empty()) return {};  // only the record header so far
    if (handshake[0] != kHandshakeClientHello) return notTls("handshake is not a ClientHello");
    if (handshake.size() >= 4) {
      size_t msg_len = static_cast<size_t>(handshake[1]) << 16 |
                       static_cast<size_t>(handshake[2]) << 8 | handshake[3];
      if (msg_len + 4 > kMaxClientHelloBytes) return notTls("ClientHello too large");
      if (handshake.size() >= msg_len + 4) {
        return parseBody(std::span<const uint8_t>(handshake).subspan(4, msg_len));
      }
    }
    if (take < record_len) return {};  // rest of this record still to come
    pos += kRecordHeader + record_len;
  }
}

}  // namespace remora::listener
