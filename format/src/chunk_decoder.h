// Turns one chunk's bytes into records, checking everything on the way:
// header CRC, payload CRC, sizes, zstd checksum, Cap'n Proto bounds, and
// the consistency of every frame batch.
#pragma once

#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/records.h"

namespace proctape::format {

// Frame bytes of one chunk: allocated once, uninitialised (every byte is
// written before use), never moved, so frames can point into it.
class FrameArena {
 public:
  void reset(size_t capacity) {
    data_ = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    capacity_ = capacity;
    used_ = 0;
  }
  // The next `n` bytes; the caller checked they fit (n sums to the capacity).
  uint8_t* take(size_t n) {
    uint8_t* at = data_.get() + used_;
    used_ += n;
    return used_ <= capacity_ ? at : nullptr;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

struct DecodedChunk {
  FrameArena frameBytes;            // every frame of the chunk, unshuffled
  std::deque<Meta> metas;           // deques: records point into them
  std::deque<ProcessInfo> infos;
  std::deque<Snapshot> snapshots;
  std::deque<Gap> gaps;
  std::deque<ClockAnchor> clocks;
  std::vector<Record> records;
  std::vector<Damage> damage;
};

// Decodes the chunk `info` of `file` (whose path is `path`). When
// `expectHeader` is set (the chunk table came from the index), the header on
// disk must match `info`. Never throws; problems land in `damage`.
std::shared_ptr<DecodedChunk> decodeChunk(std::span<const uint8_t> file, const std::string& path,
                                          const ChunkInfo& info, bool expectHeader);

}  // namespace proctape::format
