#include "cn_proc_generator.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace proctape::bench {
namespace {

template <typename T>
void put(uint8_t* frame, size_t offset, T value) {
  std::memcpy(frame + offset, &value, sizeof value);  // host byte order, as the kernel sends it
}

}  // namespace

FrameGenerator::FrameGenerator(const GeneratorOptions& options) : options_(options), rng_(options.seed) {
  // Three days of uptime, plus a random part so no field is suspiciously round.
  kernelNs_ = 3ull * 86'400 * 1'000'000'000 + uniform(0, 3'600'000'000'000ull);
  for (auto& seq : cpuSeq_) seq = uint32_t(uniform(1'500'000, 2'500'000));  // events since boot
  nextPid_ = int32_t(uniform(20'000, 30'000));
}

Trace FrameGenerator::generate(size_t count) {
  Trace trace;
  trace.frames.resize(count * kFrameBytes);
  trace.captureNs.resize(count);
  size_t i = 0;
  int64_t lastCapture = 0;
  while (i < count) {
    // Usually the recorder gets one datagram per wakeup; sometimes it
    // falls behind and several wait in the socket, stamped together.
    size_t batch = uniform(0, 99) < 80 ? 1 : size_t(uniform(2, 5));
    batch = std::min(batch, count - i);
    for (size_t k = 0; k < batch; ++k) {
      kernelNs_ += uniform(10'000, 30'000);  // 10-30 us between events, ns jitter
      nextEvent(trace.frames.data() + (i + k) * kFrameBytes);
    }
    // Capture a few microseconds after the last event of the batch.
    int64_t capture = int64_t(kernelNs_ + uniform(2'000, 8'000));
    capture = std::max(capture, lastCapture);
    for (size_t k = 0; k < batch; ++k) trace.captureNs[i + k] = capture;
    lastCapture = capture;
    i += batch;
    ++trace.batches;
  }
  return trace;
}

int32_t FrameGenerator::allocatePid() {
  for (;;) {
    nextPid_ += int32_t(uniform(1, 3));  // other tasks (threads, kworkers) take a pid now and then
    if (nextPid_ >= kPidMax) nextPid_ = kReservedPids + (nextPid_ - kPidMax);
    bool taken = std::find(std::begin(kParents), std::end(kParents), nextPid_) != std::end(kParents) ||
                 std::any_of(children_.begin(), children_.end(), [&](const Child& c) { return c.pid == nextPid_; });
    if (!taken) return nextPid_;
  }
}

void FrameGenerator::header(uint8_t* f, uint32_t what, unsigned cpu) {
  uint32_t seq = cpuSeq_[cpu]++;  // the kernel's per-CPU proc_event_counts
  put<uint32_t>(f, kOffNlLen, uint32_t(kFrameBytes));
  put<uint16_t>(f, kOffNlType, kNlmsgDone);
  put<uint16_t>(f, kOffNlFlags, 0);
  put<uint32_t>(f, kOffNlSeq, seq);
  put<uint32_t>(f, kOffNlPid, 0);
  put<uint32_t>(f, kOffCnIdx, kCnIdxProc);
  put<uint32_t>(f, kOffCnVal, kCnValProc);
  put<uint32_t>(f, kOffCnSeq, seq);
  put<uint32_t>(f, kOffCnAck, 0);
  put<uint16_t>(f, kOffCnLen, 40);  // sizeof(struct proc_event)
  put<uint16_t>(f, kOffCnFlags, 0);
  put<uint32_t>(f, kOffWhat, what);
  put<uint32_t>(f, kOffCpu, cpu);
  put<uint64_t>(f, kOffTimestamp, kernelNs_);
  std::memset(f + kOffData, 0, kFrameBytes - kOffData);  // the kernel zeroes event_data
}

void FrameGenerator::nextEvent(uint8_t* f) {
  bool fork = children_.empty() || (children_.size() < options_.inFlight && uniform(0, 2) == 0);
  if (fork) {
    Child child;
    child.parent = kParents[uniform(0, std::size(kParents) - 1)];
    child.pid = allocatePid();
    unsigned forkCpu = unsigned(uniform(0, kCpus - 1));
    // The child mostly starts where its parent ran.
    child.cpu = uniform(0, 9) < 7 ? forkCpu : unsigned(uniform(0, kCpus - 1));
    header(f, kProcEventFork, forkCpu);
    put<int32_t>(f, kOffData + 0, child.parent);  // parent_pid
    put<int32_t>(f, kOffData + 4, child.parent);  // parent_tgid
    put<int32_t>(f, kOffData + 8, child.pid);     // child_pid
    put<int32_t>(f, kOffData + 12, child.pid);    // child_tgid
    children_.push_back(child);
    return;
  }
  size_t pick = size_t(uniform(0, children_.size() - 1));
  Child& child = children_[pick];
  if (uniform(0, 9) == 0) child.cpu = unsigned(uniform(0, kCpus - 1));  // migrated
  if (!child.execed) {
    header(f, kProcEventExec, child.cpu);
    put<int32_t>(f, kOffData + 0, child.pid);  // process_pid
    put<int32_t>(f, kOffData + 4, child.pid);  // process_tgid
    child.execed = true;
    return;
  }
  uint64_t roll = uniform(0, 99);
  uint32_t exitCode = roll < 88 ? 0 : roll < 98 ? 1u << 8 : 15;  // exit 0, exit 1, killed by SIGTERM
  header(f, kProcEventExit, child.cpu);
  put<int32_t>(f, kOffData + 0, child.pid);      // process_pid
  put<int32_t>(f, kOffData + 4, child.pid);      // process_tgid
  put<uint32_t>(f, kOffData + 8, exitCode);      // exit_code
  put<uint32_t>(f, kOffData + 12, kSigchld);     // exit_signal
  put<int32_t>(f, kOffData + 16, child.parent);  // parent_pid
  put<int32_t>(f, kOffData + 20, child.parent);  // parent_tgid
  children_.erase(children_.begin() + std::ptrdiff_t(pick));
}

format::Meta cnProcMeta(std::string recorderName) {
  format::Meta meta;
  meta.hostname = "bench-host";
  meta.kernelRelease = "6.8.0-45-generic";
  meta.kernelVersion = "#45-Ubuntu SMP PREEMPT_DYNAMIC";
  meta.machine = "x86_64";
  meta.bootId = "5b0e4a8c-3f9d-4c41-9d2e-6a1f0c7b2e19";
  meta.recorderName = std::move(recorderName);
  meta.recorderVersion = std::string("0");  // not `= "0"`: GCC 12 warns falsely (-Wrestrict, bug 105329)
  meta.sources = {{0, 11, {1}, "proc connector (cn_proc)"}};  // NETLINK_CONNECTOR, CN_IDX_PROC
  return meta;
}

std::function<format::ClockAnchor()> clockFollowing(const int64_t& now) {
  // CLOCK_REALTIME - CLOCK_MONOTONIC: after the generator's 3 days of uptime it is 2026-01-01.
  constexpr int64_t kRealtimeOffset = 1'767'225'600'000'000'000 - 3ll * 86'400 * 1'000'000'000;
  return [&now] { return format::ClockAnchor{now, now + kRealtimeOffset, now + 1'000'000}; };
}

}  // namespace proctape::bench
