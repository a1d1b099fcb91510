// A minimal streaming JSON writer for pilot's debug pages: indented, keys in
// the order written (protobuf's Struct would print its map in hash order,
// and a page must read the same on every refresh). Not thread-safe; one per
// page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace remora::pilot {

class JsonWriter {
 public:
  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }
  void key(std::string_view k);
  void value(std::string_view v);
  void value(const char* v) { value(std::string_view(v)); }
  void value(const std::string& v) { value(std::string_view(v)); }
  void value(int64_t v);
  void value(uint64_t v) { value(static_cast<int64_t>(v)); }
  void value(int v) { value(static_cast<int64_t>(v)); }
  void value(uint32_t v) { value(static_cast<int64_t>(v)); }
  void value(bool v);
  void null();
  // Already serialized JSON (a protobuf message's), inserted as one value.
  void raw(std::string_view json);
  template <typename T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }
  // The document, newline-terminated.
  std::string take() { return std::move(out_) + "\n"; }

 private:
  void open(char c);
  void close(char c);
  void separate();
  void newline();

  std::string out_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

// JSON string literal for `s`, quotes included (protobuf's escaper, so there
// is one escaper fewer to get wrong).
std::string jsonQuote(std::string_view s);

}  // namespace remora::pilot
