#include "pilot/model/config_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace remora::pilot {
namespace {

std::string readFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  return out.str();
}

}  // namespace

bool isBlankYaml(const std::string& chunk) {
  std::istringstream in(chunk);
  std::string line;
  while (std::getline(in, line)) {
    size_t p = line.find_first_not_of(" \t\r");
    if (p != std::string::npos && line[p] != '#') return false;
  }
  return true;
}

YamlFile splitYamlFile(const std::string& text) {
  YamlFile file;
  std::istringstream in(text);
  std::string line;
  YamlDocument current;
  int line_no = 0;
  while (std::getline(in, line)) {
    if (line.rfind("---", 0) == 0 && (line.size() == 3 || line[3] == ' ' || line[3] == '\r')) {
      file.documents.push_back(std::move(current));
      current = YamlDocument{};
      current.separator = line + "\n";
      current.first_line = line_no + 1;
    } else {
      current.text += line + "\n";
    }
    ++line_no;
  }
  file.documents.push_back(std::move(current));
  if (file.documents.front().separator.empty() && isBlankYaml(file.documents.front().text)) {
    file.preamble = std::move(file.documents.front().text);
    file.documents.erase(file.documents.begin());
  }
  return file;
}

std::string YamlFile::join() const {
  std::string out = preamble;
  for (const auto& d : documents)
    out += d.separator + d.text;
  return out;
}

void addConfigText(const std::string& file_name, const std::string& text, ConfigSet* set) {
  // Documents are split by hand rather than with YAML::LoadAll so that a syntax
  // error in one document does not lose the others. yaml-cpp counts lines from
  // the chunk's start; the chunk's first line is added back when quoting.
  YamlFile file = splitYamlFile(text);
  int index = 0;
  for (const auto& d : file.documents) {
    const std::string& chunk = d.text;
    int first_line = d.first_line;
    SourceRef where{file_name, index++, first_line + 1};
    if (isBlankYaml(chunk)) continue;
    YAML::Node doc;
    try {
      doc = YAML::Load(chunk);
    } catch (const YAML::Exception& ex) {
      Refusal r;
      r.source = where;
      if (ex.mark.line >= 0) r.source.line = first_line + ex.mark.line + 1;
      r.message = "invalid YAML: " + ex.msg;
      set->refusals.push_back(std::move(r));
      continue;
    }
    ParsedDocument parsed = parseDocument(doc, where, first_line);
    uint64_t hash = fnv1a(chunk);
    for (auto& o : parsed.objects) {
      o.content_hash = hash = fnv1a(o.key(), hash);
      set->objects.push_back(std::move(o));
    }
    for (auto& r : parsed.refusals)
      set->refusals.push_back(std::move(r));
    for (auto& w : parsed.warnings)
      set->warnings.push_back(std::move(w));
  }
}

void finishConfigSet(ConfigSet* set, const ConfigSet* previous) {
  auto idOf = [](const ConfigObject& o) {
    return std::string(objectKindName(o.kind)) + " " + o.key();
  };
  // Ids once, and a hash map: this runs at every reload over every object
  // of the mesh (thousands of pods), and ordered maps of fresh strings were
  // a good part of a reload's time.
  std::vector<std::string> ids;
  ids.reserve(set->objects.size());
  for (const auto& o : set->objects)
    ids.push_back(idOf(o));
  std::unordered_map<std::string_view, size_t> winner;  // id -> index into set->objects
  winner.reserve(ids.size());
  // Which file each object came from in the snapshot being replaced: when a
  // new file repeats an object, the one already served stays and the newcomer
  // is refused, whatever the file names' order. Only needed for duplicates.
  std::unordered_map<std::string, std::string> served_from;
  bool served_known = false;
  bool duplicates_seen = false;
  for (size_t i = 0; i < set->objects.size(); ++i) {
    auto [it, first] = winner.emplace(ids[i], i);
    if (first) continue;
    duplicates_seen = true;
    if (previous && !served_known) {
      for (const auto& o : previous->objects)
        served_from.emplace(idOf(o), o.source.file);
      served_known = true;
    }
    auto served = served_from.find(ids[i]);
    if (served != served_from.end() && set->objects[it->second].source.file != served->second &&
        set->objects[i].source.file == served->second) {
      it->second = i;
    }
  }
  std::vector<ConfigObject> kept;
  kept.reserve(set->objects.size());
  std::vector<ConfigObject> meshes;
  std::vector<Refusal> duplicates;
  if (duplicates_seen) {
    for (size_t i = 0; i < set->objects.size(); ++i) {
      const ConfigObject& o = set->objects[i];
      const ConfigObject& w = set->objects[winner[ids[i]]];
      if (&w != &o) {
        Refusal r;
        r.source = o.source;
        r.kind = objectKindName(o.kind);
        r.object = o.key();
        r.field = "metadata.name";
        r.message = "duplicate object: already defined at " + w.source.file + ":" +
                    std::to_string(w.source.line);
        duplicates.push_back(std::move(r));
      }
    }
  }
  for (size_t i = 0; i < set->objects.size(); ++i) {
    ConfigObject& o = set->objects[i];
    if (duplicates_seen && winner[ids[i]] != i) continue;
    if (o.kind == ObjectKind::kMeshConfig) {
      meshes.push_back(std::move(o));
    } else {
      kept.push_back(std::move(o));
    }
  }
  for (auto& r : duplicates)
    set->refusals.push_back(std::move(r));
  set->objects = std::move(kept);
  if (set->mesh_source == "defaults" && !meshes.empty()) {
    set->mesh = std::get<MeshConfig>(meshes.front().value);
    set->mesh_source = meshes.front().source.file + ": ConfigMap istio-system/istio";
  }
}

ConfigSet loadConfigDir(const std::string& dir, const std::string& mesh_config_file,
                        const ConfigSet* previous, ParsedFileCache* cache) {
  ConfigSet set;
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) {
      files.push_back(it->path().filename().string());
    }
  }
  if (ec) set.warnings.push_back("cannot read config dir " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::map<std::string, ParsedFileCache::File> seen;
  if (cache) cache->parsed_last = 0;
  // The previous set's objects by file, built only when a file has errors.
  std::map<std::string, std::vector<const ConfigObject*>> previous_by_file;
  bool previous_indexed = false;
  auto append = [&](const std::string& name, const ConfigSet& part) {
    set.objects.insert(set.objects.end(), part.objects.begin(), part.objects.end());
    set.refusals.insert(set.refusals.end(), part.refusals.begin(), part.refusals.end());
    set.warnings.insert(set.warnings.end(), part.warnings.begin(), part.warnings.end());
    if (!previous || part.refusals.empty()) return;
    // A file with errors withdraws nothing it served before: an editor that
    // saves in several writes, or a typo, must not take routing down until
    // the next save. Objects it no longer yields keep their last good
    // version; a file that loads cleanly (or is deleted) applies removals.
    if (!previous_indexed) {
      for (const auto& o : previous->objects)
        previous_by_file[o.source.file].push_back(&o);
      previous_indexed = true;
    }
    auto before = previous_by_file.find(name);
    if (before == previous_by_file.end()) return;
    std::set<std::pair<ObjectKind, std::string>> yielded;
    for (const auto& o : part.objects)
      yielded.emplace(o.kind, o.key());
    for (const ConfigObject* o : before->second) {
      if (yielded.count({o->kind, o->key()})) continue;
      set.objects.push_back(*o);
      set.warnings.push_back(name + ": " + objectKindName(o->kind) + " " + o->key() +
                             ": not loaded from the file as it is now (it has errors); the "
                             "last good version keeps serving");
    }
  };
  for (const auto& name : files) {
    bool ok = false;
    std::string text = readFile((fs::path(dir) / name).string(), &ok);
    if (!ok) {
      set.warnings.push_back("cannot read " + name);
      continue;
    }
    if (!cache) {
      ConfigSet part;
      addConfigText(name, text, &part);
      append(name, part);
      continue;
    }
    auto cached = cache->files.find(name);
    ParsedFileCache::File file;
    if (cached != cache->files.end() && cached->second.text == text) {
      file = std::move(cached->second);
    } else {
      file.text = std::move(text);
      addConfigText(name, file.text, &file.parsed);
      ++cache->parsed_last;
    }
    append(name, file.parsed);
    seen.emplace(name, std::move(file));
  }
  if (cache) cache->files = std::move(seen);
  if (!mesh_config_file.empty()) {
    bool ok = false;
    std::string text = readFile(mesh_config_file, &ok);
    SourceRef where{mesh_config_file, 0, 1};
    YAML::Node node;
    std::string error;
    if (!ok) {
      error = "cannot read file";
    } else {
      try {
        node = YAML::Load(text);
      } catch (const YAML::Exception& ex) {
        error = "invalid YAML: " + ex.msg;
      }
    }
    if (error.empty()) {
      auto parsed = parseMeshConfig(node, where);
      if (auto* mc = std::get_if<MeshConfig>(&parsed)) {
        set.mesh = *mc;
        set.mesh_source = mesh_config_file;
      } else {
        set.refusals.push_back(std::get<Refusal>(parsed));
      }
    } else {
      Refusal r;
      r.source = where;
      r.kind = "MeshConfig";
      r.message = error;
      set.refusals.push_back(std::move(r));
    }
    // As for the folder's files: a mesh config being rewritten, or with a
    // typo, keeps the last good one rather than falling back to defaults.
    if (set.mesh_source != mesh_config_file && previous &&
        previous->mesh_source == mesh_config_file) {
      set.mesh = previous->mesh;
      set.mesh_source = mesh_config_file;
      set.warnings.push_back(mesh_config_file +
                             ": not loaded as it is now (it has errors); the last good mesh "
                             "config keeps serving");
    }
  }
  finishConfigSet(&set, previous);
  return set;
}

}  // namespace remora::pilot
