// Golden files: for each scenario folder under src/pilot/testdata, the exact
// output of `remora-pilot translate --config-dir <folder> --proxy <id>` for
// each proxy listed below, in <folder>/<id>.json, and what it reports on
// stderr (refusals, warnings) in <folder>/messages.txt (absent when nothing).
// The goldens change only on purpose:
//   REMORA_UPDATE_GOLDEN=1 ctest --test-dir build/pilot -R PilotGolden
// rewrites them from the current output; review the diff before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pilot/cli.h"
#include "support/paths.h"

namespace remora::pilot {
namespace {

struct Scenario {
  const char* folder;
  std::vector<const char*> proxies;
};

// Pod names as in the seed where it names them (reviews-v1-..., ratings-v1-...).
const char kProductpage[] = "productpage-v1-6b746f74dc-9stvs.default";
const char kReviewsV1[] = "reviews-v1-76474f6fb7-pmglr.default";

const Scenario kScenarios[] = {
    // The seed's mesh, from the sidecar the article inspects and from its caller.
    {"bookinfo", {kReviewsV1, kProductpage}},
    // The seed's S5: no rules; a VirtualService to subset v1 before any
    // DestinationRule (the route points at a cluster that does not exist);
    // then the DestinationRule with subsets v1, v2, v3.
    {"s5_1_no_rules", {kProductpage}},
    {"s5_2_vs_without_dr", {kProductpage}},
    {"s5_3_vs_with_dr", {kProductpage}},
    {"weighted_80_20", {kProductpage}},
    {"header_match", {kProductpage}},
    {"tcp_service", {"ratings-v2-6bf8c5b9f7-r4ktp.default", "mongodb-v1-6d4b56f7f-x2kdq.default"}},
    {"two_namespaces", {"reviews-v1-7f99cc4496-4gdbn.prod", "ratings-v1-8558d4458d-ns6lk.default"}},
    {"registry_only", {kProductpage}},
    {"service_entry", {"sleep-7f8c9c6c5d-lm2xq.default"}},
    {"refusals", {"ratings-v1-8558d4458d-ns6lk.default"}},
};

void PrintTo(const Scenario& s, std::ostream* os) {
  *os << s.folder;
}

std::string folderOf(const Scenario& s) {
  return test::sourceDir() + "/src/pilot/testdata/" + s.folder;
}

bool updating() {
  const char* v = std::getenv("REMORA_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares `actual` with the golden file, or rewrites it when updating. An
// empty `actual` means the file must not exist.
void checkGolden(const std::string& path, const std::string& actual) {
  if (updating()) {
    if (actual.empty()) {
      std::filesystem::remove(path);
    } else {
      std::ofstream(path, std::ios::binary) << actual;
    }
    return;
  }
  if (!std::filesystem::exists(path)) {
    if (!actual.empty())
      ADD_FAILURE() << path << " does not exist; REMORA_UPDATE_GOLDEN=1 creates it";
    return;
  }
  // Not EXPECT_EQ on the whole text: on a mismatch, the first differing line
  // says more than two walls of JSON.
  std::istringstream want(readFile(path)), got(actual);
  std::string w, g;
  int line = 0;
  while (true) {
    bool more_w = static_cast<bool>(std::getline(want, w));
    bool more_g = static_cast<bool>(std::getline(got, g));
    ++line;
    if (!more_w && !more_g) return;
    if (!more_w || !more_g || w != g) {
      ADD_FAILURE() << path << ":" << line << ": want\n  " << (more_w ? w : "<end of file>")
                    << "\ngot\n  " << (more_g ? g : "<end of output>")
                    << "\n(REMORA_UPDATE_GOLDEN=1 rewrites the goldens; review the diff)";
      return;
    }
  }
}

class PilotGolden : public testing::TestWithParam<Scenario> {};

TEST_P(PilotGolden, TranslateOutputMatches) {
  const Scenario& s = GetParam();
  std::string messages;
  for (const char* proxy : s.proxies) {
    std::ostringstream out, err;
    ASSERT_EQ(runTranslate(folderOf(s), "", proxy, std::nullopt, out, err), 0) << err.str();
    checkGolden(folderOf(s) + "/" + proxy + ".json", out.str());
    // What pilot reports depends on the folder, not on the proxy.
    if (proxy == s.proxies.front()) {
      messages = err.str();
    } else {
      EXPECT_EQ(err.str(), messages) << proxy;
    }
  }
  checkGolden(folderOf(s) + "/messages.txt", messages);
}

TEST_P(PilotGolden, OutputIsTheSameOnEveryRun) {
  const Scenario& s = GetParam();
  std::ostringstream a, b, err;
  ASSERT_EQ(runTranslate(folderOf(s), "", s.proxies.front(), std::nullopt, a, err), 0);
  ASSERT_EQ(runTranslate(folderOf(s), "", s.proxies.front(), std::nullopt, b, err), 0);
  EXPECT_EQ(a.str(), b.str());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, PilotGolden, testing::ValuesIn(kScenarios),
                         [](const testing::TestParamInfo<Scenario>& info) {
                           return info.param.folder;
                         });

// A golden nobody checks any more would rot silently.
TEST(PilotGoldenFiles, EveryGoldenBelongsToAScenario) {
  std::set<std::string> expected, found;
  for (const Scenario& s : kScenarios) {
    for (const char* proxy : s.proxies)
      expected.insert(std::string(s.folder) + "/" + proxy + ".json");
  }
  for (const auto& dir :
       std::filesystem::directory_iterator(test::sourceDir() + "/src/pilot/testdata")) {
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() == ".json") {
        found.insert(dir.path().filename().string() + "/" + f.path().filename().string());
      }
    }
  }
  EXPECT_EQ(found, expected);
}

}  // namespace
}  // namespace remora::pilot
