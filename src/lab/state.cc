#include "lab/state.h"

#include <yaml-cpp/yaml.h>

namespace remora::lab {

std::string renderState(const LabState& s) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << s.name;
  out << YAML::Key << "file" << YAML::Value << s.file;
  out << YAML::Key << "phase" << YAML::Value << s.phase;
  out << YAML::Key << "pod_cidr" << YAML::Value << s.pod_cidr;
  out << YAML::Key << "service_cidr" << YAML::Value << s.service_cidr;
  out << YAML::Key << "netns" << YAML::Value << YAML::Flow << s.netns;
  out << YAML::Key << "etc_dirs" << YAML::Value << YAML::BeginSeq;
  for (const auto& d : s.etc_dirs)
    out << d;
  out << YAML::EndSeq;
  out << YAML::Key << "processes" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : s.processes) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "pod" << YAML::Value << p.pod << YAML::Key
        << "role" << YAML::Value << p.role << YAML::Key << "pid" << YAML::Value << p.pid
        << YAML::Key << "start_time" << YAML::Value << p.start_time << YAML::Key << "log"
        << YAML::Value << p.log << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "pods" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : s.pods) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name << YAML::Key
        << "namespace" << YAML::Value << p.ns << YAML::Key << "netns" << YAML::Value << p.netns
        << YAML::Key << "ip" << YAML::Value << p.ip << YAML::Key << "sidecar" << YAML::Value
        << p.sidecar << YAML::Key << "admin" << YAML::Value << p.admin << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "services" << YAML::Value << YAML::BeginSeq;
  for (const auto& v : s.services) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << v.name << YAML::Key
        << "namespace" << YAML::Value << v.ns << YAML::Key << "cluster_ip" << YAML::Value
        << v.cluster_ip << YAML::Key << "ports" << YAML::Value << YAML::Flow << v.ports
        << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (s.pilot) {
    out << YAML::Key << "pilot" << YAML::Value << YAML::BeginMap << YAML::Key << "netns"
        << YAML::Value << s.pilot->netns << YAML::Key << "grpc_address" << YAML::Value
        << s.pilot->grpc_address << YAML::Key << "http_address" << YAML::Value
        << s.pilot->http_address << YAML::Key << "config_dir" << YAML::Value << s.pilot->config_dir
        << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string("# remoractl lab state: what `lab up` made; `lab down` removes it.\n") +
         out.c_str() + "\n";
}

StatusOr<LabState> parseState(const std::string& text) {
  // The file is ours, but it may be truncated or edited by hand: a problem is
  // an error, never an exception.
  try {
    YAML::Node n = YAML::Load(text);
    if (!n.IsMap()) return invalidArgumentError("lab state is not a map");
    LabState s;
    s.name = n["name"].as<std::string>();
    s.file = n["file"].as<std::string>("");
    s.phase = n["phase"].as<std::string>("");
    s.pod_cidr = n["pod_cidr"].as<std::string>("");
    s.service_cidr = n["service_cidr"].as<std::string>("");
    s.netns = n["netns"].as<std::vector<std::string>>(std::vector<std::string>{});
    s.etc_dirs = n["etc_dirs"].as<std::vector<std::string>>(std::vector<std::string>{});
    for (const auto& p : n["processes"]) {
      s.processes.push_back({p["pod"].as<std::string>(), p["role"].as<std::string>(),
                             p["pid"].as<pid_t>(), p["start_time"].as<uint64_t>(),
                             p["log"].as<std::string>("")});
    }
    for (const auto& p : n["pods"]) {
      s.pods.push_back({p["name"].as<std::string>(), p["namespace"].as<std::string>(),
                        p["netns"].as<std::string>(), p["ip"].as<std::string>(),
                        p["sidecar"].as<bool>(), p["admin"].as<std::string>("")});
    }
    for (const auto& v : n["services"]) {
      s.services.push_back({v["name"].as<std::string>(), v["namespace"].as<std::string>(),
                            v["cluster_ip"].as<std::string>(),
                            v["ports"].as<std::vector<uint16_t>>(std::vector<uint16_t>{})});
    }
    if (YAML::Node p = n["pilot"]; p && !p.IsNull()) {
      s.pilot = PilotRecord{p["netns"].as<std::string>(), p["grpc_address"].as<std::string>(),
                            p["http_address"].as<std::string>(), p["config_dir"].as<std::string>()};
    }
    return s;
  } catch (const YAML::Exception& e) {
    return invalidArgumentError("lab state: " + std::string(e.what()));
  }
}

}  // namespace remora::lab
