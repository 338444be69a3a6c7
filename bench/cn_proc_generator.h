// cn_proc_generator: realistic proc connector traffic for the benchmarks.
//
// FrameGenerator makes N proc connector datagrams exactly as the kernel sends
// them (nlmsghdr + cn_msg + proc_event, 76 bytes, host byte order) for a
// stream of fork -> exec -> exit lifecycles, with capture times as a recorder
// would stamp them. docs/benchmarks.md ("The frames") describes the traffic.
// Shared by format_bench and replay_bench, so both measure the same data.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::bench {

constexpr size_t kFrameBytes = 76;  // NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event))
constexpr uint16_t kNlmsgDone = 3;
constexpr uint32_t kCnIdxProc = 1;
constexpr uint32_t kCnValProc = 1;
constexpr uint32_t kProcEventFork = 0x00000001;
constexpr uint32_t kProcEventExec = 0x00000002;
constexpr uint32_t kProcEventExit = 0x80000000;
constexpr int32_t kPidMax = 32768;      // /proc/sys/kernel/pid_max default
constexpr int32_t kReservedPids = 300;  // the kernel's RESERVED_PIDS: wrapped pids restart here
constexpr int32_t kSigchld = 17;
constexpr unsigned kCpus = 2;

// Field offsets in the datagram.
constexpr size_t kOffNlLen = 0, kOffNlType = 4, kOffNlFlags = 6, kOffNlSeq = 8, kOffNlPid = 12;
constexpr size_t kOffCnIdx = 16, kOffCnVal = 20, kOffCnSeq = 24, kOffCnAck = 28, kOffCnLen = 32,
                 kOffCnFlags = 34;
constexpr size_t kOffWhat = 36, kOffCpu = 40, kOffTimestamp = 44, kOffData = 52;
static_assert(kOffData + 24 == kFrameBytes);

// A field of a generated frame, in host byte order. `frame` holds kFrameBytes.
template <typename T>
T frameField(std::span<const uint8_t> frame, size_t offset) {
  T value;
  std::memcpy(&value, frame.data() + offset, sizeof value);
  return value;
}

struct GeneratorOptions {
  uint64_t seed = 0x70726f6374617065;  // "proctape"
  unsigned inFlight = 1;               // lifecycles interleaved (1: strict fork, exec, exit, fork, ...)
};

struct Trace {
  std::vector<uint8_t> frames;     // count * kFrameBytes
  std::vector<int64_t> captureNs;  // CLOCK_MONOTONIC capture time of each frame
  size_t batches = 0;              // receive batches (frames sharing one capture time)
  size_t count() const { return captureNs.size(); }
  std::span<const uint8_t> frame(size_t i) const { return {frames.data() + i * kFrameBytes, kFrameBytes}; }
};

class FrameGenerator {
 public:
  explicit FrameGenerator(const GeneratorOptions& options);

  // `count` frames, continuing the stream of earlier calls.
  Trace generate(size_t count);

 private:
  struct Child {
    int32_t pid = 0;
    int32_t parent = 0;
    unsigned cpu = 0;
    bool execed = false;
  };

  uint64_t uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
  int32_t allocatePid();
  void header(uint8_t* f, uint32_t what, unsigned cpu);
  void nextEvent(uint8_t* f);

  // Login shell, a make and its sub-makes, the shells make runs recipes in.
  static constexpr int32_t kParents[] = {1187, 20411, 20415, 20433, 20533};

  GeneratorOptions options_;
  std::mt19937_64 rng_;
  uint64_t kernelNs_ = 0;
  std::array<uint32_t, kCpus> cpuSeq_{};
  int32_t nextPid_ = 0;
  std::vector<Child> children_;
};

// The meta record of a benchmark trace: one source, the proc connector.
format::Meta cnProcMeta(std::string recorderName);

// A writer clock (WriterOptions::clock) that reads `now`, a capture time the
// caller advances as it writes, so that clock anchors stay on the trace's
// timeline as the system clock would for a live recorder. Otherwise chunks
// would be cut at every anchor, for spanning "days".
std::function<format::ClockAnchor()> clockFollowing(const int64_t& now);

}  // namespace proctape::bench
