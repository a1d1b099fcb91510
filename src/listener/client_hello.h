// Reading SNI and ALPN from a TLS ClientHello without terminating TLS, for the
// tls_inspector listener filter. The input is untrusted bytes peeked from a
// socket; the parser never reads outside them and never allocates more than
// the input's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace remora::listener {

// A ClientHello larger than this is treated as not TLS (Envoy's inspector caps
// its peek buffer the same way).
inline constexpr size_t kMaxClientHelloBytes = 64 * 1024;

struct ClientHelloResult {
  enum class Kind { kNeedMoreData, kNotTls, kTls };
  Kind kind = Kind::kNeedMoreData;
  std::string server_name;  // lower-cased host_name from SNI; empty if none
  std::vector<std::string> application_protocols;  // ALPN, in the client's order
  std::string reason;  // kNotTls: why, for logs and `remoractl explain`
};

// Parses the first bytes a client sent. kNeedMoreData: everything so far is a
// valid beginning, read more and call again with all bytes. Once kTls or
// kNotTls is returned, more bytes never change the answer. The ClientHello
// may span several TLS records. Thread: any.
ClientHelloResult parseClientHello(std::span<const uint8_t> data);
inline ClientHelloResult parseClientHello(std::string_view data) {
  return parseClientHello(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

}  // namespace remora::listener
