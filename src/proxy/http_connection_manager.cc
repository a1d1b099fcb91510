#include "proxy/http_connection_manager.h"

#include <google/protobuf/util/time_util.h>

#include "common/logging.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "proxy/router_filter.h"

namespace remora::proxy {

namespace {

using HcmProto =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::access_loggers::file::v3::FileAccessLog;
using envoy::extensions::access_loggers::stream::v3::StderrAccessLog;
using envoy::extensions::access_loggers::stream::v3::StdoutAccessLog;
using envoy::extensions::filters::http::router::v3::Router;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kRouterFilterName = "envoy.filters.http.router";

std::chrono::milliseconds millis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(TimeUtil::DurationToMilliseconds(d));
}

template <typename T>
bool isType(const google::protobuf::Any& any) {
  std::string_view url = any.type_url();
  size_t slash = url.rfind('/');
  std::string_view name = slash == std::string_view::npos ? url : url.substr(slash + 1);
  return name == T::descriptor()->full_name();
}

StatusOr<std::string> formatOf(const envoy::config::core::v3::SubstitutionFormatString& f,
                               const std::string& field) {
  using F = envoy::config::core::v3::SubstitutionFormatString;
  switch (f.format_case()) {
    case F::kTextFormat:
      return f.text_format();
    case F::kTextFormatSource:
      if (f.text_format_source().specifier_case() !=
          envoy::config::core::v3::DataSource::kInlineString) {
        return invalidArgumentError(field + ".text_format_source: only inline_string is supported");
      }
      return f.text_format_source().inline_string();
    case F::kJsonFormat:
      return invalidArgumentError(field + ".json_format: JSON access logs are not supported");
    default:
      return std::string(http::AccessLogFormatter::kDefaultFormat);
  }
}

StatusOr<std::shared_ptr<const http::AccessLog>> compileAccessLog(
    const envoy::config::accesslog::v3::AccessLog& log, const std::string& field) {
  if (!log.has_typed_config()) {
    return invalidArgumentError(field + ": typed_config is required (file, stdout or stderr)");
  }
  const auto& any = log.typed_config();
  std::string path;
  std::string format(http::AccessLogFormatter::kDefaultFormat);
  if (isType<FileAccessLog>(any)) {
    FileAccessLog f;
    if (!any.UnpackTo(&f)) return invalidArgumentError(field + ".typed_config: cannot decode");
    if (f.path().empty()) return invalidArgumentError(field + ".typed_config.path: required");
    path = f.path();
    switch (f.access_log_format_case()) {
      case FileAccessLog::kFormat:
        format = f.format();
        break;
      case FileAccessLog::kLogFormat: {
        REMORA_ASSIGN_OR_RETURN(format,
                                formatOf(f.log_format(), field + ".typed_config.log_format"));
        break;
      }
      case FileAccessLog::kJsonFormat:
      case FileAccessLog::kTypedJsonFormat:
        return invalidArgumentError(field + ".typed_config: JSON access logs are not supported");
      default:
        break;
    }
  } else if (isType<StdoutAccessLog>(any) || isType<StderrAccessLog>(any)) {
    bool out = isType<StdoutAccessLog>(any);
    path = out ? "/dev/stdout" : "/dev/stderr";
    StdoutAccessLog s;  // StderrAccessLog has the same fields and numbers
    envoy::config::core::v3::SubstitutionFormatString fmt;
    bool has_format = false;
    if (out) {
      if (!any.UnpackTo(&s)) return invalidArgumentError(field + ".typed_config: cannot decode");
      has_format = s.has_log_format();
      fmt = s.log_format();
    } else {
      StderrAccessLog e;
      if (!any.UnpackTo(&e)) return invalidArgumentError(field + ".typed_config: cannot decode");
      has_format = e.has_log_format();
      fmt = e.log_format();
    }
    if (has_format) {
      REMORA_ASSIGN_OR_RETURN(format, formatOf(fmt, field + ".typed_config.log_format"));
    }
  } else {
    return invalidArgumentError(field + ".typed_config: unsupported access logger \"" +
                                any.type_url() + "\" (supported: file, stdout, stderr)");
  }
  auto formatter = http::AccessLogFormatter::parse(format);
  if (!formatter.ok()) return formatter.status().withPrefix(field + ".typed_config format");
  auto created = http::AccessLog::create(path, std::move(*formatter));
  if (!created.ok()) return created.status().withPrefix(field + ".typed_config.path");
  return *created;
}

http::ConnectionManagerStats makeStats(StatsStore& stats, const std::string& p) {
  return http::ConnectionManagerStats{
      &stats.counter("http", p, "downstream_cx_total"),
      &stats.gauge("http", p, "downstream_cx_active"),
      &stats.counter("http", p, "downstream_cx_destroy"),
      &stats.counter("http", p, "downstream_cx_protocol_error"),
      &stats.counter("http", p, "downstream_cx_idle_timeout"),
      &stats.counter("http", p, "downstream_cx_upgrades_total"),
      &stats.counter("http", p, "downstream_rq_total"),
      &stats.gauge("http", p, "downstream_rq_active"),
      &stats.counter("http", p, "downstream_rq_1xx"),
      &stats.counter("http", p, "downstream_rq_2xx"),
      &stats.counter("http", p, "downstream_rq_3xx"),
      &stats.counter("http", p, "downstream_rq_4xx"),
      &stats.counter("http", p, "downstream_rq_5xx"),
      &stats.counter("http", p, "downstream_rq_completed"),
      &stats.counter("http", p, "downstream_rq_rx_reset"),
      &stats.counter("http", p, "downstream_rq_idle_timeout"),
      &stats.counter("http", p, "downstream_rq_ws_on_non_ws_route"),
  };
}

}  // namespace

RouteConfigProvider::RouteConfigProvider(std::string name,
                                         std::shared_ptr<const router::RouteTable> initial,
                                         bool from_rds)
    : name_(std::move(name)), from_rds_(from_rds), table_(std::move(initial)) {}

void RouteConfigProvider::update(std::shared_ptr<const router::RouteTable> table) {
  {
    std::lock_guard<std::mutex> l(lock_);
    table_ = std::move(table);
  }
  version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const router::RouteTable> RouteConfigProvider::current() const {
  std::lock_guard<std::mutex> l(lock_);
  return table_;
}

StatusOr<std::shared_ptr<const HttpConnectionManagerFilter>> HttpConnectionManagerFilter::create(
    const HcmProto& proto, StatsStore& stats) {
  auto config = std::make_shared<HttpConnectionManagerConfig>();
  auto cm = std::make_shared<http::ConnectionManagerConfig>();
  if (proto.stat_prefix().empty()) return invalidArgumentError("stat_prefix: required");
  cm->stat_prefix = proto.stat_prefix();
  switch (proto.codec_type()) {
    case HcmProto::AUTO:
    case HcmProto::HTTP1:
      break;
    default:
      return invalidArgumentError("codec_type: " + HcmProto::CodecType_Name(proto.codec_type()) +
                                  " is not supported yet (HTTP/1.1 only; AUTO serves HTTP/1.1)");
  }

  // Routes: inline now; an RDS name gets an empty provider that the xDS
  // client fills (until then every request is answered 404 NR).
  switch (proto.route_specifier_case()) {
    case HcmProto::kRouteConfig: {
      auto table = router::RouteTable::compile(proto.route_config());
      if (!table.ok()) return table.status().withPrefix("route_config");
      config->routes = std::make_shared<RouteConfigProvider>(proto.route_config().name(), *table);
      break;
    }
    case HcmProto::kRds:
      if (proto.rds().route_config_name().empty()) {
        return invalidArgumentError("rds.route_config_name: required");
      }
      config->routes =
          std::make_shared<RouteConfigProvider>(proto.rds().route_config_name(), nullptr, true);
      break;
    default:
      return invalidArgumentError("one of \"rds\" or \"route_config\" is required");
  }

  // HTTP filters: the router, last. Optional filters we do not have are
  // skipped as Envoy skips unknown optional ones; others are refused.
  bool have_router = false;
  for (int i = 0; i < proto.http_filters_size(); ++i) {
    const auto& f = proto.http_filters(i);
    const std::string field = "http_filters[" + std::to_string(i) + "]";
    if (f.disabled()) continue;
    bool is_router = f.name() == kRouterFilterName || f.name() == "envoy.router" ||
                     (f.has_typed_config() && isType<Router>(f.typed_config()));
    if (is_router) {
      if (f.has_typed_config()) {
        if (!isType<Router>(f.typed_config())) {
          return invalidArgumentError(field + ".typed_config: " + f.typed_config().type_url() +
                                      " is not a router config");
        }
        Router r;
        if (!f.typed_config().UnpackTo(&r)) {
          return invalidArgumentError(field + ".typed_config: cannot decode");
        }
        if (!r.upstream_log().empty()) {
          return invalidArgumentError(field + ".typed_config.upstream_log: not supported");
        }
        config->suppress_envoy_headers = r.suppress_envoy_headers();
      }
      if (i + 1 != proto.http_filters_size()) {
        return invalidArgumentError(field + ": the router must be the last HTTP filter");
      }
      have_router = true;
      continue;
    }
    if (f.is_optional()) {
      REMORA_LOG_WARN("http_connection_manager {}: skipping optional HTTP filter {}",
                      cm->stat_prefix, f.name());
      continue;
    }
    return invalidArgumentError(field + ": unsupported HTTP filter \"" + f.name() +
                                "\" (supported: " + std::string(kRouterFilterName) +
                                "; mark others is_optional to skip them)");
  }
  if (!have_router) {
    return invalidArgumentError("http_filters: the last filter must be " +
                                std::string(kRouterFilterName));
  }

  // Codec and connection behaviour.
  if (proto.has_max_request_headers_kb()) {
    uint32_t kb = proto.max_request_headers_kb().value();
    if (kb == 0 || kb > 8192) {
      return invalidArgumentError("max_request_headers_kb: must be in [1, 8192]");
    }
    cm->codec.max_header_bytes = static_cast<size_t>(kb) * 1024;
  }
  const auto& common = proto.common_http_protocol_options();
  if (common.has_idle_timeout()) cm->idle_timeout = millis(common.idle_timeout());
  if (common.has_max_headers_count()) {
    cm->codec.max_header_count = common.max_headers_count().value();
  }
  if (common.has_max_requests_per_connection()) {
    cm->max_requests_per_connection = common.max_requests_per_connection().value();
  }
  if (proto.has_stream_idle_timeout())
    cm->stream_idle_timeout = millis(proto.stream_idle_timeout());
  if (proto.has_delayed_close_timeout()) {
    cm->delayed_close_timeout = millis(proto.delayed_close_timeout());
  }
  cm->accept_http_10 = proto.http_protocol_options().accept_http_10();
  cm->use_remote_address = proto.use_remote_address().value();
  cm->skip_xff_append = proto.skip_xff_append();
  cm->via = proto.via();
  cm->generate_request_id =
      proto.has_generate_request_id() ? proto.generate_request_id().value() : true;
  cm->preserve_external_request_id = proto.preserve_external_request_id();
  cm->always_set_request_id_in_response = proto.always_set_request_id_in_response();
  cm->proxy_100_continue = proto.proxy_100_continue();
  if (!proto.server_name().empty()) cm->server_name = proto.server_name();
  switch (proto.server_header_transformation()) {
    case HcmProto::OVERWRITE:
      cm->server_header = http::ConnectionManagerConfig::ServerHeader::kOverwrite;
      break;
    case HcmProto::APPEND_IF_ABSENT:
      cm->server_header = http::ConnectionManagerConfig::ServerHeader::kAppendIfAbsent;
      break;
    case HcmProto::PASS_THROUGH:
      cm->server_header = http::ConnectionManagerConfig::ServerHeader::kPassThrough;
      break;
    default:
      break;
  }
  for (int i = 0; i < proto.upgrade_configs_size(); ++i) {
    const auto& u = proto.upgrade_configs(i);
    if (u.upgrade_type().empty()) {
      return invalidArgumentError("upgrade_configs[" + std::to_string(i) +
                                  "].upgrade_type: required");
    }
    if (!u.filters().empty()) {
      return invalidArgumentError("upgrade_configs[" + std::to_string(i) +
                                  "].filters: per-upgrade filter chains are not supported");
    }
    if (u.has_enabled() && !u.enabled().value()) continue;
    std::string t = u.upgrade_type();
    for (char& c : t) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    cm->upgrade_types.push_back(std::move(t));
  }
  for (int i = 0; i < proto.access_log_size(); ++i) {
    REMORA_ASSIGN_OR_RETURN(
        auto log, compileAccessLog(proto.access_log(i), "access_log[" + std::to_string(i) + "]"));
    cm->access_logs.push_back(std::move(log));
  }
  cm->stats = makeStats(stats, cm->stat_prefix);
  const std::string& p = cm->stat_prefix;
  config->router_stats = RouterStats{
      &stats.counter("http", p, "no_route"),
      &stats.counter("http", p, "no_cluster"),
      &stats.counter("http", p, "rq_redirect"),
      &stats.counter("http", p, "rq_direct_response"),
      &stats.counter("http", p, "rq_total"),
      &stats.counter("route_config", config->routes->name(), "no_route"),
  };
  config->connection = std::move(cm);
  auto filter = std::shared_ptr<HttpConnectionManagerFilter>(new HttpConnectionManagerFilter());
  filter->config_ = std::move(config);
  return std::shared_ptr<const HttpConnectionManagerFilter>(std::move(filter));
}

std::unique_ptr<ConnectionHandler> HttpConnectionManagerFilter::createHandler(
    WorkerContext& worker, const std::shared_ptr<const ConfigSnapshot>& /*snapshot*/,
    DownstreamConnection connection, std::function<void()> on_done) const {
  // Clusters are looked up per request in the worker's current snapshot.
  return std::make_unique<HttpConnectionHandler>(config_, worker, std::move(connection),
                                                 std::move(on_done));
}

}  // namespace remora::proxy
