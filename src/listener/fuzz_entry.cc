#include "listener/fuzz_entry.h"

#include <cstdlib>
#include <span>

#include "listener/client_hello.h"
#include "listener/http_detect.h"

namespace remora::listener {
namespace {

bool sameClientHello(const ClientHelloResult& a, const ClientHelloResult& b) {
  return a.kind == b.kind && a.server_name == b.server_name &&
         a.application_protocols == b.application_protocols;
}

}  // namespace

int fuzzClientHello(const uint8_t* data, size_t size) {
  std::span<const uint8_t> all(data, size);
  ClientHelloResult full = parseClientHello(all);
  // A final answer on a prefix must be the answer on the whole input: the
  // inspector acts on the first final answer it gets.
  for (size_t cut : {size / 3, size / 2, size > 0 ? size - 1 : 0}) {
    ClientHelloResult part = parseClientHello(all.first(cut));
    if (part.kind != ClientHelloResult::Kind::kNeedMoreData && !sameClientHello(part, full)) {
      std::abort();
    }
  }
  if (full.kind == ClientHelloResult::Kind::kTls && full.server_name.size() > 255) std::abort();
  return 0;
}

int fuzzDetectHttp(const uint8_t* data, size_t size) {
  std::span<const uint8_t> all(data, size);
  HttpDetection full = detectHttp(all);
  for (size_t cut : {size / 3, size / 2, size > 0 ? size - 1 : 0}) {
    HttpDetection part = detectHttp(all.first(cut));
    if (part.kind != HttpDetection::Kind::kNeedMoreData &&
        (part.kind != full.kind || part.application_protocol != full.application_protocol)) {
      std::abort();
    }
  }
  return 0;
}

}  // namespace remora::listener
