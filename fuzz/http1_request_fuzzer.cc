#include "http1_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remora::fuzz::fuzzHttp1Request(data, size);
  return 0;
}
