// LossAccounting: turns what the receiver saw (ENOBUFS with the socket's
// drop count, truncated datagrams) and the per-CPU cn_msg.seq numbers into
// gap records.
//
// How many: the kernel counts, per socket, the datagrams it dropped because
// the receive buffer was full (sk_drops, read with SO_MEMINFO). The receiver
// reads it whenever recv reports ENOBUFS and after every drain round, so each
// overrun arrives here with an exact count, whether or not the kernel filters
// event types for the socket.
//
// Where: the kernel numbers cn_proc messages per CPU (cn_msg.seq, with the
// CPU in proc_event.cpu) before multicasting them, so a socket that receives
// every type sees each CPU's numbers without holes unless messages were lost.
// A jump from n to n+k+1 on one CPU means k lost right there, so that gap
// record goes just before the frame that shows the jump. ENOBUFS is reported
// by the next recv, before the older datagrams still queued, so an overrun
// only opens an account that the following jumps settle; what they do not
// explain (CPUs that sent nothing since) is written as one more gap when the
// account closes: at the next overrun, a second of capture time later, or at
// the end. With kernel filtering the numbers skip for filtered-out types
// too, so they are not used, and the overrun's gap is written at once.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::record {

// Per-CPU sequence numbers: observe() returns how many messages are missing
// before `seq` on `cpu` (0 for the first seen on a CPU, or when the number went
// backwards or jumped absurdly, which re-bases the CPU).
class SeqTracker {
 public:
  uint64_t observe(uint32_t cpu, uint32_t seq);
  bool knows(uint32_t cpu) const { return last_.count(cpu) > 0; }
  void forget(uint32_t cpu) { last_.erase(cpu); }
  std::unordered_set<uint32_t> cpus() const;

 private:
  std::unordered_map<uint32_t, uint32_t> last_;
};

struct LossTotals {
  uint64_t gaps = 0;          // gap records produced
  uint64_t lostKnown = 0;     // events lost, summed over gaps with a count
  uint64_t unknownGaps = 0;   // gaps whose count is unknown
  uint64_t overruns = 0;      // overruns reported (ENOBUFS, or the drop counter moved)
  uint64_t truncated = 0;     // datagrams too large for the buffer
};

class LossAccounting {
 public:
  static constexpr int64_t kSettleAfterNs = 1'000'000'000;

  // `seqValid`: the proc source receives every event type (no kernel filtering).
  explicit LossAccounting(bool seqValid) : seqValid_(seqValid) {}

  // A cn_proc message numbered `seq` on `cpu` (acks too, where the kernel
  // numbers them: those that carry a CPU), captured at `timeNs`: the gaps to
  // write before its frame.
  std::vector<format::Gap> onProcEvent(uint16_t sourceId, uint32_t cpu, uint32_t seq, int64_t timeNs);
  // An overrun on `sourceId`: `dropped` datagrams by the socket's drop
  // counter (nullopt: unknown). `isProc`: sequence numbers can place it.
  // Returns the gaps to write now.
  std::vector<format::Gap> onOverrun(uint16_t sourceId, bool isProc, std::optional<uint64_t> dropped, int64_t timeNs);
  // A datagram of `length` bytes that did not fit a `bufferBytes` buffer.
  format::Gap onTruncated(uint16_t sourceId, uint64_t length, uint64_t bufferBytes);
  // At the end: what an open overrun account still owes.
  std::vector<format::Gap> finish();

  const LossTotals& totals() const { return totals_; }

 private:
  struct OpenOverrun {
    uint16_t sourceId = 0;
    std::optional<uint64_t> outstanding;  // dropped, less what jumps have placed; nullopt: unknown
    bool explained = false;               // at least one jump was placed
    int64_t timeNs = 0;
    std::unordered_set<uint32_t> cpus;    // CPUs whose next jump this overrun explains
  };

  format::Gap count(format::Gap gap);
  void settle(std::vector<format::Gap>& out);

  bool seqValid_;
  SeqTracker seq_;
  LossTotals totals_;
  std::optional<OpenOverrun> open_;
};

}  // namespace proctape::record
