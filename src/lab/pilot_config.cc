#include "lab/pilot_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace remora::lab {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void stringMap(YAML::Emitter& out, const char* key, const std::map<std::string, std::string>& m) {
  if (m.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : m)
    out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::EndMap;
}

void metadata(YAML::Emitter& out, const std::string& name, const std::string& ns,
              const std::map<std::string, std::string>& labels) {
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  out << YAML::Key << "namespace" << YAML::Value << ns;
  stringMap(out, "labels", labels);
  out << YAML::EndMap;
}

bool allDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string joinDocuments(const std::string& header, const std::vector<std::string>& docs) {
  std::string out = header;
  for (const auto& d : docs)
    out += "---\n" + d;
  return out;
}

}  // namespace

std::string podObjectYaml(const Pod& pod) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Pod";
  metadata(out, pod.name, pod.ns, pod.labels);
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  if (!pod.service_account.empty()) {
    out << YAML::Key << "serviceAccountName" << YAML::Value << pod.service_account;
  }
  out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
  for (const Container& c : pod.containers) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name;
    if (!c.ports.empty()) {
      out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
      for (size_t i = 0; i < c.ports.size(); ++i) {
        out << YAML::Flow << YAML::BeginMap;
        if (i < c.port_names.size() && !c.port_names[i].empty()) {
          out << YAML::Key << "name" << YAML::Value << c.port_names[i];
        }
        out << YAML::Key << "containerPort" << YAML::Value << c.ports[i] << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  // The lab starts every pod it lists, so to pilot each one is running and
  // ready (a backend of the Services that select it).
  out << YAML::Key << "status" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "phase" << YAML::Value << "Running";
  out << YAML::Key << "podIP" << YAML::Value << pod.ip.toString();
  out << YAML::Key << "conditions" << YAML::Value << YAML::BeginSeq;
  out << YAML::Flow << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "Ready" << YAML::Key
      << "status" << YAML::Value << YAML::DoubleQuoted << "True" << YAML::EndMap;
  out << YAML::EndSeq << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string serviceObjectYaml(const Service& service) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Service";
  metadata(out, service.name, service.ns, service.labels);
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "clusterIP" << YAML::Value << service.cluster_ip.toString();
  if (service.has_selector) {
    out << YAML::Key << "selector" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : service.selector)
      out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    out << YAML::EndMap;
  }
  if (!service.ports.empty()) {
    out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
    for (const ServicePort& p : service.ports) {
      out << YAML::Flow << YAML::BeginMap;
      if (!p.name.empty()) out << YAML::Key << "name" << YAML::Value << p.name;
      out << YAML::Key << "port" << YAML::Value << p.port;
      if (allDigits(p.target_port)) {
        out << YAML::Key << "targetPort" << YAML::Value << std::stoi(p.target_port);
      } else if (!p.target_port.empty()) {
        out << YAML::Key << "targetPort" << YAML::Value << p.target_port;
      }
      if (!p.protocol.empty()) out << YAML::Key << "protocol" << YAML::Value << p.protocol;
      if (!p.app_protocol.empty()) {
        out << YAML::Key << "appProtocol" << YAML::Value << p.app_protocol;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::vector<ConfigFile> pilotConfigFiles(const LabSpec& spec) {
  std::string from = "# Written by `remoractl lab up` from " + spec.source;
  std::vector<ConfigFile> files;
  std::vector<std::string> docs;
  for (const Service& s : spec.services)
    docs.push_back(serviceObjectYaml(s));
  files.push_back({"services.yaml", joinDocuments(from + ": the lab's Services.\n", docs)});
  docs.clear();
  for (const Pod& p : spec.pods)
    docs.push_back(podObjectYaml(p));
  files.push_back(
      {"pods.yaml", joinDocuments(from + ": the lab's Pods, with their addresses.\n", docs)});
  for (const IstioObject& o : spec.istio_objects) {
    files.push_back(
        {istioObjectFileName(o), from + ":" + std::to_string(o.line) + "\n---\n" + o.yaml});
  }
  return files;
}

std::string istioObjectFileName(const IstioObject& object) {
  return lower(object.kind) + "-" + object.ns + "-" + object.name + ".yaml";
}

std::string sidecarNodeId(const Pod& pod) {
  return "sidecar~" + pod.ip.toString() + "~" + pod.name + "." + pod.ns + "~" + pod.ns +
         ".svc.cluster.local";
}

std::string pilotBootstrapFor(const Pod& pod, const network::SocketAddress& xds) {
  auto app = pod.labels.find("app");
  std::string workload = app != pod.labels.end() ? app->second : pod.name;
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "node" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << sidecarNodeId(pod);
  out << YAML::Key << "cluster" << YAML::Value << workload + "." + pod.ns;
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "NAMESPACE" << YAML::Value << pod.ns;
  out << YAML::Key << "NAME" << YAML::Value << pod.name;
  out << YAML::Key << "LABELS" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : pod.labels)
    out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::EndMap;
  out << YAML::Key << "INSTANCE_IPS" << YAML::Value << pod.ip.toString();
  out << YAML::EndMap << YAML::EndMap;

  out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
      << "socket_address" << YAML::Value << YAML::BeginMap << YAML::Key << "address" << YAML::Value
      << "127.0.0.1" << YAML::Key << "port_value" << YAML::Value << 15000 << YAML::EndMap
      << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "dynamic_resources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "ads_config" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "api_type" << YAML::Value << "GRPC";
  out << YAML::Key << "transport_api_version" << YAML::Value << "V3";
  out << YAML::Key << "grpc_services" << YAML::Value << YAML::BeginSeq << YAML::Flow
      << YAML::BeginMap << YAML::Key << "envoy_grpc" << YAML::Value << YAML::BeginMap << YAML::Key
      << "cluster_name" << YAML::Value << kXdsClusterName << YAML::EndMap << YAML::EndMap
      << YAML::EndSeq;
  out << YAML::EndMap;
  for (const char* key : {"lds_config", "cds_config"}) {
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "ads"
        << YAML::Value << YAML::BeginMap << YAML::EndMap << YAML::Key << "resource_api_version"
        << YAML::Value << "V3" << YAML::EndMap;
  }
  out << YAML::EndMap;

  out << YAML::Key << "static_resources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kXdsClusterName;
  out << YAML::Key << "type" << YAML::Value << "STATIC";
  out << YAML::Key << "connect_timeout" << YAML::Value << "1s";
  // gRPC needs HTTP/2 to the control plane.
  out << YAML::Key << "http2_protocol_options" << YAML::Value << YAML::Flow << YAML::BeginMap
      << YAML::EndMap;
  out << YAML::Key << "load_assignment" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster_name" << YAML::Value << kXdsClusterName;
  out << YAML::Key << "endpoints" << YAML::Value << YAML::BeginSeq << YAML::Flow << YAML::BeginMap
      << YAML::Key << "lb_endpoints" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key
      << "endpoint" << YAML::Value << YAML::BeginMap << YAML::Key << "address" << YAML::Value
      << YAML::BeginMap << YAML::Key << "socket_address" << YAML::Value << YAML::BeginMap
      << YAML::Key << "address" << YAML::Value << xds.ip.toString() << YAML::Key << "port_value"
      << YAML::Value << xds.port << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap
      << YAML::EndSeq << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return "# Generated by `remoractl lab up` for pod " + pod.name + "." + pod.ns +
         ": configured by the lab's pilot over ADS.\n" + out.c_str() + "\n";
}

}  // namespace remora::lab
