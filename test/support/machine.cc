#include "support/machine.h"

#include <dirent.h>

#include <algorithm>
#include <sstream>

#include "support/process.h"

namespace remora::test {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string firstWord(const std::string& line) {
  return line.substr(0, line.find(' '));
}

void diffList(const char* what, const std::vector<std::string>& a,
              const std::vector<std::string>& b, std::string* out) {
  for (const auto& x : b) {
    if (std::find(a.begin(), a.end(), x) == a.end())
      *out += std::string(what) + " added: " + x + "\n";
  }
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) == b.end())
      *out += std::string(what) + " removed: " + x + "\n";
  }
}

}  // namespace

MachineSnapshot takeMachineSnapshot() {
  MachineSnapshot s;
  std::string out;
  runCommand({"ip", "netns", "list"}, &out);
  for (const auto& l : lines(out))
    s.netns.push_back(firstWord(l));
  runCommand({"ip", "-o", "link", "show"}, &out);
  for (const auto& l : lines(out)) {
    // "4: eth0@if5: <...>" -> "eth0"
    std::string name = l.substr(l.find(": ") + 2);
    s.links.push_back(name.substr(0, name.find_first_of(":@")));
  }
  runCommand({"iptables-save"}, &out);
  for (const auto& l : lines(out)) {
    if (l[0] == '#') continue;
    // Built-in chain lines carry counters that move with unrelated traffic.
    s.iptables += l[0] == ':' ? l.substr(0, l.find('[')) + "\n" : l + "\n";
  }
  runCommand({"ip", "route", "show"}, &out);
  s.routes = lines(out);
  if (DIR* d = opendir("/etc/netns")) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") s.etc_netns.push_back(n);
    }
    closedir(d);
  } else {
    s.etc_netns.push_back("<absent>");
  }
  std::sort(s.etc_netns.begin(), s.etc_netns.end());
  std::sort(s.netns.begin(), s.netns.end());
  return s;
}

std::string describeDifference(const MachineSnapshot& a, const MachineSnapshot& b) {
  std::string out;
  diffList("netns", a.netns, b.netns, &out);
  diffList("link", a.links, b.links, &out);
  diffList("iptables line", lines(a.iptables), lines(b.iptables), &out);
  diffList("/etc/netns entry", a.etc_netns, b.etc_netns, &out);
  diffList("route", a.routes, b.routes, &out);
  return out;
}

int64_t natChainPackets(const std::string& netns, const std::string& chain) {
  std::string out;
  if (runCommand({"ip", "netns", "exec", netns, "iptables-save", "-c", "-t", "nat"}, &out) != 0) {
    return -1;
  }
  int64_t total = 0;
  for (const auto& l : lines(out)) {
    // "[12:720] -A REMORA_REDIRECT -p tcp -j REDIRECT --to-ports 15001"
    size_t close = l.find("] -A " + chain + " ");
    if (l[0] != '[' || close == std::string::npos) continue;
    total += std::atoll(l.c_str() + 1);
  }
  return total;
}

}  // namespace remora::test
