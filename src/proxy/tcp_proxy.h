// envoy.filters.network.tcp_proxy: connects each downstream connection to a
// host of the configured cluster and streams bytes both ways with splice(2),
// so payload never enters user space. Back-pressure: each direction has one
// kernel pipe of bounded size; when it is full the proxy stops reading that
// side, so a slow reader stalls its writer instead of growing any buffer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/stats.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "network/address.h"
#include "network/socket.h"
#include "proxy/terminal_filter.h"
#include "proxy/worker_context.h"
#include "upstream/cluster.h"

namespace remora::proxy {

struct TcpProxyStats {
  Counter* downstream_cx_total;
  Counter* downstream_cx_no_route;
  Counter* downstream_cx_rx_bytes_total;
  Counter* downstream_cx_tx_bytes_total;
  Counter* downstream_flow_control_paused_reading_total;
  Counter* downstream_flow_control_resumed_reading_total;
  Counter* upstream_flush_total;
  Counter* idle_timeout;
};

// The compiled form of one tcp_proxy filter config.
struct TcpProxyConfig {
  struct WeightedCluster {
    std::string name;
    uint32_t weight;
  };
  std::string stat_prefix;
  std::vector<WeightedCluster> clusters;  // one entry with weight 1 for `cluster`
  uint64_t total_weight = 0;
  std::chrono::milliseconds idle_timeout{3600 * 1000};  // Envoy's default: 1 hour
  TcpProxyStats stats{};

  static StatusOr<std::shared_ptr<const TcpProxyConfig>> create(
      const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto, StatsStore& stats);

  // Picks a cluster name by weight.
  const std::string& pickCluster(std::mt19937_64& random) const;
};

// Looks a cluster up by name in the configuration the connection arrived under.
using ClusterLookup = std::function<upstream::ClusterSharedPtr(const std::string&)>;

// The terminal filter: one TcpProxySession per connection.
class TcpProxyFilter : public TerminalFilter {
 public:
  explicit TcpProxyFilter(std::shared_ptr<const TcpProxyConfig> config)
      : config_(std::move(config)) {}
  std::unique_ptr<ConnectionHandler> createHandler(
      WorkerContext& worker, const std::shared_ptr<const ConfigSnapshot>& snapshot,
      DownstreamConnection connection, std::function<void()> on_done) const override;
  const TcpProxyConfig& config() const { return *config_; }

 private:
  std::shared_ptr<const TcpProxyConfig> config_;
};

// One proxied connection. Created on a worker; lives until both directions
// are finished or an error/timeout closes it, then calls `on_done` (which
// must defer its deletion).
class TcpProxySession : public ConnectionHandler {
 public:
  struct Downstream {
    network::Fd fd;
    network::SocketAddress peer;
    // The address the client connected to before redirection: where an
    // ORIGINAL_DST cluster sends the connection.
    network::SocketAddress original_destination;
  };

  TcpProxySession(WorkerContext& worker, std::shared_ptr<const TcpProxyConfig> config,
                  const ClusterLookup& clusters, Downstream downstream,
                  std::function<void()> on_done);
  ~TcpProxySession() override;
  TcpProxySession(const TcpProxySession&) = delete;
  TcpProxySession& operator=(const TcpProxySession&) = delete;

  // Picks the upstream and starts connecting; may finish at once (no host).
  void start() override;
  // Worker shutdown: close without waiting.
  void close() override;

 private:
  // One direction of the stream: bytes from `src` through `pipe` into `dst`.
  struct Flow {
    int src = -1;
    int dst = -1;
    SplicePipe pipe;
    bool src_eof = false;
    bool dst_shut = false;
    bool paused = false;  // reading stopped because the pipe is full
    Counter* rx = nullptr;
    Counter* tx = nullptr;
  };
  enum class Io { kOk, kError };

  void onUpstreamConnected();
  void onEvent(bool downstream_side, uint32_t ready);
  Io fill(Flow& f);
  Io drain(Flow& f);
  void finishHalfCloses();
  void updateInterest();
  void onIdleTimer();
  void fail(bool connect_failure);
  void finish();

  WorkerContext& worker_;
  std::shared_ptr<const TcpProxyConfig> config_;
  ClusterLookup clusters_;
  Downstream downstream_;
  std::function<void()> on_done_;

  upstream::ClusterSharedPtr cluster_;
  upstream::HostSharedPtr host_;
  network::Fd upstream_fd_;
  bool connected_ = false;
  bool done_ = false;
  Flow to_upstream_;
  Flow to_downstream_;
  std::unique_ptr<event::FileEvent> downstream_event_;
  std::unique_ptr<event::FileEvent> upstream_event_;
  std::unique_ptr<event::Timer> connect_timer_;
  std::unique_ptr<event::Timer> idle_timer_;
  event::MonotonicTime last_activity_;
};

}  // namespace remora::proxy
