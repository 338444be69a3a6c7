// Rotation into a directory of segments: by size, by age (record times in
// deterministic mode), and with `keep`. Every segment is a complete trace on
// its own, and the directory reads back as one ordered stream.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "segment_names.h"
#include "test_support.h"

namespace proctape::format {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// What was written, in write order.
struct Stream {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<int64_t> frameTimes;
  std::vector<ProcessInfo> infos;
  std::vector<std::pair<int64_t, RecordKind>> sequence;  // frames and process infos only
};

ProcessInfo workerInfo(uint32_t i) {
  ProcessInfo info;
  info.pid = info.tgid = int32_t(1000 + i);
  info.ppid = 1;
  info.argv = {"/usr/bin/worker", "--id=" + std::to_string(i)};
  info.exe = "/usr/bin/worker";
  info.cwd = "/srv";
  info.comm = "worker";
  info.startTimeTicks = 5000 + i;
  info.reason = InfoReason::exec;
  return info;
}

// Writes `count` 76-byte frames `stepNs` apart from `startNs`, with a process
// info record before every 400th frame.
testing::AssertionResult writeStream(TraceWriter& writer, uint32_t count, int64_t startNs, int64_t stepNs,
                                     Stream& out) {
  for (uint32_t i = 0; i < count; ++i) {
    int64_t t = startNs + int64_t(i) * stepNs;
    if (i % 400 == 0) {
      ProcessInfo info = workerInfo(i);
      if (auto status = writer.writeProcessInfo(t, info); !status)
        return testing::AssertionFailure() << "process info " << i << ": " << status.error().message;
      out.infos.push_back(info);
      out.sequence.emplace_back(t, RecordKind::processInfo);
    }
    auto frame = test::sampleFrame(i);
    if (auto status = writer.writeFrame(t, 0, frame); !status)
      return testing::AssertionFailure() << "frame " << i << ": " << status.error().message;
    out.frames.push_back(frame);
    out.frameTimes.push_back(t);
    out.sequence.emplace_back(t, RecordKind::frame);
  }
  return testing::AssertionSuccess();
}

std::vector<std::pair<int64_t, RecordKind>> dataSequence(const test::ReadBack& back) {
  std::vector<std::pair<int64_t, RecordKind>> sequence;
  for (size_t i = 0; i < back.kinds.size(); ++i)
    if (back.kinds[i] == RecordKind::frame || back.kinds[i] == RecordKind::processInfo)
      sequence.emplace_back(back.times[i], back.kinds[i]);
  return sequence;
}

std::vector<int64_t> frameTimes(const test::ReadBack& back) {
  std::vector<int64_t> times;
  for (size_t i = 0; i < back.kinds.size(); ++i)
    if (back.kinds[i] == RecordKind::frame) times.push_back(back.times[i]);
  return times;
}

// Every file in `dir`, by name.
std::vector<std::string> fileNames(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> segmentNames(const fs::path& dir) {
  auto names = fileNames(dir);
  std::erase_if(names, [](const std::string& name) { return !isSegmentFileName(name); });
  return names;
}

unsigned permissions(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ~0u;
  return unsigned(st.st_mode & 0777);
}

// One segment file opened on its own.
struct SegmentRead {
  Meta meta;
  test::ReadBack back;
};

testing::AssertionResult readSegment(const fs::path& file, SegmentRead& out) {
  auto reader = TraceReader::open(file.string());
  if (!reader) return testing::AssertionFailure() << file << ": " << reader.error().message;
  if (!reader->meta()) return testing::AssertionFailure() << file << ": no meta record";
  if (reader->segments().size() != 1 || !reader->segments()[0].indexed)
    return testing::AssertionFailure() << file << ": not one closed, indexed segment";
  out.meta = *reader->meta();
  out.back = test::readAll(*reader);
  if (!out.back.damage.empty()) return testing::AssertionFailure() << describe(out.back.damage[0]);
  if (out.back.kinds.empty() || out.back.kinds[0] != RecordKind::meta)
    return testing::AssertionFailure() << file << ": does not start with its meta record";
  return testing::AssertionSuccess();
}

WriterOptions sizeRotation(size_t keep = 0) {
  auto options = test::deterministicOptions();
  options.chunkRawBytes = 4096;  // several chunks per segment
  options.rotation = RotationOptions{.maxBytes = 8192, .maxAgeNs = 0, .keep = keep};
  return options;
}

// A closed recording of 6,000 frames rotated into `traceDir`; the names in it.
std::vector<std::string> writeRotatedRecording(const fs::path& traceDir, const WriterOptions& options = sizeRotation()) {
  Stream written;
  auto writer = TraceWriter::create(traceDir.string(), test::testMeta(), options);
  EXPECT_TRUE(writer) << writer.error().message;
  if (!writer) return {};
  EXPECT_TRUE(writeStream(*writer, 6000, 1'000'000, 1000, written));
  EXPECT_TRUE(writer->close());
  return fileNames(traceDir);
}

TEST(Rotation, SizeLimitCutsSelfDescribingSegmentsThatReadBackAsOneStream) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  Stream written;
  TraceUuid uuid{};
  uint64_t segmentCount = 0;
  {
    auto writer = TraceWriter::create(traceDir.string(), test::testMeta(), sizeRotation());
    ASSERT_TRUE(writer) << writer.error().message;
    uuid = writer->meta().traceUuid;
    ASSERT_TRUE(writeStream(*writer, 6000, 1'000'000, 1000, written));
    ASSERT_TRUE(writer->close());
    segmentCount = writer->stats().segments;
  }
  ASSERT_GE(segmentCount, 5u);

  // Only segment files, one per segment the writer reports, private to the user.
  auto names = fileNames(traceDir);
  ASSERT_EQ(names.size(), segmentCount);
  EXPECT_EQ(permissions(traceDir), 0700u);
  for (const auto& name : names) {
    EXPECT_TRUE(isSegmentFileName(name)) << name;
    EXPECT_EQ(permissions(traceDir / name), 0600u) << name;
  }

  // Name order is segment order is time order, and each file stands alone.
  std::vector<std::pair<int64_t, RecordKind>> concatenated;
  int64_t previousRealtime = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    SegmentRead segment;
    ASSERT_TRUE(readSegment(traceDir / names[i], segment));
    EXPECT_EQ(segment.meta.traceUuid, uuid);
    EXPECT_EQ(segment.meta.segmentIndex, i);
    EXPECT_EQ(segment.meta.hostname, test::testMeta().hostname);
    EXPECT_EQ(segment.meta.sources, test::testMeta().sources);
    EXPECT_EQ(names[i], segmentFileName(segment.meta.clocks.realtimeNs, uint32_t(i)));
    EXPECT_GE(segment.meta.clocks.realtimeNs, previousRealtime);
    previousRealtime = segment.meta.clocks.realtimeNs;

    auto sequence = dataSequence(segment.back);
    EXPECT_FALSE(sequence.empty()) << "a segment with nothing but its meta record";
    concatenated.insert(concatenated.end(), sequence.begin(), sequence.end());

    uint64_t size = fs::file_size(traceDir / names[i]);
    if (i + 1 < names.size()) {
      EXPECT_GE(size, 8192u) << "rotated before reaching maxBytes";
    }
    EXPECT_LT(size, 8192u + 16384u) << "rotation ran far past maxBytes";
  }
  EXPECT_EQ(concatenated, written.sequence);

  // The directory reads as one ordered stream, identical to what was written.
  auto reader = TraceReader::open(traceDir.string());
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ(reader->segments().size(), segmentCount);
  ASSERT_TRUE(reader->meta());
  EXPECT_EQ(reader->meta()->segmentIndex, 0u);
  EXPECT_EQ(reader->meta()->traceUuid, uuid);
  auto back = test::readAll(*reader);
  EXPECT_TRUE(back.damage.empty()) << (back.damage.empty() ? "" : describe(back.damage[0]));
  EXPECT_EQ(back.frames, written.frames);
  EXPECT_EQ(frameTimes(back), written.frameTimes);
  EXPECT_EQ(back.infos, written.infos);
  EXPECT_EQ(dataSequence(back), written.sequence);
  EXPECT_TRUE(std::is_sorted(back.times.begin(), back.times.end())) << "record times go backwards";
  EXPECT_EQ(std::count(back.kinds.begin(), back.kinds.end(), RecordKind::meta), std::ptrdiff_t(segmentCount));
}

// A directory that was there keeps its mode (it may be shared, as /var/tmp
// is); one the writer creates is private. A file that was there becomes
// private, and a second writer of one file is refused.
TEST(Writer, KeepsAnExistingDirectorysModeMakesFilesPrivateAndRefusesASecondWriter) {
  TempDir dir;
  const fs::path shared = dir.path() / "shared";
  fs::create_directory(shared);
  ::chmod(shared.c_str(), 01777);
  {
    auto writer = TraceWriter::create(shared.string(), test::testMeta(), sizeRotation());
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(writer->close());
  }
  struct stat st {};
  ASSERT_EQ(::stat(shared.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  {
    auto writer = TraceWriter::create((dir.path() / "new" / "segments").string(), test::testMeta(), sizeRotation());
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(writer->close());
  }
  EXPECT_EQ(permissions(dir.path() / "new" / "segments"), 0700u);

  const std::string existing = (dir.path() / "existing.pt").string();
  test::writeFile(existing, {'o', 'l', 'd'});
  ::chmod(existing.c_str(), 0644);
  auto first = TraceWriter::create(existing, test::testMeta(), test::deterministicOptions());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(permissions(existing), 0600u);
  auto second = TraceWriter::create(existing, test::testMeta(), test::deterministicOptions());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another recorder is writing this trace"), std::string::npos)
      << second.error().message;
  ASSERT_TRUE(first->close());
  auto reader = TraceReader::open(existing);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(test::readAll(*reader).damage.empty());

  // Not a regular file: written to as it is, its mode left alone (as root,
  // making /dev/null 0600 would break every other user's programs).
  unsigned devNullMode = permissions("/dev/null");
  auto discarded = TraceWriter::create("/dev/null", test::testMeta(), test::deterministicOptions());
  ASSERT_TRUE(discarded) << discarded.error().message;
  ASSERT_TRUE(discarded->close());
  EXPECT_EQ(permissions("/dev/null"), devNullMode);
}

// A segment deleted from the middle of a recording loses its events: that is
// damage, never an intact trace. A copy of a segment (its number again) is
// left out, not read twice.
TEST(Rotation, AMissingOrCopiedSegmentIsDamageAndACopyIsReadOnce) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  auto names = writeRotatedRecording(traceDir);
  ASSERT_GE(names.size(), 5u);
  auto framesOf = [](const fs::path& path) {
    auto reader = TraceReader::open(path.string());
    EXPECT_TRUE(reader) << reader.error().message;
    return test::readAll(*reader);
  };
  size_t allFrames = framesOf(traceDir).frames.size();
  size_t secondFrames = framesOf(traceDir / names[1]).frames.size();

  // The last segment again, under a name that sorts after it.
  fs::copy_file(traceDir / names.back(), traceDir / (names.back() + "-copy.pt"));
  auto copied = framesOf(traceDir);
  ASSERT_EQ(copied.damage.size(), 1u);
  EXPECT_EQ(copied.damage[0].kind, DamageKind::duplicateSegment);
  EXPECT_FALSE(losesRecords(copied.damage[0].kind));
  EXPECT_EQ(copied.damage[0].file, (traceDir / (names.back() + "-copy.pt")).string());
  EXPECT_EQ(copied.frames.size(), allFrames);
  fs::remove(traceDir / (names.back() + "-copy.pt"));

  // Segments 1 and 2 deleted.
  fs::remove(traceDir / names[1]);
  fs::remove(traceDir / names[2]);
  auto gapped = framesOf(traceDir);
  ASSERT_EQ(gapped.damage.size(), 1u);
  EXPECT_EQ(gapped.damage[0].kind, DamageKind::missingSegment);
  EXPECT_TRUE(losesRecords(gapped.damage[0].kind));
  EXPECT_EQ(gapped.damage[0].file, (traceDir / names[3]).string());
  EXPECT_NE(gapped.damage[0].detail.find("2 segments of this recording (number 1 to 2) missing"), std::string::npos)
      << gapped.damage[0].detail;
  EXPECT_LT(gapped.frames.size(), allFrames - secondFrames);

  // The oldest deleted (as --keep does): no damage.
  fs::remove(traceDir / names[0]);
  auto pruned = framesOf(traceDir);
  EXPECT_TRUE(pruned.damage.empty()) << describe(pruned.damage[0]);
}

// Segment names are their UTC start times, so a realtime clock stepped back
// during a recording (by an older writer) left a later segment whose name
// sorts first. The numbers in the file headers are the recording's order:
// every segment is read, in that order, and none is taken for a copy.
TEST(Rotation, SegmentsWhoseNamesSortOutOfOrderAreReadInTheirRecordingsOrder) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  auto names = writeRotatedRecording(traceDir);
  ASSERT_GE(names.size(), 5u);
  auto intact = TraceReader::open(traceDir.string());
  ASSERT_TRUE(intact) << intact.error().message;
  auto expected = test::readAll(*intact);
  ASSERT_TRUE(expected.damage.empty());

  // The last segment renamed to sort first, then segments 1 and 3 swapping names.
  fs::rename(traceDir / names.back(), traceDir / ("0" + names.back()));
  fs::rename(traceDir / names[1], traceDir / "swap.pt");
  fs::rename(traceDir / names[3], traceDir / names[1]);
  fs::rename(traceDir / "swap.pt", traceDir / names[3]);
  auto reader = TraceReader::open(traceDir.string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto back = test::readAll(*reader);
  std::string damage;
  for (const auto& d : back.damage) damage += "\n  " + describe(d);
  EXPECT_TRUE(back.damage.empty()) << damage;
  EXPECT_TRUE(back.frames == expected.frames) << back.frames.size() << " frames read, " << expected.frames.size()
                                              << " expected";
  for (size_t i = 0; i < reader->segments().size(); ++i) EXPECT_EQ(reader->segments()[i].segmentIndex, i);
}

// The realtime clock stepped back an hour after a few segments: the names
// still sort in the recording's order, each a nanosecond past the last.
TEST(Rotation, AClockSteppedBackStillNamesSegmentsInOrder) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  auto options = sizeRotation();
  int calls = 0;
  options.clock = [&calls] {
    constexpr int64_t kStart = 1'790'000'000'000'000'000;
    int64_t realtime = ++calls < 8 ? kStart + calls * 1'000'000 : kStart - 3'600'000'000'000 + calls;
    return ClockAnchor{calls, realtime, calls};
  };
  writeRotatedRecording(traceDir, options);
  auto names = segmentNames(traceDir);
  ASSERT_GE(names.size(), 5u);
  for (size_t i = 0; i < names.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof number, "%06zu", i);
    EXPECT_NE(names[i].find(std::string("-") + number + ".pt"), std::string::npos) << names[i];
  }
}

TEST(Rotation, KeepLeavesOnlyTheNewestSegmentsWhichReadBackAsTheStreamsTail) {
  TempDir dir;
  const fs::path all = dir.path() / "all";
  const fs::path kept = dir.path() / "kept";
  // A file of the user's in the directory is not a segment and is never pruned.
  fs::create_directories(kept);
  test::writeFile((kept / "notes.txt").string(), {'h', 'i'});

  Stream written;
  uint64_t segmentCount = 0;
  for (const auto& [path, keep] : {std::pair{all, size_t(0)}, std::pair{kept, size_t(3)}}) {
    Stream stream;
    auto writer = TraceWriter::create(path.string(), test::testMeta(), sizeRotation(keep));
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(writeStream(*writer, 6000, 1'000'000, 1000, stream));
    ASSERT_TRUE(writer->close());
    if (keep == 0) {
      written = std::move(stream);
      segmentCount = writer->stats().segments;
    } else {
      EXPECT_EQ(writer->stats().segments, segmentCount) << "pruning changed how the stream was cut";
    }
  }
  ASSERT_GT(segmentCount, 4u);

  // Exactly the three newest segments remain, byte-identical to the unpruned run's.
  auto allNames = segmentNames(all);
  ASSERT_EQ(allNames.size(), segmentCount);
  auto keptNames = segmentNames(kept);
  ASSERT_EQ(keptNames.size(), 3u);
  EXPECT_EQ(keptNames, std::vector<std::string>(allNames.end() - 3, allNames.end()));
  for (const auto& name : keptNames)
    EXPECT_EQ(test::readFile((kept / name).string()), test::readFile((all / name).string())) << name;
  EXPECT_TRUE(fs::exists(kept / "notes.txt"));
  EXPECT_EQ(fileNames(kept).size(), 4u);

  auto reader = TraceReader::open(kept.string());
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE(reader->meta());
  EXPECT_EQ(reader->meta()->segmentIndex, segmentCount - 3);
  auto back = test::readAll(*reader);
  EXPECT_TRUE(back.damage.empty()) << (back.damage.empty() ? "" : describe(back.damage[0]));

  // The tail: from the first frame of the oldest kept segment to the very end.
  auto times = frameTimes(back);
  ASSERT_FALSE(times.empty());
  auto first = std::find(written.frameTimes.begin(), written.frameTimes.end(), times.front());
  ASSERT_NE(first, written.frameTimes.end());
  size_t dropped = size_t(first - written.frameTimes.begin());
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(times, std::vector<int64_t>(written.frameTimes.begin() + long(dropped), written.frameTimes.end()));
  EXPECT_EQ(back.frames, std::vector<std::vector<uint8_t>>(written.frames.begin() + long(dropped), written.frames.end()));
  auto sequence = dataSequence(back);
  ASSERT_LE(sequence.size(), written.sequence.size());
  EXPECT_TRUE(std::equal(sequence.begin(), sequence.end(), written.sequence.end() - long(sequence.size())));
}

// A restart prunes the earlier recording's segments first. Segments named
// later than this recording's first (a clock that was ahead, a copied ring)
// are not provably older and stay, and the open segment is never deleted.
TEST(Rotation, KeepPrunesEarlierRecordingsButNeverLaterNamedSegmentsOrTheOpenOne) {
  TempDir dir;
  const fs::path ring = dir.path() / "ring";
  fs::create_directories(ring);
  const std::vector<std::string> earlier = {"20000101T000000.000000000Z-000000.pt", "20000101T000001.000000000Z-000001.pt"};
  const std::vector<std::string> later = {"20991231T000000.000000000Z-000000.pt", "20991231T000001.000000000Z-000001.pt",
                                          "20991231T000002.000000000Z-000002.pt"};
  for (const auto& name : earlier) test::writeFile((ring / name).string(), {'o', 'l', 'd'});
  for (const auto& name : later) test::writeFile((ring / name).string(), {'n', 'e', 'w'});

  Stream stream;
  auto writer = TraceWriter::create(ring.string(), test::testMeta(), sizeRotation(3));
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writeStream(*writer, 6000, 1'000'000, 1000, stream));
  ASSERT_TRUE(writer->close());
  ASSERT_GT(writer->stats().segments, 4u);

  auto names = segmentNames(ring);
  for (const auto& name : earlier) EXPECT_EQ(std::count(names.begin(), names.end(), name), 0) << name;
  for (const auto& name : later) EXPECT_EQ(std::count(names.begin(), names.end(), name), 1) << name;
  std::erase_if(names, [&](const std::string& name) { return std::count(later.begin(), later.end(), name) > 0; });
  ASSERT_EQ(names.size(), 3u);  // this recording's newest three, the last one written included
  for (const auto& name : names) {
    SegmentRead segment;
    EXPECT_TRUE(readSegment(ring / name, segment)) << name;
  }
  SegmentRead last;
  ASSERT_TRUE(readSegment(ring / names.back(), last));
  EXPECT_EQ(last.meta.segmentIndex, writer->stats().segments - 1);
}

TEST(Writer, RotationIntoAnExistingFileSaysItNeedsADirectory) {
  TempDir dir;
  test::writeFile(dir.file("plain.pt"), {'x'});
  auto writer = TraceWriter::create(dir.file("plain.pt"), test::testMeta(), sizeRotation());
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.error().message.find("this is a file: name a directory"), std::string::npos)
      << writer.error().message;
}

TEST(Writer, ASecondWriterIntoTheSameSegmentDirectoryIsRefused) {
  TempDir dir;
  const fs::path ring = dir.path() / "ring";
  auto first = TraceWriter::create(ring.string(), test::testMeta(), sizeRotation(2));
  ASSERT_TRUE(first) << first.error().message;
  auto second = TraceWriter::create(ring.string(), test::testMeta(), sizeRotation(2));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another recorder is writing into this directory"), std::string::npos)
      << second.error().message;
  EXPECT_EQ(segmentNames(ring).size(), 1u);  // the second left nothing behind
  ASSERT_TRUE(first->close());
  auto after = TraceWriter::create(ring.string(), test::testMeta(), sizeRotation(2));
  EXPECT_TRUE(after) << "the lock outlived its writer";
}

TEST(Rotation, AgeLimitFollowsRecordTimesInDeterministicMode) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  constexpr int64_t kStart = 5'000'000'000;  // records start well after the trace's clock zero
  constexpr int64_t kStep = 1000;
  constexpr int64_t kMaxAge = 1'000'000;
  constexpr int64_t kChunkAge = 100'000;
  auto options = test::deterministicOptions();
  options.chunkMaxAgeNs = kChunkAge;
  options.rotation = RotationOptions{.maxBytes = 0, .maxAgeNs = kMaxAge, .keep = 0};
  Stream written;
  {
    auto writer = TraceWriter::create(traceDir.string(), test::testMeta(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(writeStream(*writer, 10'000, kStart, kStep, written));  // 10 ms of records
    ASSERT_TRUE(writer->close());
  }

  auto names = segmentNames(traceDir);
  ASSERT_GE(names.size(), 8u);
  ASSERT_LE(names.size(), 11u);
  std::vector<std::pair<int64_t, RecordKind>> concatenated;
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    SegmentRead segment;
    ASSERT_TRUE(readSegment(traceDir / names[i], segment));
    EXPECT_EQ(segment.meta.segmentIndex, i);
    EXPECT_EQ(names[i], segmentFileName(segment.meta.clocks.realtimeNs, uint32_t(i)));
    auto sequence = dataSequence(segment.back);
    ASSERT_FALSE(sequence.empty());
    // The clock follows the records: a segment is never stamped after its first record.
    EXPECT_LE(segment.meta.clocks.monotonicNs, sequence.front().first);
    int64_t span = sequence.back().first - sequence.front().first;
    if (i + 1 < names.size()) {
      EXPECT_GE(span, kMaxAge - kStep) << "segment cut before it spanned maxAgeNs of records";
      EXPECT_LE(span, kMaxAge + kChunkAge + kStep) << "segment ran far past maxAgeNs";
    }
    concatenated.insert(concatenated.end(), sequence.begin(), sequence.end());
  }
  EXPECT_EQ(concatenated, written.sequence);

  auto reader = TraceReader::open(traceDir.string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto back = test::readAll(*reader);
  EXPECT_TRUE(back.damage.empty());
  EXPECT_EQ(back.frames, written.frames);
  EXPECT_EQ(frameTimes(back), written.frameTimes);
  EXPECT_EQ(back.infos, written.infos);
}

TEST(Rotation, LiveClockSegmentsShareOneRandomUuidAndSortByName) {
  TempDir dir;
  const fs::path traceDir = dir.path() / "trace";
  WriterOptions options;  // real clocks, random uuid
  options.chunkRawBytes = 4096;
  options.rotation = RotationOptions{.maxBytes = 8192, .maxAgeNs = 0, .keep = 0};
  std::vector<std::vector<uint8_t>> frames;
  TraceUuid uuid{};
  {
    auto writer = TraceWriter::create(traceDir.string(), test::testMeta(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    uuid = writer->meta().traceUuid;
    for (uint32_t i = 0; i < 3000; ++i) {
      frames.push_back(test::sampleFrame(i));
      ASSERT_TRUE(writer->writeFrame(readSystemClocks().monotonicNs, 0, frames.back()));
    }
    ASSERT_TRUE(writer->close());
  }
  EXPECT_EQ(uuid[6] >> 4, 4) << "not a version 4 uuid";

  auto names = segmentNames(traceDir);
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names, fileNames(traceDir));
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    SegmentRead segment;
    ASSERT_TRUE(readSegment(traceDir / names[i], segment));
    EXPECT_EQ(segment.meta.traceUuid, uuid);
    EXPECT_EQ(segment.meta.segmentIndex, i);
    EXPECT_EQ(permissions(traceDir / names[i]), 0600u);
  }
  auto reader = TraceReader::open(traceDir.string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto back = test::readAll(*reader);
  EXPECT_TRUE(back.damage.empty());
  EXPECT_EQ(back.frames, frames);
}

}  // namespace
}  // namespace proctape::format
