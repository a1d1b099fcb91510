// Writes to the config folder on behalf of `remoractl apply|delete|get`
// (pilot's /apis/v1/objects; docs/pilot.md section "Config API" is the
// contract). The folder stays the single source of truth: an accepted object
// is written into it, and the watcher serves it like any edited file, so
// nothing accepted is lost on restart.
//
// - apply: the YAML is validated exactly as a file would be (same parser,
//   same refusal text, the request body standing for the file "request");
//   any refusal refuses the whole request and nothing is written. An object
//   already defined in the folder is replaced where it is defined (its
//   document in that file, the file's other documents untouched); a new one
//   goes to its own file `<kind>-<namespace>-<name>.yaml` (kind lower-cased).
// - remove: drops each named object's document from its file, and the file
//   when nothing else is left in it.
// - get: the documents of the objects that match, as written in the folder.
// Every file change is atomic (a temporary file renamed over the old one).
//
// Threads: any; writes are serialized by a lock.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "pilot/model/config_store.h"

namespace remora::pilot {

struct ObjectRef {
  std::string kind;  // as written: "VirtualService"
  std::string namespace_ = "default";
  std::string name;
  std::string toString() const { return kind + " " + namespace_ + "/" + name; }
};

struct ObjectChange {
  ObjectRef object;
  std::string file;    // base name in the folder
  std::string action;  // "created", "updated", "unchanged", "deleted"
};

struct ObjectApiResult {
  int status = 200;  // 200, 400 (refused), 404 (delete or get of a missing object), 409, 500
  std::vector<ObjectChange> changes;
  std::vector<Refusal> refusals;    // 400: the refusals, as configz shows them
  std::vector<std::string> errors;  // other failures, one line each
  std::vector<std::string> warnings;
  bool changed() const;  // some file was written or removed
};

// The file a new object is written to: "virtualservice-default-reviews.yaml".
std::string objectFileName(const ObjectRef& ref);

class ObjectApi {
 public:
  explicit ObjectApi(std::string config_dir);

  ObjectApiResult apply(const std::string& yaml);
  // Documents naming kind, metadata.name and metadata.namespace (full
  // objects do too; the rest is not read).
  ObjectApiResult remove(const std::string& yaml);
  // YAML of the matching objects in file-name order, documents separated by
  // `---`; empty filters match everything. `found` counts them.
  std::string get(const std::string& kind, const std::string& ns, const std::string& name,
                  size_t* found);

 private:
  struct Definition {
    std::string file;
    size_t document = 0;
    bool in_list = false;  // an item of a kind: List document
  };
  std::vector<Definition> findDefinitions(const ObjectRef& ref) const;
  Status writeFile(const std::string& file, const std::string& text) const;

  std::string dir_;
  std::mutex mu_;
};

}  // namespace remora::pilot
