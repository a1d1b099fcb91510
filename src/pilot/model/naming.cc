#include "pilot/model/naming.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>

namespace remora::pilot {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool protocolFromWord(std::string_view word, Protocol* out) {
  std::string w = lower(word);
  if (w == "http" || w == "http1.1" || w == "http/1.1" || w == "http-web") {
    *out = Protocol::kHttp;
  } else if (w == "http2" || w == "h2c" || w == "kubernetes.io/h2c") {
    *out = Protocol::kHttp2;
  } else if (w == "grpc" || w == "grpc-web") {
    *out = Protocol::kGrpc;
  } else if (w == "tcp" || w == "mongo" || w == "mysql" || w == "redis" || w == "thrift") {
    *out = Protocol::kTcp;
  } else if (w == "tls" || w == "https") {
    *out = Protocol::kTls;
  } else if (w == "udp") {
    *out = Protocol::kUdp;
  } else {
    return false;
  }
  return true;
}

}  // namespace

const char* protocolName(Protocol p) {
  switch (p) {
    case Protocol::kHttp:
      return "HTTP";
    case Protocol::kHttp2:
      return "HTTP2";
    case Protocol::kGrpc:
      return "GRPC";
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kTls:
      return "TLS";
    case Protocol::kUdp:
      return "UDP";
  }
  return "?";
}

bool isHttpProtocol(Protocol p) {
  return p == Protocol::kHttp || p == Protocol::kHttp2 || p == Protocol::kGrpc;
}

Protocol protocolForServicePort(std::string_view name, std::string_view app_protocol,
                                std::string_view k8s_protocol) {
  if (k8s_protocol == "UDP" || k8s_protocol == "SCTP") return Protocol::kUdp;
  Protocol p = Protocol::kTcp;
  if (!app_protocol.empty() && protocolFromWord(app_protocol, &p)) return p;
  // grpc-web is the only protocol whose own name contains a '-'.
  if (lower(name).rfind("grpc-web", 0) == 0) return Protocol::kGrpc;
  std::string_view prefix = name.substr(0, name.find('-'));
  if (protocolFromWord(prefix, &p) && p != Protocol::kUdp) return p;
  return Protocol::kTcp;
}

Protocol protocolForServiceEntryPort(std::string_view protocol) {
  Protocol p = Protocol::kTcp;
  if (protocolFromWord(protocol, &p)) return p;
  return Protocol::kTcp;
}

std::string clusterName(TrafficDirection direction, uint32_t port, std::string_view subset,
                        std::string_view host) {
  // Appended into one reserved string: named for every cluster of a mesh.
  std::string_view prefix = direction == TrafficDirection::kInbound ? "inbound|" : "outbound|";
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), port);
  std::string out;
  out.reserve(prefix.size() + static_cast<size_t>(end - digits) + subset.size() + host.size() + 2);
  out.append(prefix);
  out.append(digits, end);
  out += '|';
  out.append(subset);
  out += '|';
  out.append(host);
  return out;
}

bool parseClusterName(std::string_view name, ClusterKey* key) {
  size_t a = name.find('|');
  if (a == std::string_view::npos) return false;
  size_t b = name.find('|', a + 1);
  if (b == std::string_view::npos) return false;
  size_t c = name.find('|', b + 1);
  if (c == std::string_view::npos) return false;
  std::string_view dir = name.substr(0, a);
  if (dir == "inbound") {
    key->direction = TrafficDirection::kInbound;
  } else if (dir == "outbound") {
    key->direction = TrafficDirection::kOutbound;
  } else {
    return false;
  }
  std::string_view port = name.substr(a + 1, b - a - 1);
  if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit) || port.size() > 5)
    return false;
  key->port = static_cast<uint32_t>(std::stoul(std::string(port)));
  key->subset = std::string(name.substr(b + 1, c - b - 1));
  key->host = std::string(name.substr(c + 1));
  return true;
}

std::string listenerName(std::string_view ip, uint32_t port) {
  return std::string(ip) + "_" + std::to_string(port);
}

std::string hostPort(std::string_view host, uint32_t port) {
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), port);
  std::string out;
  out.reserve(host.size() + 1 + static_cast<size_t>(end - digits));
  out.append(host);
  out += ':';
  out.append(digits, end);
  return out;
}

std::vector<std::string> virtualHostDomains(std::string_view host, uint32_t port,
                                            const std::vector<std::string>& vips,
                                            std::string_view proxy_namespace,
                                            std::string_view domain_suffix) {
  std::string text;
  std::vector<size_t> ends;
  appendVirtualHostDomains(host, port, vips, proxy_namespace, domain_suffix, &text, &ends);
  std::vector<std::string> out;
  out.reserve(ends.size());
  size_t start = 0;
  for (size_t end : ends) {
    out.emplace_back(text, start, end - start);
    start = end;
  }
  return out;
}

void appendVirtualHostDomains(std::string_view host, uint32_t port,
                              const std::vector<std::string>& vips,
                              std::string_view proxy_namespace, std::string_view domain_suffix,
                              std::string* text, std::vector<size_t>* ends) {
  char digits[12];
  digits[0] = ':';
  auto [digits_end, ec] = std::to_chars(digits + 1, digits + sizeof(digits), port);
  std::string_view with_port(digits, static_cast<size_t>(digits_end - digits));
  auto addWithPort = [&](std::string_view name) {
    text->append(name);
    ends->push_back(text->size());
    text->append(name);
    text->append(with_port);
    ends->push_back(text->size());
  };
  addWithPort(host);
  // The proxy resolves names like a pod in its namespace: its DNS search path
  // starts with <ns>.svc.<suffix>. The labels the host shares with that domain
  // (from the end) can be dropped; the rest is the part a caller must write.
  // Walks both names backwards label by label, without splitting them.
  std::string proxy_domain;
  proxy_domain.reserve(proxy_namespace.size() + 5 + domain_suffix.size());
  proxy_domain.append(proxy_namespace).append(".svc.").append(domain_suffix);
  std::string_view domain = proxy_domain;
  size_t cuts[16];  // positions of the dots before each shared label, innermost last
  size_t n_cuts = 0;
  size_t h_end = host.size(), d_end = domain.size();
  while (h_end > 0 && d_end > 0 && n_cuts < std::size(cuts)) {
    size_t h_dot = host.rfind('.', h_end - 1);
    if (h_dot == std::string_view::npos) break;  // the first label is never dropped
    size_t d_dot = domain.rfind('.', d_end - 1);
    size_t d_start = d_dot == std::string_view::npos ? 0 : d_dot + 1;
    if (host.substr(h_dot + 1, h_end - h_dot - 1) != domain.substr(d_start, d_end - d_start)) break;
    cuts[n_cuts++] = h_dot;
    h_end = h_dot;
    if (d_dot == std::string_view::npos) break;
    d_end = d_dot;
  }
  if (n_cuts > 0 && host.rfind("*", 0) != 0) {
    // The unique part first, then the longer forms from the longest down,
    // stopping before the full host: the seed's order.
    addWithPort(host.substr(0, cuts[n_cuts - 1]));
    for (size_t i = 0; i + 1 < n_cuts; ++i)
      addWithPort(host.substr(0, cuts[i]));
  }
  for (const auto& vip : vips)
    addWithPort(vip);
}

std::string serviceFqdn(std::string_view name, std::string_view ns,
                        std::string_view domain_suffix) {
  std::string out;
  out.reserve(name.size() + ns.size() + domain_suffix.size() + 6);
  out.append(name).append(".").append(ns).append(".svc.").append(domain_suffix);
  return out;
}

std::string resolveHost(std::string_view host, std::string_view ns,
                        std::string_view domain_suffix) {
  if (host.empty() || host.front() == '*') return std::string(host);
  // By the number of labels (dots counted, not split: rules resolve their
  // destinations for every route pilot writes).
  size_t dots = static_cast<size_t>(std::count(host.begin(), host.end(), '.'));
  if (dots == 0) return serviceFqdn(host, ns, domain_suffix);
  std::string out;
  if (dots == 1) {
    out.reserve(host.size() + domain_suffix.size() + 5);
    out.append(host).append(".svc.").append(domain_suffix);
  } else if (dots == 2 && host.substr(host.rfind('.') + 1) == "svc") {
    out.reserve(host.size() + domain_suffix.size() + 1);
    out.append(host).append(".").append(domain_suffix);
  } else {
    out.assign(host);
  }
  return out;
}

bool hostMatches(std::string_view pattern, std::string_view fqdn) {
  if (pattern == fqdn || pattern == "*") return true;
  if (pattern.rfind("*.", 0) == 0) {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return fqdn.size() > suffix.size() && fqdn.substr(fqdn.size() - suffix.size()) == suffix;
  }
  return false;
}

}  // namespace remora::pilot
