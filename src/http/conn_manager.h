// The HTTP connection manager (envoy.filters.network.http_connection_manager)
// for one downstream connection: reads the socket, runs the HTTP/1.1 codec,
// turns each request into a stream that goes through the configured HTTP
// filters (the last one, the router, forwards it), and writes the responses
// back in request order. It also does what Envoy's connection manager does
// to every request and response: x-request-id, x-forwarded-proto/-for,
// hop-by-hop headers, 100-continue, upgrades, server and date headers, local
// replies, idle timeouts, stats and the access log.
//
// The configuration is compiled once (proxy/http_connection_manager.cc) and
// shared by the workers; a ConnectionManager lives on the worker that
// accepted its socket, for the socket's whole life.
//
// Thread: the owning worker, for every method.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/stats.h"
#include "event/dispatcher.h"
#include "http/access_log.h"
#include "http/filter.h"
#include "http/http1_codec.h"
#include "http/io.h"
#include "network/socket.h"

namespace remora::http {

struct ConnectionManagerStats {
  Counter* downstream_cx_total;
  Gauge* downstream_cx_active;
  Counter* downstream_cx_destroy;
  Counter* downstream_cx_protocol_error;
  Counter* downstream_cx_idle_timeout;
  Counter* downstream_cx_upgrades_total;
  Counter* downstream_rq_total;
  Gauge* downstream_rq_active;
  Counter* downstream_rq_1xx;
  Counter* downstream_rq_2xx;
  Counter* downstream_rq_3xx;
  Counter* downstream_rq_4xx;
  Counter* downstream_rq_5xx;
  Counter* downstream_rq_completed;
  Counter* downstream_rq_rx_reset;  // the client went away mid-request
  Counter* downstream_rq_idle_timeout;
  Counter* downstream_rq_ws_on_non_ws_route;
};

struct ConnectionManagerConfig {
  enum class ServerHeader { kOverwrite, kAppendIfAbsent, kPassThrough };

  std::string stat_prefix;
  ConnectionManagerStats stats{};
  Http1Settings codec;
  std::chrono::milliseconds idle_timeout{3600 * 1000};        // no request in flight; 0: none
  std::chrono::milliseconds stream_idle_timeout{300 * 1000};  // no activity on a stream; 0: none
  std::chrono::milliseconds delayed_close_timeout{1000};
  uint32_t max_requests_per_connection = 0;  // 0: unlimited
  bool accept_http_10 = false;               // Envoy refuses HTTP/1.0 with 426 unless told
  bool use_remote_address = false;
  bool skip_xff_append = false;
  std::string via;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  bool always_set_request_id_in_response = false;
  bool proxy_100_continue = false;
  std::string server_name = "envoy";
  ServerHeader server_header = ServerHeader::kOverwrite;
  std::vector<std::string> upgrade_types;  // lower-case, enabled ("websocket")
  std::vector<std::shared_ptr<const AccessLog>> access_logs;
  uint32_t buffer_limit_bytes = 1024 * 1024;  // per direction, then flow control
};

// Makes the HTTP filters of each new stream, in order (the router last).
// Supplied per connection by whoever runs the connection manager, so that
// filters can be bound to that connection's worker and configuration.
class FilterChainFactory {
 public:
  virtual ~FilterChainFactory() = default;
  virtual void createFilters(std::vector<std::unique_ptr<StreamFilter>>& filters) = 0;
};

// What a connection manager uses of the worker it runs on.
struct WorkerResources {
  event::Dispatcher& dispatcher;
  FlushList& flush;
  DateCache& date;
  RandomGenerator& random;
};

class ConnectionManager : public event::DeferredDeletable,
                          private ServerConnectionCallbacks,
                          private FlushList::Entry {
 public:
  // `on_close` runs once when the connection is finished; it must defer the
  // deletion of this object.
  ConnectionManager(std::shared_ptr<const ConnectionManagerConfig> config, WorkerResources& worker,
                    FilterChainFactory& filters, network::Fd fd, ConnectionInfo info,
                    std::function<void()> on_close);
  ~ConnectionManager() override;
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  void start();
  // Closes the connection now, resetting any stream (worker shutdown).
  void close();
  // Graceful: an idle connection closes now; a busy one after its current
  // response, which carries "connection: close".
  void drain();

 private:
  class ActiveStream;
  friend class ActiveStream;

  StreamDecoder& newStream(StreamEncoder& encoder) override;
  void flushNow() override;
  void onEvent(uint32_t ready);
  void onReadable();
  void onCodecError();
  void onTimer();
  void streamDone(ActiveStream& stream);
  void readDisable(bool disable);
  // Activity on the stream: pushes its idle deadline back.
  void touchStream();
  void updateInterest();
  void closeNow(uint32_t stream_flags);
  void closeAfterFlush();

  std::shared_ptr<const ConnectionManagerConfig> config_;
  WorkerResources& worker_;
  FilterChainFactory& filter_factory_;
  network::Fd fd_;
  ConnectionInfo info_;
  std::function<void()> on_close_;
  Http1ServerConnection codec_;
  Buffer read_buffer_;
  std::unique_ptr<event::FileEvent> event_;
  std::unique_ptr<ActiveStream> stream_;  // the request being answered
  DeadlineTimer timer_;                   // idle, stream idle, delayed close
  uint32_t read_disabled_ = 0;
  uint32_t requests_ = 0;
  bool write_blocked_ = false;    // waiting for EPOLLOUT
  bool above_watermark_ = false;  // output over the buffer limit
  bool resume_pending_ = false;   // pipelined input to parse once the response is out
  bool pipeline_paused_ = false;  // reading stopped: too much pipelined input held
  bool peer_eof_ = false;
  bool draining_ = false;
  bool half_closed_ = false;  // we shut our side down and wait for the peer's FIN
  bool closed_ = false;
};

}  // namespace remora::http
