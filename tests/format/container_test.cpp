// The byte layout around the chunks: file header, chunk header, index frame
// and trailer encode and parse back, parsers reject anything else, the chunk
// header search resynchronises, and the stored zstd frame (with its own
// XXH64) is one libzstd reads.
#include <gtest/gtest.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <array>
#include <cstring>
#include <vector>

#include "crc32c.h"
#include "le_bytes.h"
#include "proctape/format/container.h"
#include "stored_frame.h"

namespace proctape::format::container {
namespace {

std::span<const uint8_t> bytesOf(const char* text) {
  return {reinterpret_cast<const uint8_t*>(text), std::strlen(text)};
}

FileHeader sampleFileHeader() {
  FileHeader header;
  header.major = kFormatMajor;
  header.minor = 7;
  for (size_t i = 0; i < header.traceUuid.size(); ++i) header.traceUuid[i] = uint8_t(0xA0 + i);
  header.segmentIndex = 123456;
  return header;
}

ChunkHeader sampleChunkHeader() {
  return {0x0102030405060708ULL, 4321, 98760, -5'000'000'000LL, 9'000'000'000'000LL, 77, 0xDEADBEEF};
}

std::array<uint8_t, kChunkHeaderBytes> encoded(const ChunkHeader& header) {
  std::array<uint8_t, kChunkHeaderBytes> out{};
  encodeChunkHeader(header, out);
  return out;
}

// Rewrites the CRC-32C at the end of a fixed-size frame so only the change
// under test makes it invalid.
template <size_t N>
void reseal(std::array<uint8_t, N>& frame) {
  uint32_t crc = crc32c(std::span<const uint8_t>(frame.data() + kFrameHeaderBytes, N - kFrameHeaderBytes - 4));
  storeLe<uint32_t>(frame.data() + N - 4, crc);
}

TEST(Container, FileHeaderRoundTripsEveryField) {
  std::array<uint8_t, kFileHeaderBytes> bytes{};
  encodeFileHeader(sampleFileHeader(), bytes);
  EXPECT_EQ(loadLe<uint32_t>(bytes.data()), kSkippableMagic);
  EXPECT_EQ(loadLe<uint32_t>(bytes.data() + 4), kFileHeaderPayload);
  EXPECT_EQ(proctapeTag(bytes), kTagFileHeader);
  FileHeaderStatus status = FileHeaderStatus::notATrace;
  auto parsed = parseFileHeader(bytes, &status);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(status, FileHeaderStatus::ok);
  EXPECT_EQ(parsed->major, kFormatMajor);
  EXPECT_EQ(parsed->minor, 7);
  EXPECT_EQ(parsed->traceUuid, sampleFileHeader().traceUuid);
  EXPECT_EQ(parsed->segmentIndex, 123456u);
}

TEST(Container, FileHeaderOfANewerMajorParsesButSaysSo) {
  FileHeader header = sampleFileHeader();
  header.major = kFormatMajor + 1;
  std::array<uint8_t, kFileHeaderBytes> bytes{};
  encodeFileHeader(header, bytes);
  FileHeaderStatus status = FileHeaderStatus::ok;
  auto parsed = parseFileHeader(bytes, &status);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(status, FileHeaderStatus::newerMajor);
  EXPECT_EQ(parsed->major, kFormatMajor + 1);
}

TEST(Container, FileHeaderRejectsShortInputWrongMagicSizeTagAndCrc) {
  std::array<uint8_t, kFileHeaderBytes> good{};
  encodeFileHeader(sampleFileHeader(), good);
  FileHeaderStatus status = FileHeaderStatus::ok;
  for (size_t n = 0; n < kFileHeaderBytes; ++n) {
    status = FileHeaderStatus::ok;
    EXPECT_FALSE(parseFileHeader(std::span<const uint8_t>(good).first(n), &status)) << n;
    EXPECT_EQ(status, FileHeaderStatus::notATrace) << n;
  }
  // Extra bytes after the header are the rest of the file: fine.
  std::vector<uint8_t> longer(good.begin(), good.end());
  longer.resize(200, 0xAB);
  EXPECT_TRUE(parseFileHeader(longer, &status));

  auto wrongMagic = good;
  storeLe<uint32_t>(wrongMagic.data(), kSkippableMagic + 1);  // still a zstd skippable frame, not ours
  EXPECT_FALSE(parseFileHeader(wrongMagic, &status));
  EXPECT_EQ(status, FileHeaderStatus::notATrace);

  auto wrongSize = good;
  storeLe<uint32_t>(wrongSize.data() + 4, kFileHeaderPayload - 4);
  EXPECT_FALSE(parseFileHeader(wrongSize, &status));

  auto wrongTag = good;
  storeLe<uint32_t>(wrongTag.data() + kFrameHeaderBytes, kTagChunk);
  reseal(wrongTag);
  EXPECT_FALSE(parseFileHeader(wrongTag, &status));

  for (size_t i = 0; i < good.size(); ++i) {
    auto flipped = good;
    flipped[i] ^= uint8_t(1u << (i % 8));
    EXPECT_FALSE(parseFileHeader(flipped, &status)) << "bit flip at byte " << i;
    EXPECT_EQ(status, FileHeaderStatus::notATrace);
  }
}

TEST(Container, ChunkHeaderRoundTripsEveryField) {
  auto bytes = encoded(sampleChunkHeader());
  EXPECT_EQ(proctapeTag(bytes), kTagChunk);
  uint32_t payload = 0;
  ASSERT_TRUE(isSkippableFrame(bytes, &payload));
  EXPECT_EQ(payload, kChunkHeaderPayload);
  auto parsed = parseChunkHeader(bytes);
  ASSERT_TRUE(parsed);
  ChunkHeader want = sampleChunkHeader();
  EXPECT_EQ(parsed->seq, want.seq);
  EXPECT_EQ(parsed->compressedSize, want.compressedSize);
  EXPECT_EQ(parsed->rawSize, want.rawSize);
  EXPECT_EQ(parsed->firstTimeNs, want.firstTimeNs);
  EXPECT_EQ(parsed->lastTimeNs, want.lastTimeNs);
  EXPECT_EQ(parsed->recordCount, want.recordCount);
  EXPECT_EQ(parsed->payloadCrc, want.payloadCrc);
}

TEST(Container, ChunkHeaderRejectsShortInputWrongMagicSizeTagVersionAndCrc) {
  auto good = encoded(sampleChunkHeader());
  for (size_t n = 0; n < kChunkHeaderBytes; ++n)
    EXPECT_FALSE(parseChunkHeader(std::span<const uint8_t>(good).first(n))) << n;

  auto wrongMagic = good;
  storeLe<uint32_t>(wrongMagic.data(), 0xFD2FB528);  // a zstd data frame
  EXPECT_FALSE(parseChunkHeader(wrongMagic));
  auto wrongSize = good;
  storeLe<uint32_t>(wrongSize.data() + 4, kChunkHeaderPayload + 4);
  EXPECT_FALSE(parseChunkHeader(wrongSize));
  auto wrongTag = good;
  storeLe<uint32_t>(wrongTag.data() + kFrameHeaderBytes, kTagIndex);
  reseal(wrongTag);
  EXPECT_FALSE(parseChunkHeader(wrongTag));
  auto wrongVersion = good;
  storeLe<uint32_t>(wrongVersion.data() + kFrameHeaderBytes + 4, 2);
  reseal(wrongVersion);
  EXPECT_FALSE(parseChunkHeader(wrongVersion));
  auto wrongCrc = good;
  wrongCrc[kChunkHeaderBytes - 1] ^= 0x40;
  EXPECT_FALSE(parseChunkHeader(wrongCrc));
  for (size_t i = 0; i < good.size(); ++i) {
    auto flipped = good;
    flipped[i] ^= uint8_t(1u << (i % 8));
    EXPECT_FALSE(parseChunkHeader(flipped)) << "bit flip at byte " << i;
  }
  // A file header is no chunk header, and the reverse.
  std::array<uint8_t, kFileHeaderBytes> fileHeader{};
  encodeFileHeader(sampleFileHeader(), fileHeader);
  std::vector<uint8_t> padded(fileHeader.begin(), fileHeader.end());
  padded.resize(kChunkHeaderBytes + 16);
  EXPECT_FALSE(parseChunkHeader(padded));
  FileHeaderStatus status;
  EXPECT_FALSE(parseFileHeader(good, &status));
}

TEST(Container, TrailerRoundTripsAndRejectsDamage) {
  std::array<uint8_t, kTrailerBytes> bytes{};
  encodeTrailer({0x1122334455667788ULL, 42}, bytes);
  EXPECT_EQ(proctapeTag(bytes), kTagTrailer);
  auto parsed = parseTrailer(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->indexOffset, 0x1122334455667788ULL);
  EXPECT_EQ(parsed->chunkCount, 42u);

  for (size_t n = 0; n < kTrailerBytes; ++n) EXPECT_FALSE(parseTrailer(std::span<const uint8_t>(bytes).first(n))) << n;
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto flipped = bytes;
    flipped[i] ^= uint8_t(0x80u >> (i % 8));
    EXPECT_FALSE(parseTrailer(flipped)) << "bit flip at byte " << i;
  }
  auto wrongTag = bytes;
  storeLe<uint32_t>(wrongTag.data() + kFrameHeaderBytes, kTagFileHeader);
  reseal(wrongTag);
  EXPECT_FALSE(parseTrailer(wrongTag));
}

TEST(Container, IndexFrameRoundTripsItsMessageAndRejectsDamage) {
  std::vector<uint8_t> message(64);
  for (size_t i = 0; i < message.size(); ++i) message[i] = uint8_t(i * 13 + 1);
  std::array<uint8_t, kIndexPrefixBytes> prefix{};
  encodeIndexPrefix(message, prefix);
  std::vector<uint8_t> frame(prefix.begin(), prefix.end());
  frame.insert(frame.end(), message.begin(), message.end());

  EXPECT_EQ(proctapeTag(frame), kTagIndex);
  uint32_t size = 0;
  ASSERT_TRUE(isSkippableFrame(frame, &size));
  EXPECT_EQ(size, 8 + message.size());
  auto parsed = parseIndexFrame(frame);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(std::equal(parsed->begin(), parsed->end(), message.begin(), message.end()));
  EXPECT_EQ(parsed->data(), frame.data() + kIndexPrefixBytes);  // a view, not a copy

  // Followed by a trailer, as in a file: the message still ends where the frame says.
  std::vector<uint8_t> withTrailer = frame;
  withTrailer.resize(frame.size() + kTrailerBytes, 0x55);
  parsed = parseIndexFrame(withTrailer);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), message.size());

  // An empty message is a valid (if useless) index frame.
  std::array<uint8_t, kIndexPrefixBytes> emptyPrefix{};
  encodeIndexPrefix({}, emptyPrefix);
  auto empty = parseIndexFrame(emptyPrefix);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  for (size_t n = 0; n < frame.size(); ++n) EXPECT_FALSE(parseIndexFrame(std::span<const uint8_t>(frame).first(n))) << n;
  for (size_t i = 0; i < frame.size(); ++i) {
    auto flipped = frame;
    flipped[i] ^= uint8_t(1u << (i % 8));
    // Every flip breaks the magic, the size (which then runs past the
    // bytes), the tag, or the CRC.
    EXPECT_FALSE(parseIndexFrame(flipped)) << "bit flip at byte " << i;
  }
  auto tooSmall = frame;
  storeLe<uint32_t>(tooSmall.data() + 4, 4);  // smaller than tag + crc
  EXPECT_FALSE(parseIndexFrame(tooSmall));
}

TEST(Container, SkippableFrameAndTagRecognition) {
  uint32_t size = 0;
  std::array<uint8_t, 12> frame{};
  for (uint32_t low = 0; low < 16; ++low) {
    storeLe<uint32_t>(frame.data(), 0x184D2A50 | low);
    storeLe<uint32_t>(frame.data() + 4, 1000 + low);
    EXPECT_TRUE(isSkippableFrame(frame, &size)) << low;
    EXPECT_EQ(size, 1000 + low);
  }
  storeLe<uint32_t>(frame.data(), 0xFD2FB528);
  EXPECT_FALSE(isSkippableFrame(frame, &size));
  EXPECT_FALSE(isSkippableFrame(std::span<const uint8_t>(frame).first(7), &size));

  // Only the proctape magic carries a tag.
  storeLe<uint32_t>(frame.data(), 0x184D2A50);
  storeLe<uint32_t>(frame.data() + 8, kTagChunk);
  EXPECT_EQ(proctapeTag(frame), 0u);
  storeLe<uint32_t>(frame.data(), kSkippableMagic);
  EXPECT_EQ(proctapeTag(frame), kTagChunk);
  EXPECT_EQ(proctapeTag(std::span<const uint8_t>(frame).first(11)), 0u);
  EXPECT_EQ(tagOf("PTCK"), uint32_t('P') | uint32_t('T') << 8 | uint32_t('C') << 16 | uint32_t('K') << 24);
}

TEST(Container, FindChunkHeaderFindsTheNextValidHeader) {
  ChunkHeader a = sampleChunkHeader();
  ChunkHeader b = a;
  b.seq = a.seq + 1;
  auto ha = encoded(a);
  auto hb = encoded(b);
  std::vector<uint8_t> file(100, 0x11);  // leading junk
  file.insert(file.end(), ha.begin(), ha.end());
  file.insert(file.end(), 33, 0x22);
  file.insert(file.end(), hb.begin(), hb.end());

  EXPECT_EQ(findChunkHeader(file, 0), 100u);
  EXPECT_EQ(findChunkHeader(file, 100), 100u);
  EXPECT_EQ(findChunkHeader(file, 101), 100u + kChunkHeaderBytes + 33);
  EXPECT_EQ(parseChunkHeader(std::span<const uint8_t>(file).subspan(*findChunkHeader(file, 101)))->seq, b.seq);
  EXPECT_FALSE(findChunkHeader(file, 100 + kChunkHeaderBytes + 34));
  EXPECT_FALSE(findChunkHeader(file, file.size()));
  EXPECT_FALSE(findChunkHeader(file, file.size() + 10));
  EXPECT_FALSE(findChunkHeader({}, 0));
  // A header cut short by the end of the file is not found.
  EXPECT_FALSE(findChunkHeader(std::span<const uint8_t>(file).first(file.size() - 1), 101));
}

TEST(Container, FindChunkHeaderSkipsFakePrefixesWithABadCrc) {
  auto real = encoded(sampleChunkHeader());
  auto fake = real;
  fake[30] ^= 0x01;  // same magic, size and tag, but the CRC no longer matches
  ASSERT_FALSE(parseChunkHeader(fake));

  std::vector<uint8_t> file(fake.begin(), fake.end());
  file.insert(file.end(), 5, 0);
  // A fake whose 12-byte prefix overlaps the real header's start.
  file.insert(file.end(), fake.begin(), fake.begin() + 12);
  size_t realAt = file.size();
  file.insert(file.end(), real.begin(), real.end());
  file.insert(file.end(), fake.begin(), fake.end());

  EXPECT_EQ(findChunkHeader(file, 0), realAt);
  EXPECT_EQ(findChunkHeader(file, realAt), realAt);
  EXPECT_FALSE(findChunkHeader(file, realAt + 1));
}

TEST(Container, ExpansionBoundAllowsSmallChunksAndRefusesZipBombs) {
  EXPECT_TRUE(expansionAllowed(0, kExpansionSlackBytes));
  EXPECT_FALSE(expansionAllowed(0, kExpansionSlackBytes + 1));
  EXPECT_TRUE(expansionAllowed(1000, 1000 * kMaxExpansion + kExpansionSlackBytes));
  EXPECT_FALSE(expansionAllowed(1000, 1000 * kMaxExpansion + kExpansionSlackBytes + 1));
  EXPECT_TRUE(expansionAllowed(uint64_t(kMaxChunkRawBytes), uint64_t(kMaxChunkRawBytes)));
}

TEST(Container, Crc32cMatchesKnownVectors) {
  EXPECT_EQ(crc32c({}), 0u);
  EXPECT_EQ(crc32c(bytesOf("123456789")), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  std::vector<uint8_t> ones(32, 0xFF);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  // Continuing from a partial CRC gives the CRC of the whole.
  auto whole = bytesOf("The quick brown fox jumps over the lazy dog");
  EXPECT_EQ(crc32c(whole.subspan(17), crc32c(whole.first(17))), crc32c(whole));
}

TEST(Container, Crc32cInstructionAndTablesAgreeAtEveryLengthAndAlignment) {
  std::vector<uint8_t> bytes(300);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 131 + (i >> 3));
  EXPECT_EQ(crc32cPortable(bytesOf("123456789")), 0xE3069283u);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t length = 0; start + length <= bytes.size(); length += 7) {
      std::span<const uint8_t> part(bytes.data() + start, length);
      ASSERT_EQ(crc32c(part, 0x1234u), crc32cPortable(part, 0x1234u)) << "start " << start << " length " << length;
    }
  }
}

TEST(StoredFrame, Xxh64MatchesKnownVectors) {
  EXPECT_EQ(xxh64({}, 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64(bytesOf("abc"), 0), 0x44BC2CF5AD770999ULL);
  // Other lengths take the 4-byte, 8-byte and 32-byte-stripe paths; zstd's
  // own decoder checks them in the tests below.
  EXPECT_NE(xxh64(bytesOf("abc"), 1), xxh64(bytesOf("abc"), 0));
}

std::vector<uint8_t> sampleContent(size_t size) {
  std::vector<uint8_t> content(size);
  uint32_t x = 2463534242u;
  for (auto& byte : content) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = uint8_t(x);
  }
  return content;
}

TEST(StoredFrame, LibzstdDecompressesItToTheSameBytes) {
  for (size_t size : {size_t(0), size_t(1), size_t(3), size_t(4), size_t(7), size_t(8), size_t(31), size_t(32),
                      size_t(33), size_t(100), size_t(128 * 1024), size_t(128 * 1024 + 1), size_t(300 * 1024)}) {
    auto content = sampleContent(size);
    std::vector<uint8_t> frame;
    writeStoredZstdFrame(content, frame);
    EXPECT_EQ(ZSTD_findFrameCompressedSize(frame.data(), frame.size()), frame.size()) << size;
    EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), size) << size;
    std::vector<uint8_t> out(size + 1);
    size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
    ASSERT_FALSE(ZSTD_isError(got)) << size << ": " << ZSTD_getErrorName(got);
    ASSERT_EQ(got, size);
    out.resize(got);
    EXPECT_EQ(out, content) << size;
    // The checksum is the low 32 bits of XXH64 of the content.
    EXPECT_EQ(loadLe<uint32_t>(frame.data() + frame.size() - 4), uint32_t(xxh64(content))) << size;
  }
}

TEST(StoredFrame, LibzstdRejectsItWhenAContentByteChanges) {
  auto content = sampleContent(300 * 1024);
  std::vector<uint8_t> frame;
  writeStoredZstdFrame(content, frame);
  frame[frame.size() / 2] ^= 0x10;  // inside a raw block: only the checksum can tell
  std::vector<uint8_t> out(content.size());
  size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  ASSERT_TRUE(ZSTD_isError(got));
  EXPECT_EQ(ZSTD_getErrorCode(got), ZSTD_error_checksum_wrong);
}

TEST(StoredFrame, ReplacesPreviousOutput) {
  std::vector<uint8_t> frame(5000, 0xCC);
  auto content = sampleContent(10);
  writeStoredZstdFrame(content, frame);
  EXPECT_EQ(frame.size(), 4u + 1 + 8 + 3 + 10 + 4);
  std::vector<uint8_t> out(10);
  EXPECT_EQ(ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size()), 10u);
  EXPECT_EQ(out, content);
}

}  // namespace
}  // namespace proctape::format::container
