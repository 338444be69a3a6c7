// CRC-32C (Castagnoli), as used by iSCSI and ext4: guards every header and chunk.
#pragma once

#include <cstdint>
#include <span>

namespace proctape::format {

// CRC-32C of `bytes`, continuing from `crc` (0 to start).
// Uses the CPU's crc32 instruction where there is one (x86-64 SSE 4.2).
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

// The same, always with the lookup tables (what other CPUs use); for tests.
uint32_t crc32cPortable(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace proctape::format
