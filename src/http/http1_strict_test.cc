// The strictness table of docs/http1.md: each malformed request gets its
// status code, is refused before any decoder sees it, and the verdict does
// not depend on how the bytes were sliced.
#include <gtest/gtest.h>

#include "http/http1_codec.h"
#include "http/http1_test_util.h"

namespace remora::http {
namespace {

using testing::ServerHarness;

struct Case {
  const char* name;
  std::string input;
  int status;                      // 0: accepted
  bool headers_delivered = false;  // the error is in the body, after decodeHeaders
};

std::string req(std::string_view fields, std::string_view line = "GET / HTTP/1.1") {
  return std::string(line) + "\r\n" + std::string(fields) + "\r\n";
}

std::vector<Case> cases() {
  std::vector<Case> c = {
      // Framing ambiguity: the request-smuggling family.
      {"ClWithTe", req("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"TeWithCl", req("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
      {"ClList", req("Host: a\r\nContent-Length: 5, 5\r\n"), 400},
      {"ClDiffering", req("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"), 400},
      {"ClIdenticalRepeat", req("Host: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n"), 0},
      {"ClPlusSign", req("Host: a\r\nContent-Length: +5\r\n"), 400},
      {"ClNegative", req("Host: a\r\nContent-Length: -1\r\n"), 400},
      {"ClInnerSpace", req("Host: a\r\nContent-Length: 1 2\r\n"), 400},
      {"ClEmpty", req("Host: a\r\nContent-Length: \r\n"), 400},
      {"ClHuge", req("Host: a\r\nContent-Length: 99999999999999999999999\r\n"), 400},
      {"ClHex", req("Host: a\r\nContent-Length: 0x10\r\n"), 400},
      {"TeGzipOnly", req("Host: a\r\nTransfer-Encoding: gzip\r\n"), 400},
      {"TeChunkedThenGzip", req("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n"), 400},
      {"TeChunkedTwice", req("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n"), 400},
      {"TeChunkedTwoLines",
       req("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"TeIdentity", req("Host: a\r\nTransfer-Encoding: identity\r\n"), 400},
      {"TeUnknownThenChunked", req("Host: a\r\nTransfer-Encoding: foo, chunked\r\n"), 501},
      {"TeGzipThenChunked", req("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n"), 501},
      {"TeEmpty", req("Host: a\r\nTransfer-Encoding: \r\n"), 400},
      {"TeEmptyElement", req("Host: a\r\nTransfer-Encoding: , chunked\r\n"), 400},
      {"TeVerticalTab",
       req("Host: a\r\nTransfer-Encoding: \x0b"
           "chunked\r\n"),
       400},
      {"TeQuoted", req("Host: a\r\nTransfer-Encoding: \"chunked\"\r\n"), 400},
      {"TeInHttp10", req("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.0"), 400},
      {"TeCaseInsensitive", req("Host: a\r\nTransfer-Encoding: Chunked\r\n") + "0\r\n\r\n", 0},
      // Field syntax.
      {"ObsFold", req("Host: a\r\nX-A: b\r\n c\r\n"), 400},
      {"ObsFoldTab", req("Host: a\r\nX-A: b\r\n\tc\r\n"), 400},
      {"FirstFieldIndented", req(" Host: a\r\n"), 400},
      {"SpaceBeforeColon", req("Host : a\r\n"), 400},
      {"TabBeforeColon", req("Host\t: a\r\n"), 400},
      {"TeSpaceBeforeColon", req("Host: a\r\nTransfer-Encoding : chunked\r\n"), 400},
      {"NoColon", req("Host: a\r\nNoColon\r\n"), 400},
      {"EmptyName", req("Host: a\r\n: x\r\n"), 400},
      {"NulInValue", req(std::string("Host: a\r\nX-A: b\0c\r\n", 19)), 400},
      {"CrInValue", req("Host: a\r\nX-A: b\rc\r\n"), 400},
      {"DelInValue", req("Host: a\r\nX-A: b\x7f\r\n"), 400},
      {"CtlInValue", req("Host: a\r\nX-A: b\x01\r\n"), 400},
      {"CtlInName",
       req("Host: a\r\nX\x01"
           "A: b\r\n"),
       400},
      {"NonTokenInName", req("Host: a\r\nX(A): b\r\n"), 400},
      {"BareLfFieldEnd", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400},
      {"BareLfHeadEnd", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
      {"BareLfRequestLine", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
      {"ObsTextValueAllowed", req("Host: a\r\nX-A: caf\xc3\xa9\r\n"), 0},
      // Host.
      {"MissingHost", req("X: y\r\n"), 400},
      {"TwoHosts", req("Host: a\r\nHost: b\r\n"), 400},
      {"HostWithSlash", req("Host: a/b\r\n"), 400},
      {"HostWithSpace", req("Host: a b\r\n"), 400},
      {"Http10NoHost", req("", "GET / HTTP/1.0"), 0},
      // Request line.
      {"BadMethod", req("Host: a\r\n", "G@T / HTTP/1.1"), 400},
      {"EmptyMethod", req("Host: a\r\n", " / HTTP/1.1"), 400},
      {"DoubleSpace", req("Host: a\r\n", "GET  / HTTP/1.1"), 400},
      {"TrailingSpace", req("Host: a\r\n", "GET / HTTP/1.1 "), 400},
      {"Http09", req("", "GET /"), 400},
      {"LowercaseVersion", req("Host: a\r\n", "GET / http/1.1"), 400},
      {"ShortVersion", req("Host: a\r\n", "GET / HTTP/1"), 400},
      {"Http12", req("Host: a\r\n", "GET / HTTP/1.2"), 505},
      {"Http20", req("Host: a\r\n", "GET / HTTP/2.0"), 505},
      {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      {"Http30", req("Host: a\r\n", "GET / HTTP/3.0"), 505},
      {"CtlInTarget", req("Host: a\r\n", "GET /a\x01 HTTP/1.1"), 400},
      {"NonAsciiTarget", req("Host: a\r\n", "GET /caf\xc3\xa9 HTTP/1.1"), 400},
      {"RelativeTarget", req("Host: a\r\n", "GET a/b HTTP/1.1"), 400},
      {"FtpTarget", req("Host: a\r\n", "GET ftp://a/ HTTP/1.1"), 400},
      {"UserinfoTarget", req("Host: a\r\n", "GET http://u@a/ HTTP/1.1"), 400},
      {"AsteriskNotOptions", req("Host: a\r\n", "GET * HTTP/1.1"), 400},
      {"AsteriskOptions", req("Host: a\r\n", "OPTIONS * HTTP/1.1"), 0},
      {"ConnectOriginForm", req("Host: a\r\n", "CONNECT / HTTP/1.1"), 400},
      {"ConnectWithBody", req("Host: a:1\r\nContent-Length: 2\r\n", "CONNECT a:1 HTTP/1.1"), 400},
      // Limits.
      {"RequestLineTooLong", req("Host: a\r\n", "GET /" + std::string(9000, 'a') + " HTTP/1.1"),
       414},
      {"RequestLineUnterminated", "GET /" + std::string(9000, 'a'), 414},
      {"TooManyHeaders",
       [] {
         std::string f = "Host: a\r\n";
         for (int i = 0; i < 100; ++i)
           f += "X-" + std::to_string(i) + ": v\r\n";
         return req(f);
       }(),
       431},
      {"HundredHeadersOk",
       [] {
         std::string f = "Host: a\r\n";
         for (int i = 0; i < 99; ++i)
           f += "X-" + std::to_string(i) + ": v\r\n";
         return req(f);
       }(),
       0},
      {"HeaderBlockTooLarge", req("Host: a\r\nX-Big: " + std::string(61 * 1024, 'v') + "\r\n"),
       431},
      {"HeaderBlockUnterminated", "GET / HTTP/1.1\r\nX: " + std::string(70 * 1024, 'v'), 431},
      // Chunked bodies: the error comes after the headers went up.
      {"ChunkSizeNotHex", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "zz\r\n", 400, true},
      {"ChunkSizeEmpty", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "\r\n", 400, true},
      {"ChunkSizeNegative", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "-1\r\n", 400, true},
      {"ChunkSize0x", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "0x5\r\n", 400, true},
      {"ChunkSizeOverflow",
       req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "10000000000000000\r\n", 400, true},
      {"ChunkSizeBareLf", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "5\nhello\r\n", 400,
       true},
      {"ChunkSizeSpaceNoExt", req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "5 \r\n", 400,
       true},
      {"ChunkDataTooLong",
       req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "3\r\nhello\r\n0\r\n\r\n", 400, true},
      {"ChunkExtensionCtl",
       req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "3;a=\x01\r\nabc\r\n0\r\n\r\n", 400,
       true},
      {"ChunkExtensionOk",
       req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "3 ;a=b\r\nabc\r\n0\r\n\r\n", 0},
      {"TrailerObsFold",
       req("Host: a\r\nTransfer-Encoding: chunked\r\n") + "0\r\nX: a\r\n b\r\n\r\n", 400, true},
  };
  return c;
}

class StrictTest : public ::testing::TestWithParam<Case> {};

int run(const std::string& input, size_t step, ServerHarness& h, Http1ServerConnection& codec) {
  for (size_t i = 0; i < input.size(); i += step) {
    Status s = codec.dispatch(std::string_view(input).substr(i, step));
    if (!s.ok()) {
      EXPECT_NE(codec.error(), nullptr);
      EXPECT_TRUE(codec.wantsClose());
      return codec.error()->status;
    }
  }
  (void)h;
  return 0;
}

TEST_P(StrictTest, Verdict) {
  const Case& c = GetParam();
  for (size_t step : {c.input.size(), size_t{1}, size_t{7}}) {
    if (step == 0) continue;
    ServerHarness h;
    Http1ServerConnection codec(h);
    int got = run(c.input, step, h, codec);
    EXPECT_EQ(got, c.status) << "step " << step << " "
                             << (codec.error() ? codec.error()->toString() : "");
    if (c.status != 0 && !c.headers_delivered) {
      EXPECT_TRUE(h.streams.empty()) << "a bad request reached a decoder";
    }
    if (c.headers_delivered) {
      ASSERT_EQ(h.streams.size(), 1u);
      EXPECT_TRUE(h.streams[0]->reset);
      EXPECT_FALSE(h.streams[0]->ended);
    }
    if (c.status == 0) {
      ASSERT_EQ(h.streams.size(), 1u);
      EXPECT_TRUE(h.streams[0]->ended);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, StrictTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

TEST(StrictErrorTest, ReportsOffsetAndField) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01\r\n\r\n";
  ASSERT_FALSE(codec.dispatch(in).ok());
  EXPECT_EQ(codec.error()->status, 400);
  EXPECT_EQ(codec.error()->field, "X-A");
  EXPECT_EQ(codec.error()->offset, in.find('\x01'));
  EXPECT_NE(codec.error()->toString().find("invalid character in header value"), std::string::npos);
}

TEST(StrictErrorTest, ErrorIsStickyAndLaterRequestsAreNeverParsed) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  EXPECT_FALSE(codec
                   .dispatch("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n"
                             "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
                   .ok());
  EXPECT_FALSE(codec.dispatch("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  EXPECT_TRUE(h.streams.empty());
}

// The classic CL.TE / TE.CL desync: the smuggled request must never surface.
TEST(StrictErrorTest, SmuggledRequestNeverSurfaces) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  std::string in =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nSMUGGLED";
  EXPECT_FALSE(codec.dispatch(in).ok());
  EXPECT_EQ(codec.error()->status, 400);
  EXPECT_TRUE(h.streams.empty());
}

}  // namespace
}  // namespace remora::http
