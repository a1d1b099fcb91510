#include "pilot/source/object_api.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace remora::pilot {
namespace {

namespace fs = std::filesystem;

constexpr char kRequestFile[] = "request";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> yamlFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) {
      files.push_back(it->path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Makes a rename or unlink in `dir` survive a crash (the file's own data is
// synced before the rename).
Status syncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoError("open " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::okStatus() : errnoError("sync " + dir, err);
}

// kind, metadata.name and metadata.namespace of a document, if it has them.
std::optional<ObjectRef> identity(const YAML::Node& doc) {
  if (!doc.IsMap() || !doc["kind"] || !doc["kind"].IsScalar()) return std::nullopt;
  ObjectRef ref;
  ref.kind = doc["kind"].Scalar();
  YAML::Node meta = doc["metadata"];
  if (!meta || !meta.IsMap() || !meta["name"] || !meta["name"].IsScalar()) return std::nullopt;
  ref.name = meta["name"].Scalar();
  if (meta["namespace"] && meta["namespace"].IsScalar())
    ref.namespace_ = meta["namespace"].Scalar();
  return ref;
}

bool sameObject(const ObjectRef& a, const ObjectRef& b) {
  return a.kind == b.kind && a.name == b.name && a.namespace_ == b.namespace_;
}

std::optional<YAML::Node> load(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

// The objects a document stands for: itself, or a List's items (as emitted
// YAML, since an item has no text of its own).
struct DocObject {
  ObjectRef ref;
  std::string text;
};
std::vector<DocObject> documentObjects(const std::string& text) {
  std::vector<DocObject> out;
  auto doc = load(text);
  if (!doc || !doc->IsMap()) return out;
  if ((*doc)["kind"] && (*doc)["kind"].IsScalar() && (*doc)["kind"].Scalar() == "List") {
    YAML::Node items = (*doc)["items"];
    if (!items || !items.IsSequence()) return out;
    for (const auto& item : items) {
      if (auto ref = identity(item)) {
        YAML::Emitter e;
        e << item;
        out.push_back({*ref, std::string(e.c_str()) + "\n"});
      }
    }
    return out;
  }
  if (auto ref = identity(*doc)) out.push_back({*ref, text});
  return out;
}

bool isList(const std::string& text) {
  auto doc = load(text);
  return doc && doc->IsMap() && (*doc)["kind"] && (*doc)["kind"].IsScalar() &&
         (*doc)["kind"].Scalar() == "List";
}

}  // namespace

bool ObjectApiResult::changed() const {
  return std::any_of(changes.begin(), changes.end(),
                     [](const ObjectChange& c) { return c.action != "unchanged"; });
}

std::string objectFileName(const ObjectRef& ref) {
  return lower(ref.kind) + "-" + ref.namespace_ + "-" + ref.name + ".yaml";
}

ObjectApi::ObjectApi(std::string config_dir) : dir_(std::move(config_dir)) {}

std::vector<ObjectApi::Definition> ObjectApi::findDefinitions(const ObjectRef& ref) const {
  std::vector<Definition> out;
  for (const auto& file : yamlFiles(dir_)) {
    auto text = readText((fs::path(dir_) / file).string());
    // Most files cannot hold the object: skip them without parsing.
    if (!text || text->find(ref.name) == std::string::npos) continue;
    YamlFile split = splitYamlFile(*text);
    for (size_t i = 0; i < split.documents.size(); ++i) {
      const std::string& doc = split.documents[i].text;
      if (doc.find(ref.name) == std::string::npos) continue;
      bool list = isList(doc);
      for (const auto& o : documentObjects(doc)) {
        if (sameObject(o.ref, ref)) out.push_back({file, i, list});
      }
    }
  }
  return out;
}

Status ObjectApi::writeFile(const std::string& file, const std::string& text) const {
  // The temporary name does not end in .yaml, so the watcher ignores it
  // until the rename makes it whole.
  std::string path = (fs::path(dir_) / file).string();
  std::string tmp = (fs::path(dir_) / ("." + file + ".tmp")).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoError("create " + tmp, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return errnoError("write " + tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errnoError("sync " + tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errnoError("rename " + tmp + " to " + path, err);
  }
  return syncDir(dir_);
}

ObjectApiResult ObjectApi::apply(const std::string& yaml) {
  ObjectApiResult result;
  ConfigSet set;
  addConfigText(kRequestFile, yaml, &set);
  result.refusals = set.refusals;
  YamlFile request = splitYamlFile(yaml);
  std::vector<DocObject> wanted;
  for (const auto& o : set.objects) {
    ObjectRef ref{objectKindName(o.kind), o.meta().namespace_, o.meta().name};
    for (auto& d : documentObjects(request.documents[o.source.document].text)) {
      if (sameObject(d.ref, ref)) {
        wanted.push_back(std::move(d));
        break;
      }
    }
  }
  // Kinds pilot skips in files (with a warning, or quietly for ConfigMaps
  // other than the mesh config) are errors here: writing them into the
  // folder would serve nothing.
  for (const auto& w : set.warnings)
    result.errors.push_back(w);
  for (size_t i = 0; i < request.documents.size(); ++i) {
    if (isBlankYaml(request.documents[i].text)) continue;
    std::string tag = ": document " + std::to_string(i) + ":";
    if (std::any_of(set.warnings.begin(), set.warnings.end(),
                    [&](const std::string& w) { return w.find(tag) != std::string::npos; })) {
      continue;
    }
    auto in_doc = [&](const auto& x) { return x.source.document == static_cast<int>(i); };
    if (std::any_of(set.objects.begin(), set.objects.end(), in_doc) ||
        std::any_of(set.refusals.begin(), set.refusals.end(), in_doc)) {
      continue;
    }
    std::string where = std::string(kRequestFile) + ":" +
                        std::to_string(request.documents[i].first_line + 1) + ": document " +
                        std::to_string(i) + ": ";
    auto objects = documentObjects(request.documents[i].text);
    result.errors.push_back(where +
                            (objects.empty() ? "no object" : objects.front().ref.toString()) +
                            ": pilot does not serve this kind");
  }
  for (size_t i = 0; i < wanted.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (sameObject(wanted[i].ref, wanted[j].ref)) {
        result.errors.push_back(wanted[i].ref.toString() + ": given twice in the request");
      }
    }
  }
  if (wanted.empty() && result.refusals.empty() && result.errors.empty()) {
    result.errors.push_back("the request holds no object");
  }
  if (!result.refusals.empty() || !result.errors.empty()) {
    result.status = 400;
    return result;
  }

  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::vector<Definition>> defs;
  for (const auto& w : wanted) {
    defs.push_back(findDefinitions(w.ref));
    for (const auto& d : defs.back()) {
      if (d.in_list) {
        result.status = 409;
        result.errors.push_back(w.ref.toString() + " is an item of a List in " + d.file +
                                "; edit that file or split the list");
      }
    }
  }
  if (result.status != 200) return result;
  for (size_t i = 0; i < wanted.size(); ++i) {
    ObjectChange change{wanted[i].ref, "", ""};
    std::string text = wanted[i].text;
    if (text.empty() || text.back() != '\n') text += "\n";
    if (defs[i].empty()) {
      change.file = objectFileName(change.object);
      change.action = "created";
      auto existing = readText((fs::path(dir_) / change.file).string());
      if (existing && !isBlankYaml(*existing)) {
        result.status = 409;
        result.errors.push_back(change.file + " exists and holds other objects");
        return result;
      }
      if (Status s = writeFile(change.file, text); !s.ok()) {
        result.status = 500;
        result.errors.push_back(s.message());
        return result;
      }
    } else {
      // Where the folder defines it (the first definition, the one served).
      const Definition& d = defs[i].front();
      change.file = d.file;
      auto file_text = readText((fs::path(dir_) / d.file).string());
      YamlFile file = splitYamlFile(file_text.value_or(""));
      if (d.document >= file.documents.size()) {
        result.status = 409;
        result.errors.push_back(d.file + " changed while it was being updated; try again");
        return result;
      }
      if (file.documents[d.document].text == text) {
        change.action = "unchanged";
      } else {
        change.action = "updated";
        file.documents[d.document].text = text;
        if (Status s = writeFile(d.file, file.join()); !s.ok()) {
          result.status = 500;
          result.errors.push_back(s.message());
          return result;
        }
      }
    }
    result.changes.push_back(std::move(change));
  }
  return result;
}

ObjectApiResult ObjectApi::remove(const std::string& yaml) {
  ObjectApiResult result;
  std::vector<ObjectRef> refs;
  YamlFile request = splitYamlFile(yaml);
  for (size_t i = 0; i < request.documents.size(); ++i) {
    const std::string& text = request.documents[i].text;
    if (isBlankYaml(text)) continue;
    auto objects = documentObjects(text);
    if (objects.empty()) {
      result.errors.push_back(
          std::string(kRequestFile) + ":" + std::to_string(request.documents[i].first_line + 1) +
          ": document " + std::to_string(i) + ": want kind, metadata.name and metadata.namespace");
    }
    for (auto& o : objects)
      refs.push_back(std::move(o.ref));
  }
  if (refs.empty() && result.errors.empty()) result.errors.push_back("the request names no object");
  if (!result.errors.empty()) {
    result.status = 400;
    return result;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& ref : refs) {
    auto defs = findDefinitions(ref);
    if (defs.empty()) {
      result.status = 404;
      result.errors.push_back(ref.toString() + ": not found in the config folder");
    }
    for (const auto& d : defs) {
      if (d.in_list) {
        result.status = 409;
        result.errors.push_back(ref.toString() + " is an item of a List in " + d.file +
                                "; edit that file or split the list");
      }
    }
  }
  if (result.status != 200) return result;
  for (const auto& ref : refs) {
    // Definitions are found again for each object: removing a document
    // renumbers the ones after it.
    for (auto defs = findDefinitions(ref); !defs.empty(); defs = findDefinitions(ref)) {
      const Definition& d = defs.front();
      std::string path = (fs::path(dir_) / d.file).string();
      YamlFile file = splitYamlFile(readText(path).value_or(""));
      if (d.document >= file.documents.size()) break;
      file.documents.erase(file.documents.begin() + static_cast<std::ptrdiff_t>(d.document));
      bool empty = std::all_of(file.documents.begin(), file.documents.end(),
                               [](const YamlDocument& doc) { return isBlankYaml(doc.text); });
      Status s = empty ? (::unlink(path.c_str()) == 0 ? syncDir(dir_)
                                                      : errnoError("remove " + path, errno))
                       : writeFile(d.file, file.join());
      if (!s.ok()) {
        result.status = 500;
        result.errors.push_back(s.message());
        return result;
      }
      result.changes.push_back({ref, d.file, "deleted"});
    }
  }
  return result;
}

std::string ObjectApi::get(const std::string& kind, const std::string& ns, const std::string& name,
                           size_t* found) {
  std::string out;
  *found = 0;
  for (const auto& file : yamlFiles(dir_)) {
    auto text = readText((fs::path(dir_) / file).string());
    if (!text || (!name.empty() && text->find(name) == std::string::npos)) continue;
    for (const auto& doc : splitYamlFile(*text).documents) {
      if (isBlankYaml(doc.text)) continue;
      for (const auto& o : documentObjects(doc.text)) {
        if (!kind.empty() && lower(kind) != lower(o.ref.kind)) continue;
        if (!ns.empty() && ns != o.ref.namespace_) continue;
        if (!name.empty() && name != o.ref.name) continue;
        out += "---\n" + o.text;
        if (out.back() != '\n') out += "\n";
        ++*found;
      }
    }
  }
  return out;
}

}  // namespace remora::pilot
