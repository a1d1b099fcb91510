// The listeners, clusters, route configurations and endpoints that arrive
// over ADS (the bootstrap's dynamic_resources), on top of its static ones:
// how each xDS response changes them, when workers need a new snapshot, and
// what /config_dump shows of them.
//
// Envoy's rules, kept:
// - A response is all or nothing for LDS, CDS and RDS: one bad resource
//   NACKs it with a message naming the resource and field, and the running
//   configuration does not move. EDS applies each valid assignment and NACKs
//   naming the bad ones.
// - LDS and CDS responses carry the whole set (a missing resource is
//   removed); RDS and EDS carry the names asked for.
// - A new or changed listener warms until every route configuration it names
//   arrived; a new EDS cluster until its endpoints arrived; each at most the
//   initial fetch timeout. Meanwhile the previous version keeps serving.
//
// Thread: the main thread (the ADS client's loop).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/stats.h"
#include "common/status.h"
#include "config/bootstrap.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "event/dispatcher.h"
#include "google/protobuf/any.pb.h"
#include "proxy/config_snapshot.h"

namespace remora::proxy {

class DynamicResources {
 public:
  // A new snapshot for the workers (listeners or clusters changed).
  using PublishFn = std::function<void(ConfigSnapshotConstSharedPtr)>;
  // The names now wanted for RDS or EDS.
  using SubscribeFn =
      std::function<void(const std::string& type_url, std::vector<std::string> names)>;

  // `initial` is the snapshot of static_resources.
  DynamicResources(event::Dispatcher& main, const config::AdsSettings& settings,
                   ConfigSnapshotConstSharedPtr initial, StatsStore& stats,
                   upstream::Histograms* histograms, PublishFn publish, SubscribeFn subscribe);
  ~DynamicResources();

  // One ADS response; OK to ACK, an error to NACK (its message is the
  // error_detail the control plane sees).
  Status apply(const std::string& type_url, const std::string& version,
               const std::vector<google::protobuf::Any>& resources);

  // The first LDS and CDS responses were applied and nothing warms any more
  // (or its initial fetch timed out): /ready may say LIVE.
  bool initialized() const;
  bool isStatic(const std::string& cluster) const {
    return static_->findCluster(cluster) != nullptr;
  }

  // Envoy's dump sections, static parts included.
  envoy::admin::v3::ListenersConfigDump listenersDump() const;
  envoy::admin::v3::ClustersConfigDump clustersDump() const;
  envoy::admin::v3::RoutesConfigDump routesDump() const;
  envoy::admin::v3::EndpointsConfigDump endpointsDump() const;

 private:
  using Clock = std::chrono::system_clock;
  struct ListenerEntry {
    std::string version;
    Clock::time_point last_updated;
    CompiledListenerConstSharedPtr compiled;
    std::chrono::steady_clock::time_point warm_deadline;
  };
  struct ClusterEntry {
    std::string version;
    Clock::time_point last_updated;
    upstream::ClusterSharedPtr cluster;
    std::string eds_name;  // empty unless type EDS
    std::chrono::steady_clock::time_point warm_deadline;
  };
  struct RouteEntry {
    std::string version;
    Clock::time_point last_updated;
    envoy::config::route::v3::RouteConfiguration proto;
    std::shared_ptr<const router::RouteTable> table;
  };
  struct EndpointEntry {
    std::string version;
    Clock::time_point last_updated;
    envoy::config::endpoint::v3::ClusterLoadAssignment proto;
  };

  Status applyListeners(const std::string& version,
                        const std::vector<google::protobuf::Any>& resources);
  Status applyClusters(const std::string& version,
                       const std::vector<google::protobuf::Any>& resources);
  Status applyRoutes(const std::string& version,
                     const std::vector<google::protobuf::Any>& resources);
  Status applyEndpoints(const std::string& version,
                        const std::vector<google::protobuf::Any>& resources);

  // Route configurations a listener waits for (its RDS names not yet known).
  bool routesReady(const CompiledListener& l) const;
  // Moves what finished warming (or timed out) to active; true if any moved.
  bool promoteWarmed(bool deadline_passed_only);
  void armWarmingTimer();
  void resubscribe();
  void publish();

  event::Dispatcher& main_;
  const config::AdsSettings settings_;
  const ConfigSnapshotConstSharedPtr static_;
  StatsStore& stats_;
  upstream::Histograms* histograms_;
  const PublishFn publish_;
  const SubscribeFn subscribe_;

  std::map<std::string, ListenerEntry> active_listeners_, warming_listeners_;
  std::map<std::string, ClusterEntry> active_clusters_, warming_clusters_;
  std::map<std::string, RouteEntry> routes_;
  std::map<std::string, EndpointEntry> endpoints_;  // by EDS service name
  std::string lds_version_, cds_version_;
  bool lds_done_ = false;
  bool cds_done_ = false;
  std::vector<std::string> rds_names_, eds_names_;  // last subscribed
  std::unique_ptr<event::Timer> warming_timer_;

  struct Counters {
    Counter* attempt;
    Counter* success;
    Counter* rejected;
  };
  Counters lds_stats_, cds_stats_, rds_stats_, eds_stats_;
};

}  // namespace remora::proxy
