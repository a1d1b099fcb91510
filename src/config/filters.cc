#include "config/filters.h"

#include <string>

#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"

namespace remora::config {
namespace {

std::string_view typeName(const google::protobuf::Any& any) {
  std::string_view url = any.type_url();
  size_t slash = url.rfind('/');
  return slash == std::string_view::npos ? url : url.substr(slash + 1);
}

template <typename T>
bool isType(const google::protobuf::Any& any) {
  return typeName(any) == T::descriptor()->full_name();
}

template <typename T, typename F>
StatusOr<T> unpack(const F& filter, std::string_view what) {
  T config;
  if (!filter.has_typed_config()) return config;
  if (!isType<T>(filter.typed_config())) {
    return invalidArgumentError("filter " + std::string(filter.name()) + " is not a " +
                                std::string(what) + " (its @type is " +
                                filter.typed_config().type_url() + ")");
  }
  if (!filter.typed_config().UnpackTo(&config)) {
    return invalidArgumentError("filter " + std::string(filter.name()) + ": cannot decode " +
                                filter.typed_config().type_url());
  }
  return config;
}

}  // namespace

StatusOr<NetworkFilterType> networkFilterType(const envoy::config::listener::v3::Filter& filter) {
  if (filter.has_typed_config()) {
    const auto& any = filter.typed_config();
    if (isType<TcpProxyConfig>(any)) return NetworkFilterType::kTcpProxy;
    if (isType<HttpConnectionManagerConfig>(any)) return NetworkFilterType::kHttpConnectionManager;
    return invalidArgumentError("unsupported network filter type \"" + any.type_url() +
                                "\" (supported: " + TcpProxyConfig::descriptor()->full_name() +
                                ", " + HttpConnectionManagerConfig::descriptor()->full_name() +
                                ")");
  }
  const std::string& n = filter.name();
  if (n == kTcpProxyFilterName || n == "envoy.tcp_proxy") return NetworkFilterType::kTcpProxy;
  if (n == kHttpConnectionManagerFilterName || n == "envoy.http_connection_manager") {
    return NetworkFilterType::kHttpConnectionManager;
  }
  return invalidArgumentError("network filter \"" + n +
                              "\" has no typed_config and is not a known filter name (supported: " +
                              std::string(kTcpProxyFilterName) + ", " +
                              std::string(kHttpConnectionManagerFilterName) + ")");
}

StatusOr<ListenerFilterType> listenerFilterType(
    const envoy::config::listener::v3::ListenerFilter& filter) {
  namespace lf = envoy::extensions::filters::listener;
  if (filter.has_typed_config()) {
    const auto& any = filter.typed_config();
    if (isType<lf::original_dst::v3::OriginalDst>(any)) return ListenerFilterType::kOriginalDst;
    if (isType<lf::tls_inspector::v3::TlsInspector>(any)) return ListenerFilterType::kTlsInspector;
    if (isType<lf::http_inspector::v3::HttpInspector>(any)) {
      return ListenerFilterType::kHttpInspector;
    }
    return invalidArgumentError("unsupported listener filter type \"" + any.type_url() +
                                "\" (supported: original_dst, tls_inspector, http_inspector)");
  }
  const std::string& n = filter.name();
  if (n == kOriginalDstFilterName || n == "envoy.listener.original_dst") {
    return ListenerFilterType::kOriginalDst;
  }
  if (n == kTlsInspectorFilterName || n == "envoy.listener.tls_inspector") {
    return ListenerFilterType::kTlsInspector;
  }
  if (n == kHttpInspectorFilterName || n == "envoy.listener.http_inspector") {
    return ListenerFilterType::kHttpInspector;
  }
  return invalidArgumentError("listener filter \"" + n +
                              "\" has no typed_config and is not a known filter name (supported: " +
                              std::string(kOriginalDstFilterName) + ", " +
                              std::string(kTlsInspectorFilterName) + ", " +
                              std::string(kHttpInspectorFilterName) + ")");
}

StatusOr<TcpProxyConfig> unpackTcpProxy(const envoy::config::listener::v3::Filter& filter) {
  REMORA_ASSIGN_OR_RETURN(NetworkFilterType type, networkFilterType(filter));
  if (type != NetworkFilterType::kTcpProxy) {
    return invalidArgumentError("filter " + filter.name() + " is not a tcp_proxy");
  }
  return unpack<TcpProxyConfig>(filter, "tcp_proxy");
}

StatusOr<HttpConnectionManagerConfig> unpackHttpConnectionManager(
    const envoy::config::listener::v3::Filter& filter) {
  REMORA_ASSIGN_OR_RETURN(NetworkFilterType type, networkFilterType(filter));
  if (type != NetworkFilterType::kHttpConnectionManager) {
    return invalidArgumentError("filter " + filter.name() + " is not an http_connection_manager");
  }
  return unpack<HttpConnectionManagerConfig>(filter, "http_connection_manager");
}

StatusOr<TlsInspectorConfig> unpackTlsInspector(
    const envoy::config::listener::v3::ListenerFilter& filter) {
  REMORA_ASSIGN_OR_RETURN(ListenerFilterType type, listenerFilterType(filter));
  if (type != ListenerFilterType::kTlsInspector) {
    return invalidArgumentError("listener filter " + filter.name() + " is not a tls_inspector");
  }
  return unpack<TlsInspectorConfig>(filter, "tls_inspector");
}

}  // namespace remora::config
