#include "proctape/analyze/counters.h"

namespace proctape::analyze {
namespace {

using S = Severity;

constexpr std::array<CounterInfo, kCounterCount> kCounters = {{
    {"gaps", S::dataLoss, "gap records: the recorder or the kernel lost events"},
    {"events_lost", S::dataLoss, "events lost, as the gap records count them"},
    {"gaps_count_unknown", S::dataLoss, "gap records that could not count the events lost"},
    {"damage", S::dataLoss, "damaged parts of the file (corrupt or truncated chunks, stray bytes)"},
    {"trace_not_closed", S::info, "the recorder did not close the file; every complete chunk was read"},
    {"bad_index", S::info, "the file's index was unusable; the chunks were scanned instead"},
    {"processes_possibly_incomplete", S::dataLoss, "processes alive during a gap of process events or a damaged part"},
    {"exit_unknown_pid", S::dataLoss, "processes first seen at their exit (no fork seen, not in the snapshot)"},
    {"exec_without_fork", S::dataLoss, "processes first seen at an exec (no fork seen, not in the snapshot)"},
    {"event_unknown_pid", S::dataLoss, "processes first seen at another event (no fork seen, not in the snapshot)"},
    {"fork_unknown_parent", S::info, "processes seen only as the parent of a fork (started before the trace?)"},
    {"fork_delivered_late", S::info, "forks delivered after an event of their child; joined to it"},
    {"exit_before_fork", S::info, "exits delivered before their process's fork; joined to it"},
    {"exit_lost_pid_reused", S::dataLoss, "pids forked again while their last process had not exited"},
    {"duplicate_fork", S::error, "the same fork delivered twice; the copy was ignored"},
    {"duplicate_exit", S::error, "a second exit of a process's leader; ignored"},
    {"thread_exit_unknown", S::info, "exits of threads whose creation the trace did not show"},
    {"exec_info_missing", S::info, "execs with no process-info record: argv, exe and cwd unknown"},
    {"exec_info_partial", S::info, "execs whose process-info record missed argv, exe or cwd"},
    {"process_info_unmatched", S::info, "process-info records that matched no exec waiting for one"},
    {"decode_errors", S::error, "netlink messages that did not decode"},
    {"unknown_events", S::info, "proc events of a type this version does not know"},
    {"invalid_pid", S::error, "events naming pid 0 or a negative pid; ignored"},
    {"negative_duration", S::error, "processes whose end precedes their start; no duration given"},
    {"parent_cycle", S::error, "parent links that would make a cycle; cut"},
}};

}  // namespace

const char* toString(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::dataLoss: return "data_loss";
    case Severity::error: return "error";
  }
  return "?";
}

const CounterInfo& describe(Counter counter) { return kCounters[size_t(counter) % kCounterCount]; }

bool Counters::any(Severity severity) const {
  for (size_t i = 0; i < kCounterCount; ++i)
    if (values_[i] != 0 && kCounters[i].severity == severity) return true;
  return false;
}

Counters& Counters::operator+=(const Counters& other) {
  for (size_t i = 0; i < kCounterCount; ++i) values_[i] += other.values_[i];
  return *this;
}

}  // namespace proctape::analyze
