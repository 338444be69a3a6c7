// Enricher: the thread that reads /proc right after each exec.
//
// It has its own connector socket subscribed only to exec events (a
// proc_input filter, Linux >= 6.6; older kernels deliver everything and the
// thread keeps only execs), and it blocks on it, so each exec wakes it at
// once: argv can only be read while the process lives, and a /bin/true is
// gone within a millisecond. The main socket, meanwhile, is drained in
// batches (see receiver.h); the two paths share nothing but the side channel.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <deque>
#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "proctape/record/netlink_socket.h"
#include "proctape/record/procfs.h"
#include "proctape/record/redactor.h"
#include "proctape/record/unique_fd.h"
#include "shared.h"

namespace proctape::record {

struct EnricherOptions {
  uint32_t maxPerSecond = 0;  // 0: no limit; above it, a miss record without reading /proc
  std::string procRoot = "/proc";
  // A nice value the thread gives itself as it starts, when it is a lower
  // priority than its creator's (which needs no privilege); unset: inherited.
  std::optional<int> lowerNice;
};

class Enricher {
 public:
  // `socketFd` is the exec-only connector socket (owned by the caller).
  Enricher(int socketFd, SideChannel& side, SharedStats& stats, const Redactor& redactor, EnricherOptions options);
  ~Enricher();

  // Starts the thread; `initial` holds datagrams read from the socket during setup.
  void start(std::vector<Datagram> initial);
  void stopAndJoin();

 private:
  void run();
  // Everything the socket holds now, without waiting, into queue_.
  void receiveAll();
  // Collects the execs of one datagram into queue_.
  void collect(std::span<const uint8_t> bytes);
  // Enriches the execs at the front of queue_ (up to kBatch): starts the
  // /proc read of each (cmdline first), finishes each, checks that the
  // process had not exec'd again meanwhile, and hands the records over.
  void enrichRound();
  // Whether an exec of `pid` after queue_[i] happened by `byNs`.
  bool execsAgain(size_t i, pid_t pid, uint64_t byNs) const;
  format::ProcessInfo finishRead(ProcessRead& read, pid_t pid, uint64_t execTimestampNs);
  bool admit();
  void countOutcome(const format::ProcessInfo& info);

  int socketFd_;
  SideChannel& side_;
  SharedStats& stats_;
  const Redactor& redactor_;
  EnricherOptions options_;
  UniqueFd stopFd_;
  std::vector<Datagram> initial_;
  std::vector<std::vector<uint8_t>> buffers_;
  struct Exec {
    pid_t pid;
    uint64_t timestampNs;
  };
  std::deque<Exec> queue_;  // in the kernel's order
  // How many execs of each pid queue_ holds: execsAgain() looks through the
  // queue only for a pid that has another (rare), not for every exec of a
  // backlog that a stalled enricher may have to work through.
  std::unordered_map<pid_t, uint32_t> queuedPerPid_;
  int64_t nsPerTick_ = 10'000'000;
  double tokens_ = 0;
  int64_t lastRefillNs_ = 0;
  std::thread thread_;
};

}  // namespace proctape::record
