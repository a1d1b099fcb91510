// LDS in the seed's layout: the `virtual` listener on 0.0.0.0:15001 that hands
// connections to the listener owning their original destination; one
// `<podIP>_<targetPort>` inbound listener per served port; outbound
// `0.0.0.0_<port>` (HTTP, RDS `<port>`) and `<VIP>_<port>` (TCP) listeners.
// Every listener but `virtual` has bind_to_port false.
#pragma once

#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// `virtual` on proxyListenPort, plus `virtualInbound` on
// proxyInboundListenPort when the mesh config sets one.
ResourceList buildVirtualListeners(const MeshSnapshot& snapshot,
                                   const MessageAllocator& alloc = {});
ResourceList buildInboundListeners(const MeshSnapshot& snapshot, const ProxyNode& proxy);
// Depends on the proxy only through its namespace and labels (VirtualService
// source matches), so ConfigGenerator caches it per namespace. With `reuse`,
// each listener whose inputs match one already built is taken from there.
ResourceList buildOutboundListeners(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                    const MessageAllocator& alloc = {},
                                    const ResourceReuse* reuse = nullptr);

}  // namespace remora::pilot
