#include "proctape/format/container.h"

#include <algorithm>
#include <cstring>

#include "crc32c.h"
#include "le_bytes.h"

namespace proctape::format::container {
namespace {

constexpr uint32_t kChunkHeaderVersion = 1;

void writeFrameHeader(uint8_t* out, uint32_t payloadSize) {
  storeLe<uint32_t>(out, kSkippableMagic);
  storeLe<uint32_t>(out + 4, payloadSize);
}

// The payload of a proctape skippable frame of exactly `payloadSize` bytes
// tagged `tag`, whose last 4 bytes are a CRC-32C of the rest; else empty.
std::span<const uint8_t> checkedPayload(std::span<const uint8_t> bytes, uint32_t tag,
                                        size_t payloadSize) {
  uint32_t size = 0;
  if (bytes.size() < kFrameHeaderBytes + payloadSize || !isSkippableFrame(bytes, &size)) return {};
  if (loadLe<uint32_t>(bytes.data()) != kSkippableMagic || size != payloadSize) return {};
  auto payload = bytes.subspan(kFrameHeaderBytes, payloadSize);
  if (loadLe<uint32_t>(payload.data()) != tag) return {};
  uint32_t stored = loadLe<uint32_t>(payload.data() + payloadSize - 4);
  if (crc32c(payload.first(payloadSize - 4)) != stored) return {};
  return payload;
}

void sealPayload(uint8_t* payload, size_t payloadSize) {
  storeLe<uint32_t>(payload + payloadSize - 4,
                    crc32c(std::span<const uint8_t>(payload, payloadSize - 4)));
}

}  // namespace

bool isSkippableFrame(std::span<const uint8_t> bytes, uint32_t* payloadSize) {
  if (bytes.size() < kFrameHeaderBytes) return false;
  if ((loadLe<uint32_t>(bytes.data()) & kSkippableMagicMask) != (kSkippableMagic & kSkippableMagicMask))
    return false;
  *payloadSize = loadLe<uint32_t>(bytes.data() + 4);
  return true;
}

uint32_t proctapeTag(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFrameHeaderBytes + 4 || loadLe<uint32_t>(bytes.data()) != kSkippableMagic) return 0;
  return loadLe<uint32_t>(bytes.data() + kFrameHeaderBytes);
}

void encodeFileHeader(const FileHeader& header, std::span<uint8_t, kFileHeaderBytes> out) {
  std::fill(out.begin(), out.end(), 0);
  writeFrameHeader(out.data(), kFileHeaderPayload);
  uint8_t* p = out.data() + kFrameHeaderBytes;
  storeLe<uint32_t>(p, kTagFileHeader);
  storeLe<uint16_t>(p + 4, header.major);
  storeLe<uint16_t>(p + 6, header.minor);
  storeLe<uint32_t>(p + 8, 0);  // flags, none defined yet
  std::memcpy(p + 12, header.traceUuid.data(), header.traceUuid.size());
  storeLe<uint32_t>(p + 28, header.segmentIndex);
  sealPayload(p, kFileHeaderPayload);
}

std::optional<FileHeader> parseFileHeader(std::span<const uint8_t> bytes, FileHeaderStatus* status) {
  *status = FileHeaderStatus::notATrace;
  auto p = checkedPayload(bytes, kTagFileHeader, kFileHeaderPayload);
  if (p.empty()) return std::nullopt;
  FileHeader header;
  header.major = loadLe<uint16_t>(p.data() + 4);
  header.minor = loadLe<uint16_t>(p.data() + 6);
  std::memcpy(header.traceUuid.data(), p.data() + 12, header.traceUuid.size());
  header.segmentIndex = loadLe<uint32_t>(p.data() + 28);
  *status = header.major > kFormatMajor ? FileHeaderStatus::newerMajor : FileHeaderStatus::ok;
  return header;
}

void encodeChunkHeader(const ChunkHeader& header, std::span<uint8_t, kChunkHeaderBytes> out) {
  writeFrameHeader(out.data(), kChunkHeaderPayload);
  uint8_t* p = out.data() + kFrameHeaderBytes;
  storeLe<uint32_t>(p, kTagChunk);
  storeLe<uint32_t>(p + 4, kChunkHeaderVersion);
  storeLe<uint64_t>(p + 8, header.seq);
  storeLe<uint32_t>(p + 16, header.compressedSize);
  storeLe<uint32_t>(p + 20, header.rawSize);
  storeLe<int64_t>(p + 24, header.firstTimeNs);
  storeLe<int64_t>(p + 32, header.lastTimeNs);
  storeLe<uint32_t>(p + 40, header.recordCount);
  storeLe<uint32_t>(p + 44, header.payloadCrc);
  sealPayload(p, kChunkHeaderPayload);
}

std::optional<ChunkHeader> parseChunkHeader(std::span<const uint8_t> bytes) {
  auto p = checkedPayload(bytes, kTagChunk, kChunkHeaderPayload);
  if (p.empty() || loadLe<uint32_t>(p.data() + 4) != kChunkHeaderVersion) return std::nullopt;
  ChunkHeader h;
  h.seq = loadLe<uint64_t>(p.data() + 8);
  h.compressedSize = loadLe<uint32_t>(p.data() + 16);
  h.rawSize = loadLe<uint32_t>(p.data() + 20);
  h.firstTimeNs = loadLe<int64_t>(p.data() + 24);
  h.lastTimeNs = loadLe<int64_t>(p.data() + 32);
  h.recordCount = loadLe<uint32_t>(p.data() + 40);
  h.payloadCrc = loadLe<uint32_t>(p.data() + 44);
  return h;
}

void encodeTrailer(const Trailer& trailer, std::span<uint8_t, kTrailerBytes> out) {
  writeFrameHeader(out.data(), kTrailerPayload);
  uint8_t* p = out.data() + kFrameHeaderBytes;
  storeLe<uint32_t>(p, kTagTrailer);
  storeLe<uint64_t>(p + 4, trailer.indexOffset);
  storeLe<uint64_t>(p + 12, trailer.chunkCount);
  sealPayload(p, kTrailerPayload);
}

std::optional<Trailer> parseTrailer(std::span<const uint8_t> bytes) {
  auto p = checkedPayload(bytes, kTagTrailer, kTrailerPayload);
  if (p.empty()) return std::nullopt;
  return Trailer{loadLe<uint64_t>(p.data() + 4), loadLe<uint64_t>(p.data() + 12)};
}

void encodeIndexPrefix(std::span<const uint8_t> message, std::span<uint8_t, kIndexPrefixBytes> out) {
  writeFrameHeader(out.data(), uint32_t(8 + message.size()));
  storeLe<uint32_t>(out.data() + kFrameHeaderBytes, kTagIndex);
  storeLe<uint32_t>(out.data() + kFrameHeaderBytes + 4, crc32c(message));
}

std::optional<std::span<const uint8_t>> parseIndexFrame(std::span<const uint8_t> bytes) {
  uint32_t size = 0;
  if (proctapeTag(bytes) != kTagIndex || !isSkippableFrame(bytes, &size)) return std::nullopt;
  if (size < 8 || bytes.size() - kFrameHeaderBytes < size) return std::nullopt;
  auto message = bytes.subspan(kIndexPrefixBytes, size - 8);
  if (crc32c(message) != loadLe<uint32_t>(bytes.data() + kFrameHeaderBytes + 4)) return std::nullopt;
  return message;
}

std::optional<size_t> findChunkHeader(std::span<const uint8_t> file, size_t from) {
  // Search for the fixed 12-byte prefix (magic, size, tag), then check the CRC.
  uint8_t needle[12];
  storeLe<uint32_t>(needle, kSkippableMagic);
  storeLe<uint32_t>(needle + 4, kChunkHeaderPayload);
  storeLe<uint32_t>(needle + 8, kTagChunk);
  while (from < file.size()) {
    auto it = std::search(file.begin() + from, file.end(), std::begin(needle), std::end(needle));
    if (it == file.end()) return std::nullopt;
    size_t at = size_t(it - file.begin());
    if (parseChunkHeader(file.subspan(at))) return at;
    from = at + 1;
  }
  return std::nullopt;
}

}  // namespace proctape::format::container
