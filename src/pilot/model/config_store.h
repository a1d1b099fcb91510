// Reading a config folder into a set of validated objects. A bad document or
// object is refused on its own; everything else in the folder still loads, so
// one typo never takes the mesh down.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pilot/model/parse.h"
#include "pilot/model/types.h"

namespace remora::pilot {

struct ConfigSet {
  std::vector<ConfigObject> objects;  // accepted, in file-name then document order
  std::vector<Refusal> refusals;
  std::vector<std::string> warnings;  // ignored kinds, unreadable files
  MeshConfig mesh;
  std::string mesh_source = "defaults";  // or the file / ConfigMap it came from
};

// A YAML file cut into documents the way pilot reads it: at lines that start
// with `---`. Comments before the first `---` are a preamble, not a
// document; every other chunk is one, blank or not, so that `documents[i]` is
// the document SourceRef::document = i names. join() gives the text back
// (each line newline-terminated), which lets the write API replace or drop
// one document of a file and keep the rest as written.
struct YamlDocument {
  std::string separator;  // the `---` line before it, with its newline; "" for none
  std::string text;
  int first_line = 0;  // 0-based line of the file where `text` starts
};
struct YamlFile {
  std::string preamble;
  std::vector<YamlDocument> documents;
  std::string join() const;
};
YamlFile splitYamlFile(const std::string& text);
// True when a chunk holds nothing but blank lines and comments.
bool isBlankYaml(const std::string& text);

// Adds the documents of one file. `file_name` is what refusals quote.
void addConfigText(const std::string& file_name, const std::string& text, ConfigSet* set);

// What each file of a folder parsed to, by file name, so that a reload
// parses again only the files whose text changed: saving one VirtualService
// does not re-read a 3000-pod file as YAML. A file's result depends on its
// text alone (addConfigText), which is what makes reuse exact. Owned by one
// loader (the watcher's thread).
struct ParsedFileCache {
  struct File {
    std::string text;
    ConfigSet parsed;  // objects, refusals and warnings of this file only
  };
  std::map<std::string, File> files;
  size_t parsed_last = 0;  // files parsed by the last load (the rest reused)
};

// Reads every *.yaml and *.yml directly inside `dir` (sorted by name, not
// recursive), then applies the mesh config: `mesh_config_file` when not empty
// (Istio's MeshConfig YAML), else a ConfigMap istio-system/istio in the folder,
// else defaults. Of several objects with the same kind, namespace and name, the
// one from the file that defined it in `previous` (the set being replaced)
// is kept, else the first in file order; the others are refused. With
// `cache`, unchanged files are taken from it and it is updated (files gone
// from the folder leave it).
ConfigSet loadConfigDir(const std::string& dir, const std::string& mesh_config_file = "",
                        const ConfigSet* previous = nullptr, ParsedFileCache* cache = nullptr);

// Duplicate check and mesh config selection, for sets built with addConfigText.
void finishConfigSet(ConfigSet* set, const ConfigSet* previous = nullptr);

}  // namespace remora::pilot
