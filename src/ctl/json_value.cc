#include "ctl/json_value.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <cstdio>

namespace remora::ctl {

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.scalar_ = b ? "true" : "false";
  return v;
}

JsonValue JsonValue::number(int64_t n) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.scalar_ = std::to_string(n);
  return v;
}

JsonValue JsonValue::numberText(std::string text) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.scalar_ = std::move(text);
  return v;
}

JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.scalar_ = std::move(s);
  return v;
}

JsonValue JsonValue::array() {
  JsonValue v;
  v.type_ = Type::kArray;
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.type_ = Type::kObject;
  return v;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue* JsonValue::find(std::string_view key) {
  for (auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue& JsonValue::add(std::string key, JsonValue value) {
  members_.emplace_back(std::move(key), std::move(value));
  return *this;
}

JsonValue& JsonValue::push(JsonValue value) {
  items_.push_back(std::move(value));
  return *this;
}

// ---------------------------------------------------------------------------
// Parsing.

namespace {

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  StatusOr<JsonValue> parseDocument() {
    JsonValue v;
    REMORA_RETURN_IF_ERROR(value(v, 0));
    skipSpace();
    if (pos_ != s_.size()) return error("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 256;

  Status error(const std::string& what) const {
    return invalidArgumentError("JSON at byte " + std::to_string(pos_) + ": " + what);
  }

  void skipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status value(JsonValue& out, int depth) {
    if (depth > kMaxDepth) return error("nested deeper than " + std::to_string(kMaxDepth));
    skipSpace();
    if (pos_ >= s_.size()) return error("unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      std::string str;
      REMORA_RETURN_IF_ERROR(string(str));
      out = JsonValue::string(std::move(str));
      return Status::okStatus();
    }
    if (consume("true")) {
      out = JsonValue::boolean(true);
      return Status::okStatus();
    }
    if (consume("false")) {
      out = JsonValue::boolean(false);
      return Status::okStatus();
    }
    if (consume("null")) {
      out = JsonValue();
      return Status::okStatus();
    }
    return number(out);
  }

  Status object(JsonValue& out, int depth) {
    out = JsonValue::object();
    ++pos_;  // {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Status::okStatus();
    }
    while (true) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return error("expected a member name");
      std::string key;
      REMORA_RETURN_IF_ERROR(string(key));
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return error("expected ':'");
      ++pos_;
      JsonValue member;
      REMORA_RETURN_IF_ERROR(value(member, depth + 1));
      out.add(std::move(key), std::move(member));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::okStatus();
      }
      return error("expected ',' or '}'");
    }
  }

  Status array(JsonValue& out, int depth) {
    out = JsonValue::array();
    ++pos_;  // [
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Status::okStatus();
    }
    while (true) {
      JsonValue item;
      REMORA_RETURN_IF_ERROR(value(item, depth + 1));
      out.push(std::move(item));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Status::okStatus();
      }
      return error("expected ',' or ']'");
    }
  }

  Status number(JsonValue& out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        ++pos_;
      return pos_ - d;
    };
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      pos_ = start;
      return error("expected a value");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return error("expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return error("expected digits in the exponent");
    }
    out = JsonValue::numberText(std::string(s_.substr(start, pos_ - start)));
    return Status::okStatus();
  }

  static int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Status hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return error("short \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hexValue(s_[pos_ + static_cast<size_t>(i)]);
      if (h < 0) return error("bad \\u escape");
      out = out * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return Status::okStatus();
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Status string(std::string& out) {
    ++pos_;  // "
    while (true) {
      if (pos_ >= s_.size()) return error("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return Status::okStatus();
      if (static_cast<unsigned char>(c) < 0x20) return error("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return error("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          REMORA_RETURN_IF_ERROR(hex4(cp));
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t low = 0;
            REMORA_RETURN_IF_ERROR(hex4(low));
            if (low < 0xDC00 || low > 0xDFFF) return error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          return error(std::string("bad escape \\") + e);
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<JsonValue> JsonValue::parse(std::string_view text) {
  return JsonParser(text).parseDocument();
}

// ---------------------------------------------------------------------------
// Writing.

std::string jsonQuote(std::string_view s) {
  // protobuf's escaper, which also writes every message we print.
  google::protobuf::Value v;
  v.set_string_value(std::string(s));
  std::string quoted;
  if (!google::protobuf::util::MessageToJsonString(v, &quoted).ok()) return "\"\"";
  return quoted;
}

namespace {

void writeJsonTo(const JsonValue& v, int indent, int depth, std::string& out) {
  auto newline = [&](int d) {
    if (indent == 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (v.type()) {
    case JsonValue::Type::kNull:
      out += "null";
      return;
    case JsonValue::Type::kBool:
    case JsonValue::Type::kNumber:
      out += v.text();
      return;
    case JsonValue::Type::kString:
      out += jsonQuote(v.text());
      return;
    case JsonValue::Type::kArray:
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        writeJsonTo(v.items()[i], indent, depth + 1, out);
      }
      newline(depth);
      out += ']';
      return;
    case JsonValue::Type::kObject:
      if (v.members().empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < v.members().size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        out += jsonQuote(v.members()[i].first);
        out += indent == 0 ? ":" : ": ";
        writeJsonTo(v.members()[i].second, indent, depth + 1, out);
      }
      newline(depth);
      out += '}';
      return;
  }
}

bool isDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Would a YAML 1.1 or 1.2 reader take this plain scalar for a number?
bool looksNumeric(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) return true;
  std::string lower;
  for (char c : s)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == ".inf" || lower == ".nan") return true;
  size_t e = lower.find('e');
  std::string_view mantissa = std::string_view(lower).substr(0, e);
  if (e != std::string::npos) {
    std::string_view exp = std::string_view(lower).substr(e + 1);
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
    if (!isDigits(exp)) return false;
  }
  size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) {
    // 1_000 and 1:30 (sexagesimal) are numbers to YAML 1.1 readers.
    return !mantissa.empty() &&
           mantissa.find_first_not_of("0123456789_:") == std::string_view::npos &&
           std::isdigit(static_cast<unsigned char>(mantissa[0]));
  }
  std::string_view whole = mantissa.substr(0, dot), frac = mantissa.substr(dot + 1);
  return (whole.empty() || isDigits(whole)) && (frac.empty() || isDigits(frac)) &&
         !(whole.empty() && frac.empty());
}

bool needsQuotes(std::string_view s) {
  if (s.empty()) return true;
  static const char* const kWords[] = {"null", "~",  "true", "false", "yes",
                                       "no",   "on", "off",  "y",     "n"};
  std::string lower;
  for (char c : s)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : kWords) {
    if (lower == w) return true;
  }
  if (looksNumeric(s)) return true;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s[0]) != std::string_view::npos) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string yamlScalar(const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kString:
      return needsQuotes(v.text()) ? jsonQuote(v.text()) : v.text();
    case JsonValue::Type::kArray:
      return "[]";
    case JsonValue::Type::kObject:
      return "{}";
    default:
      return v.text();
  }
}

bool isBlock(const JsonValue& v) {
  return (v.isArray() && !v.items().empty()) || (v.isObject() && !v.members().empty());
}

// Writes `v` whose first line continues the current one (after "key:" or
// "- "); `indent` is the column of the block's own lines.
void writeYamlBlock(const JsonValue& v, size_t indent, bool after_dash, std::string& out) {
  std::string pad(indent, ' ');
  if (v.isObject()) {
    bool first = true;
    for (const auto& [key, member] : v.members()) {
      if (!(first && after_dash)) out += pad;
      first = false;
      out += needsQuotes(key) ? jsonQuote(key) : key;
      out += ':';
      if (!isBlock(member)) {
        out += ' ' + yamlScalar(member) + '\n';
      } else if (member.isArray()) {
        // Sequences in a mapping start at the key's column, as go-yaml prints them.
        out += '\n';
        writeYamlBlock(member, indent, false, out);
      } else {
        out += '\n';
        writeYamlBlock(member, indent + 2, false, out);
      }
    }
    return;
  }
  bool first = true;
  for (const JsonValue& item : v.items()) {
    if (!(first && after_dash)) out += pad;
    first = false;
    out += "- ";
    if (isBlock(item)) {
      writeYamlBlock(item, indent + 2, true, out);
    } else {
      out += yamlScalar(item) + '\n';
    }
  }
}

}  // namespace

std::string writeJson(const JsonValue& value, int indent) {
  std::string out;
  writeJsonTo(value, indent, 0, out);
  return out;
}

std::string writeYaml(const JsonValue& value) {
  if (!isBlock(value)) return yamlScalar(value) + "\n";
  std::string out;
  writeYamlBlock(value, 0, false, out);
  return out;
}

}  // namespace remora::ctl
