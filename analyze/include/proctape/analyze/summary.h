// Summaries of a build: wall time, counts, failures, slowest commands,
// parallelism and the critical path, over the processes in scope.
//
// Times here are effective: a start the trace does not know counts from the
// trace's first record, an end it does not know at the trace's last record
// (or, for a process whose exit was lost, when its pid was forked again).
// docs/analyze.md defines each figure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proctape/analyze/model.h"
#include "proctape/analyze/scope.h"

namespace proctape::analyze {

// The capture-time span of a trace: its first and last records, widened to
// every process time the model holds.
struct Span {
  int64_t firstNs = 0;
  int64_t lastNs = 0;
};
Span spanOf(const Model& model);

// A process's life with unknown bounds filled in from the span; end >= start.
struct Interval {
  int64_t startNs = 0;
  int64_t endNs = 0;
};
Interval effectiveLife(const Process& process, const Span& span);

// The executable a run is grouped under: its exe, else argv[0], else "?".
std::string groupName(const Image* image);

struct CommandStats {
  std::string exe;
  uint64_t runs = 0;      // execs of it in scope
  uint64_t openRuns = 0;  // runs still going at the end of the trace (timed to the end)
  int64_t totalNs = 0;
  int64_t maxNs = 0;
  ProcessId maxId = 0;    // the process of the longest run
};

// Each exec is one run, from the exec to the process's next exec or its end.
std::vector<CommandStats> commandStats(const Model& model, const Scope& scope);
// The same with spanOf(model) given, as summarize() computes it once for all figures.
std::vector<CommandStats> commandStats(const Model& model, const Scope& scope, const Span& span);
// Sorted copies: by total time, or by the longest run, largest first, at most `n`.
std::vector<CommandStats> topByTotal(const std::vector<CommandStats>& stats, size_t n);
std::vector<CommandStats> topByMax(const std::vector<CommandStats>& stats, size_t n);

struct Parallelism {
  uint32_t peak = 0;
  std::optional<int64_t> peakAtNs;  // when the peak was first reached
  double average = 0;               // time-weighted over the wall time
};

// Processes running at once: alive and with no child in scope alive (a parent
// waiting for its children does not count), over [startNs, endNs).
Parallelism parallelism(const Model& model, const ProcessTree& tree, const Scope& scope, Interval window);
Parallelism parallelism(const Model& model, const ProcessTree& tree, const Scope& scope, Interval window,
                        const Span& span);

struct CriticalStep {
  ProcessId id = 0;    // 0: time in none of the roots (between them)
  uint32_t depth = 0;  // below its root
  int64_t fromNs = 0;
  int64_t toNs = 0;
  double share = 0;    // of the wall time
  // The process's start was not seen, so the step begins where it was assumed
  // to (its parent's part, or the window's start): it may be too long.
  bool startUnknown = false;
};

// The chain that bounded the wall time: from the window's end back to its
// start, each process hands over to the child whose exit it waited for last,
// and before that child started, to the child that ended latest before it.
// The steps tile the window, in time order; each is the time its process ran
// with no child of the path running.
std::vector<CriticalStep> criticalPath(const Model& model, const ProcessTree& tree, const Scope& scope,
                                       Interval window);
std::vector<CriticalStep> criticalPath(const Model& model, const ProcessTree& tree, const Scope& scope,
                                       Interval window, const Span& span);

struct SummaryOptions {
  size_t top = 10;
};

struct Summary {
  Interval window;             // the roots' lives: from the first start to the last end
  bool hasWindow() const { return processes > 0; }  // else the window and wall time mean nothing
  int64_t wallNs = 0;
  size_t processes = 0;
  size_t execs = 0;            // execs seen during the trace
  size_t open = 0;             // processes not exited at the end
  size_t startUnknown = 0;     // processes with no fork seen (snapshot or not)
  std::vector<ProcessId> failures;            // by end time
  std::vector<ProcessId> possiblyIncomplete;  // alive during a gap or damage
  std::vector<CommandStats> stats;            // every executable, unsorted
  std::vector<CommandStats> topByTotal;
  std::vector<CommandStats> topByMax;
  Parallelism parallelism;
  std::vector<CriticalStep> criticalPath;
};

Summary summarize(const Model& model, const ProcessTree& tree, const Scope& scope, const SummaryOptions& options);

}  // namespace proctape::analyze
