// `remoractl lab` as a user runs it: the binary, its output and exit codes.
#include <signal.h>
#include <sys/stat.h>

#include <gmock/gmock.h>

#include <thread>

#include "e2e/lab_fixture.h"
#include "lab/system.h"
#include "support/process.h"

namespace remora::test {
namespace {

using ::testing::HasSubstr;

class LabCliTest : public LabTest {
 protected:
  int remoractl(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), binaryPath("remoractl"));
    return runCommand(args, out);
  }

  // Starts `remoractl lab up` on the usual pods plus one whose container
  // never opens its declared port, and returns (with the lab file's path in
  // `file`) once `up` waits for that port: half up, every kind of thing made.
  void startStuckUp(const std::string& tag, ChildProcess* up, std::string* file) {
    *file = writeTempFile(tag + "-" + name_ + ".yaml", labYaml(R"(
---
apiVersion: v1
kind: Pod
metadata: { name: stuck }
spec:
  containers:
  - command: [sleep, infinity]
    ports: [{ containerPort: 9999 }]
)"));
    EXPECT_TRUE(up->start(
        {binaryPath("remoractl"), "lab", "up", *file, "--name", name_, "--timeout", "120"}));
    bool waiting = false;
    for (int i = 0; i < 600 && !waiting && up->running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      waiting = up->output().find("to accept on 127.0.0.1:9999") != std::string::npos;
    }
    if (up->output().find("cannot create a Linux bridge") != std::string::npos) {
      GTEST_SKIP() << "this kernel cannot create a Linux bridge (bridge module)";
    }
    EXPECT_TRUE(waiting) << "lab up never waited for the stuck pod: " << up->output();
  }
};

TEST_F(LabCliTest, UpStatusExecDown) {
  std::string file = writeTempFile("cli-" + name_ + ".yaml", labYaml());
  std::string out;
  int up = remoractl({"lab", "up", file, "--name", name_}, &out);
  if (out.find("cannot create a Linux bridge") != std::string::npos) {
    GTEST_SKIP() << "this kernel cannot create a Linux bridge (bridge module): " << out;
  }
  up_ = up == 0;  // from here on, TearDown takes it down if the test does not
  ASSERT_EQ(up, 0) << out;
  EXPECT_THAT(out, HasSubstr("lab: starting remora-proxy in productpage as UID/GID 1337"));
  EXPECT_THAT(out, HasSubstr("lab " + name_ + " (" + file + "): up"));
  EXPECT_THAT(out, HasSubstr(ip("reviews-v1")));

  EXPECT_EQ(remoractl({"lab", "status", "--name", name_}, &out), 0) << out;
  EXPECT_THAT(out,
              ::testing::ContainsRegex("productpage +default +10\\.244\\.[0-9.]+ +yes +ready"));
  EXPECT_THAT(out, ::testing::ContainsRegex("client +default +10\\.244\\.[0-9.]+ +no +running"));
  EXPECT_THAT(out, ::testing::ContainsRegex("reviews +default +10\\.96\\.[0-9.]+ +9080"));

  // exec: inside the pod, with its hosts file; the command's status comes back.
  EXPECT_EQ(remoractl({"lab", "exec", "--name", name_, "client", "--", "getent", "hosts",
                       "reviews.default.svc.cluster.local"},
                      &out),
            0)
      << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("^10\\.96\\."));
  EXPECT_EQ(remoractl({"lab", "exec", "--name", name_, "client", "--", "sh", "-c",
                       "echo $POD_NAME $POD_IP; exit 7"},
                      &out),
            7);
  EXPECT_EQ(out, "client " + ip("client") + "\n");
  EXPECT_EQ(remoractl({"lab", "exec", "--name", name_, "nobody", "--", "true"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("has no pod \"nobody\" (pods: client, productpage, reviews-v1)"));

  EXPECT_EQ(remoractl({"lab", "up", file, "--name", name_}, &out), 1);
  EXPECT_THAT(out, HasSubstr("lab " + name_ + " is already up"));

  EXPECT_EQ(remoractl({"lab", "down", "--name", name_}, &out), 0) << out;
  up_ = false;
  EXPECT_THAT(out, HasSubstr("deleting network namespace " + name_));
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  EXPECT_EQ(remoractl({"lab", "status", "--name", name_}, &out), 1);
  EXPECT_THAT(out, HasSubstr("lab " + name_ + " is not up"));
}

TEST_F(LabCliTest, BadInputIsRefusedWithTheFieldAndNothingIsMade) {
  std::string out;
  std::string bad = writeTempFile(
      "bad-" + name_ + ".yaml",
      "apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec:\n  containers:\n  - name: x\n");
  EXPECT_EQ(remoractl({"lab", "up", bad, "--name", name_}, &out), 2);
  EXPECT_THAT(out, HasSubstr(bad + ":6: Pod a: spec.containers[0].command: required"));
  std::string good = writeTempFile("good-" + name_ + ".yaml", labYaml());
  EXPECT_EQ(remoractl({"lab", "up", good, "--name", name_, "--pod-cidr", "8.8.8.0/24"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("--pod-cidr: 8.8.8.0/24 is not inside a private range"));
  EXPECT_EQ(remoractl({"lab", "up", good, "--name", "Bad_Name"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("lab name: \"Bad_Name\" is not a valid name"));
  EXPECT_EQ(remoractl({"lab", "up", "/nonexistent/lab.yaml", "--name", name_}, &out), 1);
  EXPECT_THAT(out, HasSubstr("cannot read /nonexistent/lab.yaml"));
  EXPECT_EQ(remoractl({"lab", "frobnicate"}, &out), 2);
  EXPECT_EQ(remoractl({"lab", "--help"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("exec"));
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
}

TEST_F(LabCliTest, AnInterruptedUpRemovesWhatItMade) {
  // A container that never opens its declared port keeps `up` waiting;
  // Ctrl-C (SIGINT) then must undo everything.
  ChildProcess up;
  std::string file;
  startStuckUp("stuck", &up, &file);
  if (IsSkipped() || HasFailure()) return;
  EXPECT_TRUE(lab::netnsExists(netns("stuck")));
  up.signal(SIGINT);
  EXPECT_EQ(up.wait(std::chrono::seconds(60)), 1) << up.output();
  EXPECT_THAT(up.output(), HasSubstr("interrupted"));
  EXPECT_THAT(up.output(), HasSubstr("lab up failed; removing what it made"));
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  struct stat st;
  EXPECT_NE(::stat(lab::stateDir(options()).c_str(), &st), 0);
}

TEST_F(LabCliTest, AKilledUpLeavesAJournalThatDownCleansUp) {
  // SIGKILL leaves `up` no chance to undo anything: the journal is all
  // there is. `up` must then refuse, and `down` remove everything.
  ChildProcess up;
  std::string file;
  startStuckUp("killed", &up, &file);
  if (IsSkipped() || HasFailure()) return;
  up.signal(SIGKILL);
  up.wait(std::chrono::seconds(10));
  up_ = true;  // TearDown's labDown is the fallback if the CLI's fails
  std::string out;
  EXPECT_EQ(remoractl({"lab", "up", file, "--name", name_}, &out), 1);
  EXPECT_THAT(out, HasSubstr("lab " + name_ + " is half up"));
  EXPECT_EQ(remoractl({"lab", "status", "--name", name_}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("): creating;"));
  EXPECT_EQ(remoractl({"lab", "down", "--name", name_}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("stopping proxy of pod productpage"));
  up_ = false;
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  for (const char* pod : {"client", "productpage", "reviews-v1", "stuck"}) {
    EXPECT_FALSE(lab::netnsExists(netns(pod))) << pod;
  }
}

}  // namespace
}  // namespace remora::test
