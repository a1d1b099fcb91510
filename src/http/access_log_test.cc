#include "http/access_log.h"

#include <gtest/gtest.h>

#include <chrono>

namespace remora::http {
namespace {

struct Fixture {
  HeaderMap request;
  HeaderMap response;
  ConnectionInfo connection;
  StreamInfo info;
  Fixture() {
    request.add(":method", "GET");
    request.add(":path", "/a?b=1");
    request.add(":authority", "svc:9080");
    request.add("user-agent", "curl/8");
    request.add("x-request-id", "id-1");
    request.add("x-multi", "one");
    request.add("x-multi", "two");
    response.add(":status", "503");
    response.add("x-envoy-upstream-service-time", "7");
    connection.remote = *network::SocketAddress::parse("10.0.0.2:5555");
    connection.local = *network::SocketAddress::parse("10.0.0.9:9080");
    connection.id = 42;
    // 2024-01-02T03:04:05.678Z
    info.start_time =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1704164645678));
    info.start = event::MonotonicTime(std::chrono::seconds(100));
    info.end = info.start + std::chrono::milliseconds(12);
    info.response_code = 503;
    info.response_flags = kUpstreamConnectionFailure | kNoHealthyUpstream;
    info.bytes_received = 3;
    info.bytes_sent = 19;
    info.upstream_host = *network::SocketAddress::parse("10.1.1.1:80");
    info.upstream_cluster = "outbound|9080||svc";
    info.route_name = "default";
    info.connection = &connection;
    info.request_headers = &request;
    info.response_headers = &response;
  }
  std::string format(std::string_view f) {
    auto fmt = AccessLogFormatter::parse(f);
    EXPECT_TRUE(fmt.ok()) << fmt.status().message();
    std::string out;
    fmt->format(info, out);
    return out;
  }
};

TEST(AccessLogTest, DefaultFormatIsEnvoys) {
  Fixture f;
  EXPECT_EQ(f.format(AccessLogFormatter::kDefaultFormat),
            "[2024-01-02T03:04:05.678Z] \"GET /a?b=1 HTTP/1.1\" 503 UH,UF 3 19 12 7 \"-\" "
            "\"curl/8\" \"id-1\" \"svc:9080\" \"10.1.1.1:80\"\n");
}

TEST(AccessLogTest, OriginalPathWinsWhenRewritten) {
  Fixture f;
  f.request.add("x-envoy-original-path", "/before");
  EXPECT_EQ(f.format("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"), "/before");
}

TEST(AccessLogTest, OperatorsAndLiterals) {
  Fixture f;
  EXPECT_EQ(f.format("%UPSTREAM_CLUSTER% %ROUTE_NAME% %DOWNSTREAM_REMOTE_ADDRESS% "
                     "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% %CONNECTION_ID% 100%%"),
            "outbound|9080||svc default 10.0.0.2:5555 10.0.0.9 42 100%");
  EXPECT_EQ(f.format("%REQ(X-MULTI)% %REQ(USER-AGENT):4% %RESP(X-NONE)% %REQUESTED_SERVER_NAME%"),
            "one,two curl - -");
  f.info.response_flags = 0;
  EXPECT_EQ(f.format("%RESPONSE_FLAGS%"), "-");
}

TEST(AccessLogTest, IstioFormatParses) {
  Fixture f;
  std::string istio =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
      "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
      "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
      "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
      "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
      "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";
  std::string line = f.format(istio);
  EXPECT_NE(line.find("503 UH,UF - - \"-\" 3 19 12 7"), std::string::npos) << line;
}

TEST(AccessLogTest, RefusesWhatItCannotPrint) {
  EXPECT_FALSE(AccessLogFormatter::parse("%DYNAMIC_METADATA(x)%").ok());
  EXPECT_FALSE(AccessLogFormatter::parse("%REQ(a%").ok());
  EXPECT_FALSE(AccessLogFormatter::parse("tail %START_TIME").ok());
  EXPECT_FALSE(AccessLogFormatter::parse("%REQ(a):x%").ok());
  auto s = AccessLogFormatter::parse("%NOPE%");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "unsupported command operator %NOPE%");
}

TEST(ResponseFlagsTest, EnvoyOrderAndNames) {
  EXPECT_EQ(responseFlagsToString(kNoRouteFound), "NR");
  EXPECT_EQ(responseFlagsToString(kNoClusterFound | kUpstreamOverflow), "UO,NC");
  EXPECT_EQ(responseFlagsToString(kUpstreamRequestTimeout | kDownstreamProtocolError |
                                  kUpstreamRemoteReset | kUpstreamConnectionTermination),
            "UT,UR,UC,DPE");
}

}  // namespace
}  // namespace remora::http
