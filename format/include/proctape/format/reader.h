// TraceReader: reads a trace file or a directory of segments as one ordered
// stream of records, decoding chunks on several threads, and reports damage
// instead of failing on it.
//
// Untrusted input is expected: any bytes give either records, damage entries,
// or an open() error; never a crash, a hang, or an allocation beyond a small
// multiple of the file's size.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proctape/format/records.h"
#include "proctape/format/result.h"

namespace proctape::format {

enum class DamageKind : uint8_t {
  truncated,        // the file ends inside a frame: the tail was ignored
  corruptChunk,     // a chunk failed its CRC, decompression or decoding
  unexpectedBytes,  // bytes that are no proctape frame; skipped to the next chunk header
  badRecord,        // one record inside an intact chunk made no sense; the rest was read
  notClosed,        // no index and trailer: the recorder did not close the file
  badIndex,         // an index or trailer that failed its checks; the chunks were scanned instead
  notATrace,        // a file in a segment directory that is no proctape trace
  missingSegment,   // segments of a recording are missing between two that were read: their events are lost
  duplicateSegment, // a second segment with a number already read for its recording (a copy): left out
  missingChunk,     // chunk numbers skip in a file that was scanned: chunks cut out of it, their records lost
  duplicateChunk,   // a chunk byte for byte the same as an earlier one of its number (written twice): left out
};

const char* toString(DamageKind kind);

// False for damage that costs no record: a file not closed or with a bad
// index (its chunks were scanned and read), a duplicate segment or chunk (its
// copy was left out). The others may hide records.
bool losesRecords(DamageKind kind);

struct Damage {
  std::string file;
  uint64_t offset = 0;
  DamageKind kind = DamageKind::corruptChunk;
  uint64_t bytesSkipped = 0;
  std::string detail;
};

// "FILE: offset N: kind, M bytes skipped: detail"
std::string describe(const Damage& damage);

struct ReaderOptions {
  unsigned threads = 0;          // chunk decoding threads; 0: one per core
  bool useIndex = true;          // false: always scan chunk headers
};

struct ChunkInfo {
  size_t segment = 0;            // position in segments()
  uint64_t offset = 0;           // of the chunk header frame
  uint64_t seq = 0;
  int64_t firstTimeNs = 0;
  int64_t lastTimeNs = 0;
  uint32_t recordCount = 0;
  uint32_t compressedSize = 0;
  // The Cap'n Proto message's size, from the chunk header when the file was
  // scanned; 0 when the chunk table came from the index, which does not store
  // it (the decoder always checks the header's own).
  uint32_t rawSize = 0;
};

struct SegmentInfo {
  std::string path;
  uint64_t size = 0;
  uint16_t formatMajor = 0;
  uint16_t formatMinor = 0;
  uint32_t segmentIndex = 0;
  bool indexed = false;          // its chunk table came from the index
  // Its file header failed its checks (a damage entry says so): the format
  // version above is this build's major version, assumed, not read.
  bool headerDamaged = false;
  TraceUuid traceUuid{};  // of the recording it belongs to (zero when headerDamaged)
};

class TraceReader {
 public:
  // Opens a trace file, or a directory holding segment files (*.pt, read in
  // name order). Fails only when nothing can be read at all: the path is
  // missing or unreadable, the file is empty or no trace, it was written by
  // a newer major version, or the directory has no segments.
  static Result<TraceReader> open(const std::string& path, ReaderOptions options = {});

  TraceReader(TraceReader&&) noexcept;
  TraceReader& operator=(TraceReader&&) noexcept;
  ~TraceReader();

  // The next record in file order, or false at the end. The record (and any
  // Frame bytes in it) stays valid until the following call to next() or seek().
  bool next(Record& record);
  // The decoded chunk the last record came from (null before the first and
  // after the last). Holding it keeps that record's data (frame bytes,
  // process info, snapshot) valid after the reader has moved on.
  std::shared_ptr<const void> currentChunk() const;
  // Restarts so that next() returns the first record with timeNs >= `timeNs`,
  // skipping whole chunks by their header times.
  void seek(int64_t timeNs);
  // Restarts so that next() returns the records of chunks()[chunk] and those
  // after it (nothing, if chunk >= chunks().size()). With open() again on a
  // trace that is still being written, this lets a follower skip the chunks
  // it has already read: chunks are identified by segment path and offset.
  void seekChunk(size_t chunk);

  // The first segment's meta record, if it could be read.
  const std::optional<Meta>& meta() const;
  const std::vector<SegmentInfo>& segments() const;
  const std::vector<ChunkInfo>& chunks() const;
  // Damage found so far: structural damage at open(), and decoding damage as
  // chunks are read. Complete once next() has returned false.
  const std::vector<Damage>& damage() const;

 private:
  struct Impl;
  explicit TraceReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace proctape::format
