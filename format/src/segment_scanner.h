// Finds the chunks of one segment file: from its index when the file was
// closed cleanly and the index checks out, else by walking chunk headers and
// resynchronising past damage.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/result.h"

namespace proctape::format {

struct ScannedSegment {
  SegmentInfo info;
  std::vector<ChunkInfo> chunks;
  std::vector<Damage> damage;
};

// Fails when the file is empty, is no proctape trace, or is of a newer major
// version. `segment` is stored in each ChunkInfo.
Result<ScannedSegment> scanSegment(std::span<const uint8_t> file, const std::string& path, size_t segment,
                                   bool useIndex);

}  // namespace proctape::format
