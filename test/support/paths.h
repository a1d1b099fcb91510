// Where the tests find the source tree (test data, fuzz corpora) and the build
// tree (the binaries that integration tests start). The paths are compiled in,
// so a test binary run by hand works as well as under ctest; the environment
// variables REMORA_SOURCE_DIR and REMORA_BUILD_DIR override them.
#pragma once

#include <cstdlib>
#include <string>

namespace remora::test {

inline std::string sourceDir() {
  const char* env = std::getenv("REMORA_SOURCE_DIR");
  return env != nullptr ? env : REMORA_TEST_SOURCE_DIR;
}

inline std::string buildDir() {
  const char* env = std::getenv("REMORA_BUILD_DIR");
  return env != nullptr ? env : REMORA_TEST_BUILD_DIR;
}

}  // namespace remora::test
