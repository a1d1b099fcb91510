// The hand-off step of a use_original_dst listener (DESIGN.md S2).
#pragma once

#include "network/address.h"

namespace remora::listener {

// The listener that owns a redirected connection's original destination: the
// one bound to exactly that IP:port, else the wildcard one on that port
// (0.0.0.0:port for IPv4, [::]:port for IPv6), else null, in which case the
// receiving listener keeps the connection and uses its own filter chains.
// If the result is the receiving listener itself, the caller keeps it too.
// `listeners_by_address` is any map keyed by network::SocketAddress (all
// listeners, including bind_to_port: false ones). Thread: any.
template <typename Map>
const typename Map::mapped_type* selectListenerForOriginalDst(
    const network::SocketAddress& original_dst, const Map& listeners_by_address) {
  if (auto it = listeners_by_address.find(original_dst); it != listeners_by_address.end()) {
    return &it->second;
  }
  network::SocketAddress wildcard;
  wildcard.port = original_dst.port;
  if (!original_dst.ip.isV4()) {
    in6_addr any6{};
    wildcard.ip = network::IpAddress::fromV6(any6);
  }
  if (auto it = listeners_by_address.find(wildcard); it != listeners_by_address.end()) {
    return &it->second;
  }
  return nullptr;
}

}  // namespace remora::listener
