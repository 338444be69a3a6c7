// Parsing of the sizes and durations the recorder's options take.
#pragma once

#include <cstdint>
#include <string>

#include "proctape/format/result.h"

namespace proctape::record {

// "65536", "64K", "64KiB", "100M", "1G" (powers of 1024; case-insensitive).
// Errors name the text. At most 2^62.
Result<uint64_t> parseSize(const std::string& text);

// "250ms", "10s", "5m", "2h", "1d"; a bare number is seconds; fractions
// allowed ("1.5s"). Returns nanoseconds, at least 0.
Result<int64_t> parseDuration(const std::string& text);

// "1.2 MiB", "830 B": for messages and the status line.
std::string formatBytes(uint64_t bytes);

}  // namespace proctape::record
