// Test helpers: decoders that record what a codec delivered as a compact
// event log, so tests compare strings and incremental feeding can be
// checked against all-at-once feeding.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "http/codec.h"

namespace remora::http::testing {

struct Recorder : public StreamDecoder {
  std::vector<std::string> events;
  std::string body;
  HeaderMapPtr headers;
  HeaderMapPtr trailers;
  bool ended = false;
  bool reset = false;
  int interim = 0;

  void decode1xxHeaders(HeaderMapPtr h) override {
    ++interim;
    events.push_back("1xx " + std::string(h->status()));
  }
  void decodeHeaders(HeaderMapPtr h, bool end_stream) override {
    events.push_back("H " + h->toString() + (end_stream ? "END" : ""));
    headers = std::move(h);
    ended = end_stream;
  }
  void decodeData(Buffer& data, bool end_stream) override {
    body += data.toString();
    data.clear();
    if (end_stream) {
      ended = true;
      events.push_back("D " + body + " END");
    }
  }
  void decodeTrailers(HeaderMapPtr t) override {
    events.push_back("D " + body);
    events.push_back("T " + t->toString());
    trailers = std::move(t);
    ended = true;
  }
  void onStreamReset(std::string_view reason) override {
    reset = true;
    events.push_back("RESET " + std::string(reason));
  }
  // Data events are merged (their split depends on how bytes arrived), so
  // this string is the same however the input was sliced.
  std::string log() const {
    std::string out;
    for (const auto& e : events)
      out += e + "|";
    if (!ended && !body.empty()) out += "partial " + body;
    return out;
  }
};

// Server callbacks that keep one Recorder per request and, optionally,
// answer each request as soon as it is complete.
struct ServerHarness : public ServerConnectionCallbacks {
  std::deque<std::unique_ptr<Recorder>> streams;
  std::vector<StreamEncoder*> encoders;
  StreamDecoder& newStream(StreamEncoder& encoder) override {
    streams.push_back(std::make_unique<Recorder>());
    encoders.push_back(&encoder);
    return *streams.back();
  }
  std::string log() const {
    std::string out;
    for (const auto& s : streams)
      out += "[" + s->log() + "]";
    return out;
  }
};

}  // namespace remora::http::testing
