#include "network/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace remora::network {

StatusOr<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress ip;
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) return fromV4(a4);
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) return fromV6(a6);
  return invalidArgumentError("\"" + s + "\" is not an IPv4 or IPv6 address");
}

IpAddress IpAddress::fromV4(const in_addr& a) {
  IpAddress ip;
  ip.family_ = Family::kV4;
  std::memcpy(ip.bytes_.data(), &a.s_addr, 4);
  return ip;
}

IpAddress IpAddress::fromV6(const in6_addr& a) {
  IpAddress ip;
  ip.family_ = Family::kV6;
  std::memcpy(ip.bytes_.data(), a.s6_addr, 16);
  return ip;
}

bool IpAddress::isAny() const {
  for (size_t i = 0; i < size(); ++i) {
    if (bytes_[i] != 0) return false;
  }
  return true;
}

bool IpAddress::isLoopback() const {
  if (isV4()) return bytes_[0] == 127;
  for (size_t i = 0; i < 15; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[15] == 1;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

bool IpAddress::operator==(const IpAddress& o) const {
  return family_ == o.family_ && std::memcmp(bytes_.data(), o.bytes_.data(), size()) == 0;
}

bool IpAddress::operator<(const IpAddress& o) const {
  if (family_ != o.family_) return family_ < o.family_;
  return std::memcmp(bytes_.data(), o.bytes_.data(), size()) < 0;
}

StatusOr<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalidArgumentError("\"" + std::string(text) + "\" is not [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return invalidArgumentError("\"" + std::string(text) + "\" has no port (expected IP:port)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  REMORA_ASSIGN_OR_RETURN(IpAddress ip, IpAddress::parse(host));
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) {
    return invalidArgumentError("\"" + std::string(port) + "\" is not a port (0-65535)");
  }
  return SocketAddress{ip, static_cast<uint16_t>(value)};
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr_storage& ss) {
  SocketAddress out;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    out.ip = IpAddress::fromV4(sin->sin_addr);
    out.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    // A v4-mapped peer on a dual-stack socket is reported as plain IPv4.
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      in_addr a4;
      std::memcpy(&a4.s_addr, sin6->sin6_addr.s6_addr + 12, 4);
      out.ip = IpAddress::fromV4(a4);
    } else {
      out.ip = IpAddress::fromV6(sin6->sin6_addr);
    }
    out.port = ntohs(sin6->sin6_port);
  }
  return out;
}

socklen_t SocketAddress::toSockaddr(sockaddr_storage* ss) const {
  std::memset(ss, 0, sizeof(*ss));
  if (ip.isV4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr.s_addr, ip.bytes(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(sin6->sin6_addr.s6_addr, ip.bytes(), 16);
  return sizeof(sockaddr_in6);
}

std::string SocketAddress::toString() const {
  if (ip.isV4()) return ip.toString() + ":" + std::to_string(port);
  return "[" + ip.toString() + "]:" + std::to_string(port);
}

StatusOr<CidrRange> CidrRange::create(const IpAddress& address, uint32_t prefix_len) {
  const uint32_t width = address.isV4() ? 32 : 128;
  if (prefix_len > width) {
    return invalidArgumentError("prefix length " + std::to_string(prefix_len) + " is over " +
                                std::to_string(width) + " for " + address.toString());
  }
  CidrRange r;
  r.prefix_len_ = prefix_len;
  // Clear host bits so that equal ranges compare equal.
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), address.bytes(), address.size());
  for (uint32_t bit = prefix_len; bit < width; ++bit)
    b[bit / 8] &= ~(0x80 >> (bit % 8));
  if (address.isV4()) {
    in_addr a4;
    std::memcpy(&a4.s_addr, b.data(), 4);
    r.address_ = IpAddress::fromV4(a4);
  } else {
    in6_addr a6;
    std::memcpy(a6.s6_addr, b.data(), 16);
    r.address_ = IpAddress::fromV6(a6);
  }
  return r;
}

StatusOr<CidrRange> CidrRange::parse(std::string_view text) {
  size_t slash = text.find('/');
  REMORA_ASSIGN_OR_RETURN(IpAddress ip, IpAddress::parse(text.substr(0, slash)));
  if (slash == std::string_view::npos) return create(ip, ip.isV4() ? 32 : 128);
  std::string_view len = text.substr(slash + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
  if (ec != std::errc() || end != len.data() + len.size() || len.empty()) {
    return invalidArgumentError("\"" + std::string(text) + "\" has a bad prefix length");
  }
  return create(ip, value);
}

bool CidrRange::contains(const IpAddress& ip) const {
  if (ip.family() != address_.family()) return false;
  const uint8_t* a = address_.bytes();
  const uint8_t* b = ip.bytes();
  uint32_t full = prefix_len_ / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  uint32_t rest = prefix_len_ % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string CidrRange::toString() const {
  return address_.toString() + "/" + std::to_string(prefix_len_);
}

}  // namespace remora::network
