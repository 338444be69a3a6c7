// Sums and differences of times (and sums of counts) that never overflow. Times come from
// untrusted traces and from callers' clocks, so they may hold any 64-bit
// value, and signed overflow is undefined behaviour: results are held at the
// int64 limits instead. One copy for the writer, replay and analyze.
#pragma once

#include <cstdint>
#include <limits>

namespace proctape::format {

// a - b, clamped to the int64 range.
inline int64_t subClamped(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

// a + b, clamped to the int64 range.
inline int64_t addClamped(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// a + b, held at the uint64 maximum: counts summed from untrusted traces
// (a gap record may claim any number of lost events).
inline uint64_t addSaturated(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<uint64_t>::max() : sum;
}

}  // namespace proctape::format
