#include "common/blocking_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace remora {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(BlockingHttpTest, ServesRequestsWithBodiesQueriesAndHeaders) {
  BlockingHttpServer server([](const BlockingHttpRequest& r) {
    BlockingHttpResponse resp;
    resp.status = r.method == "POST" ? 201 : 200;
    resp.body = r.method + " " + r.path + " q=" + r.queryParam("proxyID") +
                " x=" + r.header("x-test") + " body=" + r.body;
    resp.headers.emplace_back("x-answer", "yes");
    return resp;
  });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  auto r = blockingHttpRequest("127.0.0.1", server.port(), "POST", "pilot",
                               "/apis/v1/objects?proxyID=a%2Eb.default&x", {{"X-Test", "1"}},
                               "kind: Service\n", milliseconds(2000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "POST /apis/v1/objects q=a.b.default x=1 body=kind: Service\n");
  bool found = false;
  for (const auto& [k, v] : r->headers)
    found |= k == "x-answer" && v == "yes";
  EXPECT_TRUE(found);
  auto get = blockingHttpRequest("127.0.0.1", server.port(), "GET", "pilot", "/ready", {}, "",
                                 milliseconds(2000));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "GET /ready q= x= body=");
}

TEST(BlockingHttpTest, MalformedRequestsGetA400AndBareConnectsNothing) {
  int calls = 0;
  BlockingHttpServer server([&](const BlockingHttpRequest&) {
    ++calls;
    return BlockingHttpResponse{};
  });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  auto fd = connectTcp("127.0.0.1", server.port(), milliseconds(2000));
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(sendAllBytes(*fd, "NONSENSE\r\n\r\n"));
  std::string raw;
  char buf[1024];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      usleep(1000);
      continue;
    }
    break;
  }
  close(*fd);
  auto reply = parseHttpReply(raw);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply->status, 400);
  EXPECT_THAT(reply->body, HasSubstr("bad request line: NONSENSE"));
  auto bare = connectTcp("127.0.0.1", server.port(), milliseconds(2000));
  ASSERT_TRUE(bare.ok());
  close(*bare);
  server.stop();
  EXPECT_EQ(calls, 0);
}

TEST(BlockingHttpTest, RepliesAreParsedByTheirFraming) {
  auto chunked = parseHttpReply(
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok());
  EXPECT_EQ(chunked->status, 503);
  EXPECT_EQ(chunked->body, "abcde");
  EXPECT_THAT(
      parseHttpReply("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").status().message(),
      HasSubstr("truncated"));
  EXPECT_THAT(parseHttpReply("").status().message(), HasSubstr("closed without a response"));
  EXPECT_THAT(connectTcp("nowhere", 80, milliseconds(100)).status().message(),
              HasSubstr("not an IP address"));
}

}  // namespace
}  // namespace remora
