// Damaged and foreign input: truncation at every byte, a bit flip at every
// byte of a chunk, garbage between chunks, a damaged index, unclosed files,
// and inputs that are no trace at all. Whatever the damage, every intact
// chunk is read byte-exact and the damage is reported with file and offset.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "crc32c.h"
#include "proctape.capnp.h"
#include "proctape/format/container.h"
#include "test_support.h"

namespace proctape::format {
namespace {

using test::TempDir;
using Frames = std::vector<std::vector<uint8_t>>;

// Compares frame lists without printing kilobytes of bytes on failure.
::testing::AssertionResult sameFrames(const Frames& actual, const Frames& expected) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "read " << actual.size() << " frames, expected " << expected.size();
  for (size_t i = 0; i < actual.size(); ++i)
    if (actual[i] != expected[i])
      return ::testing::AssertionFailure() << "frame " << i << " differs (" << actual[i].size() << " bytes, expected "
                                           << expected[i].size() << ")";
  return ::testing::AssertionSuccess();
}

constexpr size_t kDataChunks = 3;
constexpr uint32_t kFramesPerChunk = 12;

// A small closed trace: a meta-only chunk (seq 0), then exactly three data
// chunks (seq 1..3) cut by flush(), then the index and trailer. Each data
// chunk mixes a run of equal-size frames (stored shuffled) with
// variable-size ones from a second source (stored concatenated).
struct SmallTrace {
  std::vector<uint8_t> bytes;        // the closed file
  std::vector<uint8_t> beforeClose;  // the file as it was just before close()
  std::vector<ChunkInfo> chunks;     // from an intact read, meta chunk first
  std::vector<Frames> framesByChunk;  // parallel to chunks
  uint64_t indexOffset = 0;
  uint64_t trailerOffset = 0;

  uint64_t chunkEnd(size_t i) const { return chunks[i].offset + container::kChunkHeaderBytes + chunks[i].compressedSize; }
  Frames framesExcept(size_t skipped) const {
    Frames out;
    for (size_t i = 0; i < framesByChunk.size(); ++i)
      if (i != skipped) out.insert(out.end(), framesByChunk[i].begin(), framesByChunk[i].end());
    return out;
  }
  Frames allFrames() const { return framesExcept(chunks.size()); }
};

// Builds the trace once (deterministic, so every test sees the same bytes)
// and checks it reads back intact.
const SmallTrace& smallTrace() {
  static const SmallTrace trace = [] {
    SmallTrace t;
    TempDir dir;
    std::string path = dir.file("small.pt");
    t.framesByChunk.resize(1 + kDataChunks);  // the meta chunk holds no frames
    {
      auto writer = TraceWriter::create(path, test::testMeta(), test::deterministicOptions());
      EXPECT_TRUE(writer) << writer.error().message;
      if (!writer) return t;
      uint32_t n = 0;
      for (size_t chunk = 1; chunk <= kDataChunks; ++chunk) {
        for (uint32_t i = 0; i < kFramesPerChunk; ++i, ++n) {
          uint16_t source = i % 4 == 3 ? 1 : 0;
          // Small frames keep the file near 2 KB: the tests below read it once per byte.
          auto frame = source == 0 ? test::sampleFrame(n, 32) : test::sampleFrame(n, 8 + n % 24);
          EXPECT_TRUE(writer->writeFrame(1'000 + int64_t(n) * 100, source, frame));
          t.framesByChunk[chunk].push_back(frame);
        }
        EXPECT_TRUE(writer->flush());
      }
      t.beforeClose = test::readFile(path);
      EXPECT_TRUE(writer->close());
    }
    t.bytes = test::readFile(path);
    auto reader = TraceReader::open(path, {.threads = 1});
    EXPECT_TRUE(reader) << reader.error().message;
    if (!reader) return t;
    auto back = test::readAll(*reader);
    EXPECT_TRUE(back.damage.empty());
    EXPECT_TRUE(sameFrames(back.frames, t.allFrames()));
    t.chunks = reader->chunks();
    EXPECT_EQ(t.chunks.size(), 1 + kDataChunks);
    EXPECT_TRUE(reader->segments()[0].indexed);
    if (t.chunks.size() != 1 + kDataChunks) return t;
    for (size_t i = 1; i < t.chunks.size(); ++i) EXPECT_EQ(t.chunks[i].recordCount, kFramesPerChunk);
    t.indexOffset = t.chunkEnd(kDataChunks);
    t.trailerOffset = t.bytes.size() - container::kTrailerBytes;
    return t;
  }();
  return trace;
}

struct Outcome {
  bool opened = false;
  std::string error;
  std::vector<ChunkInfo> chunks;
  bool hasMeta = false;
  bool indexed = false;
  bool headerDamaged = false;
  test::ReadBack back;
};

Outcome readTrace(const std::string& path, ReaderOptions options = {.threads = 1}) {
  Outcome out;
  auto reader = TraceReader::open(path, options);
  if (!reader) {
    out.error = reader.error().message;
    return out;
  }
  out.opened = true;
  out.chunks = reader->chunks();
  out.hasMeta = reader->meta().has_value();
  out.indexed = !reader->segments().empty() && reader->segments()[0].indexed;
  out.headerDamaged = !reader->segments().empty() && reader->segments()[0].headerDamaged;
  out.back = test::readAll(*reader);
  return out;
}

// Writes a new file rather than truncating the old one: on ext4, rewriting
// a truncated file forces a write-back at close, which made these tests
// wait on the disk hundreds of times.
void writeFresh(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::remove(path);
  test::writeFile(path, bytes);
}

Outcome readBytes(const TempDir& dir, const std::vector<uint8_t>& bytes, ReaderOptions options = {.threads = 1}) {
  std::string path = dir.file("damaged.pt");
  writeFresh(path, bytes);
  return readTrace(path, options);
}


std::string damageList(const std::vector<Damage>& damage) {
  std::string text;
  for (const auto& d : damage) text += "\n  " + describe(d);
  return text.empty() ? " (none)" : text;
}

// Every damage entry names the file and an offset within it.
void expectWellFormed(const std::vector<Damage>& damage, const std::string& path, uint64_t fileSize) {
  for (const auto& d : damage) {
    EXPECT_EQ(d.file, path);
    EXPECT_LE(d.offset, fileSize);
    EXPECT_LE(d.offset + d.bytesSkipped, fileSize) << describe(d);
    std::string text = describe(d);
    EXPECT_NE(text.find(path), std::string::npos) << text;
    EXPECT_NE(text.find("offset " + std::to_string(d.offset)), std::string::npos) << text;
    EXPECT_FALSE(d.detail.empty()) << text;
  }
}

TEST(Damage, IntactTraceReportsNoDamageWithOrWithoutIndex) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  TempDir dir;
  for (bool useIndex : {true, false}) {
    for (unsigned threads : {1u, 3u}) {
      auto out = readBytes(dir, t.bytes, {.threads = threads, .useIndex = useIndex});
      ASSERT_TRUE(out.opened) << out.error;
      EXPECT_TRUE(out.back.damage.empty()) << damageList(out.back.damage);
      EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
      EXPECT_EQ(out.indexed, useIndex);
      EXPECT_TRUE(out.hasMeta);
      ASSERT_EQ(out.chunks.size(), t.chunks.size());
      for (size_t i = 0; i < t.chunks.size(); ++i) {
        EXPECT_EQ(out.chunks[i].offset, t.chunks[i].offset);
        EXPECT_EQ(out.chunks[i].seq, i);
      }
    }
  }
}

TEST(Damage, TruncationAtEveryByteKeepsEveryCompleteChunk) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  ASSERT_LT(t.bytes.size(), 4u * 1024) << "keep this trace small: the test reads it once per byte";
  // Where each structure starts: a cut exactly there leaves only whole
  // structures; a cut anywhere else ends the file inside the last one.
  std::vector<uint64_t> starts = {container::kFileHeaderBytes};
  for (const auto& c : t.chunks) starts.push_back(c.offset);
  starts.push_back(t.indexOffset);
  starts.push_back(t.trailerOffset);

  TempDir dir;
  std::string path = dir.file("cut.pt");
  for (size_t cut = 0; cut < t.bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(t.bytes.size()));
    writeFresh(path, std::vector<uint8_t>(t.bytes.begin(), t.bytes.begin() + long(cut)));
    auto out = readTrace(path);
    if (cut < container::kFileHeaderBytes) {
      ASSERT_FALSE(out.opened);
      EXPECT_NE(out.error.find(path), std::string::npos) << out.error;
      EXPECT_NE(out.error.find(cut == 0 ? "empty" : "not a proctape trace"), std::string::npos) << out.error;
      continue;
    }
    ASSERT_TRUE(out.opened) << out.error;

    Frames expected;
    size_t complete = 0;
    for (size_t i = 0; i < t.chunks.size() && t.chunkEnd(i) <= cut; ++i, ++complete)
      expected.insert(expected.end(), t.framesByChunk[i].begin(), t.framesByChunk[i].end());
    ASSERT_EQ(out.chunks.size(), complete);
    for (size_t i = 0; i < complete; ++i) EXPECT_EQ(out.chunks[i].offset, t.chunks[i].offset);
    ASSERT_TRUE(sameFrames(out.back.frames, expected));
    EXPECT_EQ(out.hasMeta, complete > 0);

    const auto& damage = out.back.damage;
    ASSERT_FALSE(damage.empty());
    expectWellFormed(damage, path, cut);
    ASSERT_EQ(damage.size(), 1u) << damageList(damage);
    uint64_t start = 0;
    for (uint64_t s : starts)
      if (s <= cut) start = s;
    if (start == cut) {
      // Nothing is cut: the file just ends before its index.
      EXPECT_EQ(damage[0].kind, DamageKind::notClosed) << damageList(damage);
      EXPECT_EQ(damage[0].offset, cut);
    } else {
      EXPECT_EQ(damage[0].kind, DamageKind::truncated) << damageList(damage);
      EXPECT_EQ(damage[0].offset, start);
      EXPECT_EQ(damage[0].bytesSkipped, cut - start);
    }
  }
}

void flipEveryBitOfMiddleChunk(bool useIndex) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  const size_t middle = 2;  // data chunks are 1, 2, 3
  const uint64_t begin = t.chunks[middle].offset;
  const uint64_t end = t.chunkEnd(middle);
  const Frames others = t.framesExcept(middle);

  TempDir dir;
  std::string path = dir.file("damaged.pt");
  for (uint64_t at = begin; at < end; ++at) {
    SCOPED_TRACE("bit " + std::to_string(at % 8) + " of byte " + std::to_string(at) + ", chunk at " +
                 std::to_string(begin) + ".." + std::to_string(end) + (useIndex ? ", index" : ", scanned"));
    auto bytes = t.bytes;
    bytes[at] ^= uint8_t(1u << (at % 8));
    auto out = readBytes(dir, bytes, {.threads = 1, .useIndex = useIndex});
    ASSERT_TRUE(out.opened) << out.error;
    ASSERT_TRUE(sameFrames(out.back.frames, others));
    EXPECT_TRUE(out.hasMeta);
    EXPECT_EQ(out.indexed, useIndex);

    const auto& damage = out.back.damage;
    expectWellFormed(damage, path, bytes.size());
    ASSERT_EQ(damage.size(), 1u) << damageList(damage);
    EXPECT_EQ(damage[0].offset, begin) << damageList(damage);
    EXPECT_EQ(damage[0].bytesSkipped, end - begin) << damageList(damage);
    bool inHeader = at < begin + container::kChunkHeaderBytes;
    if (!useIndex && inHeader) {
      // The scan cannot recognise the header, so it skips to the next one.
      EXPECT_EQ(damage[0].kind, DamageKind::unexpectedBytes) << damageList(damage);
      EXPECT_EQ(out.chunks.size(), t.chunks.size() - 1);
    } else {
      EXPECT_EQ(damage[0].kind, DamageKind::corruptChunk) << damageList(damage);
      EXPECT_EQ(out.chunks.size(), t.chunks.size());
    }
  }
}

TEST(Damage, BitFlipAnywhereInAChunkLosesOnlyThatChunkUsingTheIndex) { flipEveryBitOfMiddleChunk(true); }

TEST(Damage, BitFlipAnywhereInAChunkLosesOnlyThatChunkWhenScanning) { flipEveryBitOfMiddleChunk(false); }

// The Cap'n Proto message inside chunk `chunk`, as the writer made it.
std::vector<uint8_t> chunkMessage(const SmallTrace& t, size_t chunk) {
  auto header = container::parseChunkHeader(std::span<const uint8_t>(t.bytes).subspan(t.chunks[chunk].offset));
  if (!header) return {};
  std::vector<uint8_t> message(header->rawSize);
  size_t got = ZSTD_decompress(message.data(), message.size(),
                               t.bytes.data() + t.chunks[chunk].offset + container::kChunkHeaderBytes,
                               header->compressedSize);
  if (ZSTD_isError(got) || got != message.size()) return {};
  return message;
}

// The trace with chunk `chunk` replaced by one holding `message`, with valid
// CRCs, as a writer would have made it. The index no longer fits, so the
// file ends after the last chunk. Sets `chunkEnd` to the new chunk's end.
std::vector<uint8_t> withMessage(const SmallTrace& t, size_t chunk, const std::vector<uint8_t>& message,
                                 uint64_t* chunkEnd) {
  const uint64_t begin = t.chunks[chunk].offset;
  auto header = container::parseChunkHeader(std::span<const uint8_t>(t.bytes).subspan(begin));
  std::vector<uint8_t> compressed(ZSTD_compressBound(message.size()));
  size_t size = ZSTD_compress(compressed.data(), compressed.size(), message.data(), message.size(), 1);
  if (!header || ZSTD_isError(size)) return {};
  compressed.resize(size);
  container::ChunkHeader h = *header;
  h.compressedSize = uint32_t(size);
  h.rawSize = uint32_t(message.size());
  h.payloadCrc = crc32c(compressed);
  std::array<uint8_t, container::kChunkHeaderBytes> headerBytes{};
  container::encodeChunkHeader(h, headerBytes);
  std::vector<uint8_t> bytes(t.bytes.begin(), t.bytes.begin() + long(begin));
  bytes.insert(bytes.end(), headerBytes.begin(), headerBytes.end());
  bytes.insert(bytes.end(), compressed.begin(), compressed.end());
  *chunkEnd = bytes.size();
  bytes.insert(bytes.end(), t.bytes.begin() + long(t.chunkEnd(chunk)), t.bytes.begin() + long(t.indexOffset));
  return bytes;
}

TEST(Damage, BitFlipInTheFileHeaderLosesNoChunk) {
  const SmallTrace& t = smallTrace();
  TempDir dir;
  std::string path = dir.file("damaged.pt");
  for (bool useIndex : {true, false}) {
    for (uint64_t at = 0; at < container::kFileHeaderBytes * 8; ++at) {
      SCOPED_TRACE("bit " + std::to_string(at % 8) + " of byte " + std::to_string(at / 8) +
                   (useIndex ? ", index" : ", scanned"));
      auto bytes = t.bytes;
      bytes[at / 8] ^= uint8_t(1u << (at % 8));
      auto out = readBytes(dir, bytes, {.threads = 1, .useIndex = useIndex});
      ASSERT_TRUE(out.opened) << out.error;
      ASSERT_TRUE(sameFrames(out.back.frames, t.allFrames()));
      EXPECT_TRUE(out.hasMeta);
      const auto& damage = out.back.damage;
      expectWellFormed(damage, path, bytes.size());
      ASSERT_EQ(damage.size(), 1u) << damageList(damage);
      EXPECT_EQ(damage[0].offset, 0u);
      EXPECT_EQ(damage[0].kind, DamageKind::unexpectedBytes);
      EXPECT_EQ(damage[0].bytesSkipped, container::kFileHeaderBytes);
      EXPECT_NE(damage[0].detail.find("file header"), std::string::npos) << damage[0].detail;
      EXPECT_TRUE(out.headerDamaged);
    }
  }
}

// A chunk whose bytes pass both CRCs (as if the writer itself had produced
// them) but whose message has a flipped bit: the decoder's own checks must
// hold, so the chunk gives records or damage at its offset, never a crash,
// and the chunks around it are unaffected.
TEST(Damage, CorruptMessageWithValidCrcsStaysInsideItsChunk) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  const size_t middle = 2;
  const uint64_t begin = t.chunks[middle].offset;
  const std::vector<uint8_t> message = chunkMessage(t, middle);
  ASSERT_FALSE(message.empty());

  Frames before;
  for (size_t i = 0; i < middle; ++i) before.insert(before.end(), t.framesByChunk[i].begin(), t.framesByChunk[i].end());
  const Frames& after = t.framesByChunk[middle + 1];

  TempDir dir;
  std::string path = dir.file("damaged.pt");
  size_t corrupted = 0;
  for (size_t at = 0; at < message.size(); ++at) {
    SCOPED_TRACE("bit " + std::to_string(at % 8) + " of message byte " + std::to_string(at));
    auto mutated = message;
    mutated[at] ^= uint8_t(1u << (at % 8));
    uint64_t end = 0;
    auto bytes = withMessage(t, middle, mutated, &end);
    ASSERT_FALSE(bytes.empty());

    auto out = readBytes(dir, bytes);
    ASSERT_TRUE(out.opened) << out.error;
    ASSERT_EQ(out.chunks.size(), t.chunks.size());
    const Frames& frames = out.back.frames;
    ASSERT_GE(frames.size(), before.size() + after.size());
    EXPECT_TRUE(std::equal(before.begin(), before.end(), frames.begin()));
    EXPECT_TRUE(std::equal(after.begin(), after.end(), frames.end() - long(after.size())));
    expectWellFormed(out.back.damage, path, bytes.size());
    bool sawNotClosed = false;
    for (const auto& d : out.back.damage) {
      if (d.kind == DamageKind::notClosed) {
        EXPECT_EQ(d.offset, bytes.size());
        sawNotClosed = true;
        continue;
      }
      EXPECT_TRUE(d.kind == DamageKind::corruptChunk || d.kind == DamageKind::badRecord) << describe(d);
      EXPECT_EQ(d.offset, begin) << describe(d);
      EXPECT_EQ(d.bytesSkipped, d.kind == DamageKind::badRecord ? 0 : end - begin) << describe(d);
      ++corrupted;
    }
    EXPECT_TRUE(sawNotClosed) << damageList(out.back.damage);
  }
  // Most flips land in frame bytes and go unnoticed, as they must; but the
  // structure's flips are caught.
  EXPECT_GT(corrupted, 0u);
}

// A frame batch whose times run past INT64_MAX makes no sense as a whole:
// none of its frames is handed out, and the rest of the chunk is.
TEST(Damage, FrameBatchWhoseTimesOverflowIsSkippedWhole) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  const size_t middle = 2;
  auto message = chunkMessage(t, middle);
  ASSERT_FALSE(message.empty());
  // The chunk's first record is a run of three frames from source 0 at
  // 100 ns steps; find its time (an Int64 at the start of the Record's data).
  const Frames& frames = t.framesByChunk[middle];
  const int64_t firstTime = 1'000 + int64_t(kFramesPerChunk) * 100;
  std::array<uint8_t, 8> needle{};
  for (size_t i = 0; i < 8; ++i) needle[i] = uint8_t(uint64_t(firstTime) >> (8 * i));
  std::vector<size_t> found;
  for (size_t at = 0; at + 8 <= message.size(); at += 8)
    if (std::equal(needle.begin(), needle.end(), message.begin() + long(at))) found.push_back(at);
  ASSERT_EQ(found.size(), 1u);
  // The first two frames still fit in Int64, the third does not.
  uint64_t late = uint64_t(std::numeric_limits<int64_t>::max() - 150);
  for (size_t i = 0; i < 8; ++i) message[found[0] + i] = uint8_t(late >> (8 * i));

  uint64_t end = 0;
  auto bytes = withMessage(t, middle, message, &end);
  ASSERT_FALSE(bytes.empty());
  TempDir dir;
  auto out = readBytes(dir, bytes);
  ASSERT_TRUE(out.opened) << out.error;
  Frames expected = t.framesExcept(middle);
  expected.insert(expected.begin() + long(t.framesByChunk[1].size()), frames.begin() + 3, frames.end());
  EXPECT_TRUE(sameFrames(out.back.frames, expected));
  // The scan finds the missing index at open(), the decoder the bad record.
  ASSERT_EQ(out.back.damage.size(), 2u) << damageList(out.back.damage);
  EXPECT_EQ(out.back.damage[0].kind, DamageKind::notClosed);
  const Damage& bad = out.back.damage[1];
  EXPECT_EQ(bad.kind, DamageKind::badRecord);
  EXPECT_EQ(bad.offset, t.chunks[middle].offset);
  EXPECT_EQ(bad.bytesSkipped, 0u);
  EXPECT_NE(bad.detail.find("overflow"), std::string::npos) << describe(bad);
  for (int64_t time : out.back.times) EXPECT_LT(time, int64_t(late)) << "no frame of the bad batch was read";
}

TEST(Damage, DamagedIndexOrTrailerFallsBackToScanningEveryChunk) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  TempDir dir;
  std::string path = dir.file("damaged.pt");
  for (uint64_t at = t.indexOffset; at < t.bytes.size(); ++at) {
    SCOPED_TRACE("bit " + std::to_string(at % 8) + " of byte " + std::to_string(at) + ", index at " +
                 std::to_string(t.indexOffset) + ", trailer at " + std::to_string(t.trailerOffset));
    auto bytes = t.bytes;
    bytes[at] ^= uint8_t(1u << (at % 8));
    auto out = readBytes(dir, bytes);
    ASSERT_TRUE(out.opened) << out.error;
    EXPECT_FALSE(out.indexed);
    ASSERT_TRUE(sameFrames(out.back.frames, t.allFrames()));
    ASSERT_EQ(out.chunks.size(), t.chunks.size());
    ASSERT_FALSE(out.back.damage.empty());
    expectWellFormed(out.back.damage, path, bytes.size());
    for (const auto& d : out.back.damage) EXPECT_GE(d.offset, t.indexOffset) << describe(d);
  }
}

// An index that passes its CRC but whose entry disagrees with a chunk's
// header (which passes its own): the chunk is read by its header, and the
// index is what is reported.
TEST(Damage, IndexEntryDisagreeingWithAnIntactChunkBlamesTheIndex) {
  const SmallTrace& t = smallTrace();
  auto bytes = t.bytes;
  size_t messageAt = t.indexOffset + container::kIndexPrefixBytes;
  size_t messageSize = t.trailerOffset - messageAt;
  auto words = kj::heapArray<capnp::word>(messageSize / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data() + messageAt, messageSize);
  capnp::FlatArrayMessageReader reader(words);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<schema::Index>());
  auto entry = builder.getRoot<schema::Index>().getChunks()[2];
  entry.setRecordCount(entry.getRecordCount() + 1);
  entry.setLastTimeNs(entry.getLastTimeNs() + 1);
  auto flat = capnp::messageToFlatArray(builder);
  auto rewritten = flat.asBytes();
  ASSERT_EQ(rewritten.size(), messageSize) << "the test needs the index rewritten in place";
  std::memcpy(bytes.data() + messageAt, rewritten.begin(), messageSize);
  std::array<uint8_t, container::kIndexPrefixBytes> prefix{};
  container::encodeIndexPrefix({bytes.data() + messageAt, messageSize}, prefix);
  std::memcpy(bytes.data() + t.indexOffset, prefix.data(), prefix.size());

  TempDir dir;
  auto out = readBytes(dir, bytes);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(out.indexed);
  EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
  ASSERT_EQ(out.back.damage.size(), 1u) << damageList(out.back.damage);
  EXPECT_EQ(out.back.damage[0].kind, DamageKind::badIndex);
  EXPECT_EQ(out.back.damage[0].offset, t.chunks[2].offset);
  EXPECT_EQ(out.back.damage[0].bytesSkipped, 0u);
}

// The end of a closed file: bytes appended after its trailer are unexpected
// bytes, not a truncation; a trailer that fails its checks is a bad index,
// not a file its recorder never closed. Every chunk reads in each case.
TEST(Damage, AppendedBytesAndADamagedTrailerAreNamedForWhatTheyAre) {
  const SmallTrace& t = smallTrace();
  TempDir dir;
  auto appended = t.bytes;
  for (char c : std::string("garbage\n")) appended.push_back(uint8_t(c));
  auto magic = t.bytes;
  magic[t.trailerOffset] ^= 0xff;
  auto crc = t.bytes;
  crc.back() ^= 0xff;
  const std::vector<std::pair<std::vector<uint8_t>, std::vector<DamageKind>>> cases = {
      {appended, {DamageKind::unexpectedBytes}},
      {magic, {DamageKind::unexpectedBytes, DamageKind::badIndex}},
      {crc, {DamageKind::badIndex}},
  };
  for (const auto& [bytes, kinds] : cases) {
    auto out = readBytes(dir, bytes);
    ASSERT_TRUE(out.opened) << out.error;
    EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
    std::vector<DamageKind> seen;
    for (const auto& d : out.back.damage) seen.push_back(d.kind);
    EXPECT_EQ(seen, kinds) << damageList(out.back.damage);
  }
}

TEST(Damage, GarbageBetweenChunksIsSkippedAndReported) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  const uint64_t at = t.chunks[2].offset;  // between data chunks 1 and 2

  std::string text = "this is no proctape frame, just some garbage bytes. ";
  std::vector<uint8_t> plain(text.begin(), text.end());
  // Garbage holding what looks like the start of a chunk header, with a bad CRC.
  std::vector<uint8_t> fake(plain);
  std::array<uint8_t, container::kChunkHeaderBytes> header{};
  container::encodeChunkHeader({7, 100, 800, 0, 0, 1, 0}, header);
  header[40] ^= 0x01;
  fake.insert(fake.end(), header.begin(), header.end());
  fake.insert(fake.end(), {0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0});  // and a stray zstd magic

  TempDir dir;
  std::string path = dir.file("damaged.pt");
  for (const auto& garbage : {plain, fake, std::vector<uint8_t>{0}}) {
    auto bytes = t.bytes;
    bytes.insert(bytes.begin() + long(at), garbage.begin(), garbage.end());
    for (bool useIndex : {true, false}) {
      SCOPED_TRACE(std::to_string(garbage.size()) + " bytes of garbage" + (useIndex ? ", index" : ", scanned"));
      auto out = readBytes(dir, bytes, {.threads = 2, .useIndex = useIndex});
      ASSERT_TRUE(out.opened) << out.error;
      EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
      ASSERT_EQ(out.chunks.size(), t.chunks.size());
      EXPECT_EQ(out.chunks[2].offset, at + garbage.size());
      EXPECT_FALSE(out.indexed);
      const auto& damage = out.back.damage;
      expectWellFormed(damage, path, bytes.size());
      // The index's offsets no longer match the file, so it is not trusted.
      // Damage comes in offset order: the garbage, then the index.
      ASSERT_EQ(damage.size(), useIndex ? 2u : 1u) << damageList(damage);
      if (useIndex) {
        EXPECT_EQ(damage[1].kind, DamageKind::badIndex) << damageList(damage);
      }
      const Damage& skipped = damage.front();
      EXPECT_EQ(skipped.kind, DamageKind::unexpectedBytes) << damageList(damage);
      EXPECT_EQ(skipped.offset, at);
      EXPECT_EQ(skipped.bytesSkipped, garbage.size());
    }
  }
}

// The bytes of chunk `i` (header and zstd frame) in `t.bytes`.
std::vector<uint8_t> chunkBytes(const SmallTrace& t, size_t i) {
  return {t.bytes.begin() + long(t.chunks[i].offset), t.bytes.begin() + long(t.chunkEnd(i))};
}

std::vector<DamageKind> kindsOf(const std::vector<Damage>& damage) {
  std::vector<DamageKind> kinds;
  for (const auto& d : damage) kinds.push_back(d.kind);
  return kinds;
}

// Data chunks 1 and 2 swapped, the old index kept: it passes its CRC and its
// offsets are back to back, but it names the wrong chunks. Trusting it sent
// the reader into the middle of a chunk, and an intact chunk was never read.
TEST(Damage, ChunksMovedUnderTheirOldIndexAreScannedAndAllRead) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  std::vector<uint8_t> bytes(t.bytes.begin(), t.bytes.begin() + long(t.chunks[1].offset));
  for (size_t i : {2, 1}) {
    auto chunk = chunkBytes(t, i);
    bytes.insert(bytes.end(), chunk.begin(), chunk.end());
  }
  bytes.insert(bytes.end(), t.bytes.begin() + long(t.chunkEnd(2)), t.bytes.end());
  ASSERT_EQ(bytes.size(), t.bytes.size());

  TempDir dir;
  auto out = readBytes(dir, bytes);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_FALSE(out.indexed);
  Frames expected = t.framesByChunk[2];
  expected.insert(expected.end(), t.framesByChunk[1].begin(), t.framesByChunk[1].end());
  expected.insert(expected.end(), t.framesByChunk[3].begin(), t.framesByChunk[3].end());
  EXPECT_TRUE(sameFrames(out.back.frames, expected));
  EXPECT_EQ(kindsOf(out.back.damage), std::vector<DamageKind>{DamageKind::badIndex}) << damageList(out.back.damage);
}

// Chunk 2 cut out of the file, with and without the index: its records are
// lost, so the reader must say so, by a damage kind that loses records.
TEST(Damage, AChunkCutOutOfTheFileIsReportedAsMissing) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  for (bool closed : {true, false}) {
    SCOPED_TRACE(closed ? "the closed file (its index kept)" : "an unclosed file");
    auto bytes = closed ? t.bytes : t.beforeClose;
    bytes.erase(bytes.begin() + long(t.chunks[2].offset), bytes.begin() + long(t.chunkEnd(2)));
    TempDir dir;
    std::string path = dir.file("damaged.pt");
    auto out = readBytes(dir, bytes);
    ASSERT_TRUE(out.opened) << out.error;
    EXPECT_TRUE(sameFrames(out.back.frames, t.framesExcept(2)));
    expectWellFormed(out.back.damage, path, bytes.size());
    auto missing = std::find_if(out.back.damage.begin(), out.back.damage.end(),
                                [](const Damage& d) { return d.kind == DamageKind::missingChunk; });
    ASSERT_NE(missing, out.back.damage.end()) << damageList(out.back.damage);
    EXPECT_EQ(missing->offset, t.chunks[2].offset);  // where chunk 3 now begins
    EXPECT_NE(missing->detail.find("number 2)"), std::string::npos) << missing->detail;
    EXPECT_TRUE(losesRecords(DamageKind::missingChunk));
  }
}

// The last chunk cut out of a closed file: no later chunk shows the gap, but
// the index (intact, though no longer matching the file) lists it.
TEST(Damage, TheLastChunkCutOutOfAClosedFileIsMissingByItsIndex) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  auto bytes = t.bytes;
  bytes.erase(bytes.begin() + long(t.chunks[kDataChunks].offset), bytes.begin() + long(t.chunkEnd(kDataChunks)));
  TempDir dir;
  auto out = readBytes(dir, bytes);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(sameFrames(out.back.frames, t.framesExcept(kDataChunks)));
  EXPECT_EQ(kindsOf(out.back.damage), (std::vector<DamageKind>{DamageKind::missingChunk, DamageKind::badIndex}))
      << damageList(out.back.damage);
  const Damage& missing = out.back.damage.front();
  EXPECT_EQ(missing.offset, t.chunks[kDataChunks].offset);  // where the index now begins
  EXPECT_NE(missing.detail.find("1 chunk (number 3) missing before the index, which lists it"), std::string::npos)
      << missing.detail;
}

// Chunk 2 written twice in a row: its records are read once, and the copy is
// reported and left out.
TEST(Damage, AChunkWrittenTwiceIsReadOnce) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  auto bytes = t.beforeClose;
  auto chunk = chunkBytes(t, 2);
  bytes.insert(bytes.begin() + long(t.chunkEnd(2)), chunk.begin(), chunk.end());
  TempDir dir;
  auto out = readBytes(dir, bytes);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
  EXPECT_EQ(kindsOf(out.back.damage), (std::vector<DamageKind>{DamageKind::duplicateChunk, DamageKind::notClosed}))
      << damageList(out.back.damage);
  EXPECT_EQ(out.back.damage[0].offset, t.chunkEnd(2));
  EXPECT_EQ(out.back.damage[0].bytesSkipped, chunk.size());
  EXPECT_FALSE(losesRecords(DamageKind::duplicateChunk));
}

TEST(Damage, UnclosedFileReportsNotClosedAndReadsEveryChunk) {
  const SmallTrace& t = smallTrace();
  ASSERT_EQ(t.chunks.size(), 1 + kDataChunks);
  // The bytes before close() are exactly the closed file up to its index.
  ASSERT_EQ(t.beforeClose.size(), t.indexOffset);
  EXPECT_TRUE(std::equal(t.beforeClose.begin(), t.beforeClose.end(), t.bytes.begin()));

  TempDir dir;
  std::string path = dir.file("damaged.pt");
  for (bool useIndex : {true, false}) {
    auto out = readBytes(dir, t.beforeClose, {.threads = 1, .useIndex = useIndex});
    ASSERT_TRUE(out.opened) << out.error;
    EXPECT_FALSE(out.indexed);
    EXPECT_TRUE(out.hasMeta);
    EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
    EXPECT_EQ(out.chunks.size(), t.chunks.size());
    ASSERT_EQ(out.back.damage.size(), 1u) << damageList(out.back.damage);
    const Damage& d = out.back.damage[0];
    EXPECT_EQ(d.kind, DamageKind::notClosed);
    EXPECT_EQ(d.offset, t.indexOffset);
    EXPECT_EQ(d.bytesSkipped, 0u);
    expectWellFormed(out.back.damage, path, t.beforeClose.size());
  }
}

TEST(Damage, WriterStillOpenLeavesAReadableFile) {
  TempDir dir;
  std::string path = dir.file("live.pt");
  auto writer = TraceWriter::create(path, test::testMeta(), test::deterministicOptions());
  ASSERT_TRUE(writer);
  // Only the meta chunk so far: readable, with its meta.
  auto out = readTrace(path);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(out.hasMeta);
  EXPECT_TRUE(out.back.frames.empty());
  ASSERT_EQ(out.back.damage.size(), 1u);
  EXPECT_EQ(out.back.damage[0].kind, DamageKind::notClosed);
  ASSERT_TRUE(writer->writeFrame(10, 0, test::sampleFrame(1)));
  ASSERT_TRUE(writer->flush());
  out = readTrace(path);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(sameFrames(out.back.frames, Frames{test::sampleFrame(1)}));
  ASSERT_TRUE(writer->close());
  out = readTrace(path);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(out.back.damage.empty()) << damageList(out.back.damage);
  EXPECT_TRUE(out.indexed);
}

TEST(Damage, NotATraceFailsToOpenNamingThePath) {
  TempDir dir;
  std::vector<uint8_t> random(4096);
  uint32_t x = 12345;
  for (auto& b : random) {
    x = x * 1664525u + 1013904223u;
    b = uint8_t(x >> 24);
  }
  std::string text = "#!/bin/sh\necho this is a shell script, not a trace\n";
  std::array<uint8_t, 48> skippable{0x50, 0x2A, 0x4D, 0x18, 40, 0, 0, 0};  // someone else's skippable frame
  std::vector<uint8_t> zstdFrame(ZSTD_compressBound(text.size()));
  size_t zstdSize = ZSTD_compress(zstdFrame.data(), zstdFrame.size(), text.data(), text.size(), 1);
  ASSERT_FALSE(ZSTD_isError(zstdSize));
  zstdFrame.resize(zstdSize);
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> inputs = {
      {"random.pt", random},
      {"script.sh", {text.begin(), text.end()}},
      {"short.pt", {0x5E, 0x2A, 0x4D, 0x18}},
      {"skippable.pt", {skippable.begin(), skippable.end()}},
      {"plain.zst", zstdFrame},
  };
  for (const auto& [name, bytes] : inputs) {
    std::string path = dir.file(name);
    test::writeFile(path, bytes);
    auto out = readTrace(path);
    ASSERT_FALSE(out.opened) << name;
    EXPECT_NE(out.error.find(path), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("not a proctape trace"), std::string::npos) << out.error;
  }
}

TEST(Damage, NewerMajorVersionFailsSayingWhichVersionsThisBuildReads) {
  const SmallTrace& t = smallTrace();
  ASSERT_GT(t.bytes.size(), container::kFileHeaderBytes);
  container::FileHeader header;
  header.major = kFormatMajor + 1;
  header.minor = 3;
  std::array<uint8_t, container::kFileHeaderBytes> headerBytes{};
  container::encodeFileHeader(header, headerBytes);
  auto bytes = t.bytes;
  std::copy(headerBytes.begin(), headerBytes.end(), bytes.begin());

  TempDir dir;
  std::string path = dir.file("future.pt");
  test::writeFile(path, bytes);
  auto out = readTrace(path);
  ASSERT_FALSE(out.opened);
  EXPECT_NE(out.error.find(path), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("this build reads"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find(std::to_string(kFormatMajor + 1) + ".3"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find(std::to_string(kFormatMajor) + ".x"), std::string::npos) << out.error;

  // A newer minor version of this major reads normally.
  header.major = kFormatMajor;
  header.minor = kFormatMinor + 1;
  container::encodeFileHeader(header, headerBytes);
  std::copy(headerBytes.begin(), headerBytes.end(), bytes.begin());
  test::writeFile(path, bytes);
  out = readTrace(path);
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
}

TEST(Damage, EmptyFileEmptyDirectoryAndMissingPathFailNamingThePath) {
  TempDir dir;
  std::string empty = dir.file("empty.pt");
  test::writeFile(empty, {});
  auto out = readTrace(empty);
  ASSERT_FALSE(out.opened);
  EXPECT_NE(out.error.find(empty), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("empty"), std::string::npos) << out.error;

  std::string segments = dir.file("segments");
  std::filesystem::create_directory(segments);
  test::writeFile(dir.file("segments/notes.txt"), {'h', 'i'});
  std::filesystem::create_directory(dir.file("segments/sub.pt"));  // a directory is no segment
  out = readTrace(segments);
  ASSERT_FALSE(out.opened);
  EXPECT_NE(out.error.find(segments), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("*.pt"), std::string::npos) << out.error;

  std::string missing = dir.file("no/such/trace.pt");
  out = readTrace(missing);
  ASSERT_FALSE(out.opened);
  EXPECT_NE(out.error.find(missing), std::string::npos) << out.error;
}

TEST(Damage, BadSegmentInADirectoryIsReportedAndTheOthersAreRead) {
  const SmallTrace& t = smallTrace();
  TempDir dir;
  test::writeFile(dir.file("a.pt"), t.bytes);
  test::writeFile(dir.file("b.pt"), {'n', 'o', 't', ' ', 'a', ' ', 't', 'r', 'a', 'c', 'e'});
  auto out = readTrace(dir.path().string());
  ASSERT_TRUE(out.opened) << out.error;
  EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
  ASSERT_EQ(out.back.damage.size(), 1u) << damageList(out.back.damage);
  EXPECT_EQ(out.back.damage[0].kind, DamageKind::notATrace);
  EXPECT_EQ(out.back.damage[0].file, dir.file("b.pt"));
  EXPECT_EQ(out.back.damage[0].bytesSkipped, 11u);

  // Reads the directory again: every frame once, and `count` damage entries,
  // the last of `kind` naming `file` (damage comes in name order).
  auto expectLastDamage = [&](size_t count, DamageKind kind, const std::string& file) {
    out = readTrace(dir.path().string());
    ASSERT_TRUE(out.opened) << out.error;
    EXPECT_TRUE(sameFrames(out.back.frames, t.allFrames()));
    ASSERT_EQ(out.back.damage.size(), count) << damageList(out.back.damage);
    EXPECT_EQ(out.back.damage.back().kind, kind);
    EXPECT_EQ(out.back.damage.back().file, dir.file(file));
    EXPECT_NE(describe(out.back.damage.back()).find(dir.file(file)), std::string::npos);
  };
  // The same segment again (its recording's number 0 twice): read once.
  test::writeFile(dir.file("c.pt"), t.bytes);
  expectLastDamage(2, DamageKind::duplicateSegment, "c.pt");
  // A segment that cannot even be opened (here a symlink loop; in life one
  // pruned by the recorder between listing and opening) is reported too.
  std::filesystem::create_symlink("loop.pt", dir.file("loop.pt"));
  expectLastDamage(3, DamageKind::notATrace, "loop.pt");

  // A directory of nothing but bad segments cannot be opened.
  TempDir bad;
  test::writeFile(bad.file("x.pt"), {});
  out = readTrace(bad.path().string());
  ASSERT_FALSE(out.opened);
  EXPECT_NE(out.error.find(bad.path().string()), std::string::npos) << out.error;
}

}  // namespace
}  // namespace proctape::format
