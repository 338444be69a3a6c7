// ProcessTracker: decoded events in, process incarnations out.
//
// Feed it a trace's events in capture order (proc events with their capture
// time, process-info, snapshot and gap records, damage notices), then call
// finish() once for the Model. Any order of any events is accepted: what makes
// no sense bumps a named counter (see counters.h) and never aborts or throws.
// Memory grows with the processes kept (plus the threads alive right now), not
// with the number of events.
//
// The rules, in short (docs/analyze.md has them in full):
// - A fork with child_pid == child_tgid starts a process incarnation; one with
//   child_pid != child_tgid starts a thread of the child_tgid's process.
// - A process ends at the exit of its thread-group leader, or at the exit of
//   its last known thread when the leader exits first; the ending exit gives
//   its status. Thread exits arriving later (threads the trace never saw
//   created) move the end later, until the pid is forked again.
// - Events about a pid with no live process (no fork seen, not in the
//   snapshot) create one with an unknown start. A fork delivered shortly after
//   such events (cn_proc sends the fork from the parent's CPU, so the child's
//   own events can overtake it) is joined to it instead of starting another.
// - A process-info record goes to the oldest exec of its process still
//   waiting for one, within options.execInfoWindowNs of capture time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proctape/analyze/model.h"
#include "proctape/format/netlink.h"
#include "proctape/format/records.h"

namespace proctape::analyze {

struct TrackerOptions {
  // A fork joins the unknown-start process its child's events created when
  // their first event is at most this much older than the fork.
  int64_t reorderToleranceNs = 10'000'000;
  // A process-info record matches only execs at most this much older.
  int64_t execInfoWindowNs = 2'000'000'000;
};

class ProcessTracker {
 public:
  explicit ProcessTracker(TrackerOptions options = {});

  // A cn_proc event captured at `captureNs`. Its kernel timestamp times the
  // process (the capture time stands in when the kernel gave 0).
  void onProcEvent(int64_t captureNs, const netlink::ProcEvent& event);
  void onProcessInfo(int64_t captureNs, const format::ProcessInfo& info);
  void onSnapshot(int64_t captureNs, const format::Snapshot& snapshot);
  // A gap record. `ofProcessEvents`: its source is a proc connector, or one
  // the trace does not describe; gaps of other sources flag no process.
  void onGap(int64_t captureNs, const format::Gap& gap, bool ofProcessEvents = true);
  // A damaged part of the trace (see LossNotice); `counter` says how it is counted.
  void onDamage(LossNotice notice, Counter counter);
  // Damage that loses nothing (an unclosed file, a bad index): counted only.
  void onNotice(Counter counter) { model_.counters.add(counter); }
  void onClocks(const format::ClockAnchor& anchor);
  void onDecodeError(int64_t captureNs);
  // The capture times of the trace's first and last records.
  void setSpan(int64_t firstNs, int64_t lastNs);

  // Marks open processes, flags those a loss may have touched, totals the
  // counters, and hands the model over. Call once; the tracker is spent.
  Model finish();

  // The model so far (for tests and progress).
  const Model& model() const { return model_; }

 private:
  // What only a live process with threads needs: the threads it has now,
  // exits of threads never seen created, and whether its leader has exited.
  // An exec from a non-leader thread comes this soon after the leader's exit
  // (measured: 0.3 ms; the kernel first waits for the other threads to die).
  static constexpr int64_t kExecEndsLeaderWithinNs = 50'000'000;
  // exit_group (a return from main, exit(), a fatal signal) ends every thread
  // with the same exit code, the leader's exit event often first and the
  // others within microseconds (measured: up to 0.15 ms). Threads that end
  // with that code this soon after the leader did not outlive it.
  static constexpr int64_t kExitGroupWithinNs = 10'000'000;
  // A fatal signal's core bit (0x80) is in the exit code of the one thread
  // that dumped core, not in the others', so the comparison ignores it.
  static constexpr uint32_t kCoreBit = 0x80;
  static bool endedTogether(int64_t leaderExitNs, uint32_t leaderExitCode, int64_t timeNs, uint32_t exitCode) {
    return (exitCode & ~kCoreBit) == (leaderExitCode & ~kCoreBit) && timeNs - leaderExitNs <= kExitGroupWithinNs;
  }
  struct Live {
    std::vector<int32_t> threads;
    std::vector<int32_t> exitedUnknown;
    bool leaderExited = false;
    int64_t leaderExitNs = 0;        // when leaderExited
    uint32_t leaderExitCode = 0;     // its wait status
    bool threadsEndedTogether = true;  // every thread exit since was part of the leader's exit_group
    bool coreDumped = false;           // a thread of it dumped core (its exit code has the core bit)
  };
  void seeCapture(int64_t captureNs);
  void onFork(int64_t timeNs, const netlink::ProcEvent& event);
  void onThreadFork(int64_t timeNs, const netlink::ProcEvent& event);
  void onExec(int64_t timeNs, const netlink::ProcEvent& event);
  void onExit(int64_t timeNs, const netlink::ProcEvent& event);
  void onLeaderExit(Process& process, int64_t timeNs, const netlink::ProcEvent& event);
  void onThreadExit(Process& process, int64_t timeNs, const netlink::ProcEvent& event);
  void onAttribute(int64_t timeNs, const netlink::ProcEvent& event);
  ProcessId onSnapshotEntry(const format::ProcessInfo& info);
  void resolveParentByPid(Process& process);
  void adoptAwaiting(int32_t pid, ProcessId id, Origin origin);
  bool joinable(const Process& child, int64_t timeNs) const;
  void join(ProcessId child, ProcessId parent, int32_t parentTgid, int64_t timeNs);
  ProcessId create(int32_t pid, Origin origin, int64_t timeNs);
  Process& at(ProcessId id) { return model_.processes[id - 1]; }
  // The process `tgid` names at `timeNs`: the latest incarnation unless it has
  // ended before then, else a new one with an unknown start.
  ProcessId current(int32_t tgid, int64_t timeNs, Origin origin);
  Process* latest(int32_t pid);
  ProcessId parentFor(int32_t parentTgid, int64_t timeNs);
  void end(Process& process, int64_t timeNs, const netlink::ProcEvent& exit);
  void endUnknown(Process& process, int64_t goneByNs);
  void setCredentials(Process& process, std::optional<uint32_t>& real, std::optional<uint32_t>& effective,
                      uint32_t newReal, uint32_t newEffective);
  Image* imageOf(ProcessId id) const;
  Image* newImage() { return &model_.images.emplace_back(); }
  // The image a process-info record describes, in a new Image.
  Image* imageFrom(const format::ProcessInfo& info);
  void fillImage(Image& image, const format::ProcessInfo& info);
  // `text`, stored once in the model.
  Text intern(const std::string& text);
  ProcessId& slotOf(int32_t pid);
  void breakCycles();
  void markLosses();
  void countFindings();
  void inheritLateImages();

  TrackerOptions options_;
  Model model_;
  // The latest incarnation of each pid: a table for the usual pids (below
  // kPidTable, grown as needed), a map for the others.
  static constexpr int32_t kPidTable = 1 << 22;  // PID_MAX_LIMIT on 64-bit Linux
  std::vector<ProcessId> byPid_;
  std::unordered_map<int32_t, ProcessId> byOtherPid_;
  std::unordered_map<ProcessId, Live> live_;      // state of processes with threads or a pending end
  // Processes first seen at their exit whose parent pid (from the exit) the
  // trace had shown no live incarnation of yet, by that pid (see adoptAwaiting).
  std::unordered_multimap<int32_t, ProcessId> awaitingParent_;
  std::unordered_map<std::string_view, const StoredText*> texts_;  // into model_.texts
  // Texts interned lately, by a cheap hash of their length and ends: most
  // lookups (a build's cwd, its compiler) end here, without hashing the string.
  std::array<const StoredText*, 1024> recentTexts_{};
  std::optional<int64_t> lastCaptureNs_;
  std::optional<int64_t> lastLossNs_;
};

}  // namespace proctape::analyze
