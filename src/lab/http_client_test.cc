#include "lab/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace remora::lab {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(HttpUrlTest, Parses) {
  auto u = parseHttpUrl("http://ratings:9080/ratings/0?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "ratings");
  EXPECT_EQ(u->port, 9080);
  EXPECT_EQ(u->path, "/ratings/0?x=1");
  u = parseHttpUrl("http://reviews.default.svc.cluster.local");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  EXPECT_THAT(parseHttpUrl("https://x/").status().message(), HasSubstr("not an http:// URL"));
  EXPECT_THAT(parseHttpUrl("http://x:0/").status().message(), HasSubstr("bad port \"0\""));
  EXPECT_THAT(parseHttpUrl("http://x:9a/").status().message(), HasSubstr("bad port"));
  EXPECT_THAT(parseHttpUrl("http:///a").status().message(), HasSubstr("no host"));
}

// Serves one connection with a canned response; returns its port.
class CannedServer {
 public:
  explicit CannedServer(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 4);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_ = req;
      (void)!write(c, response_.data(), response_.size());
      close(c);
    });
  }
  ~CannedServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  network::SocketAddress address() const {
    return {*network::IpAddress::parse("127.0.0.1"), port_};
  }
  const std::string& request() const { return request_; }

 private:
  std::string response_;
  int fd_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(HttpGetTest, ContentLengthChunkedAndEof) {
  {
    CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
    auto r = httpGet(s.address(), "h:1", "/p", {{"x-request-id", "abc"}}, milliseconds(2000));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_THAT(s.request(), HasSubstr("GET /p HTTP/1.1\r\nHost: h:1\r\n"));
    EXPECT_THAT(s.request(), HasSubstr("x-request-id: abc\r\n"));
    EXPECT_THAT(s.request(), HasSubstr("Connection: close\r\n"));
  }
  {
    CannedServer s(
        "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    auto r = httpGet(s.address(), "h", "/", {}, milliseconds(2000));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "abcde");
  }
  {
    CannedServer s("HTTP/1.0 200 OK\r\n\r\nuntil eof");
    auto r = httpGet(s.address(), "h", "/", {}, milliseconds(2000));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "until eof");
  }
}

TEST(HttpGetTest, FailuresSayWhatFailed) {
  {
    CannedServer s("");  // closes without answering, as a black-holed proxy does
    auto r = httpGet(s.address(), "h", "/", {}, milliseconds(2000));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("connection closed without a response"));
  }
  {
    CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort");
    EXPECT_THAT(httpGet(s.address(), "h", "/", {}, milliseconds(2000)).status().message(),
                HasSubstr("truncated"));
  }
  // A port nobody listens on: a free one, bound and released.
  uint16_t port;
  {
    CannedServer s("");
    port = s.address().port;
    (void)canConnect(s.address(), milliseconds(500));
  }
  network::SocketAddress closed{*network::IpAddress::parse("127.0.0.1"), port};
  EXPECT_FALSE(canConnect(closed, milliseconds(500)));
  EXPECT_THAT(httpGet(closed, "h", "/", {}, milliseconds(500)).status().message(),
              HasSubstr("connect 127.0.0.1:"));
  // Only names /etc/hosts answers: a test sends no DNS query off the machine.
  auto local = resolveHost("localhost");
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_TRUE(local->isLoopback());
  EXPECT_EQ(resolveHost("10.1.2.3")->toString(), "10.1.2.3");
}

}  // namespace
}  // namespace remora::lab
