// Replays the fuzz corpus through the fuzzers' entry points in every build,
// without libFuzzer, so regressions found by fuzzing stay found.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "http1_fuzz.h"
#include "listener/fuzz_entry.h"
#include "support/paths.h"

namespace remora::fuzz {
namespace {

namespace fs = std::filesystem;

size_t replay(const char* corpus, void (*entry)(const uint8_t*, size_t)) {
  fs::path dir = fs::path(test::sourceDir()) / "fuzz" / "corpus" / corpus;
  size_t n = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(f.path().string());
    entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

TEST(FuzzCorpusTest, Http1Request) {
  EXPECT_GE(replay("http1_request", fuzzHttp1Request), 20u);
}

TEST(FuzzCorpusTest, Http1Response) {
  EXPECT_GE(replay("http1_response", fuzzHttp1Response), 20u);
}

TEST(FuzzCorpusTest, ClientHello) {
  auto entry = [](const uint8_t* d, size_t n) { listener::fuzzClientHello(d, n); };
  EXPECT_GE(replay("client_hello", entry), 10u);
}

TEST(FuzzCorpusTest, HttpDetect) {
  auto entry = [](const uint8_t* d, size_t n) { listener::fuzzDetectHttp(d, n); };
  EXPECT_GE(replay("http_detect", entry), 10u);
}

}  // namespace
}  // namespace remora::fuzz
