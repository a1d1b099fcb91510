#include "listener/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "listener/fuzz_entry.h"

namespace remora::listener {
namespace {

using Kind = ClientHelloResult::Kind;

// The first flight of a real OpenSSL client: what tls_inspector peeks at.
std::string realClientHello(const char* sni, const std::vector<std::string>& alpn,
                            int max_version = TLS1_3_VERSION) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (sni != nullptr) SSL_set_tlsext_host_name(ssl, sni);
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& p : alpn) wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read the ServerHello; the ClientHello is written
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

// Re-frames one-record TLS bytes into records of at most `chunk` body bytes,
// as a client or middlebox may legally do.
std::string splitIntoRecords(const std::string& one_record, size_t chunk) {
  std::string body = one_record.substr(5);
  std::string out;
  for (size_t pos = 0; pos < body.size(); pos += chunk) {
    std::string part = body.substr(pos, chunk);
    out += one_record.substr(0, 3);
    out += static_cast<char>(part.size() >> 8);
    out += static_cast<char>(part.size() & 0xff);
    out += part;
  }
  return out;
}

TEST(ClientHelloTest, ReadsSniAndAlpnFromARealClient) {
  std::string hello = realClientHello("Reviews.Default.svc.cluster.local", {"h2", "http/1.1"});
  ClientHelloResult r = parseClientHello(hello);
  ASSERT_EQ(r.kind, Kind::kTls) << r.reason;
  EXPECT_EQ(r.server_name, "reviews.default.svc.cluster.local");  // SNI is case-insensitive
  EXPECT_EQ(r.application_protocols, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHelloTest, Tls12ClientWithoutSniOrAlpn) {
  ClientHelloResult r = parseClientHello(realClientHello(nullptr, {}, TLS1_2_VERSION));
  ASSERT_EQ(r.kind, Kind::kTls) << r.reason;
  EXPECT_EQ(r.server_name, "");
  EXPECT_TRUE(r.application_protocols.empty());
}

TEST(ClientHelloTest, EveryPrefixNeedsMoreDataAndTheWholeIsFinal) {
  std::string hello = realClientHello("a.example.com", {"istio"});
  for (size_t n = 0; n < hello.size(); ++n) {
    ASSERT_EQ(parseClientHello(hello.substr(0, n)).kind, Kind::kNeedMoreData) << n;
  }
  EXPECT_EQ(parseClientHello(hello).kind, Kind::kTls);
  // Bytes after the ClientHello (a client sending early data) change nothing.
  ClientHelloResult more = parseClientHello(hello + "trailing bytes");
  EXPECT_EQ(more.kind, Kind::kTls);
  EXPECT_EQ(more.server_name, "a.example.com");
}

TEST(ClientHelloTest, ClientHelloSpanningSeveralRecords) {
  std::string hello = realClientHello("split.example.com", {"h2"});
  for (size_t chunk : {1, 7, 100}) {
    ClientHelloResult r = parseClientHello(splitIntoRecords(hello, chunk));
    ASSERT_EQ(r.kind, Kind::kTls) << chunk << ": " << r.reason;
    EXPECT_EQ(r.server_name, "split.example.com");
    EXPECT_EQ(r.application_protocols, std::vector<std::string>{"h2"});
  }
}

TEST(ClientHelloTest, PlaintextIsNotTlsFromTheFirstByte) {
  EXPECT_EQ(parseClientHello("G").kind, Kind::kNotTls);
  EXPECT_EQ(parseClientHello("GET / HTTP/1.1\r\n").kind, Kind::kNotTls);
  EXPECT_EQ(parseClientHello("SSH-2.0-OpenSSH").kind, Kind::kNotTls);
  EXPECT_EQ(parseClientHello(std::string("\x16\x02", 2)).kind, Kind::kNotTls);  // bad version
}

TEST(ClientHelloTest, MalformedHandshakesAreNotTls) {
  std::string hello = realClientHello("x.example.com", {"h2"});
  // A record that is not a ClientHello (ServerHello type 2).
  std::string server_hello = hello;
  server_hello[5] = 2;
  EXPECT_EQ(parseClientHello(server_hello).kind, Kind::kNotTls);
  // An empty record.
  EXPECT_EQ(parseClientHello(std::string("\x16\x03\x01\x00\x00", 5)).kind, Kind::kNotTls);
  // A record longer than TLS allows.
  EXPECT_EQ(parseClientHello(std::string("\x16\x03\x01\x48\x01", 5)).kind, Kind::kNotTls);
  // A message length that overruns its lengths: the extensions block claims
  // more bytes than the message has.
  std::string lying = hello;
  size_t body = 5 + 4;
  size_t session_len = static_cast<uint8_t>(lying[body + 34]);
  size_t ciphers_at = body + 35 + session_len;
  size_t ciphers_len = static_cast<uint8_t>(lying[ciphers_at]) << 8 | static_cast<uint8_t>(lying[ciphers_at + 1]);
  size_t comp_at = ciphers_at + 2 + ciphers_len;
  size_t ext_at = comp_at + 1 + static_cast<uint8_t>(lying[comp_at]);
  lying[ext_at] = static_cast<char>(0xff);
  ClientHelloResult r = parseClientHello(lying);
  EXPECT_EQ(r.kind, Kind::kNotTls);
  EXPECT_FALSE(r.reason.empty());
}

TEST(ClientHelloTest, FuzzEntryOnRealAndBrokenSamples) {
  std::vector<std::string> samples = {"", "\x16", realClientHello("a.b", {"h2"}),
                                      splitIntoRecords(realClientHello("c.d", {}), 3)};
  for (const std::string& s : samples) {
    fuzzClientHello(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

}  // namespace
}  // namespace remora::listener
