// build_trace_generator: a CI host building C projects, as proctape-record
// records it, for analyze_bench.
//
// A discrete-event simulation of real process trees: the recorded command
// (`bash ci/build-all.sh`) runs `xargs -P LANES` over an endless list of
// projects; each project's `build-one.sh` runs git, mkdir, `make -jJOBS`
// (compiles: make -> [sh -c "mkdir -p ... && cc ..." ->] cc -> cc1, as; links:
// cc -> collect2 -> ld), `make check` (test programs, some threaded, naming
// their threads, some failing, a few dumping core) and now and then
// `sudo make install` (a new session, uid and gid changes). Meanwhile cron
// runs jobs and the CI runner starts threads, outside the command's tree.
//
// It emits what proctape-record writes: the start-up snapshot, then every
// cn_proc datagram (76 bytes, host byte order, per-CPU sequence numbers,
// kernel timestamps, capture times with receive batches) and, 20-250 us after
// each exec, the process-info record the enricher reads from /proc (every
// field missing when the process was gone by then). Pids are allocated as the
// kernel does (cyclically, wrapping at pid_max 32768), so they are reused
// many times in a long trace, and threads take pids too. A few forks are
// delivered after their child's exec, as cn_proc does when the child runs
// first on another CPU. docs/benchmarks.md ("Analyze") describes the trace.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "proctape/format/records.h"

namespace proctape::bench {

struct BuildTraceOptions {
  uint64_t seed = 0x70726f6374617065;  // "proctape"
  uint64_t events = 10'000'000;  // no project starts once this many cn_proc events are out; the running ones finish
  unsigned lanes = 8;            // projects built at once (xargs -P)
  unsigned jobs = 8;             // make -j
  unsigned cpus = 64;
};

struct BuildTraceFacts {
  uint64_t events = 0;  // cn_proc datagrams
  uint64_t forks = 0, threadForks = 0, execs = 0, exits = 0, threadExits = 0;
  uint64_t uids = 0, gids = 0, sids = 0, comms = 0, coredumps = 0;
  uint64_t infos = 0;      // process-info records after execs
  uint64_t infosGone = 0;  // ... of processes gone before /proc was read
  uint64_t lateForks = 0;  // forks delivered after their child's exec
  uint64_t snapshotProcesses = 0;
  uint64_t processes = 0;  // incarnations: the snapshot's plus every forked process (threads are not processes)
  uint64_t failed = 0;     // processes that exited nonzero or were killed
  uint64_t projects = 0;
  uint64_t pidWraps = 0;
  uint64_t argvBytes = 0;  // bytes of argv in every record (each argument and its NUL, as /proc/PID/cmdline)
  uint64_t argvCount = 0;  // arguments in every record
  uint64_t maxLiveTasks = 0;
  int64_t firstNs = 0, lastNs = 0;  // capture times of the first and last records
};

// Where the trace goes, in capture order.
class BuildTraceSink {
 public:
  virtual ~BuildTraceSink() = default;
  virtual void snapshot(int64_t captureNs, const format::Snapshot& snapshot) = 0;
  virtual void frame(int64_t captureNs, std::span<const uint8_t> bytes) = 0;
  virtual void processInfo(int64_t captureNs, const format::ProcessInfo& info) = 0;
};

class BuildTraceGenerator {
 public:
  explicit BuildTraceGenerator(const BuildTraceOptions& options);
  ~BuildTraceGenerator();
  BuildTraceGenerator(const BuildTraceGenerator&) = delete;
  BuildTraceGenerator& operator=(const BuildTraceGenerator&) = delete;

  // The trace's meta record: host, the recorder's command line, the proc
  // connector source, and commandPid, the pid of `bash ci/build-all.sh`.
  format::Meta meta() const;
  // The capture time of the first record (the snapshot).
  int64_t startNs() const;
  // Runs the simulation to its end, once.
  BuildTraceFacts run(BuildTraceSink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace proctape::bench
