#include "pilot/debug/configz.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace remora::pilot {
namespace {

// A minimal JSON writer: protobuf's Struct would do, but it prints its map
// in hash order and this page must read the same on every refresh.
class JsonWriter {
 public:
  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }
  void key(const std::string& k) {
    separate();
    quote(k);
    out_ += ": ";
    after_key_ = true;
  }
  void value(const std::string& v) {
    separate();
    quote(v);
  }
  void value(int64_t v) {
    separate();
    out_ += std::to_string(v);
  }
  void field(const std::string& k, const std::string& v) {
    key(k);
    value(v);
  }
  void field(const std::string& k, int64_t v) {
    key(k);
    value(v);
  }
  std::string take() { return std::move(out_) + "\n"; }

 private:
  void open(char c) {
    separate();
    out_ += c;
    first_ = true;
    ++depth_;
  }
  void close(char c) {
    --depth_;
    if (!first_) newline();
    out_ += c;
    first_ = false;
  }
  // Commas and indentation before a value, except right after its key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    if (depth_ > 0) newline();
    first_ = false;
  }
  void newline() {
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
  }
  // protobuf's JSON printer does the escaping, so there is one escaper fewer
  // to get wrong.
  void quote(const std::string& s) {
    google::protobuf::Value v;
    v.set_string_value(s);
    std::string quoted;
    if (!google::protobuf::util::MessageToJsonString(v, &quoted).ok()) quoted = "\"\"";
    out_ += quoted;
  }

  std::string out_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

void sourceFields(const SourceRef& source, JsonWriter* w) {
  w->field("file", source.file);
  w->field("document", source.document);
  w->field("line", source.line);
}

}  // namespace

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
  for (const auto& r : snapshot.refusals()) {
    w.beginObject();
    w.field("text", r.toString());
    sourceFields(r.source, &w);
    w.field("kind", r.kind);
    w.field("object", r.object);
    w.field("field", r.field);
    w.field("message", r.message);
    w.endObject();
  }
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
