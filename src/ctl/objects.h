// The config objects behind `remoractl apply|create|delete|get`: the kinds
// and their kubectl names, the identity of each object in a YAML stream,
// the report of pilot's answer to a write (/apis/v1/objects, src/pilot/
// server.cc), and kubectl's tables and -o yaml|json for what `get` reads.
// Pure functions; no I/O; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace remora::ctl {

struct KindInfo {
  const char* kind;        // "VirtualService": as written in YAML and asked of pilot
  const char* plural;      // "virtualservices"
  const char* singular;    // "virtualservice"
  const char* short_name;  // "vs"
  const char* group;       // "networking.istio.io"; "" for core kinds
};

// `get`'s argument: plural, singular, short name or the kind itself, any
// case. Errors list what is known.
StatusOr<const KindInfo*> resolveKind(std::string_view name);
// A kind as written in YAML; null for kinds remoractl has no name for.
const KindInfo* findKind(std::string_view kind);

// kubectl's resource name: "virtualservice.networking.istio.io", "service";
// an unknown kind lower-cased.
std::string resourceName(std::string_view kind);
std::string pluralResourceName(const KindInfo& kind);  // "virtualservices.networking.istio.io"

struct ObjectId {
  std::string kind;
  std::string namespace_ = "default";  // pilot's default, as Kubernetes'
  std::string name;
  std::string toString() const { return kind + " " + namespace_ + "/" + name; }
};

// The objects of a YAML stream (items of a `kind: List` too). Documents
// without kind or metadata.name are left to pilot, which refuses them with
// the document's line. Syntax errors name `source` and the line.
StatusOr<std::vector<ObjectId>> objectIds(std::string_view yaml, const std::string& source);

// What one write (apply, create, delete) did, from pilot's reply.
struct WriteReport {
  std::string out;  // kubectl's lines: "virtualservice.networking.istio.io/reviews created"
  std::string err;  // refusals, errors and warnings, one per line
  bool ok = false;  // false: exit non-zero
};

// `status`/`body`: pilot's reply to POST or DELETE /apis/v1/objects. Pilot
// names the request body "request" in its messages; they are shown as they
// are, with that name replaced by `source` (the file given, "STDIN" for -).
WriteReport reportWrite(int status, std::string_view body, bool is_delete,
                        const std::string& source);

enum class GetFormat { kTable, kYaml, kJson };
StatusOr<GetFormat> parseGetFormat(const std::string& output);

struct GetRequest {
  const KindInfo* kind = nullptr;
  std::string name;  // "" for all
  std::string namespace_ = "default";
  bool all_namespaces = false;
  GetFormat format = GetFormat::kTable;
};

// Renders pilot's GET /apis/v1/objects answer (YAML documents). A table has
// kubectl's columns for the kind without AGE (pilot keeps no creation
// times), NAMESPACE first with -A, rows sorted by namespace and name; a named
// object alone is printed as itself for -o yaml|json, several as kubectl's
// `kind: List`. No objects and no name: "" (the caller says "No resources
// found").
StatusOr<std::string> renderGet(const GetRequest& request, std::string_view yaml);

}  // namespace remora::ctl
