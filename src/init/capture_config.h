// CaptureConfig: what remora-init is asked to capture, validated. Built from
// the raw flag strings (CaptureFlags) so that every rule later derived from it
// can assume well-formed ports, CIDRs, IDs and interface names.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace remora::init {

enum class IpFamily { kIpv4, kIpv6 };

// An address range in canonical form: the address has its host bits cleared.
struct Cidr {
  IpFamily family = IpFamily::kIpv4;
  std::array<uint8_t, 16> address{};  // first 4 bytes used for IPv4
  int prefix_len = 0;

  // "10.0.0.0/8", "fd00::/8".
  std::string toString() const;
  bool operator==(const Cidr&) const = default;
};

// A set of ports or CIDRs that is either "everything" (`*`) or a list.
template <typename T>
struct Selection {
  bool all = false;
  std::vector<T> items;

  bool empty() const { return !all && items.empty(); }
};

enum class Ipv6Mode { kAuto, kOn, kOff };

// The flags exactly as typed; empty string means "not given" for lists.
struct CaptureFlags {
  std::string outbound_capture_port = "15001";        // -p
  std::string inbound_capture_port = "15006";         // -z
  std::string proxy_uid = "1337";                     // -u
  std::string proxy_gid;                              // -g, defaults to -u
  std::string interception_mode = "REDIRECT";         // -m
  std::string include_inbound_ports;                  // -b
  std::string exclude_inbound_ports;                  // -d
  std::string include_outbound_cidrs;                 // -i
  std::string exclude_outbound_cidrs;                 // -x
  std::string include_outbound_ports;                 // -q
  std::string exclude_outbound_ports;                 // -o
  std::string exclude_interfaces;                     // -c
  std::string kube_virt_interfaces;                   // -k
  std::string ipv6 = "auto";                          // --ipv6
};

struct CaptureConfig {
  uint16_t outbound_capture_port = 15001;
  uint16_t inbound_capture_port = 15006;
  std::vector<uint32_t> proxy_uids{1337};
  std::vector<uint32_t> proxy_gids{1337};
  Selection<uint16_t> include_inbound_ports;
  std::vector<uint16_t> exclude_inbound_ports;
  Selection<Cidr> include_outbound_cidrs;
  std::vector<Cidr> exclude_outbound_cidrs;
  std::vector<uint16_t> include_outbound_ports;
  std::vector<uint16_t> exclude_outbound_ports;
  std::vector<std::string> exclude_interfaces;
  std::vector<std::string> kube_virt_interfaces;
  Ipv6Mode ipv6 = Ipv6Mode::kAuto;

  // The seed's layout: one capture port for both directions (-z equal to -p).
  bool singlePort() const { return inbound_capture_port == outbound_capture_port; }
  // True when any -i/-x CIDR is IPv6, i.e. the user asked for IPv6 capture.
  bool mentionsIpv6() const;
};

// Validates every flag; the error names the flag and the offending value.
StatusOr<CaptureConfig> captureConfigFromFlags(const CaptureFlags& flags);

// Building blocks, exposed for tests. `flag` is used in error messages only
// (e.g. "-b/--include-inbound-ports").
StatusOr<uint16_t> parsePort(const std::string& flag, const std::string& text);
StatusOr<Cidr> parseCidr(const std::string& flag, const std::string& text);
StatusOr<uint32_t> parseId(const std::string& flag, const std::string& text);

}  // namespace remora::init
