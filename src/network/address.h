// IP addresses, socket addresses and CIDR ranges: plain values, no I/O.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace remora::network {

// An IPv4 or IPv6 address. IPv4 is kept as 4 bytes (not v4-mapped v6) so that
// prefix lengths in CIDR ranges mean what users wrote.
class IpAddress {
 public:
  enum class Family : uint8_t { kV4, kV6 };

  IpAddress() = default;  // 0.0.0.0
  static StatusOr<IpAddress> parse(std::string_view text);
  static IpAddress fromV4(const in_addr& a);
  static IpAddress fromV6(const in6_addr& a);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  const uint8_t* bytes() const { return bytes_.data(); }
  size_t size() const { return isV4() ? 4 : 16; }
  bool isAny() const;       // 0.0.0.0 or ::
  bool isLoopback() const;  // 127.0.0.0/8 or ::1
  std::string toString() const;

  bool operator==(const IpAddress& o) const;
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
  bool operator<(const IpAddress& o) const;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// IP + port. Formats as "1.2.3.4:80" or "[::1]:80".
struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;

  static StatusOr<SocketAddress> parse(std::string_view host_port);
  static SocketAddress fromSockaddr(const sockaddr_storage& ss);
  // Fills `ss` and returns the length to pass to bind/connect.
  socklen_t toSockaddr(sockaddr_storage* ss) const;
  std::string toString() const;
  bool operator==(const SocketAddress& o) const { return ip == o.ip && port == o.port; }
  bool operator!=(const SocketAddress& o) const { return !(*this == o); }
  bool operator<(const SocketAddress& o) const { return ip == o.ip ? port < o.port : ip < o.ip; }
};

// An address prefix such as 10.0.0.0/8. An IPv4 range never contains an IPv6
// address and vice versa.
class CidrRange {
 public:
  // `prefix_len` above the family's width is an error; host bits are cleared.
  static StatusOr<CidrRange> create(const IpAddress& address, uint32_t prefix_len);
  // "10.0.0.0/8", "::1/128", or a bare address (full length).
  static StatusOr<CidrRange> parse(std::string_view text);

  bool contains(const IpAddress& ip) const;
  const IpAddress& address() const { return address_; }
  uint32_t prefixLen() const { return prefix_len_; }
  std::string toString() const;

 private:
  IpAddress address_;
  uint32_t prefix_len_ = 0;
};

}  // namespace remora::network
