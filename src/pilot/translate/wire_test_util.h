// Test helper: the bytes protobuf's own serializer writes for a message, in
// deterministic mode (map entries sorted), which is what the encoded
// resources are compared with.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include <string>

namespace remora::pilot {

inline std::string deterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    // The streams hand the unused tail of `out` back when destroyed.
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace remora::pilot
