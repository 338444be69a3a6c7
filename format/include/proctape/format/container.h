// The byte layout of a trace file around the Cap'n Proto chunks.
//
//   [file header]  skippable frame, 48 bytes
//   [chunk header] skippable frame, 60 bytes  ─┐ one chunk, repeated
//   [chunk]        zstd frame (checksum on)    ─┘
//   [index]        skippable frame (capnp Index message), at a clean close
//   [trailer]      skippable frame, 32 bytes, the last bytes of a closed file
//
// Every proctape skippable frame uses magic 0x184D2A5E and starts its payload
// with a 4-byte tag. All integers here are little-endian whatever the machine.
// Each header carries a CRC-32C over its own bytes, and the chunk header one
// over the chunk's compressed bytes, so any damage is found before decoding
// and a reader can resynchronise on the next valid chunk header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "proctape/format/records.h"

namespace proctape::format::container {

inline constexpr uint32_t kSkippableMagic = 0x184D2A5E;
inline constexpr uint32_t kSkippableMagicMask = 0xFFFFFFF0;  // any 0x184D2A5? is skippable
inline constexpr size_t kFrameHeaderBytes = 8;               // magic + payload size

inline constexpr size_t kFileHeaderPayload = 40;
inline constexpr size_t kChunkHeaderPayload = 52;
inline constexpr size_t kTrailerPayload = 24;
inline constexpr size_t kFileHeaderBytes = kFrameHeaderBytes + kFileHeaderPayload;
inline constexpr size_t kChunkHeaderBytes = kFrameHeaderBytes + kChunkHeaderPayload;
inline constexpr size_t kTrailerBytes = kFrameHeaderBytes + kTrailerPayload;
inline constexpr size_t kIndexPrefixBytes = kFrameHeaderBytes + 8;  // tag + crc

// The largest chunk (uncompressed message) a writer makes or a reader accepts.
inline constexpr uint32_t kMaxChunkRawBytes = 256u << 20;

struct FileHeader {
  uint16_t major = kFormatMajor;
  uint16_t minor = kFormatMinor;
  TraceUuid traceUuid{};
  uint32_t segmentIndex = 0;
};

struct ChunkHeader {
  uint64_t seq = 0;
  uint32_t compressedSize = 0;  // bytes of the zstd frame that follows
  uint32_t rawSize = 0;         // bytes of the Cap'n Proto message inside it
  int64_t firstTimeNs = 0;
  int64_t lastTimeNs = 0;
  uint32_t recordCount = 0;     // each frame of a batch counts as one
  uint32_t payloadCrc = 0;      // CRC-32C of the compressed bytes
};

// One chunk, as the index at the end of a closed file lists it.
struct IndexEntry {
  uint64_t offset = 0;  // of the chunk's header frame
  uint64_t seq = 0;
  int64_t firstTimeNs = 0;
  int64_t lastTimeNs = 0;
  uint32_t recordCount = 0;
  uint32_t compressedSize = 0;
};

// A reader refuses chunks whose message would be more than this many times
// larger than their compressed bytes, so no input makes it allocate more than
// a small multiple of the file's size. The writer never exceeds it (it stores
// such a chunk uncompressed instead).
inline constexpr uint64_t kMaxExpansion = 64;
inline constexpr uint64_t kExpansionSlackBytes = 64 * 1024;
inline bool expansionAllowed(uint64_t compressedSize, uint64_t rawSize) {
  return rawSize <= compressedSize * kMaxExpansion + kExpansionSlackBytes;
}

struct Trailer {
  uint64_t indexOffset = 0;
  uint64_t chunkCount = 0;
};

enum class FileHeaderStatus { ok, notATrace, newerMajor };

// Encoders write exactly k*Bytes bytes into `out`, which must be that large.
void encodeFileHeader(const FileHeader& header, std::span<uint8_t, kFileHeaderBytes> out);
void encodeChunkHeader(const ChunkHeader& header, std::span<uint8_t, kChunkHeaderBytes> out);
void encodeTrailer(const Trailer& trailer, std::span<uint8_t, kTrailerBytes> out);
// The index frame's 16-byte prefix, for an index message of `messageBytes`.
void encodeIndexPrefix(std::span<const uint8_t> message, std::span<uint8_t, kIndexPrefixBytes> out);

// Parsers take whatever bytes are left in the file and never read past them.
// They return nothing when the bytes are not that structure (wrong magic,
// size, tag or CRC).
std::optional<FileHeader> parseFileHeader(std::span<const uint8_t> bytes, FileHeaderStatus* status);
std::optional<ChunkHeader> parseChunkHeader(std::span<const uint8_t> bytes);
std::optional<Trailer> parseTrailer(std::span<const uint8_t> bytes);
// The Cap'n Proto message inside an index frame, or nothing if its CRC fails.
std::optional<std::span<const uint8_t>> parseIndexFrame(std::span<const uint8_t> bytes);

// True if `bytes` starts with any zstd skippable frame magic; sets payload size.
bool isSkippableFrame(std::span<const uint8_t> bytes, uint32_t* payloadSize);
// The 4-byte tag of a proctape skippable frame, or 0.
uint32_t proctapeTag(std::span<const uint8_t> bytes);

inline constexpr uint32_t tagOf(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
inline constexpr uint32_t kTagFileHeader = tagOf("PTAP");
inline constexpr uint32_t kTagChunk = tagOf("PTCK");
inline constexpr uint32_t kTagIndex = tagOf("PTIX");
inline constexpr uint32_t kTagTrailer = tagOf("PTTR");

// Offset of the next valid chunk header at or after `from`, or nullopt.
std::optional<size_t> findChunkHeader(std::span<const uint8_t> file, size_t from);

}  // namespace proctape::format::container
