// How an ExplainResult is printed: text for people (one labelled block per
// step, in the order the connection meets them) and JSON for tools.
#include "ctl/explain.h"

namespace remora::ctl {
namespace {

constexpr size_t kLabelWidth = 12;

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

class TextWriter {
 public:
  // First line of a step, under its label.
  void step(std::string_view label, const std::string& text) {
    out_ += std::string(label);
    out_.append(label.size() < kLabelWidth ? kLabelWidth - label.size() : 1, ' ');
    out_ += text + "\n";
  }
  // A further line of the current step, `extra` more spaces in.
  void more(const std::string& text, size_t extra = 0) {
    out_.append(kLabelWidth + extra, ' ');
    out_ += text + "\n";
  }
  void line(const std::string& text) { out_ += text + "\n"; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + items[i];
  return out;
}

void writeCapture(const ExplainResult& r, TextWriter& w) {
  if (!r.capture_evaluated) return;
  const NatPacket& p = r.packet;
  std::string packet = r.request.inbound
                           ? "from another pod -> " + p.destination.toString() + ":" +
                                 std::to_string(p.destination_port) + " on " + p.in_interface
                           : p.source.toString() + " -> " + p.destination.toString() + ":" +
                                 std::to_string(p.destination_port) + " via " + p.out_interface +
                                 ", UID " + std::to_string(p.uid);
  w.step("capture", "nat " + r.capture_chain + ": " + packet);
  for (const auto& s : r.capture_steps) {
    if (s.matched) {
      // Like the seed's `iptables -t nat -L -v` pkts column: one per connection.
      std::string counter =
          s.packets >= 0 ? "  [" + std::to_string(s.packets) + " packets so far]" : "";
      w.more("MATCH  " + s.rule + counter, 2);
    } else {
      w.more("no     " + s.rule + "  (" + s.why_not + ")", 2);
    }
  }
  w.more("-> " + r.capture_note);
}

void writeListener(const ExplainResult& r, TextWriter& w) {
  if (r.receiving_listener.empty()) return;
  std::string line =
      quoted(r.receiving_listener) + " on port " + std::to_string(r.capture_port) + " receives it";
  if (!r.use_original_dst) {
    w.step("listener", line + " and handles it itself (no use_original_dst)");
    return;
  }
  w.step("listener",
         line + "; use_original_dst: original destination " + r.original_destination.toString());
  if (r.handoff == "exact") {
    w.more("-> handed to " + quoted(r.listener) + ", the listener on exactly " +
           r.listener_address);
  } else if (r.handoff == "wildcard") {
    w.more("-> no listener on " + r.original_destination.toString() + "; handed to " +
           quoted(r.listener) + " on " + r.listener_address + " (wildcard address, same port)");
  } else {
    w.more("-> no listener on " + r.original_destination.toString() + " nor on port " +
           std::to_string(r.original_destination.port) + "; " + quoted(r.listener) +
           " keeps it and uses its own filter chains");
  }
}

void writeChain(const ExplainResult& r, TextWriter& w) {
  if (r.chain_stages.empty()) return;
  std::string alpn = "[" + joinList(r.application_protocols) + "]";
  w.step("chain", "listener " + quoted(r.listener) + ", connection with transport " +
                      r.transport_protocol + ", application protocols " + alpn);
  for (const auto& s : r.chain_stages) {
    w.more(s.stage + ": " + s.input + " -> " + (s.matched ? "bucket " + s.bucket : "no bucket"), 2);
  }
  if (r.chain.empty()) {
    w.more("-> no chain matches");
    return;
  }
  std::string why = r.deciding_fields.empty() ? "no field narrows it: the chain matches anything"
                                              : "decided by " + joinList(r.deciding_fields);
  w.more("-> " + r.chain + " (" + why + "): " + r.network_filter);
}

void writeRoute(const ExplainResult& r, TextWriter& w) {
  if (r.route_config.empty() && r.outcome != ExplainOutcome::kNoRouteConfig) return;
  w.step("route", "route configuration " + quoted(r.route_config) +
                      (r.route_config_inline ? " (inline in the connection manager)" : " (RDS)") +
                      ", Host " + quoted(r.request.authority()));
  if (r.outcome == ExplainOutcome::kNoRouteConfig) return;
  if (!r.virtual_host.empty()) {
    w.more("virtual host " + quoted(r.virtual_host) + ": domain " + quoted(r.domain) +
           " matched (" + r.domain_match + ")");
  } else {
    w.more("no virtual host has a domain matching the Host header");
  }
  for (const auto& c : r.route_checks)
    w.more("route " + c, 2);
  if (!r.route.empty()) {
    std::string vs = r.virtual_service.empty() ? "" : ", from VirtualService " + r.virtual_service;
    w.more("-> route " + r.route + " (" + r.route_match + vs + ")");
  }
}

void writeUpstream(const ExplainResult& r, TextWriter& w) {
  if (r.cluster.empty() && r.outcome != ExplainOutcome::kClusterNotFound) return;
  for (const auto& wc : r.weighted_clusters)
    w.step("weighted", wc);
  std::string what = quoted(r.cluster);
  if (!r.cluster_type.empty()) {
    what += " (" + r.cluster_type +
            (r.destination_rule.empty() ? "" : ", DestinationRule " + r.destination_rule) + ")";
  } else {
    what += ": no such cluster";
  }
  w.step("cluster", what);
  if (r.cluster_type.empty()) return;
  size_t eligible = 0;
  for (const auto& e : r.endpoints)
    eligible += e.eligible ? 1 : 0;
  w.step("endpoints", "from " + r.endpoints_source + ": " + std::to_string(eligible) + " of " +
                          std::to_string(r.endpoints.size()) + " eligible");
  for (const auto& e : r.endpoints) {
    w.more(e.address + "  " + e.health + (e.failed_outlier_check ? " (failed outlier check)" : "") +
               (e.eligible ? "  eligible" : "  not eligible"),
           2);
  }
}

}  // namespace

std::string formatExplainText(const ExplainResult& r) {
  TextWriter w;
  const ExplainRequest& q = r.request;
  std::string pod = q.pod_ip ? "the pod " + q.pod_ip->toString() : "the pod";
  w.step("request", q.method + " http://" + q.authority() + q.path + ", " +
                        (q.inbound ? "inbound to " : "outbound from ") + pod);
  if (q.inbound) {
    w.more("arrives at " + q.destination.toString() + ":" + std::to_string(q.port) + " with Host " +
           quoted(q.authority()));
  } else {
    w.more(q.host + " is " + q.destination.toString() + " (" + q.resolved_by + ")");
  }
  writeCapture(r, w);
  writeListener(r, w);
  writeChain(r, w);
  writeRoute(r, w);
  writeUpstream(r, w);
  w.step("result", r.summary);
  for (const auto& n : r.notes)
    w.step("note", n);
  return w.take();
}

JsonValue explainJson(const ExplainResult& r) {
  auto str = [](const std::string& s) { return JsonValue::string(s); };
  auto strings = [](const std::vector<std::string>& v) {
    JsonValue a = JsonValue::array();
    for (const auto& s : v)
      a.push(JsonValue::string(s));
    return a;
  };
  const ExplainRequest& q = r.request;
  JsonValue request = JsonValue::object();
  request.add("method", str(q.method))
      .add("url", str("http://" + q.authority() + q.path))
      .add("host", str(q.host))
      .add("port", JsonValue::number(q.port))
      .add("path", str(q.path))
      .add("authority", str(q.authority()))
      .add("direction", str(q.inbound ? "inbound" : "outbound"))
      .add("destination", str(q.destination.toString()))
      .add("resolvedBy", str(q.resolved_by));
  if (q.pod_ip) request.add("podIp", str(q.pod_ip->toString()));
  JsonValue out = JsonValue::object();
  out.add("request", std::move(request));

  if (r.capture_evaluated) {
    JsonValue rules = JsonValue::array();
    for (const auto& s : r.capture_steps) {
      JsonValue step = JsonValue::object();
      step.add("rule", str(s.rule)).add("matched", JsonValue::boolean(s.matched));
      if (s.packets >= 0) step.add("packets", JsonValue::number(s.packets));
      if (!s.matched) step.add("whyNot", str(s.why_not));
      rules.push(std::move(step));
    }
    out.add("capture", JsonValue::object()
                           .add("chain", str(r.capture_chain))
                           .add("rules", std::move(rules))
                           .add("verdict", str(r.capture_note))
                           .add("redirectPort", JsonValue::number(r.capture_port)));
  }
  if (!r.receiving_listener.empty()) {
    out.add("listener", JsonValue::object()
                            .add("receiving", str(r.receiving_listener))
                            .add("port", JsonValue::number(r.capture_port))
                            .add("useOriginalDst", JsonValue::boolean(r.use_original_dst))
                            .add("originalDestination", str(r.original_destination.toString()))
                            .add("handoff", str(r.handoff))
                            .add("name", str(r.listener))
                            .add("address", str(r.listener_address)));
  }
  if (!r.chain_stages.empty()) {
    JsonValue stages = JsonValue::array();
    for (const auto& s : r.chain_stages) {
      stages.push(JsonValue::object()
                      .add("stage", str(s.stage))
                      .add("input", str(s.input))
                      .add("bucket", str(s.bucket))
                      .add("matched", JsonValue::boolean(s.matched)));
    }
    JsonValue chain = JsonValue::object();
    chain.add("transportProtocol", str(r.transport_protocol))
        .add("applicationProtocols", strings(r.application_protocols))
        .add("stages", std::move(stages))
        .add("chain", str(r.chain))
        .add("index", JsonValue::number(r.chain_index))
        .add("decidedBy", strings(r.deciding_fields))
        .add("networkFilter", str(r.network_filter));
    out.add("filterChain", std::move(chain));
  }
  if (!r.route_config.empty()) {
    out.add("route", JsonValue::object()
                         .add("routeConfig", str(r.route_config))
                         .add("inline", JsonValue::boolean(r.route_config_inline))
                         .add("virtualHost", str(r.virtual_host))
                         .add("domain", str(r.domain))
                         .add("domainMatch", str(r.domain_match))
                         .add("route", str(r.route))
                         .add("match", str(r.route_match))
                         .add("checks", strings(r.route_checks))
                         .add("virtualService", str(r.virtual_service)));
  }
  if (!r.cluster.empty()) {
    JsonValue endpoints = JsonValue::array();
    for (const auto& e : r.endpoints) {
      endpoints.push(JsonValue::object()
                         .add("address", str(e.address))
                         .add("health", str(e.health))
                         .add("failedOutlierCheck", JsonValue::boolean(e.failed_outlier_check))
                         .add("weight", JsonValue::number(e.weight))
                         .add("eligible", JsonValue::boolean(e.eligible)));
    }
    out.add("cluster", JsonValue::object()
                           .add("name", str(r.cluster))
                           .add("found", JsonValue::boolean(!r.cluster_type.empty()))
                           .add("type", str(r.cluster_type))
                           .add("destinationRule", str(r.destination_rule))
                           .add("weightedClusters", strings(r.weighted_clusters))
                           .add("endpointsFrom", str(r.endpoints_source))
                           .add("endpoints", std::move(endpoints)));
  }
  JsonValue result = JsonValue::object();
  result.add("outcome", str(explainOutcomeName(r.outcome)));
  if (r.http_status != 0) result.add("httpStatus", JsonValue::number(r.http_status));
  if (!r.response_flag.empty()) result.add("responseFlag", str(r.response_flag));
  result.add("summary", str(r.summary));
  out.add("result", std::move(result));
  out.add("notes", strings(r.notes));
  return out;
}

}  // namespace remora::ctl
