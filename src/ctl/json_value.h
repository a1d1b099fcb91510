// A JSON document as an ordered tree, for what protobuf's JSON support does
// not do: keeping key order while re-indenting (istioctl prints resources
// with 4-space indents, protobuf with 1), turning JSON into YAML, picking
// config dump entries apart before parsing them, and building explain's
// `-o json`. Numbers keep their text, so nothing is rounded on the way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace remora::ctl {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Members = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;  // null
  static JsonValue boolean(bool b);
  static JsonValue number(int64_t n);
  // `text` must be a valid JSON number; it is kept as written.
  static JsonValue numberText(std::string text);
  static JsonValue string(std::string s);
  static JsonValue array();
  static JsonValue object();

  // Strict RFC 8259 (one value, nothing but whitespace after it), nesting at
  // most 256 deep. Errors give the byte offset. Thread: any.
  static StatusOr<JsonValue> parse(std::string_view text);

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isObject() const { return type_ == Type::kObject; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isString() const { return type_ == Type::kString; }
  bool asBool() const { return type_ == Type::kBool && scalar_ == "true"; }
  // The string's value, the number's text, "true"/"false"; "" otherwise.
  const std::string& text() const { return scalar_; }

  const std::vector<JsonValue>& items() const { return items_; }
  std::vector<JsonValue>& items() { return items_; }
  const Members& members() const { return members_; }
  Members& members() { return members_; }

  // The member named `key`, or null (also when this is not an object).
  const JsonValue* find(std::string_view key) const;
  JsonValue* find(std::string_view key);

  // Builders; they return *this so calls chain.
  JsonValue& add(std::string key, JsonValue value);  // appends to an object
  JsonValue& push(JsonValue value);                  // appends to an array

 private:
  Type type_ = Type::kNull;
  std::string scalar_;
  std::vector<JsonValue> items_;
  Members members_;
};

// `indent` 0: compact; otherwise Go's json.MarshalIndent layout with that
// many spaces per level ("key": value, empty containers as {} and []).
// No trailing newline.
std::string writeJson(const JsonValue& value, int indent);

// Block-style YAML the way sigs.k8s.io/yaml prints istioctl's `-o yaml`: two
// spaces per level, sequences in a mapping not indented further, strings
// quoted only when a plain scalar would read back as something else. Ends in
// a newline.
std::string writeYaml(const JsonValue& value);

// A JSON string literal, quotes included.
std::string jsonQuote(std::string_view s);

}  // namespace remora::ctl
