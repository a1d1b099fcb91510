#include "config/parse.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "config/api_types.h"

namespace remora::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";
// yaml-cpp and our walk both recurse; configs are shallow, so anything deeper
// than this is hostile or broken.
constexpr int kMaxDepth = 100;
constexpr size_t kMaxErrors = 20;

// A JSON-shaped value tree with source positions. YAML is converted into it
// first so that the schema walk below sees JSON types and can point at lines.
struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  // kBool: "true"/"false"; kNumber: JSON number text (or Infinity/-Infinity/NaN,
  // emitted as strings as protobuf's JSON mapping wants); kString: the value.
  std::string text;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> fields;
  int line = 0;
  int column = 0;
  // Where this value's key is, when it is an object member: errors about the
  // member itself (unknown, repeated) point there.
  int key_line = 0;
  int key_column = 0;
};

bool isDigits(std::string_view s, bool (*ok)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool isDec(char c) {
  return c >= '0' && c <= '9';
}
bool isOct(char c) {
  return c >= '0' && c <= '7';
}
bool isHex(char c) {
  return isDec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Canonical JSON text for a YAML 1.2 core-schema number, or nullopt if `s` is
// not one. Integers keep all their digits (range is checked against the field).
std::optional<std::string> yamlNumber(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::string("NaN");
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    return std::string(negative ? "-Infinity" : "Infinity");
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    std::string_view digits = s.substr(2);
    if (!isDigits(digits, s[1] == 'x' ? isHex : isOct)) return std::nullopt;
    errno = 0;
    unsigned long long v =
        std::strtoull(std::string(digits).c_str(), nullptr, s[1] == 'x' ? 16 : 8);
    if (errno == ERANGE) return std::nullopt;
    return std::to_string(v);
  }
  if (isDigits(body, isDec)) {
    size_t first = body.find_first_not_of('0');
    std::string digits = first == std::string_view::npos ? "0" : std::string(body.substr(first));
    return (negative && digits != "0" ? "-" : "") + digits;
  }
  // [0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)? with at least one digit in the mantissa.
  size_t i = 0;
  size_t mantissa_digits = 0;
  while (i < body.size() && isDec(body[i]))
    ++i, ++mantissa_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && isDec(body[i]))
      ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    if (!isDigits(body.substr(i), isDec)) return std::nullopt;
    i = body.size();
  }
  if (i != body.size()) return std::nullopt;
  double d = std::strtod(std::string(s).c_str(), nullptr);
  if (!std::isfinite(d)) return std::string(d > 0 ? "Infinity" : "-Infinity");
  // Shortest text that reads back as the same double.
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return std::string(buf);
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
    case Value::Kind::kNumber:
      return v.text;
    case Value::Kind::kString:
      return quote(v.text);
    case Value::Kind::kArray:
      return "a list";
    case Value::Kind::kObject:
      return "an object";
  }
  return "?";
}

void setMark(const YAML::Node& node, Value* v) {
  const YAML::Mark m = node.Mark();
  if (m.line >= 0) {
    v->line = m.line + 1;
    v->column = m.column + 1;
  }
}

std::string location(std::string_view source, int line, int column) {
  std::string out(source);
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return out;
}

// Converts a yaml-cpp node into a Value. yaml-cpp throws only from the parser
// and conversions, which this does not use on scalars.
Status fromYaml(const YAML::Node& node, Value* out, std::string_view source, int depth) {
  setMark(node, out);
  if (depth > kMaxDepth) {
    return invalidArgumentError(location(source, out->line, out->column) +
                                ": nesting deeper than " + std::to_string(kMaxDepth));
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out->kind = Value::Kind::kNull;
      return Status();
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      const std::string& tag = node.Tag();
      // "!" marks a quoted scalar; an explicit !!str tag also forces a string.
      if (tag == "!" || tag == "tag:yaml.org,2002:str") {
        out->kind = Value::Kind::kString;
        out->text = s;
        return Status();
      }
      if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) {
        out->kind = Value::Kind::kNull;
      } else if (s == "true" || s == "True" || s == "TRUE") {
        out->kind = Value::Kind::kBool;
        out->text = "true";
      } else if (s == "false" || s == "False" || s == "FALSE") {
        out->kind = Value::Kind::kBool;
        out->text = "false";
      } else if (auto n = yamlNumber(s)) {
        out->kind = Value::Kind::kNumber;
        out->text = *n;
      } else {
        out->kind = Value::Kind::kString;
        out->text = s;
      }
      return Status();
    }
    case YAML::NodeType::Sequence:
      out->kind = Value::Kind::kArray;
      for (const YAML::Node& item : node) {
        out->items.emplace_back();
        REMORA_RETURN_IF_ERROR(fromYaml(item, &out->items.back(), source, depth + 1));
      }
      return Status();
    case YAML::NodeType::Map: {
      out->kind = Value::Kind::kObject;
      std::set<std::string> keys;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          Value k;
          setMark(kv.first, &k);
          return invalidArgumentError(location(source, k.line, k.column) +
                                      ": mapping keys must be plain strings");
        }
        const std::string& key = kv.first.Scalar();
        if (!keys.insert(key).second) {
          Value k;
          setMark(kv.first, &k);
          return invalidArgumentError(location(source, k.line, k.column) + ": duplicate key " +
                                      quote(key));
        }
        out->fields.emplace_back(key, Value());
        Value& child = out->fields.back().second;
        REMORA_RETURN_IF_ERROR(fromYaml(kv.second, &child, source, depth + 1));
        Value k;
        setMark(kv.first, &k);
        child.key_line = k.line;
        child.key_column = k.column;
        if (child.line == 0) {
          child.line = k.line;
          child.column = k.column;
        }
      }
      return Status();
    }
  }
  return Status();
}

// Runs yaml-cpp's parser (`load`), turning what it throws into our errors.
template <typename Load>
Status loadYaml(std::string_view source, Load load) {
  try {
    load();
  } catch (const YAML::ParserException& e) {
    // e.msg is the bare message; e.what() repeats the position in yaml-cpp's form.
    return invalidArgumentError(location(source, e.mark.line + 1, e.mark.column + 1) +
                                ": syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    return invalidArgumentError(std::string(source) + ": " + e.what());
  } catch (const std::exception& e) {
    return invalidArgumentError(std::string(source) + ": " + e.what());
  }
  return Status();
}

StatusOr<Value> parseText(std::string_view text, std::string_view source) {
  YAML::Node root;
  REMORA_RETURN_IF_ERROR(loadYaml(source, [&] { root = YAML::Load(std::string(text)); }));
  Value v;
  REMORA_RETURN_IF_ERROR(fromYaml(root, &v, source, 0));
  if (v.kind == Value::Kind::kNull) {
    v.kind = Value::Kind::kObject;  // an empty document is an empty message
  }
  return v;
}

void toJson(const Value& v, std::string* out) {
  switch (v.kind) {
    case Value::Kind::kNull:
      *out += "null";
      return;
    case Value::Kind::kBool:
      *out += v.text;
      return;
    case Value::Kind::kNumber:
      if (v.text == "NaN" || v.text == "Infinity" || v.text == "-Infinity") {
        *out += quote(v.text);
      } else {
        *out += v.text;
      }
      return;
    case Value::Kind::kString:
      *out += quote(v.text);
      return;
    case Value::Kind::kArray: {
      *out += '[';
      bool first = true;
      for (const Value& item : v.items) {
        if (!first) *out += ',';
        first = false;
        toJson(item, out);
      }
      *out += ']';
      return;
    }
    case Value::Kind::kObject: {
      *out += '{';
      bool first = true;
      for (const auto& [k, item] : v.fields) {
        if (!first) *out += ',';
        first = false;
        *out += quote(k);
        *out += ':';
        toJson(item, out);
      }
      *out += '}';
      return;
    }
  }
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool isDurationText(std::string_view s) {
  // [-]digits[.digits{1,9}]s, as protobuf's JSON mapping accepts.
  if (s.size() < 2 || s.back() != 's') return false;
  s.remove_suffix(1);
  if (s[0] == '-') s.remove_prefix(1);
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  if (!isDigits(whole, isDec) || whole.size() > 12) return false;
  if (dot == std::string_view::npos) return true;
  std::string_view frac = s.substr(dot + 1);
  return frac.size() <= 9 && isDigits(frac, isDec);
}

// Parses an integer-valued JSON number or numeric string. Returns false if the
// text is not an integer; sets *out_of_range when it is but does not fit.
bool parseInteger(const std::string& text, bool is_signed, int bits, bool* out_of_range) {
  *out_of_range = false;
  if (text.empty()) return false;
  bool has_fraction = text.find_first_of(".eE") != std::string::npos;
  if (has_fraction) {
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(d) || std::floor(d) != d) return false;
    double lo = is_signed ? -std::ldexp(1.0, bits - 1) : 0.0;
    double hi = is_signed ? std::ldexp(1.0, bits - 1) : std::ldexp(1.0, bits);
    *out_of_range = d < lo || d >= hi;
    return true;
  }
  size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (!isDigits(std::string_view(text).substr(start), isDec)) return false;
  errno = 0;
  if (is_signed) {
    long long v = std::strtoll(text.c_str(), nullptr, 10);
    long long lo = bits == 64 ? std::numeric_limits<long long>::min() : INT32_MIN;
    long long hi = bits == 64 ? std::numeric_limits<long long>::max() : INT32_MAX;
    *out_of_range = errno == ERANGE || v < lo || v > hi;
  } else {
    if (text[0] == '-') {
      *out_of_range = text.find_first_not_of("-0") != std::string::npos;
      return true;
    }
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    unsigned long long hi =
        bits == 64 ? std::numeric_limits<unsigned long long>::max() : UINT32_MAX;
    *out_of_range = errno == ERANGE || v > hi;
  }
  return true;
}

// Walks a Value tree against a message Descriptor, collecting errors with
// field paths, and drops null-valued fields (protobuf treats them as unset).
class SchemaWalker {
 public:
  explicit SchemaWalker(std::string_view source) : source_(source) {}

  const std::vector<std::string>& errors() const { return errors_; }

  void message(Value& v, const Descriptor* d, const std::string& path) {
    if (errors_.size() >= kMaxErrors) return;
    switch (d->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_ANY:
        any(v, path);
        return;
      case Descriptor::WELLKNOWNTYPE_DURATION:
        if (v.kind != Value::Kind::kString || !isDurationText(v.text)) {
          error(v, path,
                "invalid duration " + describe(v) +
                    " (expected seconds with an \"s\" suffix, e.g. \"5s\" or \"0.250s\")");
        }
        return;
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
      case Descriptor::WELLKNOWNTYPE_FIELDMASK:
        if (v.kind != Value::Kind::kString) error(v, path, "expected a string, got " + describe(v));
        return;
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        if (v.kind != Value::Kind::kObject)
          error(v, path, "expected an object, got " + describe(v));
        return;
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
        if (v.kind != Value::Kind::kArray) error(v, path, "expected a list, got " + describe(v));
        return;
      case Descriptor::WELLKNOWNTYPE_VALUE:
        return;  // any JSON value is a google.protobuf.Value
      case Descriptor::WELLKNOWNTYPE_DOUBLEVALUE:
      case Descriptor::WELLKNOWNTYPE_FLOATVALUE:
      case Descriptor::WELLKNOWNTYPE_INT64VALUE:
      case Descriptor::WELLKNOWNTYPE_UINT64VALUE:
      case Descriptor::WELLKNOWNTYPE_INT32VALUE:
      case Descriptor::WELLKNOWNTYPE_UINT32VALUE:
      case Descriptor::WELLKNOWNTYPE_STRINGVALUE:
      case Descriptor::WELLKNOWNTYPE_BYTESVALUE:
      case Descriptor::WELLKNOWNTYPE_BOOLVALUE:
        scalar(v, d->FindFieldByName("value"), path);
        return;
      default:
        break;
    }
    if (v.kind != Value::Kind::kObject) {
      error(v, path, "expected an object, got " + describe(v));
      return;
    }
    fields(v, d, path, /*skip_type_key=*/false);
  }

 private:
  void error(const Value& at, const std::string& path, const std::string& what,
             bool at_key = false) {
    if (errors_.size() >= kMaxErrors) return;
    int line = at_key && at.key_line > 0 ? at.key_line : at.line;
    int column = at_key && at.key_line > 0 ? at.key_column : at.column;
    std::string e = location(source_, line, column) + ": ";
    if (!path.empty()) e += path + ": ";
    errors_.push_back(e + what);
  }

  static const FieldDescriptor* findField(const Descriptor* d, const std::string& key) {
    if (const FieldDescriptor* f = d->FindFieldByName(key)) return f;
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->json_name() == key) return d->field(i);
    }
    return nullptr;
  }

  static std::string suggestion(const Descriptor* d, const std::string& key) {
    const FieldDescriptor* best = nullptr;
    size_t best_distance = 3;  // only close misspellings are worth suggesting
    for (int i = 0; i < d->field_count(); ++i) {
      size_t dist = std::min(editDistance(key, d->field(i)->name()),
                             editDistance(key, d->field(i)->json_name()));
      if (dist < best_distance) {
        best_distance = dist;
        best = d->field(i);
      }
    }
    return best ? " (did you mean \"" + best->name() + "\"?)" : "";
  }

  void fields(Value& v, const Descriptor* d, const std::string& path, bool skip_type_key) {
    std::set<const FieldDescriptor*> seen;
    std::vector<std::pair<const google::protobuf::OneofDescriptor*, std::string>> oneofs_seen;
    std::vector<std::pair<std::string, Value>> kept;
    for (auto& [key, child] : v.fields) {
      if (skip_type_key && key == "@type") {
        kept.emplace_back(key, std::move(child));
        continue;
      }
      const FieldDescriptor* f = findField(d, key);
      if (f == nullptr) {
        error(child, path, "unknown field " + quote(key) + suggestion(d, key), true);
        continue;
      }
      std::string child_path = path.empty() ? f->name() : path + "." + f->name();
      if (!seen.insert(f).second) {
        error(child, path, "field " + quote(f->name()) + " is given twice", true);
        continue;
      }
      if (child.kind == Value::Kind::kNull &&
          !(f->message_type() &&
            f->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_VALUE)) {
        continue;  // null means unset
      }
      if (const auto* oneof = f->real_containing_oneof()) {
        for (const auto& [o, name] : oneofs_seen) {
          if (o == oneof) {
            error(child, path,
                  "only one of " + quote(name) + " and " + quote(f->name()) +
                      " may be set (oneof " + quote(oneof->name()) + ")",
                  true);
          }
        }
        oneofs_seen.emplace_back(oneof, f->name());
      }
      field(child, f, child_path);
      kept.emplace_back(key, std::move(child));
    }
    v.fields = std::move(kept);
  }

  void field(Value& v, const FieldDescriptor* f, const std::string& path) {
    if (f->is_map()) {
      if (v.kind != Value::Kind::kObject) {
        error(v, path, "expected an object (a map), got " + describe(v));
        return;
      }
      const FieldDescriptor* key_field = f->message_type()->map_key();
      const FieldDescriptor* value_field = f->message_type()->map_value();
      for (auto& [key, child] : v.fields) {
        std::string child_path = path + "[" + quote(key) + "]";
        if (key_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
          Value k;
          k.kind = Value::Kind::kString;
          k.text = key;
          k.line = child.line;
          k.column = child.column;
          scalar(k, key_field, child_path);
        }
        if (child.kind == Value::Kind::kNull) {
          error(child, child_path, "map values may not be null");
          continue;
        }
        scalar(child, value_field, child_path);
      }
      return;
    }
    if (f->is_repeated()) {
      if (v.kind != Value::Kind::kArray) {
        error(v, path, "expected a list, got " + describe(v));
        return;
      }
      for (size_t i = 0; i < v.items.size(); ++i) {
        std::string child_path = path + "[" + std::to_string(i) + "]";
        if (v.items[i].kind == Value::Kind::kNull) {
          error(v.items[i], child_path, "list items may not be null");
          continue;
        }
        scalar(v.items[i], f, child_path);
      }
      return;
    }
    scalar(v, f, path);
  }

  // One value of field `f` (a singular field, a list item or a map value).
  void scalar(Value& v, const FieldDescriptor* f, const std::string& path) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        message(v, f->message_type(), path);
        return;
      case FieldDescriptor::CPPTYPE_ENUM:
        enumValue(v, f->enum_type(), path);
        return;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (v.kind != Value::Kind::kBool) {
          error(v, path, "expected true or false, got " + describe(v));
        }
        return;
      case FieldDescriptor::CPPTYPE_INT32:
        integer(v, true, 32, path);
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        integer(v, true, 64, path);
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        integer(v, false, 32, path);
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        integer(v, false, 64, path);
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        if (v.kind == Value::Kind::kNumber) return;
        if (v.kind == Value::Kind::kString) {
          char* end = nullptr;
          std::strtod(v.text.c_str(), &end);
          if (v.text == "NaN" || v.text == "Infinity" || v.text == "-Infinity" ||
              (!v.text.empty() && end == v.text.c_str() + v.text.size())) {
            return;
          }
        }
        error(v, path, "expected a number, got " + describe(v));
        return;
      }
      case FieldDescriptor::CPPTYPE_STRING:
        if (v.kind != Value::Kind::kString) {
          std::string hint = (v.kind == Value::Kind::kNumber || v.kind == Value::Kind::kBool)
                                 ? " (put it in quotes)"
                                 : "";
          error(v, path, "expected a string, got " + describe(v) + hint);
        }
        return;
    }
  }

  void integer(Value& v, bool is_signed, int bits, const std::string& path) {
    if (v.kind != Value::Kind::kNumber && v.kind != Value::Kind::kString) {
      error(v, path, "expected a number, got " + describe(v));
      return;
    }
    bool out_of_range = false;
    if (!parseInteger(v.text, is_signed, bits, &out_of_range)) {
      error(v, path,
            "expected " + std::string(v.kind == Value::Kind::kNumber ? "an integer" : "a number") +
                ", got " + describe(v));
      return;
    }
    if (out_of_range) {
      error(v, path,
            "value " + v.text + " is out of range for " + (is_signed ? "int" : "uint") +
                std::to_string(bits));
    }
  }

  void enumValue(Value& v, const EnumDescriptor* e, const std::string& path) {
    if (v.kind == Value::Kind::kString && e->FindValueByName(v.text)) return;
    if (v.kind == Value::Kind::kNumber) {
      bool out_of_range = false;
      if (parseInteger(v.text, true, 32, &out_of_range) && !out_of_range &&
          e->FindValueByNumber(std::atoi(v.text.c_str()))) {
        return;
      }
    }
    std::string valid;
    for (int i = 0; i < e->value_count(); ++i) {
      if (e->value(i)->options().deprecated()) continue;
      if (!valid.empty()) valid += ", ";
      valid += e->value(i)->name();
    }
    error(v, path,
          "unknown value " + describe(v) + " for " + e->name() + " (valid: " + valid + ")");
  }

  void any(Value& v, const std::string& path) {
    if (v.kind != Value::Kind::kObject) {
      error(v, path, "expected an object with \"@type\", got " + describe(v));
      return;
    }
    const Value* type = nullptr;
    for (const auto& [k, child] : v.fields) {
      if (k == "@type") type = &child;
    }
    if (type == nullptr) {
      error(v, path, "missing \"@type\"");
      return;
    }
    if (type->kind != Value::Kind::kString) {
      error(*type, path + ".@type", "expected a string, got " + describe(*type));
      return;
    }
    std::string_view url = type->text;
    if (url.substr(0, kTypeUrlPrefix.size()) != kTypeUrlPrefix) {
      error(*type, path,
            "invalid @type " + quote(url) + " (expected \"type.googleapis.com/<message name>\")");
      return;
    }
    std::string name(url.substr(kTypeUrlPrefix.size()));
    const Descriptor* d = DescriptorPool::generated_pool()->FindMessageTypeByName(name);
    if (d == nullptr) {
      error(*type, path, "unknown type " + quote(url) + " (not in Remora's API)");
      return;
    }
    if (d->well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED &&
        d->well_known_type() != Descriptor::WELLKNOWNTYPE_ANY) {
      // Types with a special JSON form sit under "value".
      for (auto& [k, child] : v.fields) {
        if (k == "@type") continue;
        if (k != "value") {
          error(child, path, "unknown field " + quote(k) + " (a " + name + " goes in \"value\")",
                true);
          continue;
        }
        message(child, d, path + ".value");
      }
      return;
    }
    fields(v, d, path, /*skip_type_key=*/true);
  }

  std::string source_;
  std::vector<std::string> errors_;
};

}  // namespace

Status parseYamlOrJson(std::string_view text, google::protobuf::Message* out,
                       std::string_view source_name) {
  ensureApiTypesLinked();
  REMORA_ASSIGN_OR_RETURN(Value root, parseText(text, source_name));
  SchemaWalker walker(source_name);
  walker.message(root, out->GetDescriptor(), "");
  if (!walker.errors().empty()) {
    std::string msg;
    for (const std::string& e : walker.errors()) {
      if (!msg.empty()) msg += "\n";
      msg += e;
    }
    return invalidArgumentError(msg);
  }
  std::string json;
  toJson(root, &json);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  out->Clear();
  auto status = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (!status.ok()) {
    // The walk above should have caught everything; this is the backstop.
    return invalidArgumentError(std::string(source_name) + ": " + std::string(status.message()));
  }
  return Status();
}

StatusOr<std::vector<std::string>> yamlDocumentsToJson(std::string_view text,
                                                       std::string_view source_name) {
  std::vector<YAML::Node> docs;
  REMORA_RETURN_IF_ERROR(loadYaml(source_name, [&] { docs = YAML::LoadAll(std::string(text)); }));
  std::vector<std::string> out;
  for (const YAML::Node& doc : docs) {
    Value v;
    REMORA_RETURN_IF_ERROR(fromYaml(doc, &v, source_name, 0));
    if (v.kind == Value::Kind::kNull) continue;
    toJson(v, &out.emplace_back());
  }
  return out;
}

}  // namespace remora::config
