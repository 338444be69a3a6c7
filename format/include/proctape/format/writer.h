// TraceWriter: appends records to a trace file, or to a rotating directory of
// segment files, cutting zstd-compressed Cap'n Proto chunks as it goes.
//
// Not thread-safe: one thread owns a writer. Every write either succeeds or
// returns an Error naming the file and offset; after an error the writer
// refuses further writes, and close() still finishes what it can.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "proctape/format/records.h"
#include "proctape/format/result.h"

namespace proctape::format {

// Reads CLOCK_MONOTONIC, CLOCK_REALTIME and CLOCK_BOOTTIME back to back.
ClockAnchor readSystemClocks();

struct RotationOptions {
  uint64_t maxBytes = 0;   // start a new segment once this many bytes are written (0: no limit)
  int64_t maxAgeNs = 0;    // ... or once the segment spans this long (0: no limit)
  size_t keep = 0;         // delete the oldest segments beyond this many (0: keep all)
};

struct WriterOptions {
  int compressionLevel = 3;
  size_t chunkRawBytes = 2u << 20;        // cut a chunk at this much uncompressed message
  int64_t chunkMaxAgeNs = 100'000'000;    // ... or when it spans this long
  int64_t clockAnchorEveryNs = 1'000'000'000;
  bool shuffleFrames = true;              // store runs of equal-size frames byte-shuffled
  // Fixed uuid and clock, for byte-identical test output.
  bool deterministic = false;
  // Overrides the clock (used to stamp anchors and segment names).
  std::function<ClockAnchor()> clock;
  // When set, the path given to create() is a directory of segments.
  std::optional<RotationOptions> rotation;
  // The byte order of the frames to be written, when they come from a machine
  // of another order (crafted samples, converters); by default this machine's.
  std::optional<ByteOrder> frameByteOrder;
};

struct WriterStats {
  uint64_t chunks = 0;
  uint64_t records = 0;        // each frame counts as one
  uint64_t frames = 0;
  uint64_t framesWritten = 0;  // of them, those in chunks written whole to disk
  uint64_t rawBytes = 0;       // uncompressed Cap'n Proto bytes
  uint64_t fileBytes = 0;      // bytes written to disk, all segments
  uint64_t prunedBytes = 0;    // of them, in segments --keep deleted since
  uint64_t segments = 0;
};

inline constexpr size_t kMaxFrameBytes = 1u << 24;

class TraceWriter {
 public:
  // Creates `path` (mode 0600, truncating an existing file) or, with rotation,
  // the directory `path` (mode 0700) and its first segment. `meta` supplies
  // host, recorder and sources; the writer fills in format version, uuid,
  // byte order (see WriterOptions::frameByteOrder), clocks and segment index.
  static Result<TraceWriter> create(const std::string& path, Meta meta, WriterOptions options = {});

  TraceWriter(TraceWriter&&) noexcept;
  TraceWriter& operator=(TraceWriter&&) noexcept;
  ~TraceWriter();  // closes the trace if close() was not called

  // `bytes` may be empty; at most kMaxFrameBytes.
  Status writeFrame(int64_t timeNs, uint16_t sourceId, std::span<const uint8_t> bytes);
  Status writeProcessInfo(int64_t timeNs, const ProcessInfo& info);
  Status writeSnapshot(int64_t timeNs, const Snapshot& snapshot);
  Status writeGap(int64_t timeNs, const Gap& gap);
  Status writeClocks(int64_t timeNs, const ClockAnchor& anchor);

  // Cuts the open chunk if it has spanned chunkMaxAgeNs by `nowNs`; call it
  // when idle so a live trace is never far behind.
  Status tick(int64_t nowNs);
  // Cuts the open chunk now.
  Status flush();
  // Whether the open chunk holds records not yet written to the file.
  bool hasUnwritten() const;
  // Flushes, writes the index and trailer, and closes. Idempotent.
  Status close();

  const WriterStats& stats() const;
  const Meta& meta() const;
  // The file being written (the current segment, with rotation).
  const std::string& currentPath() const;

 private:
  struct Impl;
  explicit TraceWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace proctape::format
