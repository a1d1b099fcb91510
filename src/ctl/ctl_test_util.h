// Test data of src/ctl/testdata for the ctl tests: saved proxy admin output
// (pilot's translations of examples/bookinfo, a lab proxy's live dump, and
// hand-made dumps in the shape of modern Istio's), nat tables, hosts files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "ctl/config_dump.h"
#include "support/paths.h"

namespace remora::ctl::testdata {

inline std::string readTestdata(const std::string& name) {
  std::ifstream in(test::sourceDir() + "/src/ctl/testdata/" + name);
  EXPECT_TRUE(in.good()) << "missing testdata " << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "<name>.config_dump.json", parsed; fails the test if it does not parse.
inline ProxyConfig loadDump(const std::string& name) {
  auto config = parseConfigDump(readTestdata(name + ".config_dump.json"));
  EXPECT_TRUE(config.ok()) << name << ": " << config.status().message();
  return config.ok() ? std::move(*config) : ProxyConfig();
}

// "<name>.clusters.json", parsed.
inline envoy::admin::v3::Clusters loadClusters(const std::string& name) {
  auto clusters = parseClusters(readTestdata(name + ".clusters.json"));
  EXPECT_TRUE(clusters.ok()) << name << ": " << clusters.status().message();
  return clusters.ok() ? std::move(*clusters) : envoy::admin::v3::Clusters();
}

// Compares with src/ctl/testdata/golden/<name>; REMORA_UPDATE_GOLDEN=1
// rewrites the file instead (review the diff before committing it).
inline void expectGolden(const std::string& name, const std::string& actual) {
  std::string path = "golden/" + name;
  if (const char* update = std::getenv("REMORA_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(test::sourceDir() + "/src/ctl/testdata/" + path) << actual;
    return;
  }
  EXPECT_EQ(actual, readTestdata(path)) << "golden " << path;
}

}  // namespace remora::ctl::testdata
