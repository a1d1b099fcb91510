#include "init/capture_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "common/logging.h"

namespace remora::init {
namespace {

constexpr const char* kFlagOutboundPort = "-p/--outbound-capture-port";
constexpr const char* kFlagInboundPort = "-z/--inbound-capture-port";
constexpr const char* kFlagUid = "-u/--proxy-uid";
constexpr const char* kFlagGid = "-g/--proxy-gid";
constexpr const char* kFlagMode = "-m/--interception-mode";
constexpr const char* kFlagIncludeInbound = "-b/--include-inbound-ports";
constexpr const char* kFlagExcludeInbound = "-d/--exclude-inbound-ports";
constexpr const char* kFlagIncludeCidrs = "-i/--include-outbound-cidrs";
constexpr const char* kFlagExcludeCidrs = "-x/--exclude-outbound-cidrs";
constexpr const char* kFlagIncludeOutboundPorts = "-q/--include-outbound-ports";
constexpr const char* kFlagExcludeOutboundPorts = "-o/--exclude-outbound-ports";
constexpr const char* kFlagExcludeInterfaces = "-c/--exclude-interfaces";
constexpr const char* kFlagKubeVirt = "-k/--kube-virt-interfaces";
constexpr const char* kFlagIpv6 = "--ipv6";

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Empty items are skipped: lists are often built by concatenating annotations
// ("15090,15021," + extra), and a trailing comma is not a mistake worth failing on.
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = trim(std::string_view(text).substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

Status flagError(const std::string& flag, const std::string& value, const std::string& why) {
  return invalidArgumentError(flag + ": " + quoted(value) + " " + why);
}

bool allDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
void appendUnique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

StatusOr<std::vector<uint16_t>> parsePortList(const std::string& flag, const std::string& text) {
  std::vector<uint16_t> ports;
  for (const std::string& item : splitList(text)) {
    if (item == "*") return flagError(flag, text, "may not contain \"*\"; list the ports");
    REMORA_ASSIGN_OR_RETURN(uint16_t port, parsePort(flag, item));
    appendUnique(ports, port);
  }
  return ports;
}

StatusOr<Selection<uint16_t>> parsePortSelection(const std::string& flag,
                                                 const std::string& text) {
  Selection<uint16_t> sel;
  std::vector<std::string> items = splitList(text);
  if (items.size() == 1 && items[0] == "*") {
    sel.all = true;
    return sel;
  }
  for (const std::string& item : items) {
    if (item == "*") return flagError(flag, text, "mixes \"*\" with other ports");
    REMORA_ASSIGN_OR_RETURN(uint16_t port, parsePort(flag, item));
    appendUnique(sel.items, port);
  }
  return sel;
}

StatusOr<std::vector<Cidr>> parseCidrList(const std::string& flag, const std::string& text) {
  std::vector<Cidr> out;
  for (const std::string& item : splitList(text)) {
    REMORA_ASSIGN_OR_RETURN(Cidr cidr, parseCidr(flag, item));
    appendUnique(out, cidr);
  }
  return out;
}

StatusOr<std::vector<uint32_t>> parseIdList(const std::string& flag, const std::string& text) {
  std::vector<uint32_t> out;
  for (const std::string& item : splitList(text)) {
    REMORA_ASSIGN_OR_RETURN(uint32_t id, parseId(flag, item));
    appendUnique(out, id);
  }
  if (out.empty()) return flagError(flag, text, "is empty; give a numeric ID such as 1337");
  return out;
}

// Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/' or blanks.
// A trailing '+' is iptables' prefix wildcard ("veth+").
StatusOr<std::vector<std::string>> parseInterfaceList(const std::string& flag,
                                                      const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& item : splitList(text)) {
    if (item.size() > 15) return flagError(flag, item, "is too long for an interface name (max 15)");
    if (item == "." || item == "..") return flagError(flag, item, "is not an interface name");
    for (size_t i = 0; i < item.size(); ++i) {
      char c = item[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '@' || (c == '+' && i + 1 == item.size());
      if (!ok) return flagError(flag, item, "is not an interface name");
    }
    appendUnique(out, item);
  }
  return out;
}

}  // namespace

std::string Cidr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == IpFamily::kIpv4 ? AF_INET : AF_INET6, address.data(), buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(prefix_len);
}

bool CaptureConfig::mentionsIpv6() const {
  auto v6 = [](const Cidr& c) { return c.family == IpFamily::kIpv6; };
  return std::any_of(include_outbound_cidrs.items.begin(), include_outbound_cidrs.items.end(), v6) ||
         std::any_of(exclude_outbound_cidrs.begin(), exclude_outbound_cidrs.end(), v6);
}

StatusOr<uint16_t> parsePort(const std::string& flag, const std::string& text) {
  if (!allDigits(text)) return flagError(flag, text, "is not a port number (expected 1-65535)");
  if (text.size() > 5) return flagError(flag, text, "is out of range (expected 1-65535)");
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < 1 || value > 65535) {
    return flagError(flag, text, "is out of range (expected 1-65535)");
  }
  return static_cast<uint16_t>(value);
}

StatusOr<Cidr> parseCidr(const std::string& flag, const std::string& text) {
  if (text == "*") {
    return flagError(flag, text, "is not allowed in a CIDR list (\"*\" must stand alone)");
  }
  std::string addr = text;
  std::string prefix;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  }
  Cidr cidr;
  int max_len = 32;
  if (inet_pton(AF_INET, addr.c_str(), cidr.address.data()) == 1) {
    cidr.family = IpFamily::kIpv4;
  } else if (inet_pton(AF_INET6, addr.c_str(), cidr.address.data()) == 1) {
    cidr.family = IpFamily::kIpv6;
    max_len = 128;
  } else {
    return flagError(flag, text, "is not a CIDR (expected an IPv4 or IPv6 address/prefix)");
  }
  cidr.prefix_len = max_len;
  if (text.find('/') != std::string::npos) {
    int len = -1;
    if (allDigits(prefix) && prefix.size() <= 3) {
      std::from_chars(prefix.data(), prefix.data() + prefix.size(), len);
    }
    if (len < 0 || len > max_len) {
      return flagError(flag, text,
                       "has an invalid prefix length (expected 0-" + std::to_string(max_len) + ")");
    }
    cidr.prefix_len = len;
  }
  // Canonical form: clear host bits so "10.1.2.3/8" renders as 10.0.0.0/8,
  // the way iptables itself would store it.
  for (int bit = cidr.prefix_len; bit < max_len; ++bit) {
    cidr.address[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return cidr;
}

StatusOr<uint32_t> parseId(const std::string& flag, const std::string& text) {
  if (!allDigits(text)) return flagError(flag, text, "is not a numeric ID");
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  (void)ptr;
  // 4294967295 is (uid_t)-1, which the kernel treats as "no ID".
  if (ec != std::errc() || value > 4294967294ull) {
    return flagError(flag, text, "is out of range (expected 0-4294967294)");
  }
  return static_cast<uint32_t>(value);
}

StatusOr<CaptureConfig> captureConfigFromFlags(const CaptureFlags& flags) {
  CaptureConfig c;
  REMORA_ASSIGN_OR_RETURN(c.outbound_capture_port,
                          parsePort(kFlagOutboundPort, trim(flags.outbound_capture_port)));
  REMORA_ASSIGN_OR_RETURN(c.inbound_capture_port,
                          parsePort(kFlagInboundPort, trim(flags.inbound_capture_port)));
  REMORA_ASSIGN_OR_RETURN(c.proxy_uids, parseIdList(kFlagUid, flags.proxy_uid));
  if (trim(flags.proxy_gid).empty()) {
    c.proxy_gids = c.proxy_uids;
  } else {
    REMORA_ASSIGN_OR_RETURN(c.proxy_gids, parseIdList(kFlagGid, flags.proxy_gid));
  }

  std::string mode = trim(flags.interception_mode);
  std::transform(mode.begin(), mode.end(), mode.begin(), ::toupper);
  if (mode == "TPROXY") {
    return flagError(kFlagMode, flags.interception_mode,
                     "is not supported yet; remora-init only implements REDIRECT (-m REDIRECT)");
  }
  if (!mode.empty() && mode != "REDIRECT") {
    return flagError(kFlagMode, flags.interception_mode, "is not a mode (expected REDIRECT)");
  }

  REMORA_ASSIGN_OR_RETURN(c.include_inbound_ports,
                          parsePortSelection(kFlagIncludeInbound, flags.include_inbound_ports));
  REMORA_ASSIGN_OR_RETURN(c.exclude_inbound_ports,
                          parsePortList(kFlagExcludeInbound, flags.exclude_inbound_ports));

  std::vector<std::string> include_cidrs = splitList(flags.include_outbound_cidrs);
  if (include_cidrs.size() == 1 && include_cidrs[0] == "*") {
    c.include_outbound_cidrs.all = true;
  } else {
    for (const std::string& item : include_cidrs) {
      if (item == "*") {
        return flagError(kFlagIncludeCidrs, flags.include_outbound_cidrs,
                         "mixes \"*\" with other CIDRs");
      }
      REMORA_ASSIGN_OR_RETURN(Cidr cidr, parseCidr(kFlagIncludeCidrs, item));
      appendUnique(c.include_outbound_cidrs.items, cidr);
    }
  }
  for (const std::string& item : splitList(flags.exclude_outbound_cidrs)) {
    if (item == "*") {
      return flagError(kFlagExcludeCidrs, flags.exclude_outbound_cidrs,
                       "may not contain \"*\"; to capture no outbound traffic, leave -i empty");
    }
  }
  REMORA_ASSIGN_OR_RETURN(c.exclude_outbound_cidrs,
                          parseCidrList(kFlagExcludeCidrs, flags.exclude_outbound_cidrs));
  REMORA_ASSIGN_OR_RETURN(c.include_outbound_ports,
                          parsePortList(kFlagIncludeOutboundPorts, flags.include_outbound_ports));
  REMORA_ASSIGN_OR_RETURN(c.exclude_outbound_ports,
                          parsePortList(kFlagExcludeOutboundPorts, flags.exclude_outbound_ports));
  REMORA_ASSIGN_OR_RETURN(c.exclude_interfaces,
                          parseInterfaceList(kFlagExcludeInterfaces, flags.exclude_interfaces));
  REMORA_ASSIGN_OR_RETURN(c.kube_virt_interfaces,
                          parseInterfaceList(kFlagKubeVirt, flags.kube_virt_interfaces));

  std::string ipv6 = trim(flags.ipv6);
  if (ipv6 == "auto" || ipv6.empty()) {
    c.ipv6 = Ipv6Mode::kAuto;
  } else if (ipv6 == "on") {
    c.ipv6 = Ipv6Mode::kOn;
  } else if (ipv6 == "off") {
    c.ipv6 = Ipv6Mode::kOff;
  } else {
    return flagError(kFlagIpv6, flags.ipv6, "is not a mode (expected auto, on or off)");
  }

  if (!c.exclude_inbound_ports.empty() && !c.include_inbound_ports.all) {
    // Same as istio-iptables: exclusions only refine a "*" capture.
    REMORA_LOG_WARN("{} is ignored unless -b is \"*\"", kFlagExcludeInbound);
  }
  return c;
}

}  // namespace remora::init
