#include "config/api_types.h"

#include <google/protobuf/descriptor.h>

#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/circuit_breaker.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/core/v3/grpc_service.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/config/core/v3/protocol.pb.h"
#include "envoy/config/core/v3/substitution_format_string.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/endpoint/v3/endpoint_components.pb.h"
#include "envoy/config/listener/v3/api_listener.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "envoy/type/v3/range.pb.h"
#include "envoy/type/v3/semantic_version.pb.h"
#include "google/rpc/status.pb.h"

namespace remora::config {
namespace {

// One descriptor per api/ file; taking them forces the linker to keep each
// generated object and registers the file in the generated pool.
const std::vector<const google::protobuf::FileDescriptor*>& apiFiles() {
  static const auto* files = new std::vector<const google::protobuf::FileDescriptor*>{
      envoy::admin::v3::Clusters::descriptor()->file(),
      envoy::admin::v3::ConfigDump::descriptor()->file(),
      envoy::admin::v3::ServerInfo::descriptor()->file(),
      envoy::config::accesslog::v3::AccessLog::descriptor()->file(),
      envoy::config::bootstrap::v3::Bootstrap::descriptor()->file(),
      envoy::config::cluster::v3::CircuitBreakers::descriptor()->file(),
      envoy::config::cluster::v3::Cluster::descriptor()->file(),
      envoy::config::core::v3::Pipe::descriptor()->file(),
      envoy::config::core::v3::Locality::descriptor()->file(),
      envoy::config::core::v3::ApiConfigSource::descriptor()->file(),
      envoy::config::core::v3::GrpcService::descriptor()->file(),
      envoy::config::core::v3::HealthStatus_descriptor()->file(),
      envoy::config::core::v3::HttpProtocolOptions::descriptor()->file(),
      envoy::config::core::v3::SubstitutionFormatString::descriptor()->file(),
      envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor()->file(),
      envoy::config::endpoint::v3::Endpoint::descriptor()->file(),
      envoy::config::listener::v3::ApiListener::descriptor()->file(),
      envoy::config::listener::v3::Listener::descriptor()->file(),
      envoy::config::listener::v3::Filter::descriptor()->file(),
      envoy::config::route::v3::RouteConfiguration::descriptor()->file(),
      envoy::config::route::v3::VirtualHost::descriptor()->file(),
      envoy::extensions::access_loggers::file::v3::FileAccessLog::descriptor()->file(),
      envoy::extensions::access_loggers::stream::v3::StdoutAccessLog::descriptor()->file(),
      envoy::extensions::filters::http::router::v3::Router::descriptor()->file(),
      envoy::extensions::filters::listener::http_inspector::v3::HttpInspector::descriptor()->file(),
      envoy::extensions::filters::listener::original_dst::v3::OriginalDst::descriptor()->file(),
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector::descriptor()->file(),
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::
          descriptor()
              ->file(),
      envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor()->file(),
      envoy::extensions::upstreams::http::v3::HttpProtocolOptions::descriptor()->file(),
      envoy::service::discovery::v3::DiscoveryRequest::descriptor()->file(),
      envoy::type::matcher::v3::RegexMatcher::descriptor()->file(),
      envoy::type::matcher::v3::StringMatcher::descriptor()->file(),
      envoy::type::v3::Percent::descriptor()->file(),
      envoy::type::v3::Int64Range::descriptor()->file(),
      envoy::type::v3::SemanticVersion::descriptor()->file(),
      google::rpc::Status::descriptor()->file(),
  };
  return *files;
}

}  // namespace

void ensureApiTypesLinked() {
  (void)apiFiles();
}

std::vector<std::string> linkedApiFiles() {
  std::vector<std::string> names;
  for (const auto* f : apiFiles())
    names.push_back(f->name());
  return names;
}

}  // namespace remora::config
