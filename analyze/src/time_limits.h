// Bounds for times read from untrusted traces, so that sums and differences
// of any of them fit in an int64_t: monotonic times within ±2^60 ns (36 years
// of uptime), wall-clock times within ±2^62 ns (146 years around 1970).
#pragma once

#include <algorithm>
#include <cstdint>

namespace proctape::analyze {

inline constexpr int64_t kMonotonicLimit = int64_t(1) << 60;
inline constexpr int64_t kRealtimeLimit = int64_t(1) << 62;

inline int64_t clampMonotonic(int64_t ns) { return std::clamp(ns, -kMonotonicLimit, kMonotonicLimit); }
inline int64_t clampRealtime(int64_t ns) { return std::clamp(ns, -kRealtimeLimit, kRealtimeLimit); }

}  // namespace proctape::analyze
