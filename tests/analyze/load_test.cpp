// loadTrace: a trace file or segment directory to a model, whatever its frames hold.
#include "proctape/analyze/load.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "trace_builder.h"

namespace proctape::test::analyze {
namespace {

using namespace proctape::analyze;

TEST(LoadTrace, ReadsTheCommandPidAndHostFromMeta) {
  TempDir dir;
  TraceBuilder builder(dir.file("t.pt"), 1000);
  writeSmallBuild(builder);
  auto trace = loadTrace(dir.file("t.pt"));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->commandPid(), 1000);
  EXPECT_EQ(trace->host(), "testhost");
  EXPECT_TRUE(trace->damage.empty());
  EXPECT_EQ(trace->model.processes.size(), 8u);
  EXPECT_EQ(trace->model.firstNs, 0);
  EXPECT_EQ(trace->model.lastNs, 100 * kMs);
  EXPECT_FALSE(trace->model.anchors.empty());
}

TEST(LoadTrace, GarbageFramesAreCountedNotFatal) {
  TempDir dir;
  {
    TraceBuilder builder(dir.file("junk.pt"), 0);
    std::mt19937 random(7);
    for (int i = 0; i < 2000; ++i) {
      frames::Bytes bytes(random() % 120);
      for (auto& b : bytes) b = uint8_t(random());
      if (i % 3 == 0 && bytes.size() >= 76) {  // well-framed cn_proc with random contents
        frames::ProcHeader header;
        header.timestampNs = random();
        header.seq = 0;
        bytes = frames::procFrame(uint32_t(1) << (random() % 32),
                                  frames::ints({int64_t(random() % 50), int64_t(random() % 50), uint32_t(random()),
                                                int64_t(random() % 50)}),
                                  header);
      }
      builder.frame(int64_t(i) * kMs, bytes);
    }
    builder.close();
  }
  auto trace = loadTrace(dir.file("junk.pt"));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_GT(trace->model.counters.get(Counter::decodeErrors), 0u);
}

TEST(LoadTrace, ReadsASegmentDirectoryAsOneTrace) {
  TempDir dir;
  auto options = deterministicOptions();
  options.chunkMaxAgeNs = 10 * kMs;
  options.rotation = format::RotationOptions{600, 0, 0};
  {
    TraceBuilder builder(dir.file("segments"), 1000, options);
    writeSmallBuild(builder);
  }
  size_t segments = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("segments"))) segments += entry.is_regular_file();
  EXPECT_GE(segments, 2u);
  auto trace = loadTrace(dir.file("segments"));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_TRUE(trace->damage.empty());
  EXPECT_EQ(trace->model.processes.size(), 8u);
  size_t exited = 0;
  for (const auto& process : trace->model.processes) exited += process.endNs ? 1 : 0;
  EXPECT_EQ(exited, 4u);
}

// The gap's source decides: rtnetlink (testMeta's source 1) cannot hide a
// process event, the proc connector (source 0) can.
TEST(LoadTrace, OnlyGapsOfTheProcConnectorFlagProcesses) {
  for (uint16_t source : {0, 1}) {
    TempDir dir;
    {
      TraceBuilder builder(dir.file("t.pt"), 1000);
      builder.fork(1 * kMs, 950, 1000);
      builder.gap(2 * kMs, 40, source);
      builder.exit(3 * kMs, 1000, 0, 950);
      builder.close();
    }
    auto trace = loadTrace(dir.file("t.pt"));
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    const auto& model = trace->model;
    EXPECT_EQ(model.counters.get(Counter::gaps), 1u);
    const Process* command = nullptr;
    for (const auto& process : model.processes)
      if (process.pid == 1000) command = &process;
    ASSERT_NE(command, nullptr);
    EXPECT_EQ(command->has(kPossiblyIncomplete), source == 0) << "gap on source " << source;
  }
}

TEST(LoadTrace, MissingFileIsAnError) {
  auto trace = loadTrace("/nonexistent/trace.pt");
  ASSERT_FALSE(trace.ok());
  EXPECT_NE(trace.error().message.find("/nonexistent/trace.pt"), std::string::npos);
}

}  // namespace
}  // namespace proctape::test::analyze
