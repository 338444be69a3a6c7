// Arithmetic on times read from a trace. A trace is untrusted input, so its
// capture times and clock anchors may hold any 64-bit value; these helpers
// never overflow (signed overflow is undefined behaviour, and the fuzz target
// finds it): differences clamp to the int64 range, and a wall time that does
// not fit is unknown rather than wrong.
#pragma once

#include <cstdint>
#include <ctime>
#include <cstring>
#include <limits>
#include <optional>

#include "proctape/format/clamped.h"
#include "proctape/format/records.h"

namespace proctape::replay::detail {

using format::subClamped;

// The wall-clock time (ns since the epoch) of capture time `timeNs` by
// `anchor`: realtime + (timeNs - monotonic). Empty when it does not fit.
inline std::optional<int64_t> wallOf(const format::ClockAnchor& anchor, int64_t timeNs) {
  int64_t sinceAnchor = 0, wall = 0;
  if (__builtin_sub_overflow(timeNs, anchor.monotonicNs, &sinceAnchor) ||
      __builtin_add_overflow(anchor.realtimeNs, sinceAnchor, &wall))
    return std::nullopt;
  return wall;
}

// A wall time split into whole seconds (rounded down, also before 1970) and
// the microseconds after them (0..999999).
struct WallParts {
  int64_t second = 0;
  int64_t micros = 0;
};

inline WallParts splitWall(int64_t ns) {
  int64_t second = ns / 1'000'000'000, rest = ns % 1'000'000'000;
  if (rest < 0) {
    rest += 1'000'000'000;
    --second;
  }
  return {second, rest / 1000};
}

inline constexpr size_t kDateChars = 19;  // "YYYY-MM-DDTHH:MM:SS"

// `second` as "YYYY-MM-DDTHH:MM:SS" (UTC) into `out`, NUL-terminated. A time
// whose year does not have four digits shows as "(date out of range)", as
// wide, so the column keeps its width and nothing is left unwritten.
inline void formatDate(int64_t second, char (&out)[kDateChars + 1]) {
  std::time_t t = std::time_t(second);
  std::tm tm{};
  bool ok = ::gmtime_r(&t, &tm) != nullptr && tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900 &&
            std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm) == kDateChars;
  if (!ok) std::memcpy(out, "(date out of range)", kDateChars + 1);
}

}  // namespace proctape::replay::detail
