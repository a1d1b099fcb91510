#include "ctl/pilot_client.h"

#include <cctype>

#include "ctl/json_value.h"
#include "lab/system.h"
#include "network/address.h"

namespace remora::ctl {

std::string PilotTarget::address() const {
  return host.find(':') == std::string::npos ? host + ":" + std::to_string(port)
                                             : "[" + host + "]:" + std::to_string(port);
}

std::string PilotTarget::describe() const {
  std::string how = found_by;
  if (!netns.empty()) how += ", network namespace " + netns;
  return address() + " (" + how + ")";
}

StatusOr<PilotTarget> parsePilotAddress(const std::string& address, const std::string& what) {
  auto parsed = network::SocketAddress::parse(address);
  if (!parsed.ok()) {
    return invalidArgumentError(what + ": \"" + address + "\" is not HOST:PORT with an IP (" +
                                parsed.status().message() + ")");
  }
  if (parsed->port == 0) return invalidArgumentError(what + ": \"" + address + "\" has port 0");
  PilotTarget t;
  t.host = parsed->ip.toString();
  t.port = parsed->port;
  t.found_by = what;
  return t;
}

StatusOr<PilotTarget> findPilot(const PilotFlags& flags, const std::string& env) {
  if (!flags.pilot.empty()) return parsePilotAddress(flags.pilot, "--pilot");
  if (!env.empty()) return parsePilotAddress(env, std::string("$") + kPilotEnv);
  lab::LabOptions options;
  options.name = flags.lab;
  options.state_root = flags.state_root;
  auto state = lab::readLabState(options);
  if (state.ok() && state->pilot) {
    const lab::PilotRecord& p = *state->pilot;
    auto t = parsePilotAddress(p.http_address, "lab " + flags.lab);
    if (!t.ok()) return t.status().withPrefix("the lab's state (pilot.http_address)");
    t->netns = p.netns;
    t->config_dir = p.config_dir;
    return t;
  }
  if (!state.ok() && state.status().code() != StatusCode::kNotFound) {
    return state.status().withPrefix("finding pilot through lab " + flags.lab +
                                     " (give --pilot HOST:PORT)");
  }
  return parsePilotAddress(kDefaultPilotAddress, "the default address");
}

StatusOr<HttpReply> PilotClient::request(const std::string& method,
                                         const std::string& path_and_query,
                                         const std::string& body) const {
  StatusOr<HttpReply> reply = internalError("not run");
  HttpHeaderList headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/yaml");
  auto send = [&] {
    reply = blockingHttpRequest(target_.host, target_.port, method, "pilot", path_and_query,
                                headers, body, timeout_);
  };
  if (target_.netns.empty()) {
    send();
  } else if (Status s = lab::inNetns(target_.netns, send); !s.ok()) {
    return s.withPrefix("pilot at " + target_.describe());
  }
  if (!reply.ok()) {
    return unavailableError("pilot at " + target_.describe() + ": " + reply.status().message());
  }
  return reply;
}

StatusOr<std::string> PilotClient::get(const std::string& path_and_query) const {
  REMORA_ASSIGN_OR_RETURN(HttpReply reply, request("GET", path_and_query));
  if (reply.status != 200) {
    std::string message = "pilot at " + target_.describe() + ": GET " + path_and_query + ": HTTP " +
                          std::to_string(reply.status) + ": " + pilotErrorMessage(reply.body);
    return reply.status == 404 ? notFoundError(message) : unavailableError(message);
  }
  return std::move(reply.body);
}

std::string pilotErrorMessage(const std::string& body) {
  auto json = JsonValue::parse(body);
  if (json.ok()) {
    if (const JsonValue* error = json->find("error"); error && error->isString()) {
      return error->text();
    }
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

std::string queryEscape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace remora::ctl
