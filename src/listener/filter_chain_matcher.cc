#include "listener/filter_chain_matcher.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "config/bootstrap.h"

namespace remora::listener {

using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::FilterChainMatch;
using envoy::config::listener::v3::Listener;

namespace {

// Envoy's selection order. Each stage keys its buckets by a string; "" is the
// bucket of chains that do not constrain that stage.
enum Stage {
  kDestinationPort,
  kDestinationIp,
  kServerName,
  kTransportProtocol,
  kApplicationProtocol,
  kDirectSourceIp,
  kSourceType,
  kSourceIp,
  kSourcePort,
  kStageCount,
};

const char* stageName(int stage) {
  static const char* const kNames[] = {
      "destination port", "destination IP", "server name", "transport protocol",
      "application protocol", "direct source IP", "source type", "source IP", "source port",
  };
  return kNames[stage];
}

constexpr size_t kMaxCombinations = 1 << 20;

struct Key {
  std::string text;
  std::optional<network::CidrRange> cidr;  // IP stages
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

StatusOr<std::vector<Key>> cidrKeys(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::CidrRange>& ranges,
    const std::string& path) {
  std::vector<Key> keys;
  for (int i = 0; i < ranges.size(); ++i) {
    auto r = config::toCidrRange(ranges[i]);
    if (!r.ok()) return r.status().withPrefix(path + "[" + std::to_string(i) + "]");
    keys.push_back({r->toString(), *r});
  }
  if (keys.empty()) {
    // Envoy files "any address" under both /0 ranges, so an explicit 0.0.0.0/0
    // shares that bucket.
    for (const char* any : {"0.0.0.0/0", "::/0"}) {
      auto r = network::CidrRange::parse(any);
      keys.push_back({r->toString(), *r});
    }
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.text < b.text; });
  keys.erase(std::unique(keys.begin(), keys.end(),
                         [](const Key& a, const Key& b) { return a.text == b.text; }),
             keys.end());
  return keys;
}

Status checkPort(uint32_t port, const std::string& path) {
  if (port < 1 || port > 65535) {
    return invalidArgumentError(path + ": port " + std::to_string(port) + " is not in 1..65535");
  }
  return Status();
}

StatusOr<std::vector<std::vector<Key>>> stageKeys(const FilterChainMatch& m,
                                                  const std::string& path) {
  std::vector<std::vector<Key>> dims(kStageCount);
  if (m.has_destination_port()) {
    REMORA_RETURN_IF_ERROR(checkPort(m.destination_port().value(), path + ".destination_port"));
    dims[kDestinationPort].push_back({std::to_string(m.destination_port().value()), {}});
  } else {
    dims[kDestinationPort].push_back({"", {}});
  }
  REMORA_ASSIGN_OR_RETURN(dims[kDestinationIp], cidrKeys(m.prefix_ranges(), path + ".prefix_ranges"));
  for (int i = 0; i < m.server_names_size(); ++i) {
    const std::string& n = m.server_names(i);
    size_t star = n.find('*');
    if (n.empty() || (star != std::string::npos &&
                      (star != 0 || n.size() < 3 || n[1] != '.' || n.find('*', 1) != n.npos))) {
      return invalidArgumentError(path + ".server_names[" + std::to_string(i) +
                                  "]: invalid server name " + quoted(n) +
                                  " (only a leading \"*.\" wildcard is supported)");
    }
    dims[kServerName].push_back({lower(n), {}});
  }
  if (dims[kServerName].empty()) dims[kServerName].push_back({"", {}});
  dims[kTransportProtocol].push_back({m.transport_protocol(), {}});
  for (const auto& p : m.application_protocols()) dims[kApplicationProtocol].push_back({p, {}});
  if (dims[kApplicationProtocol].empty()) dims[kApplicationProtocol].push_back({"", {}});
  REMORA_ASSIGN_OR_RETURN(
      dims[kDirectSourceIp],
      cidrKeys(m.direct_source_prefix_ranges(), path + ".direct_source_prefix_ranges"));
  switch (m.source_type()) {
    case FilterChainMatch::SAME_IP_OR_LOOPBACK:
      dims[kSourceType].push_back({"SAME_IP_OR_LOOPBACK", {}});
      break;
    case FilterChainMatch::EXTERNAL:
      dims[kSourceType].push_back({"EXTERNAL", {}});
      break;
    default:
      dims[kSourceType].push_back({"", {}});
  }
  REMORA_ASSIGN_OR_RETURN(dims[kSourceIp],
                          cidrKeys(m.source_prefix_ranges(), path + ".source_prefix_ranges"));
  for (int i = 0; i < m.source_ports_size(); ++i) {
    REMORA_RETURN_IF_ERROR(
        checkPort(m.source_ports(i), path + ".source_ports[" + std::to_string(i) + "]"));
    dims[kSourcePort].push_back({std::to_string(m.source_ports(i)), {}});
  }
  if (dims[kSourcePort].empty()) dims[kSourcePort].push_back({"", {}});
  size_t total = 1;
  for (auto& d : dims) {
    // Repeated values in one list would look like a clash with itself.
    std::sort(d.begin(), d.end(), [](const Key& a, const Key& b) { return a.text < b.text; });
    d.erase(std::unique(d.begin(), d.end(),
                        [](const Key& a, const Key& b) { return a.text == b.text; }),
            d.end());
    total *= d.size();
    if (total > kMaxCombinations) {
      return invalidArgumentError(path + ": expands to more than " +
                                  std::to_string(kMaxCombinations) + " combinations");
    }
  }
  return dims;
}

}  // namespace

struct FilterChainMatcher::Node {
  std::map<std::string, std::unique_ptr<Node>> children;
  // IP stages: the CIDR of each child, for longest-prefix lookup.
  std::vector<std::pair<network::CidrRange, const Node*>> ranges;
  int chain = -1;  // at the leaves
};

namespace {

using Node = FilterChainMatcher::Node;

Status insert(Node* node, int stage, const std::vector<std::vector<Key>>& dims, int chain,
              const std::string& path) {
  if (stage == kStageCount) {
    if (node->chain >= 0) {
      return invalidArgumentError(path +
                                  ": multiple filter chains with the same matching rules (also "
                                  "filter_chains[" +
                                  std::to_string(node->chain) + "])");
    }
    node->chain = chain;
    return Status();
  }
  for (const Key& key : dims[stage]) {
    auto& child = node->children[key.text];
    if (!child) {
      child = std::make_unique<Node>();
      if (key.cidr) node->ranges.emplace_back(*key.cidr, child.get());
    }
    REMORA_RETURN_IF_ERROR(insert(child.get(), stage + 1, dims, chain, path));
  }
  return Status();
}

const Node* child(const Node* node, const std::string& key) {
  auto it = node->children.find(key);
  return it == node->children.end() ? nullptr : it->second.get();
}

const Node* longestPrefix(const Node* node, const network::IpAddress& ip, std::string* bucket) {
  const Node* best = nullptr;
  int best_len = -1;
  for (const auto& [range, n] : node->ranges) {
    if (static_cast<int>(range.prefixLen()) > best_len && range.contains(ip)) {
      best = n;
      best_len = static_cast<int>(range.prefixLen());
      *bucket = range.toString();
    }
  }
  return best;
}

// Exact or empty bucket: the common rule of most stages.
const Node* exactOrAny(const Node* node, const std::string& key, std::string* bucket) {
  if (!key.empty()) {
    if (const Node* n = child(node, key)) {
      *bucket = key;
      return n;
    }
  }
  *bucket = "(any)";
  return child(node, "");
}

}  // namespace

const FilterChain* ChainSelection::chain(const Listener& listener) const {
  switch (kind) {
    case Kind::kChain:
      return index >= 0 && index < listener.filter_chains_size() ? &listener.filter_chains(index)
                                                                 : nullptr;
    case Kind::kDefault:
      return listener.has_default_filter_chain() ? &listener.default_filter_chain() : nullptr;
    case Kind::kNone:
      break;
  }
  return nullptr;
}

std::string MatchExplanation::toString() const {
  std::string out;
  for (const MatchStep& s : steps) {
    out += s.stage + ": " + s.input + " -> " + (s.matched ? "bucket " + s.bucket : "no bucket") +
           "\n";
  }
  switch (selection.kind) {
    case ChainSelection::Kind::kChain:
      out += "result: filter_chains[" + std::to_string(selection.index) + "]\n";
      break;
    case ChainSelection::Kind::kDefault:
      out += "result: default_filter_chain\n";
      break;
    case ChainSelection::Kind::kNone:
      out += "result: no filter chain, connection closed\n";
      break;
  }
  return out;
}

FilterChainMatcher::FilterChainMatcher() : root_(std::make_unique<Node>()) {}
FilterChainMatcher::FilterChainMatcher(FilterChainMatcher&&) noexcept = default;
FilterChainMatcher& FilterChainMatcher::operator=(FilterChainMatcher&&) noexcept = default;
FilterChainMatcher::~FilterChainMatcher() = default;

StatusOr<FilterChainMatcher> FilterChainMatcher::create(const Listener& listener) {
  FilterChainMatcher m;
  m.has_default_ = listener.has_default_filter_chain();
  for (int i = 0; i < listener.filter_chains_size(); ++i) {
    std::string path = "filter_chains[" + std::to_string(i) + "].filter_chain_match";
    REMORA_ASSIGN_OR_RETURN(auto dims,
                            stageKeys(listener.filter_chains(i).filter_chain_match(), path));
    REMORA_RETURN_IF_ERROR(insert(m.root_.get(), 0, dims, i, path));
  }
  return m;
}

ChainSelection FilterChainMatcher::match(const ConnectionMatchInput& input) const {
  return run(input, nullptr);
}

MatchExplanation FilterChainMatcher::explain(const ConnectionMatchInput& input) const {
  MatchExplanation e;
  e.selection = run(input, &e.steps);
  return e;
}

ChainSelection FilterChainMatcher::run(const ConnectionMatchInput& in,
                                       std::vector<MatchStep>* steps) const {
  const Node* node = root_.get();
  const network::IpAddress direct = in.direct_source.value_or(in.source.ip);
  const std::string sni = lower(in.server_name);
  const std::string transport = in.transport_protocol.empty() ? "raw_buffer" : in.transport_protocol;
  for (int stage = 0; stage < kStageCount && node != nullptr; ++stage) {
    std::string input;
    std::string bucket;
    const Node* next = nullptr;
    switch (stage) {
      case kDestinationPort:
        input = std::to_string(in.destination.port);
        next = exactOrAny(node, input, &bucket);
        break;
      case kDestinationIp:
        input = in.destination.ip.toString();
        next = longestPrefix(node, in.destination.ip, &bucket);
        break;
      case kServerName: {
        input = sni.empty() ? "(none)" : quoted(sni);
        if (!sni.empty()) {
          if ((next = child(node, sni))) {
            bucket = sni;
            break;
          }
          // Longest wildcard first: a.b.example.com tries *.b.example.com,
          // then *.example.com, then *.com.
          for (size_t dot = sni.find('.'); dot != std::string::npos; dot = sni.find('.', dot + 1)) {
            std::string wildcard = "*" + sni.substr(dot);
            if ((next = child(node, wildcard))) {
              bucket = wildcard;
              break;
            }
          }
          if (next) break;
        }
        bucket = "(any)";
        next = child(node, "");
        break;
      }
      case kTransportProtocol:
        input = quoted(transport);
        next = exactOrAny(node, transport, &bucket);
        break;
      case kApplicationProtocol: {
        input = "[";
        for (const auto& p : in.application_protocols) {
          if (input.size() > 1) input += ", ";
          input += quoted(p);
        }
        input += "]";
        for (const auto& p : in.application_protocols) {
          if (p.empty()) continue;
          if ((next = child(node, p))) {
            bucket = p;
            break;
          }
        }
        if (!next) {
          bucket = "(any)";
          next = child(node, "");
        }
        break;
      }
      case kDirectSourceIp:
        input = direct.toString();
        next = longestPrefix(node, direct, &bucket);
        break;
      case kSourceType: {
        // Envoy's "local": the peer is this host (loopback or our own address).
        bool local = in.source.ip.isLoopback() || in.source.ip == in.destination.ip;
        input = local ? "local" : "external";
        next = exactOrAny(node, local ? "SAME_IP_OR_LOOPBACK" : "EXTERNAL", &bucket);
        break;
      }
      case kSourceIp:
        input = in.source.ip.toString();
        next = longestPrefix(node, in.source.ip, &bucket);
        break;
      case kSourcePort:
        input = std::to_string(in.source.port);
        next = exactOrAny(node, input, &bucket);
        break;
    }
    if (steps) steps->push_back({stageName(stage), input, next ? bucket : "", next != nullptr});
    node = next;
  }
  if (node != nullptr && node->chain >= 0) return {ChainSelection::Kind::kChain, node->chain};
  if (has_default_) return {ChainSelection::Kind::kDefault, -1};
  return {};
}

}  // namespace remora::listener
