#include "listener/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return remora::listener::fuzzClientHello(data, size);
}
