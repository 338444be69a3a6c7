// Hand-built cn_proc events and side records for the analyzer's unit tests,
// and a small driver that feeds them to a ProcessTracker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proctape/analyze/process_tracker.h"
#include "proctape/format/netlink.h"

namespace proctape::test::analyze {

using netlink::ProcEvent;
using netlink::ProcEventType;

constexpr int64_t kMs = 1'000'000;

inline ProcEvent procEvent(ProcEventType type, int64_t timeNs) {
  ProcEvent event;
  event.type = type;
  event.timestampNs = uint64_t(timeNs);
  return event;
}

// A new process `child` forked by process `parent` (child_pid == child_tgid).
inline ProcEvent fork(int64_t timeNs, int32_t parent, int32_t child) {
  ProcEvent event = procEvent(ProcEventType::fork, timeNs);
  event.parentPid = event.parentTgid = parent;
  event.childPid = event.childTgid = child;
  return event;
}

// A new thread `tid` of process `tgid` (child_pid != child_tgid).
inline ProcEvent threadFork(int64_t timeNs, int32_t tgid, int32_t tid) {
  ProcEvent event = procEvent(ProcEventType::fork, timeNs);
  event.parentPid = event.parentTgid = tgid;
  event.childPid = tid;
  event.childTgid = tgid;
  return event;
}

inline ProcEvent exec(int64_t timeNs, int32_t pid) {
  ProcEvent event = procEvent(ProcEventType::exec, timeNs);
  event.processPid = event.processTgid = pid;
  return event;
}

// The wait status: exitStatus << 8 for a normal exit, else the signal (| 0x80 for a core).
inline ProcEvent exit(int64_t timeNs, int32_t pid, uint32_t waitStatus, int32_t tgid = 0) {
  ProcEvent event = procEvent(ProcEventType::exit, timeNs);
  event.processPid = pid;
  event.processTgid = tgid ? tgid : pid;
  event.exitCode = waitStatus;
  event.exitSignal = 17;
  return event;
}

// An exit whose frame carries the parent (Linux >= 6.x layouts).
inline ProcEvent exitWithParent(int64_t timeNs, int32_t pid, uint32_t waitStatus, int32_t parent) {
  ProcEvent event = exit(timeNs, pid, waitStatus);
  event.hasParent = true;
  event.parentPid = event.parentTgid = parent;
  return event;
}

inline uint32_t exitedWith(int status) { return uint32_t(status) << 8; }

inline format::ProcessInfo execInfo(int32_t pid, std::vector<std::string> argv, std::string cwd = "/src") {
  format::ProcessInfo info;
  info.pid = info.tgid = pid;
  info.exe = argv.empty() ? std::string() : "/usr/bin/" + argv.front();
  info.argv = std::move(argv);
  info.cwd = std::move(cwd);
  info.ruid = info.euid = 1000;
  info.rgid = info.egid = 1000;
  info.reason = format::InfoReason::exec;
  return info;
}

inline format::ProcessInfo snapshotEntry(int32_t pid, int32_t ppid, std::vector<std::string> argv) {
  format::ProcessInfo info = execInfo(pid, std::move(argv), "/");
  info.ppid = ppid;
  info.reason = format::InfoReason::snapshot;
  return info;
}

// Feeds events with their kernel time as capture time (plus `lagNs`).
class Feeder {
 public:
  explicit Feeder(proctape::analyze::ProcessTracker& tracker, int64_t lagNs = 0) : tracker_(tracker), lag_(lagNs) {}
  Feeder& operator<<(const ProcEvent& event) {
    tracker_.onProcEvent(int64_t(event.timestampNs) + lag_, event);
    return *this;
  }
  Feeder& info(int64_t captureNs, const format::ProcessInfo& info) {
    tracker_.onProcessInfo(captureNs, info);
    return *this;
  }

 private:
  proctape::analyze::ProcessTracker& tracker_;
  int64_t lag_;
};

}  // namespace proctape::test::analyze
