// Records written and read back unchanged: frames byte-exact (empty, 64 KiB,
// many sources, both layouts), process info, snapshots and gaps.
#include <gtest/gtest.h>

#include <limits>

#include "test_support.h"

namespace proctape::format {
namespace {

using test::TempDir;

ProcessInfo sampleInfo(int32_t pid) {
  ProcessInfo info;
  info.pid = info.tgid = pid;
  info.ppid = 1;
  info.argv = {"/usr/bin/cc", "-c", "main.c", "-o", "main.o", ""};
  info.exe = "/usr/bin/x86_64-linux-gnu-gcc-12";
  info.cwd = "/home/ci/build dir";
  info.comm = "cc";
  info.ruid = info.euid = 1000;
  info.rgid = info.egid = 100;
  info.cgroup = "/user.slice/user-1000.slice/session-3.scope";
  info.startTimeTicks = 123456;
  info.reason = InfoReason::exec;
  return info;
}

// A deterministic writer of dir/t.pt that cuts a chunk once its oldest record
// is `chunkAgeNs` old.
Result<TraceWriter> writerCuttingEvery(const TempDir& dir, int64_t chunkAgeNs) {
  WriterOptions options = test::deterministicOptions();
  options.chunkMaxAgeNs = chunkAgeNs;
  return TraceWriter::create(dir.file("t.pt"), test::testMeta(), options);
}

TEST(RoundTrip, FramesComeBackByteExactInOrderAcrossChunks) {
  TempDir dir;
  auto options = test::deterministicOptions();
  options.chunkRawBytes = 64 * 1024;  // force many chunks
  std::vector<std::vector<uint8_t>> written;
  std::vector<uint16_t> sources;
  {
    auto writer = TraceWriter::create(dir.file("t.pt"), test::testMeta(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    for (uint32_t i = 0; i < 20000; ++i) {
      // Mostly 76-byte frames from source 0, with variable-size ones from 1..3 mixed in.
      uint16_t source = i % 97 == 0 ? uint16_t(1 + i % 3) : 0;
      auto frame = source == 0 ? test::sampleFrame(i) : test::sampleFrame(i, 20 + i % 300);
      ASSERT_TRUE(writer->writeFrame(2'000'000'000 + int64_t(i) * 1000, source, frame));
      written.push_back(frame);
      sources.push_back(source);
    }
    ASSERT_TRUE(writer->close());
    EXPECT_GT(writer->stats().chunks, 5u);
  }
  auto reader = TraceReader::open(dir.file("t.pt"));
  ASSERT_TRUE(reader) << reader.error().message;
  auto back = test::readAll(*reader);
  EXPECT_TRUE(back.damage.empty());
  EXPECT_EQ(back.frames, written);
  EXPECT_EQ(back.frameSources, sources);
  std::vector<int64_t> frameTimes;
  for (size_t i = 0; i < back.kinds.size(); ++i)
    if (back.kinds[i] == RecordKind::frame) frameTimes.push_back(back.times[i]);
  ASSERT_EQ(frameTimes.size(), written.size());
  for (size_t i = 0; i < frameTimes.size(); ++i) ASSERT_EQ(frameTimes[i], 2'000'000'000 + int64_t(i) * 1000);
  EXPECT_TRUE(reader->segments()[0].indexed);
}

TEST(RoundTrip, EmptyAndLargestFramesAndUnshuffledLayout) {
  for (bool shuffle : {true, false}) {
    TempDir dir;
    auto options = test::deterministicOptions();
    options.shuffleFrames = shuffle;
    std::vector<std::vector<uint8_t>> frames = {{}, test::sampleFrame(1, 65536), {}, test::sampleFrame(2, 65536),
                                                test::sampleFrame(3, 1)};
    {
      auto writer = TraceWriter::create(dir.file("t.pt"), test::testMeta(), options);
      ASSERT_TRUE(writer);
      for (size_t i = 0; i < frames.size(); ++i) ASSERT_TRUE(writer->writeFrame(5 + int64_t(i), 7, frames[i]));
      // Two equal-size runs, so the shuffled layout is used when allowed.
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer->writeFrame(100 + i, 8, test::sampleFrame(uint32_t(i), 65536)));
      ASSERT_TRUE(writer->close());
    }
    for (int i = 0; i < 3; ++i) frames.push_back(test::sampleFrame(uint32_t(i), 65536));
    auto reader = TraceReader::open(dir.file("t.pt"));
    ASSERT_TRUE(reader);
    auto back = test::readAll(*reader);
    EXPECT_EQ(back.frames, frames) << "shuffle=" << shuffle;
    EXPECT_TRUE(back.damage.empty());
  }
}

TEST(RoundTrip, ProcessInfoSnapshotAndGapsKeepEveryField) {
  TempDir dir;
  ProcessInfo gone;
  gone.pid = 4242;
  gone.reason = InfoReason::exec;
  gone.misses = {{InfoField::argv, MissReason::gone, 2}, {InfoField::exe, MissReason::zombie, 0}};
  Snapshot snapshot{{sampleInfo(1), sampleInfo(2), gone}};
  Gap known{0, 17, GapReason::kernelOverrun, "ENOBUFS"};
  Gap unknown{1, std::nullopt, GapReason::truncatedDatagram, ""};
  {
    auto writer = TraceWriter::create(dir.file("t.pt"), test::testMeta(), test::deterministicOptions());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->writeSnapshot(10, snapshot));
    ASSERT_TRUE(writer->writeProcessInfo(11, sampleInfo(77)));
    ASSERT_TRUE(writer->writeProcessInfo(12, gone));
    ASSERT_TRUE(writer->writeGap(13, known));
    ASSERT_TRUE(writer->writeGap(14, unknown));
    ASSERT_TRUE(writer->close());
  }
  auto reader = TraceReader::open(dir.file("t.pt"));
  ASSERT_TRUE(reader);
  auto back = test::readAll(*reader);
  ASSERT_EQ(back.snapshots.size(), 1u);
  EXPECT_EQ(back.snapshots[0], snapshot);
  ASSERT_EQ(back.infos.size(), 2u);
  EXPECT_EQ(back.infos[0], sampleInfo(77));
  EXPECT_EQ(back.infos[1], gone);
  EXPECT_FALSE(back.infos[1].has(InfoField::argv));
  EXPECT_TRUE(back.infos[1].has(InfoField::cwd));
  ASSERT_EQ(back.gaps.size(), 2u);
  EXPECT_EQ(back.gaps[0], known);
  EXPECT_EQ(back.gaps[1], unknown);
}

// Decoded chunks are recycled: a later chunk's records are written over an
// earlier one's, in place. Records of every shape, in many small chunks,
// must come back exactly, whatever filled their place before.
TEST(RoundTrip, ProcessInfoOfRecycledChunksKeepsNothingOfTheRecordsBefore) {
  TempDir dir;
  std::vector<ProcessInfo> written;
  for (int32_t i = 0; i < 600; ++i) {
    ProcessInfo info = sampleInfo(100 + i);
    info.argv.resize(size_t(i % 7));  // longer and shorter than what came before
    for (auto& arg : info.argv) arg += std::string(size_t(i % 5) * 9, 'x');
    if (i % 3 == 0) info.misses = {{InfoField::cwd, MissReason::gone, 2}};
    if (i % 4 == 0) info.exe.clear();
    if (i % 11 == 0) info.comm = std::string(40, 'c');
    written.push_back(info);
  }
  {
    auto writer = writerCuttingEvery(dir, 50);  // a chunk every few records
    ASSERT_TRUE(writer);
    for (size_t i = 0; i < written.size(); ++i) ASSERT_TRUE(writer->writeProcessInfo(int64_t(i) * 20, written[i]));
    ASSERT_TRUE(writer->close());
  }
  for (unsigned threads : {1u, 3u}) {
    auto reader = TraceReader::open(dir.file("t.pt"), {.threads = threads});
    ASSERT_TRUE(reader);
    EXPECT_GT(reader->chunks().size(), 20u);
    auto back = test::readAll(*reader);
    ASSERT_EQ(back.infos.size(), written.size()) << threads << " threads";
    for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(back.infos[i], written[i]) << i << ", " << threads << " threads";
  }
}

// Times 2^64 ns apart in one chunk: the writer's chunk-age check must not
// overflow (UBSan in the asan preset sees it if it does).
TEST(RoundTrip, TimesAtBothEndsOfTheRangeAreWrittenAndReadBack) {
  TempDir dir;
  const int64_t low = std::numeric_limits<int64_t>::min() + 1, high = std::numeric_limits<int64_t>::max();
  {
    auto writer = TraceWriter::create(dir.file("t.pt"), test::testMeta(), test::deterministicOptions());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->writeFrame(low, 0, test::sampleFrame(1)));
    ASSERT_TRUE(writer->writeFrame(high, 0, test::sampleFrame(2)));
    ASSERT_TRUE(writer->tick(low));
    ASSERT_TRUE(writer->close());
  }
  auto reader = TraceReader::open(dir.file("t.pt"));
  ASSERT_TRUE(reader);
  auto back = test::readAll(*reader);
  ASSERT_EQ(back.frames.size(), 2u);
}

TEST(RoundTrip, UnwrittenRecordsAreReportedUntilTheirChunkIsCut) {
  // The recorder's writer sleeps long only when nothing is unwritten.
  TempDir dir;
  auto writer = writerCuttingEvery(dir, 100);
  ASSERT_TRUE(writer);
  EXPECT_FALSE(writer->hasUnwritten());
  ASSERT_TRUE(writer->writeFrame(1000, 0, test::sampleFrame(1)));
  EXPECT_TRUE(writer->hasUnwritten());
  ASSERT_TRUE(writer->tick(1050));  // younger than chunkMaxAgeNs: kept open
  EXPECT_TRUE(writer->hasUnwritten());
  ASSERT_TRUE(writer->tick(1200));
  EXPECT_FALSE(writer->hasUnwritten());
  ASSERT_TRUE(writer->writeFrame(1300, 0, test::sampleFrame(2)));
  ASSERT_TRUE(writer->flush());
  EXPECT_FALSE(writer->hasUnwritten());
  ASSERT_TRUE(writer->close());
  auto reader = TraceReader::open(dir.file("t.pt"));
  ASSERT_TRUE(reader);
  EXPECT_EQ(test::readAll(*reader).frames.size(), 2u);
}

TEST(RoundTrip, MetaRecordsHostAndFillsFormatFields) {
  TempDir dir;
  {
    auto writer = TraceWriter::create(dir.file("t.pt"), test::testMeta(), test::deterministicOptions());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->close());
  }
  auto reader = TraceReader::open(dir.file("t.pt"));
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->meta().has_value());
  const Meta& meta = *reader->meta();
  Meta expected = test::testMeta();
  EXPECT_EQ(meta.hostname, expected.hostname);
  EXPECT_EQ(meta.kernelRelease, expected.kernelRelease);
  EXPECT_EQ(meta.sources, expected.sources);
  EXPECT_EQ(meta.commandLine, expected.commandLine);
  EXPECT_EQ(meta.formatMajor, kFormatMajor);
  EXPECT_EQ(meta.byteOrder, ByteOrder::little);
  EXPECT_NE(meta.clocks.realtimeNs, 0);
}

TEST(RoundTrip, DeterministicModeWritesIdenticalBytes) {
  TempDir dir;
  for (const char* name : {"a.pt", "b.pt"}) {
    auto writer = TraceWriter::create(dir.file(name), test::testMeta(), test::deterministicOptions());
    ASSERT_TRUE(writer);
    for (uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(writer->writeFrame(int64_t(i) * 10, 0, test::sampleFrame(i)));
    ASSERT_TRUE(writer->close());
  }
  EXPECT_EQ(test::readFile(dir.file("a.pt")), test::readFile(dir.file("b.pt")));
}

TEST(RoundTrip, SeekByTimeSkipsEarlierChunksWithAndWithoutIndex) {
  TempDir dir;
  {
    auto writer = writerCuttingEvery(dir, 1000);
    ASSERT_TRUE(writer);
    for (uint32_t i = 0; i < 5000; ++i) ASSERT_TRUE(writer->writeFrame(int64_t(i) * 10, 0, test::sampleFrame(i)));
    ASSERT_TRUE(writer->close());
  }
  for (bool useIndex : {true, false}) {
    auto reader = TraceReader::open(dir.file("t.pt"), {.threads = 2, .useIndex = useIndex});
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->segments()[0].indexed, useIndex);
    reader->seek(30'005);
    Record record;
    ASSERT_TRUE(reader->next(record));
    EXPECT_EQ(record.timeNs, 30'010);
    auto* frame = std::get_if<Frame>(&record.body);
    ASSERT_NE(frame, nullptr);
    auto expected = test::sampleFrame(3001);
    EXPECT_TRUE(std::equal(frame->bytes.begin(), frame->bytes.end(), expected.begin(), expected.end()));
    size_t rest = 1;
    while (reader->next(record)) rest += record.kind() == RecordKind::frame;
    EXPECT_EQ(rest, 5000u - 3001u);
  }
}

}  // namespace
}  // namespace proctape::format
