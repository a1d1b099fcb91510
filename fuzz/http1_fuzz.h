// Entry points shared by the libFuzzer targets and the corpus replay test:
// each feeds one input to a codec, whole and then in slices whose sizes the
// input's first byte chooses, and checks that the two agree.
#pragma once

#include <cstddef>
#include <cstdint>

namespace remora::fuzz {

void fuzzHttp1Request(const uint8_t* data, size_t size);
void fuzzHttp1Response(const uint8_t* data, size_t size);

}  // namespace remora::fuzz
