#include "proctape/record/loss_accounting.h"

#include <algorithm>
#include <string>

namespace proctape::record {

using format::Gap;
using format::GapReason;

namespace {
// A jump larger than this is no loss but a counter we cannot follow (a CPU
// that came back online, a restarted counter): re-base quietly.
constexpr uint32_t kMaxPlausibleJump = 1u << 30;
}  // namespace

uint64_t SeqTracker::observe(uint32_t cpu, uint32_t seq) {
  auto [it, inserted] = last_.try_emplace(cpu, seq);
  if (inserted) return 0;
  uint32_t step = seq - it->second;  // modulo 2^32: the counter wraps
  it->second = seq;
  if (step == 0 || step > kMaxPlausibleJump) return 0;
  return step - 1;
}

std::unordered_set<uint32_t> SeqTracker::cpus() const {
  std::unordered_set<uint32_t> cpus;
  for (const auto& [cpu, seq] : last_) cpus.insert(cpu);
  return cpus;
}

Gap LossAccounting::count(Gap gap) {
  ++totals_.gaps;
  if (gap.lostCount) totals_.lostKnown += *gap.lostCount;
  else ++totals_.unknownGaps;
  return gap;
}

void LossAccounting::settle(std::vector<Gap>& out) {
  if (!open_) return;
  OpenOverrun open = std::move(*open_);
  open_.reset();
  if (!open.outstanding) {
    if (!open.explained) {
      out.push_back(count(Gap{open.sourceId, std::nullopt, GapReason::kernelOverrun,
                              "recv reported ENOBUFS; no drop counter or sequence jump could size the loss"}));
    }
    return;
  }
  if (*open.outstanding > 0) {
    out.push_back(count(Gap{open.sourceId, *open.outstanding, GapReason::kernelOverrun,
                            std::to_string(*open.outstanding) +
                                " more event(s) lost in this overrun (by the socket's drop counter), on CPUs that "
                                "sent nothing since to show where"}));
  }
  // Those CPUs' losses are counted now: their next number is a new baseline.
  for (uint32_t cpu : open.cpus) seq_.forget(cpu);
}

std::vector<Gap> LossAccounting::onProcEvent(uint16_t sourceId, uint32_t cpu, uint32_t seq, int64_t timeNs) {
  std::vector<Gap> gaps;
  if (!seqValid_) return gaps;
  if (open_ && timeNs - open_->timeNs > kSettleAfterNs) settle(gaps);
  // A CPU first seen after an overrun may show its loss later: it is the overrun's too.
  if (open_ && !seq_.knows(cpu)) open_->cpus.insert(cpu);
  uint64_t lost = seq_.observe(cpu, seq);
  if (lost == 0) return gaps;
  bool overrun = open_ && open_->cpus.erase(cpu) > 0;
  std::string detail = "cpu " + std::to_string(cpu) + ": cn_msg.seq jumped to " + std::to_string(seq) + ", " +
                       std::to_string(lost) + " event(s) missing";
  if (overrun) {
    open_->explained = true;
    if (open_->outstanding) *open_->outstanding -= std::min(*open_->outstanding, lost);
  } else {
    detail += " without an overrun report (the kernel failed to send them)";
  }
  gaps.push_back(count(Gap{sourceId, lost, overrun ? GapReason::kernelOverrun : GapReason::other, detail}));
  return gaps;
}

std::vector<Gap> LossAccounting::onOverrun(uint16_t sourceId, bool isProc, std::optional<uint64_t> dropped,
                                           int64_t timeNs) {
  ++totals_.overruns;
  std::vector<Gap> gaps;
  if (isProc && seqValid_) {
    settle(gaps);
    open_ = OpenOverrun{sourceId, dropped, false, timeNs, seq_.cpus()};
    return gaps;
  }
  std::string detail = dropped ? "the kernel dropped " + std::to_string(*dropped) +
                                     " datagram(s): the receive buffer was full (socket drop counter)"
                               : "recv reported ENOBUFS; the socket's drop counter could not be read";
  gaps.push_back(count(Gap{sourceId, dropped, GapReason::kernelOverrun, detail}));
  return gaps;
}

Gap LossAccounting::onTruncated(uint16_t sourceId, uint64_t length, uint64_t bufferBytes) {
  ++totals_.truncated;
  return count(Gap{sourceId, 1, GapReason::truncatedDatagram,
                   "a datagram of " + std::to_string(length) + " bytes did not fit the " + std::to_string(bufferBytes) +
                       "-byte buffer and was dropped whole"});
}

std::vector<Gap> LossAccounting::finish() {
  std::vector<Gap> gaps;
  settle(gaps);
  return gaps;
}

}  // namespace proctape::record
