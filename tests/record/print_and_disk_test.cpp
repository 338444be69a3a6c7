// Live: --print prints what proctape-replay prints of the same trace, byte
// for byte; and a full disk stops the recording with a clear message and a
// trace that reads up to the failure.
#include <sys/mount.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "live_fixture.h"

namespace proctape::test {
namespace {

TEST_F(LiveRecorder, PrintMatchesReplayOfTheSameTrace) {
  std::string trace = dir_.file("print.pt");
  std::string printed = dir_.file("printed.txt");
  std::string replayed = dir_.file("replayed.txt");
  std::string workload = "for i in 1 2 3 4 5; do /bin/true; done; sleep 0.2; /bin/false; exit 0";
  ASSERT_EQ(shell(kRecorder + " --print -q -o " + trace + " -- sh -c '" + workload + "' >" + printed + " 2>/dev/null"),
            0);
  ASSERT_EQ(shell(std::string(PROCTAPE_REPLAY_BIN) + " " + trace + " >" + replayed), 0);
  std::string live = readText(printed), offline = readText(replayed);
  EXPECT_GT(live.size(), 200u);
  EXPECT_NE(live.find("exec(): /usr/bin/sleep"), std::string::npos) << live;
  EXPECT_EQ(live, offline);
}

// With standard output closed, the recorder's own descriptors used to take
// number 1, and --print then wrote into an eventfd and failed. Now it writes
// into /dev/null, and the recording is whole.
TEST_F(LiveRecorder, ClosedStandardOutputIsNoFailure) {
  std::string trace = dir_.file("closed.pt");
  std::string errors = dir_.file("errors.txt");
  EXPECT_EQ(shell(kRecorder + " --print -q -o " + trace + " -- /bin/true >&- 2>" + errors), 0) << readText(errors);
  EXPECT_EQ(readText(errors).find("cannot write"), std::string::npos) << readText(errors);
  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty());
  EXPECT_GT(contents.frames, 0u);
}

class FullDisk : public LiveRecorder {
 protected:
  void SetUp() override {
    LiveRecorder::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mountPoint_ = dir_.file("small");
    std::filesystem::create_directory(mountPoint_);
    if (::mount("proctape-test", mountPoint_.c_str(), "tmpfs", 0, "size=64k") != 0) {
      GTEST_SKIP() << "cannot mount a 64 KiB tmpfs to fill (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mountPoint_.c_str(), MNT_DETACH);
  }
  std::string mountPoint_;
  bool mounted_ = false;
};

TEST_F(FullDisk, StopsWithAClearMessageAndKeepsWhatWasWritten) {
  std::string trace = mountPoint_ + "/full.pt";
  auto recorder = startRecorder({"-o", trace});
  // Incompressible enough: many distinct pids and argv, until the 64 KiB fill up.
  for (int round = 0; round < 200 && !recorder->wait(0); ++round) runTrue(20);
  auto status = recorder->wait(10000);
  ASSERT_TRUE(status) << "the recorder did not stop on a full disk\n" << recorder->output();
  EXPECT_EQ(*status, 74) << recorder->output();
  EXPECT_NE(recorder->output().find("recording stopped: "), std::string::npos) << recorder->output();
  EXPECT_NE(recorder->output().find("No space left on device"), std::string::npos) << recorder->output();
  TraceContents contents = readTrace(trace);
  ASSERT_TRUE(contents.meta) << "the meta chunk must still read";
  EXPECT_GT(contents.frames, 0u);
  // What the summary counts is what reached the disk, and the chunks before
  // the offset the message names all read.
  std::smatch events, whole;
  std::string output = recorder->output();
  ASSERT_TRUE(std::regex_search(output, events, std::regex(" events=([0-9]+) "))) << output;
  EXPECT_EQ(std::stoull(events[1]), contents.frames) << output;
  bool claimsChunks = std::regex_search(output, whole, std::regex("Every chunk before offset ([0-9]+) is complete"));
  for (const auto& damage : contents.damage) {
    EXPECT_TRUE(damage.kind == format::DamageKind::notClosed || damage.kind == format::DamageKind::truncated)
        << describe(damage);
    if (claimsChunks) {
      EXPECT_GE(damage.offset, std::stoull(whole[1])) << describe(damage) << "\n" << output;
    }
  }
}

// A disk already full: the recorder cannot write even the file header. It
// stops before running the command (exit 73, the output cannot be created)
// and leaves no empty file behind.
TEST_F(FullDisk, ADiskFullFromTheStartRunsNothingAndLeavesNoFile) {
  {
    std::ofstream fill(mountPoint_ + "/fill", std::ios::binary);
    std::string block(4096, 'x');
    while (fill.write(block.data(), std::streamsize(block.size())) && fill.flush()) {
    }
  }
  std::string trace = mountPoint_ + "/full.pt";
  std::string marker = dir_.file("ran");
  Child recorder({kRecorder, "-o", trace, "--", "touch", marker});
  auto status = recorder.wait(10000);
  ASSERT_TRUE(status) << recorder.output();
  EXPECT_EQ(*status, 73) << recorder.output();
  EXPECT_NE(recorder.output().find("No space left on device"), std::string::npos) << recorder.output();
  EXPECT_FALSE(std::filesystem::exists(trace)) << "an empty trace file was left behind";
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the command ran although nothing could be recorded";
}

}  // namespace
}  // namespace proctape::test
