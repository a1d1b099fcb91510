// Which filters a listener names, and their typed configs unpacked, so that the
// proxy and the validator agree on one reading.
#pragma once

#include <string_view>

#include "common/status.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace remora::config {

using TcpProxyConfig = envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using HttpConnectionManagerConfig =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using TlsInspectorConfig = envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;

inline constexpr std::string_view kTcpProxyFilterName = "envoy.filters.network.tcp_proxy";
inline constexpr std::string_view kHttpConnectionManagerFilterName =
    "envoy.filters.network.http_connection_manager";
inline constexpr std::string_view kOriginalDstFilterName = "envoy.filters.listener.original_dst";
inline constexpr std::string_view kTlsInspectorFilterName = "envoy.filters.listener.tls_inspector";
inline constexpr std::string_view kHttpInspectorFilterName =
    "envoy.filters.listener.http_inspector";

enum class NetworkFilterType { kTcpProxy, kHttpConnectionManager };
enum class ListenerFilterType { kOriginalDst, kTlsInspector, kHttpInspector };

// A filter is identified by its typed_config's @type, as in Envoy; the name is
// informational. Without a typed_config the (current or legacy) well-known
// name is accepted, since such filters have empty or defaulted configs.
// Error messages name the unsupported type or name and list what is supported.
StatusOr<NetworkFilterType> networkFilterType(const envoy::config::listener::v3::Filter& filter);
StatusOr<ListenerFilterType> listenerFilterType(
    const envoy::config::listener::v3::ListenerFilter& filter);

// Unpack the filter's typed_config (defaults when it has none). Errors if the
// filter is of another type.
StatusOr<TcpProxyConfig> unpackTcpProxy(const envoy::config::listener::v3::Filter& filter);
StatusOr<HttpConnectionManagerConfig> unpackHttpConnectionManager(
    const envoy::config::listener::v3::Filter& filter);
StatusOr<TlsInspectorConfig> unpackTlsInspector(
    const envoy::config::listener::v3::ListenerFilter& filter);

}  // namespace remora::config
