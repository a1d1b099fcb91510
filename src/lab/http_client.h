// A blocking HTTP/1.1 GET, enough for the demo app's calls and the lab's
// health checks, on common/blocking_http.h. Not the proxy's codec
// (src/http): this is client code in small test binaries, where one request
// per connection and blocking I/O are the simplest thing that works through
// any TCP proxy.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "network/address.h"

namespace remora::lab {

struct HttpUrl {
  std::string host;  // a name (resolved with getaddrinfo, so /etc/hosts) or an IP
  uint16_t port = 80;
  std::string path = "/";
};

// Parses "http://host[:port][/path]"; other schemes are errors.
StatusOr<HttpUrl> parseHttpUrl(const std::string& url);

struct HttpResponse {
  int status = 0;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Sends GET with `Connection: close` and reads the response to the end
// (Content-Length, chunked, or until EOF). Errors name the step that failed
// (resolve, connect, timeout, bad response).
StatusOr<HttpResponse> httpGet(const network::SocketAddress& to, const std::string& host_header,
                               const std::string& path, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout);
StatusOr<HttpResponse> httpGet(const HttpUrl& url, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout);

// Resolves a host name to its first IPv4 or IPv6 address.
StatusOr<network::IpAddress> resolveHost(const std::string& host);

// True if a TCP connection to `to` is accepted within `timeout`.
bool canConnect(const network::SocketAddress& to, std::chrono::milliseconds timeout);

}  // namespace remora::lab
