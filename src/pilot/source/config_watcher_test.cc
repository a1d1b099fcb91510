#include "pilot/source/config_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "pilot/source/debouncer.h"

namespace remora::pilot {
namespace {

using std::chrono::milliseconds;
using Clock = Debouncer::Clock;

TEST(PilotDebouncer, ALoneChangeIsDueAtOnce) {
  Debouncer d(milliseconds(100), milliseconds(10000));
  Clock::time_point t0{};
  EXPECT_FALSE(d.pending());
  EXPECT_FALSE(d.due(t0));
  d.onEvent(t0);
  EXPECT_TRUE(d.pending());
  EXPECT_TRUE(d.due(t0));
  d.fired(t0 + milliseconds(5));
  EXPECT_FALSE(d.due(t0 + milliseconds(200)));
  // Again after a quiet period (counted from the rebuild).
  d.onEvent(t0 + milliseconds(105));
  EXPECT_TRUE(d.due(t0 + milliseconds(105)));
}

TEST(PilotDebouncer, ChangesFollowingARebuildAreCoalesced) {
  Debouncer d(milliseconds(100), milliseconds(10000));
  Clock::time_point t0{};
  d.onEvent(t0);
  d.fired(t0 + milliseconds(30));  // a rebuild that took 30 ms
  // An editor's second write, 50 ms after its first: waits for quiet.
  d.onEvent(t0 + milliseconds(50));
  EXPECT_FALSE(d.due(t0 + milliseconds(50)));
  d.onEvent(t0 + milliseconds(80));
  EXPECT_FALSE(d.due(t0 + milliseconds(150)));
  EXPECT_EQ(d.deadline(), t0 + milliseconds(180));
  EXPECT_TRUE(d.due(t0 + milliseconds(180)));
  d.fired(t0 + milliseconds(185));
  // Within the window of that rebuild: coalesced again.
  d.onEvent(t0 + milliseconds(250));
  EXPECT_EQ(d.deadline(), t0 + milliseconds(350));
}

TEST(PilotDebouncer, NeverWaitsLongerThanTheMaximum) {
  Debouncer d(milliseconds(100), milliseconds(10000));
  Clock::time_point t0{};
  d.fired(t0);
  // A file rewritten every 50 ms never leaves 100 ms of quiet.
  for (int ms = 50; ms < 10040; ms += 50) {
    d.onEvent(t0 + milliseconds(ms));
    ASSERT_FALSE(d.due(t0 + milliseconds(ms))) << ms;
  }
  EXPECT_EQ(d.deadline(), t0 + milliseconds(10050));
  EXPECT_TRUE(d.due(t0 + milliseconds(10050)));
  // The next burst starts its own maximum.
  d.fired(t0 + milliseconds(10050));
  d.onEvent(t0 + milliseconds(10060));
  EXPECT_EQ(d.deadline(), t0 + milliseconds(10160));
}

// The watcher parses again only the files whose text changed; what it
// serves is the same as a full load.
TEST(PilotParsedFileCache, ReparsesOnlyChangedFilesAndMatchesAFullLoad) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("remora-parse-cache-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::trunc) << text;
  };
  auto service = [](const std::string& name, int port) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name +
           ", namespace: default}\nspec:\n  selector: {app: " + name +
           "}\n  ports:\n  - {name: http, port: " + std::to_string(port) + "}\n";
  };
  auto ports = [](const ConfigSet& set) {
    std::map<std::string, uint32_t> out;
    for (const auto& o : set.objects) {
      if (o.kind == ObjectKind::kService) {
        out[o.key()] = std::get<K8sService>(o.value).ports.at(0).port;
      }
    }
    return out;
  };
  write("a.yaml", service("a", 80));
  write("b.yaml", service("b", 81));
  write("c.yaml", "kind: [unclosed\n");
  ParsedFileCache cache;
  ConfigSet first = loadConfigDir(dir.string(), "", nullptr, &cache);
  EXPECT_EQ(cache.parsed_last, 3u);
  EXPECT_EQ(first.refusals.size(), 1u);  // c.yaml, kept with its file

  ConfigSet again = loadConfigDir(dir.string(), "", &first, &cache);
  EXPECT_EQ(cache.parsed_last, 0u);
  EXPECT_EQ(ports(again), ports(first));
  EXPECT_EQ(again.refusals.size(), 1u);

  write("b.yaml", service("b", 82));
  fs::remove(dir / "c.yaml");
  ConfigSet changed = loadConfigDir(dir.string(), "", &again, &cache);
  EXPECT_EQ(cache.parsed_last, 1u);
  EXPECT_EQ(cache.files.size(), 2u);
  EXPECT_EQ(ports(changed),
            (std::map<std::string, uint32_t>{{"default/a", 80}, {"default/b", 82}}));
  EXPECT_TRUE(changed.refusals.empty());
  ConfigSet full = loadConfigDir(dir.string());
  EXPECT_EQ(ports(changed), ports(full));
  ASSERT_EQ(changed.objects.size(), full.objects.size());
  for (size_t i = 0; i < full.objects.size(); ++i)
    EXPECT_EQ(changed.objects[i].content_hash, full.objects[i].content_hash);
  fs::remove_all(dir);
}

// Runs a ConfigWatcher on a temporary folder in a thread and records every
// snapshot it publishes.
class PilotConfigWatcher : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/remora-pilot-watch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }

  void start(milliseconds quiet, milliseconds max_wait) {
    watcher_ = std::make_unique<ConfigWatcher>(
        dir_, "",
        [this](std::shared_ptr<const MeshSnapshot> s) {
          std::lock_guard<std::mutex> lock(mu_);
          snapshots_.push_back(std::move(s));
          cv_.notify_all();
        },
        quiet, max_wait);
    thread_ = std::thread([this] { status_ = watcher_->run([this] { return stop_.load(); }); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string service(const std::string& name) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name +
           "}\nspec: {ports: [{port: 80}]}\n";
  }

  // Waits until `n` snapshots were published (false on timeout).
  bool waitFor(size_t n, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return snapshots_.size() >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshots_.size();
  }
  std::shared_ptr<const MeshSnapshot> last() {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshots_.back();
  }

  std::string dir_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  Status status_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<const MeshSnapshot>> snapshots_;
};

TEST_F(PilotConfigWatcher, PublishesTheFolderThenEachChange) {
  write("a.yaml", service("a"));
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  EXPECT_EQ(last()->version(), 1u);
  EXPECT_EQ(last()->services().size(), 1u);
  EXPECT_EQ(watcher_->current(), last());

  write("b.yml", service("b"));
  ASSERT_TRUE(waitFor(2));
  EXPECT_EQ(last()->version(), 2u);
  EXPECT_EQ(last()->services().size(), 2u);

  std::filesystem::remove(dir_ + "/a.yaml");
  ASSERT_TRUE(waitFor(3));
  ASSERT_EQ(last()->services().size(), 1u);
  EXPECT_EQ(last()->services()[0].name, "b");
  stop();
  EXPECT_TRUE(status_.ok()) << status_.toString();
}

TEST_F(PilotConfigWatcher, ABadEditIsRefusedAndTheLastGoodObjectKeepsServing) {
  write("a.yaml", service("a"));
  write("b.yaml", service("b"));
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  write("b.yaml", service("b") + "bogus: true\n");
  ASSERT_TRUE(waitFor(2));
  auto s = last();
  ASSERT_EQ(s->refusals().size(), 1u);
  EXPECT_EQ(s->refusals()[0].toString(),
            "b.yaml:5: document 0: Service default/b: bogus: unknown field");
  ASSERT_EQ(s->services().size(), 2u);
  EXPECT_EQ(s->services()[1].name, "b");
  ASSERT_EQ(s->warnings().size(), 1u);
  EXPECT_EQ(s->warnings()[0],
            "b.yaml: Service default/b: not loaded from the file as it is now (it has errors); "
            "the last good version keeps serving");
  // Fixed: the new version, no warning.
  write("b.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: 81}]}\n");
  ASSERT_TRUE(waitFor(3));
  s = last();
  EXPECT_TRUE(s->refusals().empty());
  EXPECT_TRUE(s->warnings().empty());
  ASSERT_EQ(s->services().size(), 2u);
  EXPECT_EQ(s->services()[1].ports.at(0).port, 81u);
}

// An editor that saves in several writes, each closing the file: pilot may
// load the file in between (a lone change is loaded at once), but the
// half-written state never withdraws what the file served.
TEST_F(PilotConfigWatcher, AHalfWrittenFileDoesNotWithdrawItsObjects) {
  const std::string full =
      service("a") + "---\n" +
      "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: 81}]}\n";
  write("m.yaml", full);
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  ASSERT_EQ(last()->services().size(), 2u);
  // First part: a's document and b's cut in the middle of a flow map.
  write("m.yaml", full.substr(0, full.find("{name: b") + 5));
  ASSERT_TRUE(waitFor(2));
  auto s = last();
  EXPECT_FALSE(s->refusals().empty());
  ASSERT_EQ(s->services().size(), 2u);
  EXPECT_EQ(s->services()[1].name, "b");
  EXPECT_EQ(s->services()[1].ports.at(0).port, 81u);
  // The rest, with b changed.
  std::string fixed = full;
  fixed.replace(fixed.find("port: 81"), 8, "port: 82");
  write("m.yaml", fixed);
  ASSERT_TRUE(waitFor(3));
  s = last();
  EXPECT_TRUE(s->refusals().empty());
  ASSERT_EQ(s->services().size(), 2u);
  EXPECT_EQ(s->services()[1].ports.at(0).port, 82u);
  // Removing b from a file that loads cleanly withdraws it.
  write("m.yaml", service("a"));
  ASSERT_TRUE(waitFor(4));
  EXPECT_EQ(last()->services().size(), 1u);
}

TEST_F(PilotConfigWatcher, ALoneChangeIsPublishedWithoutWaitingForQuiet) {
  // A quiet period far longer than the test's patience.
  start(milliseconds(3000), milliseconds(10000));
  ASSERT_TRUE(waitFor(1));
  std::this_thread::sleep_for(milliseconds(3100));  // quiet since the first load
  auto t0 = Clock::now();
  write("a.yaml", service("a"));
  ASSERT_TRUE(waitFor(2, milliseconds(2000)));
  EXPECT_LT(Clock::now() - t0, milliseconds(2000));
  // A second change right after it is coalesced: it waits for quiet.
  auto t1 = Clock::now();
  write("b.yaml", service("b"));
  write("c.yaml", service("c"));
  ASSERT_TRUE(waitFor(3, milliseconds(6000)));
  EXPECT_GE(Clock::now() - t1, milliseconds(2900));
  EXPECT_EQ(last()->services().size(), 3u);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(count(), 3u);
}

TEST_F(PilotConfigWatcher, AFileStillBeingWrittenIsNotLoaded) {
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  std::string text = service("a");
  {
    std::ofstream out(dir_ + "/a.yaml");
    out << text.substr(0, text.size() / 2) << std::flush;  // IN_MODIFY, not closed
    std::this_thread::sleep_for(milliseconds(400));
    EXPECT_EQ(count(), 1u);
    out << text.substr(text.size() / 2);
  }
  ASSERT_TRUE(waitFor(2));
  auto s = last();
  EXPECT_TRUE(s->refusals().empty());
  ASSERT_EQ(s->services().size(), 1u);
  EXPECT_EQ(s->services()[0].name, "a");
}

TEST_F(PilotConfigWatcher, ASymlinkedFileCounts) {
  std::ofstream(dir_ + "/target.txt") << service("a");
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  std::filesystem::create_symlink(dir_ + "/target.txt", dir_ + "/a.yaml");
  ASSERT_TRUE(waitFor(2));
  EXPECT_EQ(last()->services().size(), 1u);
}

TEST_F(PilotConfigWatcher, ANewDuplicateDoesNotReplaceTheServedObject) {
  write("m.yaml", service("a"));
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  write("0-copy.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 81}]}\n");
  ASSERT_TRUE(waitFor(2));
  auto s = last();
  ASSERT_EQ(s->services().size(), 1u);
  EXPECT_EQ(s->services()[0].ports.at(0).port, 80u);
  ASSERT_EQ(s->refusals().size(), 1u);
  EXPECT_EQ(s->refusals()[0].source.file, "0-copy.yaml");
}

TEST_F(PilotConfigWatcher, FilesWrittenUnderAHoldLandInOneSnapshot) {
  start(milliseconds(100), milliseconds(10000));
  ASSERT_TRUE(waitFor(1));
  std::this_thread::sleep_for(milliseconds(150));  // the next change is a lone one
  {
    auto hold = watcher_->holdReloads();
    write("a.yaml", service("a"));
    // Long enough for the lone change to be due and the watcher to try.
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_EQ(count(), 1u);
    write("b.yaml", service("b"));
  }
  ASSERT_TRUE(waitFor(2));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(snapshots_.at(1)->services().size(), 2u);
}

TEST_F(PilotConfigWatcher, ABurstOfWritesGivesOneSnapshot) {
  start(milliseconds(300), milliseconds(10000));
  ASSERT_TRUE(waitFor(1));
  for (int i = 0; i < 5; ++i) {
    write("a.yaml", service("a" + std::to_string(i)));
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(waitFor(2));
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_EQ(count(), 2u);
  EXPECT_EQ(last()->services().at(0).name, "a4");
}

TEST_F(PilotConfigWatcher, OtherFilesAreIgnoredAndRenamesCount) {
  start(milliseconds(50), milliseconds(2000));
  ASSERT_TRUE(waitFor(1));
  write("notes.txt", "not config");
  write("a.yaml.tmp", service("a"));
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(count(), 1u);
  // Editors and `kubectl`-like tools save by renaming a finished file in.
  std::filesystem::rename(dir_ + "/a.yaml.tmp", dir_ + "/a.yaml");
  ASSERT_TRUE(waitFor(2));
  EXPECT_EQ(last()->services().size(), 1u);
}

TEST_F(PilotConfigWatcher, ContinuousChangesStillPublishWithinTheMaximumWait) {
  start(milliseconds(400), milliseconds(300));
  ASSERT_TRUE(waitFor(1));
  // Writes every 50 ms never leave 400 ms of quiet; only the maximum wait
  // gets snapshots out while they go on.
  auto end = Clock::now() + milliseconds(1500);
  int i = 0;
  while (Clock::now() < end) {
    write("a.yaml", service("a" + std::to_string(i++)));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GE(count(), 3u);
}

TEST_F(PilotConfigWatcher, MissingFolderFailsToStart) {
  std::filesystem::remove_all(dir_);
  start(milliseconds(50), milliseconds(100));
  thread_.join();
  EXPECT_FALSE(status_.ok());
  EXPECT_NE(status_.message().find("inotify_add_watch " + dir_), std::string::npos)
      << status_.toString();
}

}  // namespace
}  // namespace remora::pilot
