#include "http1_fuzz.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http1_codec.h"

namespace remora::fuzz {
namespace {

using http::Buffer;
using http::HeaderMap;
using http::HeaderMapPtr;
using http::StreamDecoder;
using http::StreamEncoder;

// Logs what a decoder saw; the log must not depend on input slicing.
struct Sink : public StreamDecoder {
  std::string* log;
  bool ended = false;  // the message is complete
  explicit Sink(std::string* l) : log(l) {}
  void decode1xxHeaders(HeaderMapPtr h) override { *log += "1xx " + h->toString(); }
  void decodeHeaders(HeaderMapPtr h, bool end) override {
    ended = end;
    *log += "H " + h->toString() + (end ? "END\n" : "\n");
    // Invariants every consumer relies on.
    if (h->has(http::Known::kMethod) && h->method().empty()) std::abort();
  }
  void decodeData(Buffer& data, bool end) override {
    *log += data.toString();
    data.clear();
    if (end) {
      ended = true;
      *log += "|END\n";
    }
  }
  void decodeTrailers(HeaderMapPtr t) override {
    ended = true;
    *log += "T " + t->toString();
  }
  void onStreamReset(std::string_view) override { *log += "RESET\n"; }
};

struct Server : public http::ServerConnectionCallbacks {
  std::string log;
  std::vector<std::unique_ptr<Sink>> sinks;
  StreamEncoder* encoder = nullptr;
  StreamDecoder& newStream(StreamEncoder& e) override {
    encoder = &e;
    sinks.push_back(std::make_unique<Sink>(&log));
    return *sinks.back();
  }
};

std::string runRequests(std::string_view in, size_t step) {
  Server s;
  http::Http1ServerConnection codec(s);
  std::string result;
  bool answered = false;
  for (size_t i = 0; i < in.size() && result.empty(); i += step) {
    Status st = codec.dispatch(in.substr(i, step));
    // Answer each request once it is fully read so pipelining proceeds; the
    // answer is streamed with chunking to exercise the serializer.
    // (A body may itself contain "END\n": the sink's flag, not the log, says
    // when the request is complete.)
    while (st.ok() && codec.streamActive() && !s.sinks.empty() && s.sinks.back()->ended) {
      HeaderMap r;
      r.add(":status", answered ? "200" : "204");
      answered = !answered;
      s.encoder->encodeHeaders(r, false);
      Buffer b("x");
      s.encoder->encodeData(b, true);
      s.log += "ANSWERED\n";
      st = codec.resumeDispatch();
    }
    if (!st.ok()) result = st.message();
  }
  if (result.empty()) {
    Status st = codec.onEof();
    result = st.ok() ? "EOF-OK" : "EOF " + st.message();
  }
  return s.log + result + "\nOUT " + codec.output().toString();
}

std::string runResponses(std::string_view in, size_t step) {
  std::string log;
  http::Http1ClientConnection codec;
  Sink sinks[3] = {Sink(&log), Sink(&log), Sink(&log)};
  const char* methods[3] = {"GET", "HEAD", "POST"};
  for (int i = 0; i < 3; ++i) {
    HeaderMap r;
    r.add(":method", methods[i]);
    r.add(":path", "/");
    r.add(":authority", "fuzz");
    if (i == 0) {
      r.add("connection", "upgrade");
      r.add("upgrade", "websocket");
    }
    codec.newStream(sinks[i]).encodeHeaders(r, i != 0);
  }
  std::string result;
  for (size_t i = 0; i < in.size() && result.empty(); i += step) {
    Status st = codec.dispatch(in.substr(i, step));
    if (!st.ok()) result = st.message();
  }
  if (result.empty()) {
    Status st = codec.onEof();
    result = st.ok() ? "EOF-OK" : "EOF " + st.message();
  }
  return log + result;
}

template <typename Run>
void compareSlicings(const uint8_t* data, size_t size, Run run) {
  if (size == 0) return;
  size_t step = 1 + data[0] % 16;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string whole = run(in, in.size() + 1);
  std::string sliced = run(in, step);
  if (whole != sliced) {
    if (std::getenv("REMORA_FUZZ_DEBUG") != nullptr) {
      fprintf(stderr, "=== whole ===\n%s\n=== sliced (step %zu) ===\n%s\n", whole.c_str(), step,
              sliced.c_str());
    }
    std::abort();  // slicing changed the verdict
  }
}

}  // namespace

void fuzzHttp1Request(const uint8_t* data, size_t size) {
  compareSlicings(data, size, runRequests);
}

void fuzzHttp1Response(const uint8_t* data, size_t size) {
  compareSlicings(data, size, runResponses);
}

}  // namespace remora::fuzz
