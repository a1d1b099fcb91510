// Finding remora-pilot and talking to its HTTP server (debug pages and the
// config API, src/pilot/server.cc): `--pilot HOST:PORT`, else $REMORA_PILOT,
// else the pilot a running lab started (its state's PilotRecord: pilot listens
// in the lab's hub namespace, reached from a helper thread that joined it, as
// proxy_source.cc reaches a pod's admin), else 127.0.0.1:15014.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/blocking_http.h"
#include "common/status.h"
#include "lab/lab.h"

namespace remora::ctl {

inline constexpr char kPilotEnv[] = "REMORA_PILOT";
inline constexpr char kDefaultPilotAddress[] = "127.0.0.1:15014";

// Where pilot is and how it was found.
struct PilotTarget {
  std::string host;  // an IP address
  uint16_t port = 0;
  std::string netns;  // network namespace to enter first; empty: this one
  // The folder pilot serves, when known (a lab's pilot): apply persists there.
  std::string config_dir;
  // How it was found, for messages: "--pilot", "$REMORA_PILOT", "lab remora",
  // "the default address".
  std::string found_by;

  std::string address() const;  // "10.244.0.1:15014"
  // "10.244.0.1:15014 (lab remora, network namespace remora)"
  std::string describe() const;
};

struct PilotFlags {
  std::string pilot;  // --pilot HOST:PORT
  std::string lab = lab::kDefaultLabName;
  std::string state_root = lab::kDefaultStateRoot;
};

// "HOST:PORT" (an IPv4 or bracketed IPv6 address) -> target; errors name
// `what` (the flag or variable) and the value.
StatusOr<PilotTarget> parsePilotAddress(const std::string& address, const std::string& what);

// The order above. `env` is $REMORA_PILOT's value ("" when unset); a lab
// without a pilot record (static bootstraps) falls through to the default.
// A lab whose state cannot be read is an error only when the default would
// be a guess: a missing lab is not.
StatusOr<PilotTarget> findPilot(const PilotFlags& flags, const std::string& env);

class PilotClient {
 public:
  explicit PilotClient(PilotTarget target,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : target_(std::move(target)), timeout_(timeout) {}

  const PilotTarget& target() const { return target_; }

  // One request; any HTTP status is a reply. Errors: pilot could not be
  // reached (naming the address and how it was found).
  StatusOr<HttpReply> request(const std::string& method, const std::string& path_and_query,
                              const std::string& body = "") const;
  // GET of a page that must answer 200; otherwise an error carrying pilot's
  // own message ({"error": "..."}).
  StatusOr<std::string> get(const std::string& path_and_query) const;

 private:
  PilotTarget target_;
  std::chrono::milliseconds timeout_;
};

// Pilot's error body {"error": "..."} -> its message; the body itself when it
// is not that shape.
std::string pilotErrorMessage(const std::string& body);

// Percent-encodes a query parameter value.
std::string queryEscape(const std::string& value);

}  // namespace remora::ctl
