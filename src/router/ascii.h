// ASCII case folding for names that HTTP compares case-insensitively (header
// names, host names). Bytes outside A-Z are left alone on purpose: the domain
// and header grammars are ASCII, and locale-aware folding would be slower and
// could differ between machines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace remora::router {

inline char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline std::string toLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = lowerAscii(c);
  return out;
}

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

inline bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

inline bool endsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && equalsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// `lower_needle` must already be lowercase.
inline bool containsIgnoreCase(std::string_view s, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  if (s.size() < lower_needle.size()) return false;
  for (size_t i = 0; i + lower_needle.size() <= s.size(); ++i) {
    if (equalsIgnoreCase(s.substr(i, lower_needle.size()), lower_needle)) return true;
  }
  return false;
}

// Hash and equality for unordered containers keyed by lowercase strings and
// probed with views in any case, so that a Host header is looked up without
// first copying it into a lowercase buffer.
struct CaseInsensitiveHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: short keys, no allocation.
    for (char c : s) {
      h ^= static_cast<unsigned char>(lowerAscii(c));
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

struct CaseInsensitiveEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return equalsIgnoreCase(a, b); }
};

}  // namespace remora::router
