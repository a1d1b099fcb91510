// HTTP filters: the ordered steps a request goes through inside the
// connection manager (Envoy's http_filters), the last of which is the router.
// The request path (decode*) runs the filters in order; a filter may stop the
// iteration and resume it later (continueDecoding), or answer the request
// itself (sendLocalReply). The response path (encode*) runs the filters that
// saw the request in reverse order, and they may only edit it.
//
// Filters are created per request by their factory, which is compiled once
// per configuration and shared by workers.
//
// Thread: a filter and its callbacks belong to the worker owning the stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "event/dispatcher.h"
#include "http/buffer.h"
#include "http/header_map.h"
#include "http/stream_info.h"

namespace remora::http {

enum class FilterStatus : uint8_t {
  kContinue,  // pass the event to the next filter
  kStop,      // do not (request headers: until continueDecoding())
};

// What the connection manager offers the filters of one stream.
class StreamFilterCallbacks {
 public:
  virtual ~StreamFilterCallbacks() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual StreamInfo& streamInfo() = 0;
  virtual const ConnectionInfo& connection() const = 0;
  // Resumes the request path after a filter returned kStop from
  // decodeHeaders: the next filter gets the headers, then the body and
  // trailers held meanwhile.
  virtual void continueDecoding() = 0;
  // The response, sent through the encode side of the filters that saw the
  // request. encodeData drains `data`.
  virtual void encode1xxHeaders(HeaderMapPtr headers) = 0;
  virtual void encodeHeaders(HeaderMapPtr headers, bool end_stream) = 0;
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMapPtr trailers) = 0;
  // Answers the request from the proxy (404, 503, ...) with Envoy's local
  // reply shape: a text/plain body if any, `flag` in the access log. When a
  // response was already started, the stream is reset instead.
  // `modify` may add headers (a redirect's location, route mutations).
  // `details` must outlive the stream (a literal).
  virtual void sendLocalReply(uint32_t status, std::string_view body, uint32_t flags,
                              std::string_view details,
                              const std::function<void(HeaderMap&)>& modify = nullptr) = 0;
  // Ends the stream abruptly (the downstream HTTP/1 connection is closed),
  // e.g. when the upstream dies after the response started.
  virtual void resetStream() = 0;
  // Flow control: stop (true) or resume reading the request from the client,
  // when the upstream does not take the body as fast as the client sends it.
  virtual void readDisableDownstream(bool disable) = 0;
  // Bytes the client has not yet taken from the response, so that a filter
  // relaying a response can stop reading its source while it is high.
  virtual size_t downstreamBufferedBytes() const = 0;
};

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  void setCallbacks(StreamFilterCallbacks& callbacks) { callbacks_ = &callbacks; }

  // Request path. `headers` stays valid for the whole stream; filters may edit it.
  virtual FilterStatus decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  // kStop: the filter took the bytes (drained `data`) or wants them dropped.
  virtual FilterStatus decodeData(Buffer& data, bool end_stream) { return FilterStatus::kContinue; }
  virtual FilterStatus decodeTrailers(HeaderMap& trailers) { return FilterStatus::kContinue; }
  // Response path: edits only.
  virtual void encodeHeaders(HeaderMap& headers, bool end_stream) {}
  virtual void encodeData(Buffer& data, bool end_stream) {}
  // The downstream side reports it can take more response bytes (after
  // downstreamBufferedBytes() was high).
  virtual void onDownstreamWritable() {}
  // The stream is over (complete, reset, or the client went away): release
  // resources, cancel timers and upstream work. Called once, last.
  virtual void onDestroy() {}

 protected:
  StreamFilterCallbacks* callbacks_ = nullptr;
};

class StreamFilterFactory {
 public:
  virtual ~StreamFilterFactory() = default;
  // Thread: any worker; the factory is immutable.
  virtual std::unique_ptr<StreamFilter> create() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace remora::http
