// Filter chain selection for one listener, with Envoy's order and its "most
// specific bucket, no backtracking" rule (docs/listeners.md).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "network/address.h"

namespace remora::listener {

// What is known about a connection when its filter chain is chosen: after the
// original-destination hand-off and after the listener filters ran.
struct ConnectionMatchInput {
  // The local address: the original destination when the connection was
  // redirected (restored by original_dst), else the listener's own address.
  network::SocketAddress destination;
  network::SocketAddress source;
  // The directly connected peer; differs from source.ip only when something
  // like the PROXY protocol rewrote the source. Unset means source.ip.
  std::optional<network::IpAddress> direct_source;
  std::string server_name;         // SNI from tls_inspector; empty if none
  std::string transport_protocol;  // "tls" or "raw_buffer"; empty reads as "raw_buffer"
  std::vector<std::string> application_protocols;  // ALPN or http_inspector's result
};

// Which chain serves a connection.
struct ChainSelection {
  enum class Kind { kNone, kChain, kDefault };
  Kind kind = Kind::kNone;
  int index = -1;  // into listener.filter_chains() when kind == kChain

  // The chosen chain within the listener the matcher was built from, or null
  // when the connection must be closed.
  const envoy::config::listener::v3::FilterChain* chain(
      const envoy::config::listener::v3::Listener& listener) const;
  bool operator==(const ChainSelection& o) const = default;
};

// One stage of a match, for `remoractl explain` and debug logs.
struct MatchStep {
  std::string stage;   // "destination port", "server name", ...
  std::string input;   // the connection's value, e.g. "9080" or "\"a.example.com\""
  std::string bucket;  // the bucket chosen, e.g. "9080", "*.example.com", "(any)"
  bool matched = false;
};

struct MatchExplanation {
  ChainSelection selection;
  std::vector<MatchStep> steps;  // stops at the first stage with no bucket
  // One line per stage, then the outcome.
  std::string toString() const;
};

// Built once per listener config, then immutable: match() is safe from any
// number of worker threads at once.
class FilterChainMatcher {
 public:
  // Errors on invalid match values (bad CIDR, port out of range, partial SNI
  // wildcard) and on two chains sharing a combination of match values, which
  // Envoy refuses as "multiple filter chains with the same matching rules".
  static StatusOr<FilterChainMatcher> create(const envoy::config::listener::v3::Listener& listener);

  FilterChainMatcher(FilterChainMatcher&&) noexcept;
  FilterChainMatcher& operator=(FilterChainMatcher&&) noexcept;
  ~FilterChainMatcher();

  // No matching chain: the default_filter_chain if the listener has one,
  // else kNone (close the connection).
  ChainSelection match(const ConnectionMatchInput& input) const;
  MatchExplanation explain(const ConnectionMatchInput& input) const;

  struct Node;

 private:
  FilterChainMatcher();
  ChainSelection run(const ConnectionMatchInput& input, std::vector<MatchStep>* steps) const;

  std::unique_ptr<Node> root_;
  bool has_default_ = false;
};

}  // namespace remora::listener
