// ProcessTracker: side records (process info, snapshots, gaps, damage) and
// the end of the analysis.
#include <algorithm>
#include <cstring>

#include "proctape/analyze/process_tracker.h"
#include "text.h"
#include "time_limits.h"

namespace proctape::analyze {
namespace {

using format::InfoField;

constexpr int64_t kLow = INT64_MIN, kHigh = INT64_MAX;

// `process`'s ids from /proc. An exec's record says what the image runs as:
// a set-user-ID program (sudo) changes them without a uid event.
void takeIds(Process& process, const format::ProcessInfo& info, bool flagChanges = false) {
  if (!info.has(InfoField::ids)) return;
  auto differs = [](const std::optional<uint32_t>& known, uint32_t now) { return known && *known != now; };
  if (flagChanges && (differs(process.ruid, info.ruid) || differs(process.euid, info.euid) ||
                      differs(process.rgid, info.rgid) || differs(process.egid, info.egid)))
    process.flags |= kCredentialsChanged;
  process.ruid = info.ruid;
  process.euid = info.euid;
  process.rgid = info.rgid;
  process.egid = info.egid;
}

std::string describeGap(const format::Gap& gap) {
  std::string text = std::string("gap on source ") + std::to_string(gap.sourceId) + " (" + toString(gap.reason) + "): ";
  text += gap.lostCount ? counted(*gap.lostCount, "event", "events") + " lost" : std::string("events lost, count unknown");
  if (!gap.detail.empty()) text += ": " + gap.detail;
  return text;
}

}  // namespace

// --- Process info and snapshots ------------------------------------------------

namespace {

size_t quickHash(const std::string& text) {
  uint64_t head = 0, tail = 0;
  std::memcpy(&head, text.data(), std::min<size_t>(8, text.size()));
  if (text.size() > 8) std::memcpy(&tail, text.data() + text.size() - 8, 8);
  uint64_t h = (head * 0x9e3779b97f4a7c15) ^ (tail * 0xc2b2ae3d27d4eb4f) ^ text.size();
  return size_t(h ^ (h >> 29));
}

}  // namespace

Text ProcessTracker::intern(const std::string& text) {
  const StoredText*& recent = recentTexts_[quickHash(text) % recentTexts_.size()];
  if (recent && recent->text == text) return Text(recent);
  if (auto it = texts_.find(text); it != texts_.end()) {
    recent = it->second;
    return Text(recent);
  }
  const StoredText& stored = model_.texts.emplace_back(StoredText{text, uint32_t(model_.texts.size())});
  texts_.emplace(stored.text, &stored);
  recent = &stored;
  return Text(&stored);
}

void ProcessTracker::fillImage(Image& image, const format::ProcessInfo& info) {
  image = Image{};
  image.infoSeen = true;
  if (info.has(InfoField::exe)) image.exe = intern(info.exe);
  if (info.has(InfoField::argv)) image.argv.emplace(info.argv);
  if (info.has(InfoField::cwd)) image.cwd = intern(info.cwd);
  if (info.has(InfoField::comm) && !info.comm.empty()) image.comm = intern(info.comm);
  for (const auto& miss : info.misses)
    if (miss.field == InfoField::argv || miss.field == InfoField::all) image.argvMiss = miss.reason;
}

Image* ProcessTracker::imageFrom(const format::ProcessInfo& info) {
  Image* image = newImage();
  fillImage(*image, info);
  return image;
}

void ProcessTracker::onProcessInfo(int64_t captureNs, const format::ProcessInfo& info) {
  seeCapture(captureNs);
  if (info.reason == format::InfoReason::snapshot) {
    if (ProcessId id = onSnapshotEntry(info)) resolveParentByPid(at(id));
    return;
  }
  captureNs = *lastCaptureNs_;
  Process* process = latest(info.tgid > 0 ? info.tgid : info.pid);
  if (!process) return model_.counters.add(Counter::processInfoUnmatched);
  // The oldest exec still waiting: the recorder reads /proc once per exec, in order.
  for (auto& exec : process->execs) {
    if (!exec.timeNs || exec.image->infoSeen) continue;
    if (captureNs - *exec.timeNs > options_.execInfoWindowNs) continue;  // too old: its record was lost
    if (*exec.timeNs - captureNs > options_.reorderToleranceNs) break;   // read before the exec happened
    fillImage(*exec.image, info);
    takeIds(*process, info, /*flagChanges=*/true);
    // The kernel renames a process at exec, without a comm event.
    if (&exec == &process->execs.back() && info.has(InfoField::comm)) process->comm = info.comm;
    return;
  }
  model_.counters.add(Counter::processInfoUnmatched);
}

ProcessId ProcessTracker::onSnapshotEntry(const format::ProcessInfo& info) {
  if (info.pid <= 0 || (info.tgid > 0 && info.tgid != info.pid)) return 0;  // a thread: its process is listed too
  int64_t timeNs = lastCaptureNs_.value_or(0);
  if (Process* known = latest(info.pid); known && !known->ended()) {
    if (known->forkSeen()) {
      // Forked before the snapshot was taken: the fork says more than /proc.
      if (known->execs.empty() && !known->inherited) known->inherited = imageFrom(info);
      if (!known->ruid) takeIds(*known, info);
      return 0;
    }
    // Seen (as a parent, or by an event) before the snapshot record, with no
    // fork: it was running when the trace started.
    known->origin = Origin::snapshot;
    known->flags = (known->flags & ~kStartUnknown) | kStartBeforeTrace;
    if (known->execs.empty()) known->execs.push_back({std::nullopt, imageFrom(info)});
    if (!known->ruid) takeIds(*known, info);
    if (known->comm.empty() && info.has(InfoField::comm)) known->comm = info.comm;
    if (!known->parentPid && info.ppid > 0) known->parentPid = info.ppid;
    return known->id;
  }
  Process& process = at(create(info.pid, Origin::snapshot, timeNs));
  process.execs.push_back({std::nullopt, imageFrom(info)});
  takeIds(process, info);
  if (info.has(InfoField::comm)) process.comm = info.comm;
  if (info.ppid > 0) process.parentPid = info.ppid;
  return process.id;
}

void ProcessTracker::onSnapshot(int64_t captureNs, const format::Snapshot& snapshot) {
  seeCapture(captureNs);
  std::vector<ProcessId> listed;
  for (const auto& info : snapshot.processes)
    if (ProcessId id = onSnapshotEntry(info)) listed.push_back(id);
  // Parents once every entry exists: a parent may be listed after its child.
  for (ProcessId id : listed) resolveParentByPid(at(id));
}

// Links a process whose parent is known only by pid (a snapshot's ppid, an
// exit's parent) to that pid's current incarnation, if it is still alive.
void ProcessTracker::resolveParentByPid(Process& process) {
  if (process.parentId || !process.parentPid) return;
  if (Process* parent = latest(*process.parentPid); parent && parent != &process && !parent->ended())
    process.parentId = parent->id;
}

// --- Losses --------------------------------------------------------------------

void ProcessTracker::onGap(int64_t captureNs, const format::Gap& gap, bool ofProcessEvents) {
  std::optional<int64_t> from = lastCaptureNs_;
  seeCapture(captureNs);
  model_.counters.add(Counter::gaps);
  if (gap.lostCount)
    model_.counters.add(Counter::eventsLost, *gap.lostCount);
  else
    model_.counters.add(Counter::gapsCountUnknown);
  bool mayHide = ofProcessEvents && gap.lostCount != 0u;
  model_.losses.push_back({LossKind::gap, from, lastCaptureNs_, gap.lostCount, describeGap(gap), mayHide});
  if (mayHide) lastLossNs_ = lastCaptureNs_;
}

void ProcessTracker::onDamage(LossNotice notice, Counter counter) {
  model_.counters.add(counter);
  if (notice.fromNs) notice.fromNs = clampMonotonic(*notice.fromNs);
  if (notice.toNs) notice.toNs = clampMonotonic(*notice.toNs);
  model_.losses.push_back(std::move(notice));
}

// --- The end -------------------------------------------------------------------

Model ProcessTracker::finish() {
  for (auto& process : model_.processes)
    if (!process.ended()) process.flags |= kOpen;
  for (const auto& [id, live] : live_)  // threads still running at the end, the leader gone
    if (live.leaderExited) at(id).flags |= kThreadsOutlivedLeader;
  breakCycles();
  inheritLateImages();
  markLosses();
  countFindings();
  live_.clear();
  awaitingParent_.clear();
  byPid_ = {};
  byOtherPid_.clear();
  texts_.clear();
  recentTexts_ = {};
  return std::move(model_);
}

// A child forked before the trace knew its parent's image (the recorder's
// probe child: the snapshot that names the recorder's image is taken after
// that fork) inherited nothing. It ran the image its parent ran at the fork:
// the parent's last exec before it, or what the parent itself inherited.
// Parents come before their children in id order, so chains resolve in one pass.
void ProcessTracker::inheritLateImages() {
  for (auto& process : model_.processes) {
    if (!process.execs.empty() || process.inherited || !process.parentId || !process.startNs) continue;
    const Process& parent = at(process.parentId);
    Image* image = parent.inherited;
    for (const auto& exec : parent.execs) {
      if (exec.timeNs && *exec.timeNs > *process.startNs) break;
      image = exec.image;
    }
    process.inherited = image;
  }
}

// Parent links come from untrusted events; a cycle would hang every walk up
// the tree, so cut each one where it closes.
void ProcessTracker::breakCycles() {
  auto& processes = model_.processes;
  std::vector<uint8_t> state(processes.size() + 1, 0);  // 0 new, 1 on the current walk, 2 done
  std::vector<ProcessId> walk;
  for (ProcessId start = 1; start <= processes.size(); ++start) {
    walk.clear();
    ProcessId id = start;
    while (id != 0 && id <= processes.size() && state[id] == 0) {
      state[id] = 1;
      walk.push_back(id);
      id = processes[id - 1].parentId;
    }
    if (id > processes.size()) processes[walk.back() - 1].parentId = 0;
    if (id != 0 && id <= processes.size() && state[id] == 1) {
      processes[walk.back() - 1].parentId = 0;  // its parent is on this walk: the link closes a cycle
      model_.counters.add(Counter::parentCycle);
    }
    for (ProcessId done : walk) state[done] = 2;
  }
}

// A process may have lost events when its life [start, end] meets a loss
// [from, to]; unknown bounds are open-ended on either side.
void ProcessTracker::markLosses() {
  auto& losses = model_.losses;
  if (losses.empty()) return;
  std::stable_sort(losses.begin(), losses.end(), [](const LossNotice& a, const LossNotice& b) {
    return a.toNs.value_or(kHigh) < b.toNs.value_or(kHigh);
  });
  // The stretches that may hide process events, as [from, to], by `to`.
  struct Stretch {
    int64_t fromNs, toNs;
  };
  std::vector<Stretch> stretches;
  for (const auto& loss : losses)
    if (loss.mayHideProcessEvents) stretches.push_back({loss.fromNs.value_or(kLow), loss.toNs.value_or(kHigh)});
  // minFromAfter[i]: the earliest `from` of stretches[i..]. A process
  // [start, end] overlaps one of them iff, among those ending at or after its
  // start, one begins at or before its end.
  std::vector<int64_t> minFromAfter(stretches.size() + 1, kHigh);
  for (size_t i = stretches.size(); i-- > 0;) minFromAfter[i] = std::min(minFromAfter[i + 1], stretches[i].fromNs);
  for (auto& process : model_.processes) {
    int64_t start = process.startNs.value_or(kLow);
    int64_t end = process.endNs ? *process.endNs : process.goneByNs.value_or(kHigh);
    auto first = std::lower_bound(stretches.begin(), stretches.end(), start,
                                  [](const Stretch& stretch, int64_t t) { return stretch.toNs < t; });
    if (first == stretches.end()) continue;  // every loss ended before it started
    if (minFromAfter[size_t(first - stretches.begin())] <= end) {
      process.flags |= kPossiblyIncomplete;
      model_.counters.add(Counter::processesPossiblyIncomplete);
    }
  }
}

void ProcessTracker::countFindings() {
  for (const auto& process : model_.processes) {
    switch (process.origin) {
      case Origin::exec: model_.counters.add(Counter::execWithoutFork); break;
      case Origin::exit: model_.counters.add(Counter::exitUnknownPid); break;
      case Origin::other: model_.counters.add(Counter::eventUnknownPid); break;
      case Origin::parent: model_.counters.add(Counter::forkUnknownParent); break;
      case Origin::fork:
      case Origin::snapshot: break;
    }
    if (process.startNs && process.endNs && *process.endNs < *process.startNs)
      model_.counters.add(Counter::negativeDuration);
    for (const auto& exec : process.execs) {
      if (!exec.timeNs) continue;
      if (!exec.image->infoSeen)
        model_.counters.add(Counter::execInfoMissing);
      else if (!exec.image->exe || !exec.image->argv || !exec.image->cwd)
        model_.counters.add(Counter::execInfoPartial);
    }
  }
}

}  // namespace proctape::analyze
