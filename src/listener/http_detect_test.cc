#include "listener/http_detect.h"

#include <gtest/gtest.h>

#include <string>

#include "listener/fuzz_entry.h"

namespace remora::listener {
namespace {

using Kind = HttpDetection::Kind;

TEST(HttpDetectTest, Http1RequestLines) {
  EXPECT_EQ(detectHttp("GET / HTTP/1.1\r\nHost: a\r\n\r\n").application_protocol, "http/1.1");
  EXPECT_EQ(detectHttp("POST /x?y=1 HTTP/1.0\r\n").application_protocol, "http/1.0");
  EXPECT_EQ(detectHttp("GET / HTTP/1.1\n").kind, Kind::kHttp1x);
  EXPECT_EQ(detectHttp("OPTIONS * HTTP/1.1\r\n").kind, Kind::kHttp1x);
  EXPECT_EQ(detectHttp("CONNECT a.b:443 HTTP/1.1\r\n").kind, Kind::kHttp1x);
}

TEST(HttpDetectTest, H2cPreface) {
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  HttpDetection d = detectHttp(preface + "\x00\x00\x12\x04");
  EXPECT_EQ(d.kind, Kind::kH2c);
  EXPECT_EQ(d.application_protocol, "h2c");
  for (size_t n = 0; n < preface.size(); ++n) {
    EXPECT_EQ(detectHttp(preface.substr(0, n)).kind, Kind::kNeedMoreData) << n;
  }
}

TEST(HttpDetectTest, EveryPrefixOfARequestNeedsMoreData) {
  std::string req = "GET /index.html HTTP/1.1\r\n";
  for (size_t n = 0; n < req.size(); ++n) {
    EXPECT_EQ(detectHttp(req.substr(0, n)).kind, Kind::kNeedMoreData) << n;
  }
  EXPECT_EQ(detectHttp(req).kind, Kind::kHttp1x);
}

TEST(HttpDetectTest, NotHttp) {
  EXPECT_EQ(detectHttp(std::string("\x16\x03\x01\x02\x00", 5)).kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("SSH-2.0-OpenSSH_9.2\r\n").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("GET / HTTP/2.0\r\n").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("GET / HTTP/1.1\rX").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("GET  / HTTP/1.1\r\n").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp(" GET / HTTP/1.1\r\n").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("PRI * HTTP/2.0\r\n\r\nXX").kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp(std::string(40, 'A')).kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp("GET /" + std::string(kMaxHttpRequestLine, 'a')).kind, Kind::kNotHttp);
  EXPECT_EQ(detectHttp(std::string("GET /\0 HTTP/1.1\r\n", 17)).kind, Kind::kNotHttp);
}

TEST(HttpDetectTest, FuzzEntryOnSamples) {
  for (std::string s : {"", "G", "GET / HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x16\x03"}) {
    fuzzDetectHttp(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

}  // namespace
}  // namespace remora::listener
