#include "pilot/debug/json_writer.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace remora::pilot {

std::string jsonQuote(std::string_view s) {
  google::protobuf::Value v;
  v.set_string_value(std::string(s));
  std::string quoted;
  if (!google::protobuf::util::MessageToJsonString(v, &quoted).ok()) quoted = "\"\"";
  return quoted;
}

void JsonWriter::key(std::string_view k) {
  separate();
  out_ += jsonQuote(k);
  out_ += ": ";
  after_key_ = true;
}

void JsonWriter::value(std::string_view v) {
  separate();
  out_ += jsonQuote(v);
}

void JsonWriter::value(int64_t v) {
  separate();
  out_ += std::to_string(v);
}

void JsonWriter::value(bool v) {
  separate();
  out_ += v ? "true" : "false";
}

void JsonWriter::null() {
  separate();
  out_ += "null";
}

void JsonWriter::raw(std::string_view json) {
  separate();
  while (!json.empty() && (json.back() == '\n' || json.back() == ' '))
    json.remove_suffix(1);
  // Re-indent a pretty-printed document to this depth.
  for (char c : json) {
    out_ += c;
    if (c == '\n') out_.append(static_cast<size_t>(depth_) * 2, ' ');
  }
}

void JsonWriter::open(char c) {
  separate();
  out_ += c;
  first_ = true;
  ++depth_;
}

void JsonWriter::close(char c) {
  --depth_;
  if (!first_) newline();
  out_ += c;
  first_ = false;
}

// Commas and indentation before a value, except right after its key.
void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_) out_ += ',';
  if (depth_ > 0) newline();
  first_ = false;
}

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(static_cast<size_t>(depth_) * 2, ' ');
}

}  // namespace remora::pilot
