// CRC-32C (Castagnoli), as used by iSCSI and ext4: guards every header and chunk.
#pragma once

#include <cstdint>
#include <span>

namespace proctape::format {

// CRC-32C of `bytes`, continuing from `crc` (0 to start).
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace proctape::format
