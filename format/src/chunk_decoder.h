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

// Frame bytes of one chunk: sized once per chunk, uninitialised (every byte
// is written before use), never moved while the chunk is read, so frames can
// point into it. A recycled chunk keeps its allocation when it is big enough.
class FrameArena {
 public:
  void reset(size_t size) {
    if (size > allocated_) {
      data_ = std::make_unique_for_overwrite<uint8_t[]>(size);
      allocated_ = size;
    }
    size_ = size;
    used_ = 0;
  }
  // The next `n` bytes; the caller checked they fit (n sums to the size).
  uint8_t* take(size_t n) {
    uint8_t* at = data_.get() + used_;
    used_ += n;
    return used_ <= size_ ? at : nullptr;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t allocated_ = 0;
  size_t size_ = 0;
  size_t used_ = 0;
};

// Chunks a reader is done with are recycled for later chunks, except under
// AddressSanitizer: there they are freed, so that a record used after its
// chunk was handed back stays an error ASan reports, not a silent misread of
// the next chunk's data.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kRecycleChunks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kRecycleChunks = false;
#else
inline constexpr bool kRecycleChunks = true;
#endif
#else
inline constexpr bool kRecycleChunks = true;
#endif

struct DecodedChunk {
  FrameArena frameBytes;            // every frame of the chunk, unshuffled
  std::deque<Meta> metas;           // deques: records point into them
  // The first infosUsed are this chunk's. Those after them are left from an
  // earlier use and refilled in place: the strings of process-info records
  // were most of a reader's allocations.
  std::deque<ProcessInfo> infos;
  size_t infosUsed = 0;
  std::deque<Snapshot> snapshots;
  std::deque<Gap> gaps;
  std::deque<ClockAnchor> clocks;
  std::vector<Record> records;
  std::vector<Damage> damage;

  // Forgets the records, keeping the allocations for the next chunk. Only
  // for a chunk no one else holds.
  void recycle();
};

// Decodes the chunk `info` of `file` (whose path is `path`). When
// `expectHeader` is set (the chunk table came from the index), the header on
// disk must match `info`. `reuse`, when given, is a recycled chunk to fill
// instead of a new one. Never throws; problems land in `damage`.
std::shared_ptr<DecodedChunk> decodeChunk(std::span<const uint8_t> file, const std::string& path,
                                          const ChunkInfo& info, bool expectHeader,
                                          std::shared_ptr<DecodedChunk> reuse = nullptr);

}  // namespace proctape::format
