// libFuzzer bodies for the listener filters' parsers; fuzz/ wraps them in
// LLVMFuzzerTestOneInput. They abort if a parser breaks its own contract.
#pragma once

#include <cstddef>
#include <cstdint>

namespace remora::listener {

int fuzzClientHello(const uint8_t* data, size_t size);
int fuzzDetectHttp(const uint8_t* data, size_t size);

}  // namespace remora::listener
