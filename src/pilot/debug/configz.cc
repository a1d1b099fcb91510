#include "pilot/debug/configz.h"

#include "pilot/debug/json_writer.h"

namespace remora::pilot {
namespace {

void sourceFields(const SourceRef& source, JsonWriter* w) {
  w->field("file", source.file);
  w->field("document", source.document);
  w->field("line", source.line);
}

}  // namespace

void writeRefusal(const Refusal& r, JsonWriter* w) {
  w->beginObject();
  w->field("text", r.toString());
  sourceFields(r.source, w);
  w->field("kind", r.kind);
  w->field("object", r.object);
  w->field("field", r.field);
  w->field("message", r.message);
  w->endObject();
}

std::string renderConfigz(const MeshSnapshot& snapshot) {
  JsonWriter w;
  w.beginObject();
  w.field("version", static_cast<int64_t>(snapshot.version()));

  const MeshConfig& mesh = snapshot.mesh();
  w.key("meshConfig");
  w.beginObject();
  w.field("source", snapshot.config().mesh_source);
  w.field("outboundTrafficPolicy", mesh.outbound_policy == MeshConfig::OutboundPolicy::kAllowAny
                                       ? "ALLOW_ANY"
                                       : "REGISTRY_ONLY");
  w.field("trustDomain", mesh.trust_domain);
  w.field("domainSuffix", mesh.domain_suffix);
  w.field("rootNamespace", mesh.root_namespace);
  w.field("connectTimeoutMs", mesh.connect_timeout_ms);
  w.field("proxyListenPort", mesh.proxy_listen_port);
  w.field("proxyInboundListenPort", mesh.proxy_inbound_listen_port);
  w.endObject();

  w.key("refused");
  w.beginArray();
  for (const auto& r : snapshot.refusals())
    writeRefusal(r, &w);
  w.endArray();

  w.key("warnings");
  w.beginArray();
  for (const auto& warning : snapshot.warnings())
    w.value(warning);
  w.endArray();

  w.key("accepted");
  w.beginArray();
  for (const auto& o : snapshot.config().objects) {
    w.beginObject();
    w.field("kind", objectKindName(o.kind));
    w.field("namespace", o.meta().namespace_);
    w.field("name", o.meta().name);
    sourceFields(o.source, &w);
    w.endObject();
  }
  w.endArray();

  w.endObject();
  return w.take();
}

}  // namespace remora::pilot
