#include "lab/http_client.h"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>

#include "common/blocking_http.h"

namespace remora::lab {

StatusOr<HttpUrl> parseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return invalidArgumentError("\"" + url + "\" is not an http:// URL");
  }
  HttpUrl out;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.path = rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    long p = port.empty() || port.size() > 5 ||
                     !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c); })
                 ? 0
                 : std::atol(port.c_str());
    if (p < 1 || p > 65535)
      return invalidArgumentError("\"" + url + "\": bad port \"" + port + "\"");
    out.port = static_cast<uint16_t>(p);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return invalidArgumentError("\"" + url + "\" has no host");
  out.host = authority;
  return out;
}

StatusOr<network::IpAddress> resolveHost(const std::string& host) {
  auto literal = network::IpAddress::parse(host);
  if (literal.ok()) return literal;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return notFoundError("resolve " + host + ": " + gai_strerror(rc));
  network::IpAddress ip;
  if (res->ai_family == AF_INET) {
    ip = network::IpAddress::fromV4(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr);
  } else {
    ip = network::IpAddress::fromV6(reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr);
  }
  freeaddrinfo(res);
  return ip;
}

StatusOr<HttpResponse> httpGet(const network::SocketAddress& to, const std::string& host_header,
                               const std::string& path, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout) {
  REMORA_ASSIGN_OR_RETURN(HttpReply reply,
                          blockingHttpRequest(to.ip.toString(), to.port, "GET", host_header, path,
                                              headers, "", timeout));
  return HttpResponse{reply.status, std::move(reply.body)};
}

StatusOr<HttpResponse> httpGet(const HttpUrl& url, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout) {
  REMORA_ASSIGN_OR_RETURN(network::IpAddress ip, resolveHost(url.host));
  std::string host = url.host + (url.port == 80 ? "" : ":" + std::to_string(url.port));
  return httpGet(network::SocketAddress{ip, url.port}, host, url.path, headers, timeout);
}

bool canConnect(const network::SocketAddress& to, std::chrono::milliseconds timeout) {
  auto fd = connectTcp(to.ip.toString(), to.port, timeout);
  if (!fd.ok()) return false;
  close(*fd);
  return true;
}

}  // namespace remora::lab
