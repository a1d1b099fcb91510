#include "ctl/pilot_commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>

#include "ctl/config_dump.h"
#include "ctl/json_value.h"
#include "ctl/objects.h"
#include "ctl/pilot_client.h"
#include "ctl/proxy_source.h"
#include "ctl/proxy_status.h"
#include "lab/system.h"

namespace remora::ctl {
namespace {

namespace fs = std::filesystem;

constexpr char kObjectsPath[] = "/apis/v1/objects";

void addPilotOptions(CLI::App* app, PilotFlags& f) {
  app->add_option("--pilot", f.pilot,
                  "Pilot's HTTP address HOST:PORT (default: $REMORA_PILOT, else the pilot of a "
                  "running lab, else 127.0.0.1:15014)");
  app->add_option("--lab", f.lab, "The lab whose pilot and pods are used")->capture_default_str();
  app->add_option("--state-dir", f.state_root, "Where labs record what they made")
      ->capture_default_str();
}

StatusOr<PilotClient> connectPilot(const PilotFlags& f) {
  const char* env = std::getenv(kPilotEnv);
  REMORA_ASSIGN_OR_RETURN(PilotTarget target, findPilot(f, env ? env : ""));
  return PilotClient(std::move(target));
}

// Prints each line of `text` as "remoractl: <line>" on stderr.
void printErrorLines(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) printError(text.substr(start, end - start));
    start = end + 1;
  }
}

// ---------------------------------------------------------------------------
// proxy-status

struct ProxyStatusFlags {
  PilotFlags pilot;
  std::string pod;
};

// The detail's last part: what pilot would send the proxy against what the
// proxy runs, read from its admin (found through pilot, then the lab).
Status compareWithProxy(const PilotClient& pilot, const PilotFlags& f, const ProxySync& p) {
  REMORA_ASSIGN_OR_RETURN(std::string want,
                          pilot.get("/debug/config_dump?proxyID=" + queryEscape(p.proxy)));
  auto pilot_dump = parseConfigDump(want);
  if (!pilot_dump.ok()) return pilot_dump.status().withPrefix("pilot's /debug/config_dump");
  lab::LabOptions lab;
  lab.name = f.lab;
  lab.state_root = f.state_root;
  PilotProxyLocator locator(pilot, &lab);
  REMORA_ASSIGN_OR_RETURN(ProxyTarget target, locator.locate(p.proxy));
  REMORA_ASSIGN_OR_RETURN(std::string have, adminGet(target, "/config_dump?include_eds"));
  auto proxy_dump = parseConfigDump(have);
  if (!proxy_dump.ok()) return proxy_dump.status().withPrefix(target.display + " /config_dump");
  std::string out = compareProxyConfig(pilot_dump->dump, proxy_dump->dump);
  std::fputs(("\nPilot's config against the proxy's (" + target.display + " admin " +
              target.admin.toString() + "):\n" + out)
                 .c_str(),
             stdout);
  return Status::okStatus();
}

int runProxyStatus(const ProxyStatusFlags& f) {
  auto pilot = connectPilot(f.pilot);
  if (!pilot.ok()) return failWith(pilot.status());
  auto syncz = pilot->get("/debug/syncz");
  if (!syncz.ok()) return failWith(syncz.status());
  auto adsz = pilot->get("/debug/adsz");
  if (!adsz.ok()) return failWith(adsz.status());
  auto sync = parseProxyStatus(*syncz, *adsz);
  if (!sync.ok())
    return failWith(sync.status().withPrefix("pilot at " + pilot->target().describe()));
  if (f.pod.empty()) {
    std::fputs(proxyStatusTable(*sync, pilot->target().address()).c_str(), stdout);
    return kExitOk;
  }
  auto streams = findProxyStatus(*sync, f.pod);
  if (!streams.ok()) return failWith(streams.status());
  PilotSync one;
  for (const ProxySync* p : *streams)
    one.proxies.push_back(*p);
  std::fputs(proxyStatusTable(one, pilot->target().address()).c_str(), stdout);
  for (const ProxySync* p : *streams)
    std::fputs(("\n" + proxyStatusDetail(*p)).c_str(), stdout);
  Status compared = compareWithProxy(*pilot, f.pilot, *streams->back());
  if (!compared.ok()) {
    std::fflush(stdout);
    printError("cannot compare pilot's config with the proxy's: " + compared.message());
    return kExitFailed;
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// apply, create, delete

struct WriteFlags {
  PilotFlags pilot;
  std::vector<std::string> files;
};

struct Input {
  std::string name;  // as messages show it: the path, or STDIN
  std::string text;
};

// -f FILE, -f DIR (its *.yaml, *.yml and *.json, in name order), -f - (stdin).
StatusOr<std::vector<Input>> readInputs(const std::vector<std::string>& files) {
  std::vector<Input> out;
  for (const std::string& f : files) {
    if (f == "-") {
      std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
      out.push_back({"STDIN", std::move(text)});
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(f, ec)) {
      std::vector<std::string> names;
      for (auto it = fs::directory_iterator(f, ec); !ec && it != fs::directory_iterator();
           it.increment(ec)) {
        std::string ext = it->path().extension().string();
        if (ext == ".yaml" || ext == ".yml" || ext == ".json") names.push_back(it->path().string());
      }
      if (ec) return invalidArgumentError("-f " + f + ": " + ec.message());
      std::sort(names.begin(), names.end());
      if (names.empty()) return invalidArgumentError("-f " + f + ": no .yaml, .yml or .json files");
      for (const std::string& n : names) {
        REMORA_ASSIGN_OR_RETURN(std::string text, lab::readTextFile(n));
        out.push_back({n, std::move(text)});
      }
      continue;
    }
    auto text = lab::readTextFile(f);
    if (!text.ok()) return invalidArgumentError("-f " + f + ": " + text.status().message());
    out.push_back({f, std::move(*text)});
  }
  return out;
}

enum class Verb { kApply, kCreate, kDelete };

// create: every object of the input must be new; nothing is written otherwise.
// (Checked before the write: a concurrent writer could still slip in between.)
Status refuseExisting(const PilotClient& pilot, const Input& in) {
  REMORA_ASSIGN_OR_RETURN(auto ids, objectIds(in.text, in.name));
  std::string existing;
  for (const ObjectId& id : ids) {
    REMORA_ASSIGN_OR_RETURN(
        HttpReply reply,
        pilot.request("GET", std::string(kObjectsPath) + "?kind=" + queryEscape(id.kind) +
                                 "&namespace=" + queryEscape(id.namespace_) +
                                 "&name=" + queryEscape(id.name)));
    if (reply.status == 404) continue;
    if (reply.status != 200) {
      return unavailableError("pilot: GET " + std::string(kObjectsPath) + ": HTTP " +
                              std::to_string(reply.status) + ": " + pilotErrorMessage(reply.body));
    }
    const KindInfo* kind = findKind(id.kind);
    existing += (existing.empty() ? "" : "; ") +
                (kind ? pluralResourceName(*kind) : resourceName(id.kind)) + " \"" + id.name +
                "\" already exists in namespace " + id.namespace_;
  }
  if (!existing.empty()) {
    return alreadyExistsError(in.name + ": " + existing + " (apply replaces an object)");
  }
  return Status::okStatus();
}

int runWrite(Verb verb, const WriteFlags& f) {
  if (f.files.empty()) return failWith(invalidArgumentError("give -f FILE, -f DIR or -f -"));
  auto pilot = connectPilot(f.pilot);
  if (!pilot.ok()) return failWith(pilot.status());
  auto inputs = readInputs(f.files);
  if (!inputs.ok()) return failWith(inputs.status());
  bool ok = true;
  for (const Input& in : *inputs) {
    if (verb == Verb::kCreate) {
      if (Status s = refuseExisting(*pilot, in); !s.ok()) {
        printError(s.message());
        ok = false;
        continue;
      }
    }
    bool is_delete = verb == Verb::kDelete;
    auto reply = pilot->request(is_delete ? "DELETE" : "POST", kObjectsPath, in.text);
    if (!reply.ok()) return failWith(reply.status());
    WriteReport report = reportWrite(reply->status, reply->body, is_delete, in.name);
    std::fputs(report.out.c_str(), stdout);
    std::fflush(stdout);
    printErrorLines(report.err);
    ok = ok && report.ok;
  }
  return ok ? kExitOk : kExitFailed;
}

// delete KIND NAME...: the documents pilot's DELETE wants, made from names.
struct DeleteFlags {
  WriteFlags write;
  std::vector<std::string> args;  // KIND NAME...
  std::string namespace_ = "default";
};

int runDelete(const DeleteFlags& f) {
  if (!f.write.files.empty()) {
    if (!f.args.empty())
      return failWith(invalidArgumentError("give either -f or KIND NAME..., not both"));
    return runWrite(Verb::kDelete, f.write);
  }
  if (f.args.size() < 2) return failWith(invalidArgumentError("give -f FILE|-, or KIND NAME..."));
  auto kind = resolveKind(f.args[0]);
  if (!kind.ok()) return failWith(kind.status());
  auto pilot = connectPilot(f.write.pilot);
  if (!pilot.ok()) return failWith(pilot.status());
  std::string yaml;
  for (size_t i = 1; i < f.args.size(); ++i) {
    yaml += "---\nkind: " + std::string((*kind)->kind) +
            "\nmetadata:\n  name: " + jsonQuote(f.args[i]) +
            "\n  namespace: " + jsonQuote(f.namespace_) + "\n";
  }
  auto reply = pilot->request("DELETE", kObjectsPath, yaml);
  if (!reply.ok()) return failWith(reply.status());
  WriteReport report = reportWrite(reply->status, reply->body, true, "the command line");
  std::fputs(report.out.c_str(), stdout);
  std::fflush(stdout);
  printErrorLines(report.err);
  return report.ok ? kExitOk : kExitFailed;
}

// ---------------------------------------------------------------------------
// get

struct GetFlags {
  PilotFlags pilot;
  std::string kind;
  std::string name;
  std::string namespace_ = "default";
  bool all_namespaces = false;
  std::string output;
};

int runGet(const GetFlags& f) {
  GetRequest request;
  auto kind = resolveKind(f.kind);
  if (!kind.ok()) return failWith(kind.status());
  auto format = parseGetFormat(f.output);
  if (!format.ok()) return failWith(format.status());
  request.kind = *kind;
  request.name = f.name;
  request.namespace_ = f.namespace_;
  request.all_namespaces = f.all_namespaces;
  request.format = *format;
  auto pilot = connectPilot(f.pilot);
  if (!pilot.ok()) return failWith(pilot.status());
  std::string query = std::string(kObjectsPath) + "?kind=" + queryEscape(request.kind->kind);
  if (!f.all_namespaces) query += "&namespace=" + queryEscape(f.namespace_);
  if (!f.name.empty()) query += "&name=" + queryEscape(f.name);
  auto reply = pilot->request("GET", query);
  if (!reply.ok()) return failWith(reply.status());
  std::string where = f.all_namespaces ? "" : " in namespace " + f.namespace_;
  if (reply->status == 404 && !f.name.empty()) {
    printError(pluralResourceName(*request.kind) + " \"" + f.name + "\" not found" + where);
    return kExitFailed;
  }
  if (reply->status != 200) {
    printError("pilot: GET " + query + ": HTTP " + std::to_string(reply->status) + ": " +
               pilotErrorMessage(reply->body));
    return kExitFailed;
  }
  auto out = renderGet(request, reply->body);
  if (!out.ok()) return failWith(out.status());
  if (out->empty()) {
    // kubectl's words, on stderr so that scripts see an empty list.
    std::fprintf(stderr, "No resources found%s.\n", where.c_str());
    return kExitOk;
  }
  std::fputs(out->c_str(), stdout);
  return kExitOk;
}

}  // namespace

void addProxyStatusCommand(CommandLine& cli) {
  auto flags = std::make_shared<ProxyStatusFlags>();
  CLI::App* ps = cli.root().add_subcommand(
      "proxy-status",
      "Every proxy connected to pilot and whether it has what pilot sent (CDS, LDS, EDS, RDS: "
      "SYNCED, NOT SENT, STALE, NACKED), as istioctl proxy-status shows it; with a pod, the "
      "detail and a comparison with the proxy's own config (docs/remoractl.md)");
  ps->alias("ps");
  ps->add_option("pod", flags->pod, "<pod>[.<namespace>] for the detail of one proxy");
  addPilotOptions(ps, flags->pilot);
  ps->callback([&cli, flags] { cli.setAction([flags] { return runProxyStatus(*flags); }); });
}

void addObjectCommands(CommandLine& cli) {
  struct WriteVerb {
    Verb verb;
    const char* name;
    const char* help;
  };
  const WriteVerb verbs[] = {
      {Verb::kApply, "apply",
       "Create or replace the objects of a YAML file through pilot's config API; pilot "
       "validates them as it validates its folder and writes them there"},
      {Verb::kCreate, "create",
       "Like apply, but refuses objects that exist (istioctl create -f -, as in the seed)"},
  };
  for (const WriteVerb& v : verbs) {
    auto flags = std::make_shared<WriteFlags>();
    CLI::App* sub = cli.root().add_subcommand(v.name, v.help);
    sub->add_option("-f,--filename", flags->files,
                    "A YAML file, a folder of them, or - for standard input (repeatable)")
        ->required()
        ->allow_extra_args(false);
    addPilotOptions(sub, flags->pilot);
    Verb verb = v.verb;
    sub->callback(
        [&cli, flags, verb] { cli.setAction([flags, verb] { return runWrite(verb, *flags); }); });
  }

  auto del = std::make_shared<DeleteFlags>();
  CLI::App* d = cli.root().add_subcommand(
      "delete",
      "Delete the objects a YAML file names (or KIND NAME...) through pilot's config API");
  d->add_option("-f,--filename", del->write.files, "A YAML file, a folder of them, or -")
      ->allow_extra_args(false);
  d->add_option("args", del->args, "KIND NAME... instead of -f (e.g. vs reviews)");
  d->add_option("-n,--namespace", del->namespace_, "The namespace of KIND NAME...")
      ->capture_default_str();
  addPilotOptions(d, del->write.pilot);
  d->callback([&cli, del] { cli.setAction([del] { return runDelete(*del); }); });

  auto get = std::make_shared<GetFlags>();
  CLI::App* g = cli.root().add_subcommand(
      "get",
      "List the objects pilot serves from its folder: virtualservices (vs), destinationrules "
      "(dr), serviceentries (se), services (svc), pods (po)");
  g->add_option("kind", get->kind, "virtualservices|destinationrules|serviceentries|services|pods")
      ->required();
  g->add_option("name", get->name, "Only this object");
  g->add_option("-n,--namespace", get->namespace_, "The namespace")->capture_default_str();
  g->add_flag("-A,--all-namespaces", get->all_namespaces, "Every namespace");
  g->add_option("-o,--output", get->output, "yaml or json (default: a table)");
  addPilotOptions(g, get->pilot);
  g->callback([&cli, get] { cli.setAction([get] { return runGet(*get); }); });
}

}  // namespace remora::ctl
