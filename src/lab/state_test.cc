#include "lab/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remora::lab {
namespace {

TEST(LabStateTest, RoundTrips) {
  LabState s;
  s.name = "remora";
  s.file = "/tmp/a b/lab.yaml";
  s.phase = "creating";
  s.pod_cidr = "10.244.0.0/16";
  s.service_cidr = "10.96.0.0/16";
  s.netns = {"remora", "remora-productpage"};
  s.etc_dirs = {"/etc/netns/remora-productpage"};
  s.processes = {
      {"productpage", "proxy", 123, 456789, "/run/remora-lab/remora/productpage/proxy.log"},
      {"productpage", "container app", 124, 456790, "/x/app.log"}};
  s.pods = {
      {"productpage", "default", "remora-productpage", "10.244.0.1", true, "127.0.0.1:15000"}};
  s.services = {{"reviews", "default", "10.96.0.1", {9080, 9090}}};
  auto back = parseState(renderState(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->name, s.name);
  EXPECT_EQ(back->file, s.file);
  EXPECT_EQ(back->phase, s.phase);
  EXPECT_EQ(back->pod_cidr, s.pod_cidr);
  EXPECT_EQ(back->netns, s.netns);
  EXPECT_EQ(back->etc_dirs, s.etc_dirs);
  ASSERT_EQ(back->processes.size(), 2u);
  EXPECT_EQ(back->processes[1].role, "container app");
  EXPECT_EQ(back->processes[1].pid, 124);
  EXPECT_EQ(back->processes[1].start_time, 456790u);
  ASSERT_EQ(back->pods.size(), 1u);
  EXPECT_EQ(back->pods[0].admin, "127.0.0.1:15000");
  EXPECT_TRUE(back->pods[0].sidecar);
  ASSERT_EQ(back->services.size(), 1u);
  EXPECT_EQ(back->services[0].ports, (std::vector<uint16_t>{9080, 9090}));
  EXPECT_FALSE(back->pilot.has_value());

  s.pilot = PilotRecord{"remora", "10.244.0.1:15010", "10.244.0.1:15014",
                        "/run/remora-lab/remora/_pilot/config"};
  s.processes.push_back({"", "pilot", 99, 1234, "/run/remora-lab/remora/_pilot/pilot.log"});
  back = parseState(renderState(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->pilot.has_value());
  EXPECT_EQ(back->pilot->netns, "remora");
  EXPECT_EQ(back->pilot->grpc_address, "10.244.0.1:15010");
  EXPECT_EQ(back->pilot->http_address, "10.244.0.1:15014");
  EXPECT_EQ(back->pilot->config_dir, "/run/remora-lab/remora/_pilot/config");
  ASSERT_EQ(back->processes.size(), 3u);
  EXPECT_EQ(back->processes[2].pod, "");
  EXPECT_EQ(back->processes[2].role, "pilot");
}

TEST(LabStateTest, EmptyJournalRoundTrips) {
  LabState s;
  s.name = "x";
  auto back = parseState(renderState(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->netns.empty());
  EXPECT_TRUE(back->processes.empty());
}

TEST(LabStateTest, DamagedStateIsAnErrorNotACrash) {
  EXPECT_FALSE(parseState("name: [unclosed").ok());
  EXPECT_FALSE(parseState("- a list").ok());
  EXPECT_FALSE(parseState("name: x\nprocesses: [{pod: a}]\n").ok());
}

}  // namespace
}  // namespace remora::lab
