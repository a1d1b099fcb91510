#include "router/simple_request.h"

#include <algorithm>

#include "router/ascii.h"

namespace remora::router {

SimpleRequest& SimpleRequest::header(std::string_view name, std::string_view value) {
  append(toLowerAscii(name), value);
  return *this;
}

void SimpleRequest::headerValues(std::string_view lowercase_name, HeaderValues& out) const {
  for (const auto& [n, v] : headers_) {
    if (n == lowercase_name) out.add(v);
  }
}

bool SimpleRequest::has(std::string_view name) const {
  return std::any_of(headers_.begin(), headers_.end(),
                     [&](const auto& h) { return h.first == name; });
}

void SimpleRequest::append(std::string_view name, std::string_view value) {
  headers_.emplace_back(std::string(name), std::string(value));
}

void SimpleRequest::set(std::string_view name, std::string_view value) {
  remove(name);
  append(name, value);
}

void SimpleRequest::remove(std::string_view name) {
  std::erase_if(headers_, [&](const auto& h) { return h.first == name; });
}

std::string SimpleRequest::get(std::string_view name) const {
  std::string out;
  bool first = true;
  for (const auto& [n, v] : headers_) {
    if (n != name) continue;
    if (!first) out += ',';
    out += v;
    first = false;
  }
  return out;
}

}  // namespace remora::router
