#include "proctape/analyze/process_tracker.h"

#include <algorithm>

#include "time_limits.h"

namespace proctape::analyze {

using netlink::ProcEvent;
using netlink::ProcEventType;

ProcessTracker::ProcessTracker(TrackerOptions options) : options_(options) {}

void ProcessTracker::seeCapture(int64_t captureNs) { lastCaptureNs_ = clampMonotonic(captureNs); }

void ProcessTracker::setSpan(int64_t firstNs, int64_t lastNs) {
  model_.firstNs = clampMonotonic(firstNs);
  model_.lastNs = std::max(*model_.firstNs, clampMonotonic(lastNs));
}

void ProcessTracker::onProcEvent(int64_t captureNs, const ProcEvent& event) {
  seeCapture(captureNs);
  // The kernel's time orders a process's life; capture time only stands in for it.
  int64_t timeNs = clampMonotonic(event.timestampNs != 0 ? int64_t(std::min<uint64_t>(event.timestampNs, kMonotonicLimit))
                                                         : captureNs);
  switch (event.type) {
    case ProcEventType::none: return;  // the subscription's ack
    case ProcEventType::unknown: model_.counters.add(Counter::unknownEvents); return;
    case ProcEventType::fork:
      if (event.childPid <= 0 || event.childTgid <= 0) return model_.counters.add(Counter::invalidPid);
      if (event.childPid != event.childTgid) return onThreadFork(timeNs, event);
      return onFork(timeNs, event);
    default: break;
  }
  if (event.processPid <= 0 || event.processTgid <= 0) return model_.counters.add(Counter::invalidPid);
  switch (event.type) {
    case ProcEventType::exec: return onExec(timeNs, event);
    case ProcEventType::exit: return onExit(timeNs, event);
    default: return onAttribute(timeNs, event);
  }
}

void ProcessTracker::onDecodeError(int64_t captureNs) {
  seeCapture(captureNs);
  model_.counters.add(Counter::decodeErrors);
}

void ProcessTracker::onClocks(const format::ClockAnchor& anchor) {
  format::ClockAnchor clamped{clampMonotonic(anchor.monotonicNs), clampRealtime(anchor.realtimeNs),
                              clampRealtime(anchor.boottimeNs)};
  // An anchor outside the plausible range converts nothing truthfully: the
  // wall times it governs (until the next anchor) are unknown, as replay
  // shows them, rather than clamped (a year 2116 is no answer).
  if (clamped.monotonicNs != anchor.monotonicNs || clamped.realtimeNs != anchor.realtimeNs) clamped.realtimeNs = 0;
  // Anchors out of order say nothing trustworthy: keep the sequence sorted.
  if (!model_.anchors.empty() && clamped.monotonicNs < model_.anchors.back().monotonicNs) return;
  if (!model_.anchors.empty() && clamped == model_.anchors.back()) return;
  model_.anchors.push_back(clamped);
}

// --- Finding and creating incarnations ---------------------------------------

ProcessId& ProcessTracker::slotOf(int32_t pid) {
  if (pid < 0 || pid >= kPidTable) return byOtherPid_[pid];
  if (size_t(pid) >= byPid_.size()) byPid_.resize(std::max<size_t>(size_t(pid) + 1, byPid_.size() * 2), 0);
  return byPid_[size_t(pid)];
}

Process* ProcessTracker::latest(int32_t pid) {
  ProcessId id = 0;
  if (pid >= 0 && size_t(pid) < byPid_.size()) {
    id = byPid_[size_t(pid)];
  } else if (pid < 0 || pid >= kPidTable) {
    auto it = byOtherPid_.find(pid);
    if (it != byOtherPid_.end()) id = it->second;
  }
  return id ? &at(id) : nullptr;
}

ProcessId ProcessTracker::create(int32_t pid, Origin origin, int64_t timeNs) {
  Process& process = model_.processes.emplace_back();
  process.id = ProcessId(model_.processes.size());
  process.pid = pid;
  process.origin = origin;
  process.firstSeenNs = timeNs;
  if (origin == Origin::snapshot)
    process.flags |= kStartBeforeTrace;
  else if (origin != Origin::fork)
    process.flags |= kStartUnknown;
  slotOf(pid) = process.id;
  ProcessId id = process.id;
  if (!awaitingParent_.empty()) adoptAwaiting(pid, id, origin);
  return id;
}

// A process seen only at its exit names its parent by pid. When the trace
// shows that pid only later (its fork lost, or in a segment deleted by
// --keep), the first incarnation that appears with its start unknown may have
// been alive at that exit: it is the parent. One seen forked started after
// the exit, so it is not, and nothing later can be either.
void ProcessTracker::adoptAwaiting(int32_t pid, ProcessId id, Origin origin) {
  auto [begin, end] = awaitingParent_.equal_range(pid);
  if (begin == end) return;
  if (origin != Origin::fork)
    for (auto it = begin; it != end; ++it)
      if (it->second != id) at(it->second).parentId = id;
  awaitingParent_.erase(begin, end);
}

ProcessId ProcessTracker::current(int32_t tgid, int64_t timeNs, Origin origin) {
  if (Process* process = latest(tgid); process && !process->ended()) return process->id;
  // None, or the last one has exited: the pid was forked again and that fork was not seen.
  return create(tgid, origin, timeNs);
}

ProcessId ProcessTracker::parentFor(int32_t parentTgid, int64_t timeNs) {
  if (parentTgid <= 0) return 0;
  if (Process* parent = latest(parentTgid)) {
    if (!parent->ended()) return parent->id;
    if (parent->endNs && timeNs <= *parent->endNs + options_.reorderToleranceNs) return parent->id;
  }
  return create(parentTgid, Origin::parent, timeNs);
}

Image* ProcessTracker::imageOf(ProcessId id) const {
  const Process* process = model_.find(id);
  if (!process) return nullptr;
  return process->execs.empty() ? process->inherited : process->execs.back().image;
}

// --- Forks -------------------------------------------------------------------

// A child whose events came before its fork: its own (not the fork's) CPU sent
// them, so they may overtake the fork by a moment. A snapshot entry is joined
// when the fork happened before the snapshot was taken.
bool ProcessTracker::joinable(const Process& child, int64_t timeNs) const {
  if (child.forkSeen() || child.has(kEndUnknown) || !child.firstSeenNs) return false;
  if (child.origin == Origin::snapshot)
    return !child.ended() && timeNs <= *child.firstSeenNs + options_.reorderToleranceNs;
  if (*child.firstSeenNs < timeNs - options_.reorderToleranceNs) return false;
  return !child.endNs || *child.endNs >= timeNs - options_.reorderToleranceNs;
}

void ProcessTracker::join(ProcessId childId, ProcessId parentId, int32_t parentTgid, int64_t timeNs) {
  Image* image = imageOf(parentId);
  Process& child = at(childId);
  if (child.origin == Origin::snapshot) {
    // The snapshot's image was read after this fork: it is what the fork left
    // running, unless an exec followed.
    if (!child.execs.empty() && !child.execs.front().timeNs) {
      if (!child.inherited) child.inherited = child.execs.front().image;
      child.execs.popFront();
    }
  } else {
    model_.counters.add(child.ended() ? Counter::exitBeforeFork : Counter::forkDeliveredLate);
  }
  child.origin = Origin::fork;
  child.flags &= ~(kStartUnknown | kStartBeforeTrace);
  child.startNs = std::min(timeNs, child.firstSeenNs.value_or(timeNs));
  child.parentId = parentId;
  if (parentTgid > 0) child.parentPid = parentTgid;
  if (image && !child.inherited) child.inherited = image;
}

void ProcessTracker::onFork(int64_t timeNs, const ProcEvent& event) {
  ProcessId parentId = parentFor(event.parentTgid, timeNs);
  if (Process* child = latest(event.childTgid)) {
    if (child->id != parentId && joinable(*child, timeNs)) return join(child->id, parentId, event.parentTgid, timeNs);
    if (!child->ended()) {
      if (child->forkSeen() && child->parentId == parentId && child->startNs == timeNs)
        return model_.counters.add(Counter::duplicateFork);
      // Forked again while alive: its exit was lost.
      model_.counters.add(Counter::exitLostPidReused);
      endUnknown(*child, timeNs);
    }
  }
  ProcessId id = create(event.childTgid, Origin::fork, timeNs);
  Process& child = at(id);
  child.startNs = timeNs;
  child.parentId = parentId;
  if (event.parentTgid > 0) child.parentPid = event.parentTgid;
  child.inherited = imageOf(parentId);
  if (const Process* parent = model_.find(parentId)) {  // a fork copies the credentials and the name
    child.ruid = parent->ruid;
    child.euid = parent->euid;
    child.rgid = parent->rgid;
    child.egid = parent->egid;
    child.comm = parent->comm;
  }
}

void ProcessTracker::onThreadFork(int64_t timeNs, const ProcEvent& event) {
  ProcessId id = current(event.childTgid, timeNs, Origin::other);
  Process& process = at(id);
  ++process.threadCount;
  Live& live = live_[id];
  auto early = std::find(live.exitedUnknown.begin(), live.exitedUnknown.end(), event.childPid);
  if (early != live.exitedUnknown.end()) {
    // The thread's exit overtook its creation: it is gone already.
    live.exitedUnknown.erase(early);
    model_.counters.add(Counter::forkDeliveredLate);
    return;
  }
  live.threads.push_back(event.childPid);
}

// --- Execs and other events --------------------------------------------------

void ProcessTracker::onExec(int64_t timeNs, const ProcEvent& event) {
  ProcessId id = current(event.processTgid, timeNs, Origin::exec);
  Process& process = at(id);
  process.execs.push_back({timeNs, newImage()});
  process.comm.clear();  // exec renames it: known again from its process info, or a comm event
  // exec leaves one thread: the others have exited, seen or not.
  if (auto it = live_.find(id); it != live_.end()) {
    // An exec from a thread other than the leader: the kernel ends the leader
    // (an exit event for the group's pid) a moment before the exec event,
    // and the thread takes over the group's pid. No thread outlived the
    // leader; the exec did it.
    const Live& live = it->second;
    if (live.leaderExited && timeNs - live.leaderExitNs > kExecEndsLeaderWithinNs) process.flags |= kThreadsOutlivedLeader;
    live_.erase(it);
  }
}

void ProcessTracker::setCredentials(Process& process, std::optional<uint32_t>& real,
                                    std::optional<uint32_t>& effective, uint32_t newReal, uint32_t newEffective) {
  if ((real && *real != newReal) || (effective && *effective != newEffective)) process.flags |= kCredentialsChanged;
  real = newReal;
  effective = newEffective;
}

void ProcessTracker::onAttribute(int64_t timeNs, const ProcEvent& event) {
  Process& process = at(current(event.processTgid, timeNs, Origin::other));
  switch (event.type) {
    case ProcEventType::uid: setCredentials(process, process.ruid, process.euid, event.ruid, event.euid); break;
    case ProcEventType::gid: setCredentials(process, process.rgid, process.egid, event.rgid, event.egid); break;
    case ProcEventType::sid: process.flags |= kSessionLeader; break;
    case ProcEventType::ptrace:
      if (event.tracerPid != 0 || event.tracerTgid != 0) {
        process.flags |= kTraced;
        process.tracerPid = event.tracerTgid != 0 ? event.tracerTgid : event.tracerPid;
      }
      break;
    case ProcEventType::comm:
      if (event.processPid == event.processTgid) {  // else a thread's name
        process.comm = event.comm;
        process.renamed = true;
      }
      break;
    case ProcEventType::coredump: process.flags |= kCoredumpEvent; break;
    default: break;
  }
}

// --- Exits -------------------------------------------------------------------

void ProcessTracker::onExit(int64_t timeNs, const ProcEvent& event) {
  Process* process = latest(event.processTgid);
  bool leader = event.processPid == event.processTgid;
  if (process && process->ended() && !process->has(kEndUnknown)) {
    if (!leader) {
      // A thread the trace never saw created: the process lasted until now
      // (its pid cannot be reused before its last thread exits). It outlived
      // the leader unless it went down in the leader's exit_group.
      model_.counters.add(Counter::threadExitUnknown);
      if (process->endNs &&
          !(process->exitCode && endedTogether(*process->endNs, *process->exitCode, timeNs, event.exitCode)))
        process->flags |= kThreadsOutlivedLeader;
      if (process->endNs && (timeNs >= *process->endNs || event.coreDumped()))
        end(*process, std::max(timeNs, *process->endNs), event);
      return;
    }
    bool lossSinceEnd = lastLossNs_ && process->endNs && *lastLossNs_ >= *process->endNs;
    if (!lossSinceEnd) {
      model_.counters.add(Counter::duplicateExit);
      process->flags |= kDuplicateExit;
      return;
    }
    process = nullptr;  // a new process whose fork fell into the loss
  }
  if (!process || process->ended()) {
    process = &at(create(event.processTgid, leader ? Origin::exit : Origin::other, timeNs));
    // Its fork was not seen, but the exit names the parent it had then (the
    // one that reaps it): the kernel's fact, linked like a snapshot's ppid.
    if (event.hasParent && event.parentTgid > 0) {
      process->parentPid = event.parentTgid;
      resolveParentByPid(*process);
      if (!process->parentId) awaitingParent_.emplace(event.parentTgid, process->id);
    }
  }
  if (leader)
    onLeaderExit(*process, timeNs, event);
  else
    onThreadExit(*process, timeNs, event);
}

void ProcessTracker::onLeaderExit(Process& process, int64_t timeNs, const ProcEvent& event) {
  auto it = live_.find(process.id);
  if (it == live_.end() || it->second.threads.empty()) return end(process, timeNs, event);
  if (it->second.leaderExited) {
    model_.counters.add(Counter::duplicateExit);
    process.flags |= kDuplicateExit;
    return;
  }
  // The process lives on in its other threads: for a moment if this is an
  // exit_group, else until the last of them exits.
  it->second.coreDumped = it->second.coreDumped || event.coreDumped();
  it->second.leaderExited = true;
  it->second.leaderExitNs = timeNs;
  it->second.leaderExitCode = event.exitCode;
}

void ProcessTracker::onThreadExit(Process& process, int64_t timeNs, const ProcEvent& event) {
  Live& live = live_[process.id];
  auto it = std::find(live.threads.begin(), live.threads.end(), event.processPid);
  if (it != live.threads.end()) {
    live.threads.erase(it);
  } else {
    model_.counters.add(Counter::threadExitUnknown);
    if (live.exitedUnknown.size() < 4096) live.exitedUnknown.push_back(event.processPid);
  }
  live.coreDumped = live.coreDumped || event.coreDumped();
  if (!live.leaderExited) return;
  live.threadsEndedTogether =
      live.threadsEndedTogether && endedTogether(live.leaderExitNs, live.leaderExitCode, timeNs, event.exitCode);
  if (!live.threads.empty()) return;
  if (!live.threadsEndedTogether) process.flags |= kThreadsOutlivedLeader;
  end(process, timeNs, event);
}

// The process's wait status is the group's exit code: when one thread dumped
// core, the parent sees the core bit although the exit that ends the group
// (another thread's, or the leader's) lacks it.
void ProcessTracker::end(Process& process, int64_t timeNs, const ProcEvent& exit) {
  auto live = live_.find(process.id);
  bool groupDumpedCore = (live != live_.end() && live->second.coreDumped) || (process.endNs && process.coreDumped);
  ProcEvent ending;  // only the type and code: a copy of `exit` would copy its strings
  ending.type = ProcEventType::exit;
  ending.exitCode = exit.exitCode | (groupDumpedCore && exit.termSignal() ? kCoreBit : 0);
  process.endNs = timeNs;
  process.exitCode = ending.exitCode;
  process.exitStatus = ending.status();
  process.termSignal = ending.termSignal();
  process.coreDumped = ending.coreDumped();
  if (live != live_.end()) live_.erase(live);
}

void ProcessTracker::endUnknown(Process& process, int64_t goneByNs) {
  process.flags |= kEndUnknown;
  process.goneByNs = goneByNs;
  live_.erase(process.id);
}

}  // namespace proctape::analyze
