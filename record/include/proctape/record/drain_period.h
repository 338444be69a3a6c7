// How long the receiving thread sleeps between drain rounds.
#pragma once

#include <algorithm>
#include <cstdint>

namespace proctape::record {

// 16 MiB of SO_RCVBUF holds about 20,000 cn_proc datagrams (each costs its
// skb's truesize): 50 ms of 400,000 events a second. Smaller buffers keep
// the base period, since a burst that starts during a longer sleep must fit.
inline constexpr int kBackOffMinBufferBytes = 16 << 20;

// The longest sleep between drain rounds when few events come.
inline constexpr int64_t kLongestDrainIntervalNs = 50'000'000;

// The datagrams a round aims for: one full recvmmsg batch.
inline constexpr uint64_t kDrainTargetBatch = 256;

// The next sleep, between the base period and `idleNs` (never below the
// base). Each wakeup costs tens of microseconds of CPU on a VM whatever it
// receives, so a round that received few datagrams lengthens the period in
// proportion (aiming at kDrainTargetBatch per round), one that received none
// doubles it, and a busy one brings it straight back to the base.
inline int64_t nextDrainInterval(int64_t lastNs, uint64_t received, int64_t baseNs, int64_t idleNs) {
  int64_t longest = std::max(baseNs, idleNs);
  if (received == 0) return std::clamp(lastNs * 2, baseNs, longest);
  if (received >= kDrainTargetBatch) return baseNs;
  int64_t scaled = lastNs / int64_t(received) * int64_t(kDrainTargetBatch);
  return std::clamp(scaled, baseNs, longest);
}

}  // namespace proctape::record
