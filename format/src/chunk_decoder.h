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

struct DecodedChunk {
  std::vector<uint8_t> frameBytes;  // every frame of the chunk, unshuffled
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
