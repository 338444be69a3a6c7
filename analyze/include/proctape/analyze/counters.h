// Named counters for what an analysis found odd, each with a severity, as in
// Perfetto's trace processor stats: inconsistent or missing input is counted
// and reported, never fatal, and never papered over.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "proctape/format/clamped.h"

namespace proctape::analyze {

enum class Severity : uint8_t {
  info,      // worth knowing; the analysis is still exact
  dataLoss,  // events are missing: some results may be incomplete
  error,     // the input contradicts itself; the odd part was ignored
};

// "info", "data_loss", "error".
const char* toString(Severity severity);

enum class Counter : uint8_t {
  gaps,                         // gap records in the trace
  eventsLost,                   // events the gap records say were lost (known counts only)
  gapsCountUnknown,             // gap records that could not count their losses
  damage,                       // damaged parts of the file (corrupt or truncated chunks, stray bytes)
  traceNotClosed,               // the recorder did not close the file (killed?)
  badIndex,                     // the file's index was unusable; chunks were scanned instead
  processesPossiblyIncomplete,  // processes alive during a gap or damage
  exitUnknownPid,               // processes first seen at their exit: no fork, not in the snapshot
  execWithoutFork,              // processes first seen at an exec: no fork, not in the snapshot
  eventUnknownPid,              // processes first seen at another event (uid, comm, thread...)
  forkUnknownParent,            // processes seen only as the parent of a fork
  forkDeliveredLate,            // forks delivered after an event of their child (joined)
  exitBeforeFork,               // exits delivered before their process's fork (joined)
  exitLostPidReused,            // a pid forked again while its last process had not exited
  duplicateFork,                // the same fork delivered twice (ignored)
  duplicateExit,                // a second exit of a thread-group leader (ignored)
  threadExitUnknown,            // exits of threads whose creation was not seen
  execInfoMissing,              // execs with no process-info record (the /proc read was lost)
  execInfoPartial,              // execs whose process-info record missed argv, exe or cwd
  processInfoUnmatched,         // process-info records matching no exec waiting for one
  decodeErrors,                 // netlink messages that did not decode
  unknownEvents,                // proc events of an unknown type
  invalidPid,                   // events naming pid 0 or a negative pid (ignored)
  negativeDuration,             // processes whose end precedes their start (no duration given)
  parentCycle,                  // parent links that would make a cycle (cut)
  count_,
};
inline constexpr size_t kCounterCount = size_t(Counter::count_);

struct CounterInfo {
  const char* name;     // snake_case, stable: JSON keys and docs use it
  Severity severity;
  const char* meaning;  // one line for people
};

const CounterInfo& describe(Counter counter);

class Counters {
 public:
  void add(Counter counter, uint64_t n = 1) {
    values_[size_t(counter)] = format::addSaturated(values_[size_t(counter)], n);
  }
  uint64_t get(Counter counter) const { return values_[size_t(counter)]; }
  // True when a counter of this severity is nonzero.
  bool any(Severity severity) const;
  Counters& operator+=(const Counters& other);

 private:
  std::array<uint64_t, kCounterCount> values_{};
};

}  // namespace proctape::analyze
