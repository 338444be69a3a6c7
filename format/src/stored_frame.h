// A zstd frame of raw (uncompressed) blocks: what the writer emits for the
// rare chunk that compresses so well a reader would refuse its expansion
// ratio. Any zstd decoder reads it; its checksum is XXH64 as zstd requires.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace proctape::format {

uint64_t xxh64(std::span<const uint8_t> bytes, uint64_t seed = 0);

// Replaces `out` with one zstd frame that stores `content` verbatim.
void writeStoredZstdFrame(std::span<const uint8_t> content, std::vector<uint8_t>& out);

}  // namespace proctape::format
