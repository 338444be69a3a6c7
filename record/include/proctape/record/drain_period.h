// How long the receiving thread sleeps between drain rounds.
#pragma once

#include <algorithm>
#include <cstdint>

namespace proctape::record {

// 16 MiB of SO_RCVBUF holds about 20,000 cn_proc datagrams (each costs its
// skb's truesize): 50 ms of 400,000 events a second. Smaller buffers keep
// the base period, since a burst that starts during a longer sleep must fit.
inline constexpr int kBackOffMinBufferBytes = 16 << 20;

// The next sleep: the base period after a round that received something,
// else twice the last one, up to `idleNs` (never below the base). An idle
// recorder then wakes 20 times a second instead of 100, and the first burst
// brings the period straight back.
inline int64_t nextDrainInterval(int64_t lastNs, bool received, int64_t baseNs, int64_t idleNs) {
  if (received) return baseNs;
  return std::clamp(lastNs * 2, baseNs, std::max(baseNs, idleNs));
}

}  // namespace proctape::record
