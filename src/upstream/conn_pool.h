// HTTP/1.1 upstream connection pools: one per worker and upstream host.
// A request gets an idle kept-alive connection when there is one, else a new
// connection, else it waits; each connection carries one request at a time
// and goes back to the pool when both its request and response are complete
// (once the last callback of the response has returned).
//
// Limits are Envoy's circuit breakers, cluster-wide (all workers count):
// max_connections (beyond it a request waits), max_pending_requests (beyond
// it: overflow, 503 UO). Connections unused for the cluster's idle timeout
// are closed; a connection that fails to connect within connect_timeout
// fails the request (503 UF).
//
// A kept-alive connection the upstream has closed is only noticed when a
// request is written to it. The pool reports that case apart
// (ResetReason::kStaleConnection) so the caller can send the request again
// on a fresh connection when it is safe to (docs/http.md).
//
// Thread: a pool, its connections and its callers belong to one worker.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "event/dispatcher.h"
#include "http/http1_codec.h"
#include "http/io.h"
#include "network/socket.h"
#include "upstream/cluster.h"

namespace remora::upstream {

enum class PoolFailure : uint8_t {
  kOverflow,        // circuit breaker: 503 UO
  kConnectFailure,  // refused, unreachable: 503 UF
  kConnectTimeout,  // 503 UF
};

enum class ResetReason : uint8_t {
  kConnectionTermination,  // the upstream closed before the response ended: UC
  kRemoteReset,            // TCP reset from the upstream: UR
  kProtocolError,          // the response broke HTTP/1.1: UPE
  // A reused connection died before any byte of the response arrived: the
  // upstream most likely closed it while idle and never saw the request.
  kStaleConnection,
};

class PooledConnection;

// The request's side of a pooled connection: write the request here.
class PoolStream {
 public:
  virtual ~PoolStream() = default;
  virtual void encodeHeaders(const http::HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(http::Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(const http::HeaderMap& trailers) = 0;
  // Request bytes not yet written to the socket (flow control).
  virtual size_t bufferedBytes() const = 0;
  // Stop (true) or resume reading the response (the client is slow).
  virtual void readDisable(bool disable) = 0;
  // Abandons the exchange (timeout, client gone): the connection is closed,
  // since an HTTP/1 connection with a request in flight cannot be reused.
  virtual void reset() = 0;
  virtual const network::SocketAddress& localAddress() const = 0;
  // True when the connection carried an earlier request.
  virtual bool reused() const = 0;
};

// The caller's side: connection events and the response.
class PoolCallbacks : public http::StreamDecoder {
 public:
  virtual void onPoolReady(PoolStream& stream) = 0;
  virtual void onPoolFailure(PoolFailure reason) = 0;
  // The exchange broke before the response ended (after onPoolReady).
  virtual void onUpstreamReset(ResetReason reason) = 0;
  // The request bytes buffered for the socket fell below half the limit.
  virtual void onUpstreamWritable() {}

 private:
  // The codec's resets reach the pool, which reports onUpstreamReset.
  void onStreamReset(std::string_view) final {}
};

// What pools use of their worker.
struct PoolContext {
  event::Dispatcher& dispatcher;
  http::FlushList& flush;
};

class ConnPool {
 public:
  ConnPool(PoolContext& context, ClusterSharedPtr cluster, HostSharedPtr host);
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // Calls callbacks.onPoolReady or onPoolFailure, now or later. Until then
  // the request can be withdrawn with cancel().
  void newStream(PoolCallbacks& callbacks);
  void cancel(PoolCallbacks& callbacks);
  // Closes idle connections; the busy ones close when their exchange ends.
  void drain();
  // No connection and no waiting request: the pool may be deleted.
  bool empty() const;
  Host& host() const { return *host_; }
  size_t idleConnections() const { return ready_.size(); }

 private:
  friend class PooledConnection;
  using ConnList = std::list<std::unique_ptr<PooledConnection>>;

  // Opens connections for waiting requests, within the breaker.
  void maybeConnect();
  // false when the connect could not even start (that request failed).
  bool createConnection();
  void failPending(PoolFailure reason);
  void moveTo(PooledConnection& c, ConnList& to);
  void onConnected(PooledConnection& c);
  void onConnectFailed(PoolFailure reason);
  // The exchange is over and the connection can take another request.
  void onIdle(PooledConnection& c);
  void remove(PooledConnection& c, bool was_connecting);
  void attach(PooledConnection& c, PoolCallbacks& callbacks);

  PoolContext& context_;
  ClusterSharedPtr cluster_;
  HostSharedPtr host_;
  std::list<PoolCallbacks*> pending_;
  ConnList connecting_;
  ConnList ready_;  // idle, most recently used first
  ConnList busy_;
  bool draining_ = false;
};

}  // namespace remora::upstream
