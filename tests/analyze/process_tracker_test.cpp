// ProcessTracker on hand-built event sequences, one scenario per test.
#include "proctape/analyze/process_tracker.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "events.h"

namespace proctape::test::analyze {
namespace {

using namespace proctape::analyze;

const Process* only(const Model& model, int32_t pid, size_t incarnation = 0) {
  for (const auto& process : model.processes)
    if (process.pid == pid && incarnation-- == 0) return &process;
  return nullptr;
}

size_t incarnations(const Model& model, int32_t pid) {
  size_t n = 0;
  for (const auto& process : model.processes) n += process.pid == pid ? 1 : 0;
  return n;
}

TEST(ProcessTracker, PidReuseStartsNewIncarnation) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exit(2 * kMs, 20, exitedWith(0)) << fork(3 * kMs, 10, 20)
                  << exit(5 * kMs, 20, exitedWith(7));
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 2u);
  const Process* first = only(model, 20, 0);
  const Process* second = only(model, 20, 1);
  EXPECT_NE(first->id, second->id);
  EXPECT_EQ(first->startNs, 1 * kMs);
  EXPECT_EQ(first->endNs, 2 * kMs);
  EXPECT_EQ(first->exitStatus, 0);
  EXPECT_EQ(second->startNs, 3 * kMs);
  EXPECT_EQ(second->durationNs(), 2 * kMs);
  EXPECT_EQ(second->exitStatus, 7);
  EXPECT_EQ(first->parentId, second->parentId);
  EXPECT_EQ(model.counters.get(Counter::exitLostPidReused), 0u);
}

TEST(ProcessTracker, PidForkedAgainWithoutExitEndsOldOneAsUnknown) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << fork(4 * kMs, 10, 20) << exit(5 * kMs, 20, 0);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 2u);
  const Process* lost = only(model, 20, 0);
  EXPECT_TRUE(lost->has(kEndUnknown));
  EXPECT_FALSE(lost->endNs.has_value());
  EXPECT_EQ(lost->goneByNs, 4 * kMs);
  EXPECT_FALSE(lost->has(kOpen));
  EXPECT_EQ(model.counters.get(Counter::exitLostPidReused), 1u);
}

TEST(ProcessTracker, ThreadForksDoNotBecomeProcesses) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22)
                  << exit(3 * kMs, 21, 0, 20) << exit(3 * kMs, 22, 0, 20) << exit(4 * kMs, 20, exitedWith(0));
  Model model = tracker.finish();
  EXPECT_EQ(incarnations(model, 21), 0u);
  EXPECT_EQ(incarnations(model, 22), 0u);
  const Process* process = only(model, 20);
  EXPECT_EQ(process->threadCount, 2u);
  EXPECT_EQ(process->endNs, 4 * kMs);
  EXPECT_FALSE(process->has(kThreadsOutlivedLeader));
  EXPECT_EQ(model.counters.get(Counter::threadExitUnknown), 0u);
}

// A worker thread calls execve: the kernel ends the leader (an exit event for
// the group's pid), the worker takes over the pid and the exec event follows
// (0.3 ms later in a recording here). No thread outlived the leader.
TEST(ProcessTracker, ExecFromAWorkerThreadIsNoLeaderOutlived) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21)
                  << exit(100 * kMs, 20, 0) << exec(100 * kMs + 300'000, 20) << exit(102 * kMs, 20, exitedWith(0));
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_FALSE(process->has(kThreadsOutlivedLeader));
  EXPECT_EQ(process->endNs, 102 * kMs);
  EXPECT_EQ(process->exitStatus, 0);
  EXPECT_EQ(process->execs.size(), 1u);
  EXPECT_EQ(model.counters.get(Counter::threadExitUnknown), 0u);

  // The leader gone a second before a thread execs: the threads did outlive it.
  ProcessTracker later;
  Feeder(later) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << exit(100 * kMs, 20, 0)
                << exec(1100 * kMs, 20) << exit(1102 * kMs, 20, exitedWith(0));
  EXPECT_TRUE(only(later.finish(), 20)->has(kThreadsOutlivedLeader));
}

TEST(ProcessTracker, LeaderExitingBeforeItsThreadsEndsAtTheLastThread) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22)
                  << exit(3 * kMs, 20, 0)                       // pthread_exit in main
                  << exit(6 * kMs, 21, 0, 20) << exit(9 * kMs, 22, exitedWith(3), 20);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_EQ(process->endNs, 9 * kMs);
  EXPECT_EQ(process->exitStatus, 3);  // the ending exit's status (exit_group from the last thread)
  EXPECT_TRUE(process->has(kThreadsOutlivedLeader));
  EXPECT_FALSE(process->has(kOpen));
}

// main returns 3: exit_group ends every thread with status 3, the leader's
// exit event first and the others up to 0.15 ms later (a recording here).
TEST(ProcessTracker, ExitGroupEndsTheThreadsWithTheLeaderSoNoneOutlivedIt) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22)
                  << exit(100 * kMs, 20, exitedWith(3)) << exit(100 * kMs + 20'000, 21, exitedWith(3), 20)
                  << exit(100 * kMs + 146'000, 22, exitedWith(3), 20);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_FALSE(process->has(kThreadsOutlivedLeader));
  EXPECT_EQ(process->endNs, 100 * kMs + 146'000);
  EXPECT_EQ(process->exitStatus, 3);
  EXPECT_EQ(model.counters.get(Counter::threadExitUnknown), 0u);
}

TEST(ProcessTracker, AThreadEndingLongAfterTheLeaderOutlivedItEvenWithTheSameStatus) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22)
                  << exit(100 * kMs, 20, 0) << exit(100 * kMs + 20'000, 21, 0, 20) << exit(130 * kMs, 22, 0, 20);
  EXPECT_TRUE(only(tracker.finish(), 20)->has(kThreadsOutlivedLeader));
}

TEST(ProcessTracker, AThreadNeverSeenCreatedEndingInTheLeadersExitGroupOutlivedNothing) {
  ProcessTracker together, apart;
  Feeder(together) << fork(1 * kMs, 10, 20) << exit(3 * kMs, 20, 9) << exit(3 * kMs + 50'000, 23, 9, 20);
  EXPECT_FALSE(only(together.finish(), 20)->has(kThreadsOutlivedLeader));
  Feeder(apart) << fork(1 * kMs, 10, 20) << exit(3 * kMs, 20, 0) << exit(3 * kMs + 50'000, 23, 9, 20);
  EXPECT_TRUE(only(apart.finish(), 20)->has(kThreadsOutlivedLeader));
}

// A worker thread segfaults and dumps core: only its exit code has the core
// bit (0x8b), the leader's and the others' are plain 11, all within half a
// millisecond (a recording here). The parent's wait status is 0x8b.
TEST(ProcessTracker, AWorkerThreadsCoreDumpIsTheProcesssAndNoThreadOutlivedTheLeader) {
  for (bool leaderFirst : {true, false}) {
    SCOPED_TRACE(leaderFirst ? "leader's exit first" : "dumping thread's exit first");
    ProcessTracker tracker;
    Feeder feeder(tracker);
    feeder << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22);
    if (leaderFirst)
      feeder << exit(100 * kMs, 20, 11) << exit(100 * kMs + 200'000, 22, 11 | 0x80, 20)
             << exit(100 * kMs + 400'000, 21, 11, 20);
    else
      feeder << exit(100 * kMs, 22, 11 | 0x80, 20) << exit(100 * kMs + 200'000, 21, 11, 20)
             << exit(100 * kMs + 400'000, 20, 11);
    Model model = tracker.finish();
    const Process* process = only(model, 20);
    EXPECT_EQ(process->termSignal, 11);
    EXPECT_TRUE(process->coreDumped);
    EXPECT_EQ(process->exitCode, 11u | 0x80u);
    EXPECT_FALSE(process->has(kThreadsOutlivedLeader));
    EXPECT_EQ(process->endNs, 100 * kMs + 400'000);
  }
}

// The leader called pthread_exit long before a worker crashed: the workers did
// outlive it, and the crash's core still belongs to the process.
TEST(ProcessTracker, ACoreDumpAfterTheLeaderLeftIsTheProcesss) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << threadFork(2 * kMs, 20, 22)
                  << exit(3 * kMs, 20, 0) << exit(200 * kMs, 21, 11 | 0x80, 20) << exit(200 * kMs + 100'000, 22, 11, 20);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_TRUE(process->coreDumped);
  EXPECT_EQ(process->termSignal, 11);
  EXPECT_TRUE(process->has(kThreadsOutlivedLeader));
}

TEST(ProcessTracker, LeaderGoneButThreadsAliveAtEndIsOpen) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << threadFork(2 * kMs, 20, 21) << exit(3 * kMs, 20, 0);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_TRUE(process->has(kOpen));
  EXPECT_TRUE(process->has(kThreadsOutlivedLeader));
  EXPECT_FALSE(process->endNs.has_value());
}

TEST(ProcessTracker, ThreadUnknownToTheTraceOutlivingTheLeaderExtendsTheEnd) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exit(3 * kMs, 20, 0) << exit(5 * kMs, 23, 9, 20);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 1u);
  const Process* process = only(model, 20);
  EXPECT_EQ(process->endNs, 5 * kMs);
  EXPECT_EQ(process->termSignal, 9);
  EXPECT_EQ(model.counters.get(Counter::threadExitUnknown), 1u);
}

TEST(ProcessTracker, ExitStatusSignalAndCoreDumpDecode) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << fork(1 * kMs, 10, 21) << fork(1 * kMs, 10, 22)
                  << exit(2 * kMs, 20, exitedWith(255)) << exit(2 * kMs, 21, 15) << exit(2 * kMs, 22, 11 | 0x80);
  Model model = tracker.finish();
  const Process* normal = only(model, 20);
  EXPECT_EQ(normal->exitStatus, 255);
  EXPECT_FALSE(normal->termSignal);
  EXPECT_FALSE(normal->coreDumped);
  EXPECT_TRUE(normal->failed());
  const Process* killed = only(model, 21);
  EXPECT_FALSE(killed->exitStatus);
  EXPECT_EQ(killed->termSignal, 15);
  EXPECT_FALSE(killed->coreDumped);
  const Process* cored = only(model, 22);
  EXPECT_EQ(cored->termSignal, 11);
  EXPECT_TRUE(cored->coreDumped);
  EXPECT_EQ(cored->exitCode, 11u | 0x80u);
}

TEST(ProcessTracker, ExecChainTakesProcessInfoInOrder) {
  ProcessTracker tracker;
  Feeder feed(tracker);
  feed << fork(1 * kMs, 10, 20) << exec(2 * kMs, 20) << exec(3 * kMs, 20);
  feed.info(3 * kMs + 100, execInfo(20, {"sh", "-c", "exec cc a.c"}));
  feed.info(3 * kMs + 200, execInfo(20, {"cc", "a.c"}, "/work"));
  feed << exec(4 * kMs, 20);
  feed.info(4 * kMs + 100, execInfo(20, {"as", "a.s"}));
  feed << exit(5 * kMs, 20, 0);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  ASSERT_EQ(process->execs.size(), 3u);
  EXPECT_EQ(process->execs[0].timeNs, 2 * kMs);
  EXPECT_EQ(process->execs[0].image->exe, "/usr/bin/sh");
  EXPECT_EQ(process->execs[1].image->argv, (std::vector<std::string>{"cc", "a.c"}));
  EXPECT_EQ(process->execs[1].image->cwd, "/work");
  EXPECT_EQ(process->execs[2].image->exe, "/usr/bin/as");
  EXPECT_EQ(process->lastImage()->exe, "/usr/bin/as");
  EXPECT_EQ(process->euid, 1000u);
  EXPECT_EQ(model.counters.get(Counter::execInfoMissing), 0u);
}

TEST(ProcessTracker, ExecInfoMissesStayMissesAndLostRecordsAreCounted) {
  ProcessTracker tracker;
  Feeder feed(tracker);
  auto gone = execInfo(20, {});
  gone.misses = {{format::InfoField::argv, format::MissReason::gone, 2}, {format::InfoField::cwd, format::MissReason::gone, 2}};
  feed << fork(1 * kMs, 10, 20) << exec(2 * kMs, 20);
  feed.info(2 * kMs + 50, gone);
  feed << fork(3 * kMs, 10, 21) << exec(4 * kMs, 21) << exit(5 * kMs, 21, 0);  // no record ever comes
  feed.info(6 * kMs, execInfo(22, {"ghost"}));                                // no such process
  Model model = tracker.finish();
  const Image& missed = *only(model, 20)->execs[0].image;
  EXPECT_TRUE(missed.infoSeen);
  EXPECT_FALSE(missed.argv.has_value());
  EXPECT_FALSE(missed.cwd.has_value());
  EXPECT_EQ(missed.argvMiss, format::MissReason::gone);
  EXPECT_FALSE(only(model, 21)->execs[0].image->infoSeen);
  EXPECT_EQ(model.counters.get(Counter::execInfoPartial), 1u);
  EXPECT_EQ(model.counters.get(Counter::execInfoMissing), 1u);
  EXPECT_EQ(model.counters.get(Counter::processInfoUnmatched), 1u);
}

TEST(ProcessTracker, ForkedChildRunsParentImageUntilItsExec) {
  ProcessTracker tracker;
  Feeder feed(tracker);
  feed << fork(1 * kMs, 10, 20) << exec(2 * kMs, 20) << fork(2 * kMs + 10, 20, 21);
  feed.info(2 * kMs + 50, execInfo(20, {"make"}));  // arrives after the child's fork: shared, so seen
  Model model = tracker.finish();
  const Process* child = only(model, 21);
  ASSERT_TRUE(child->inherited);
  EXPECT_EQ(child->inherited->exe, "/usr/bin/make");
  EXPECT_TRUE(child->execs.empty());
}

TEST(ProcessTracker, SnapshotGivesParentsAndMarksStartBeforeTrace) {
  ProcessTracker tracker;
  format::Snapshot snapshot;
  snapshot.processes = {snapshotEntry(300, 200, {"vim"}), snapshotEntry(200, 1, {"bash"}), snapshotEntry(1, 0, {"init"})};
  tracker.onSnapshot(1 * kMs, snapshot);
  Feeder(tracker) << fork(2 * kMs, 200, 400) << exit(3 * kMs, 400, 0) << exit(4 * kMs, 300, exitedWith(0));
  Model model = tracker.finish();
  const Process* vim = only(model, 300);
  const Process* bash = only(model, 200);
  EXPECT_EQ(vim->parentId, bash->id);
  EXPECT_EQ(vim->parentPid, 200);
  EXPECT_EQ(bash->parentId, only(model, 1)->id);
  EXPECT_TRUE(vim->has(kStartBeforeTrace));
  EXPECT_FALSE(vim->has(kStartUnknown));
  EXPECT_FALSE(vim->startNs.has_value());
  EXPECT_FALSE(vim->durationNs().has_value());
  EXPECT_EQ(vim->endNs, 4 * kMs);
  ASSERT_EQ(vim->execs.size(), 1u);
  EXPECT_FALSE(vim->execs[0].timeNs.has_value());  // running before the trace
  EXPECT_EQ(only(model, 400)->parentId, bash->id);
  EXPECT_EQ(model.counters.get(Counter::exitUnknownPid), 0u);
}

TEST(ProcessTracker, ForkSeenBeforeTheSnapshotIsNotDuplicated) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20);
  format::Snapshot snapshot;
  snapshot.processes = {snapshotEntry(20, 10, {"child"})};
  tracker.onSnapshot(2 * kMs, snapshot);
  Model model = tracker.finish();
  EXPECT_EQ(incarnations(model, 20), 1u);
  EXPECT_EQ(only(model, 20)->startNs, 1 * kMs);
}

TEST(ProcessTracker, ParentSeenBeforeTheSnapshotBecomesItsSnapshotEntry) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 300, 400);  // 300 forks before the snapshot record is written
  format::Snapshot snapshot;
  snapshot.processes = {snapshotEntry(300, 200, {"make"}), snapshotEntry(200, 1, {"bash"})};
  tracker.onSnapshot(2 * kMs, snapshot);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 300), 1u);
  const Process* make = only(model, 300);
  EXPECT_TRUE(make->has(kStartBeforeTrace));
  EXPECT_FALSE(make->has(kStartUnknown));
  EXPECT_EQ(make->parentId, only(model, 200)->id);
  ASSERT_EQ(make->execs.size(), 1u);
  EXPECT_EQ(make->execs[0].image->exe, "/usr/bin/make");
  EXPECT_EQ(model.counters.get(Counter::forkUnknownParent), 0u);
  // 400 never exec'd: it ran make, the image the snapshot gave its parent
  // after the fork (the recorder's probe child is such a child).
  const Process* child = only(model, 400);
  ASSERT_NE(child->lastImage(), nullptr);
  EXPECT_EQ(child->lastImage()->exe, "/usr/bin/make");
}

TEST(ProcessTracker, ProcessNotExitedAtTheEndIsOpen) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exec(2 * kMs, 20);
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_TRUE(process->has(kOpen));
  EXPECT_FALSE(process->endNs.has_value());
  EXPECT_FALSE(process->durationNs().has_value());
  EXPECT_FALSE(process->failed());
}

// A damaged or crafted trace's gaps may claim any count: the sum stays at
// the largest count rather than wrapping to a small one.
TEST(ProcessTracker, GapsClaimingHugeCountsHoldTheLostCounterAtItsMaximum) {
  ProcessTracker tracker;
  constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();
  tracker.onGap(1 * kMs, format::Gap{0, kHuge, format::GapReason::other, "crafted"});
  tracker.onGap(2 * kMs, format::Gap{0, kHuge, format::GapReason::other, "crafted"});
  EXPECT_EQ(tracker.finish().counters.get(Counter::eventsLost), kHuge);
}

TEST(ProcessTracker, GapMarksProcessesAliveAcrossItPossiblyIncomplete) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exit(2 * kMs, 20, 0) << fork(3 * kMs, 10, 21);
  tracker.onGap(5 * kMs, format::Gap{0, 12, format::GapReason::kernelOverrun, "ENOBUFS"});
  Feeder(tracker) << exit(7 * kMs, 21, 0) << fork(8 * kMs, 10, 22) << exit(9 * kMs, 22, 0);
  Model model = tracker.finish();
  EXPECT_FALSE(only(model, 20)->has(kPossiblyIncomplete));  // ended before the loss began
  EXPECT_TRUE(only(model, 21)->has(kPossiblyIncomplete));   // alive across it
  EXPECT_FALSE(only(model, 22)->has(kPossiblyIncomplete));  // started after it
  EXPECT_TRUE(only(model, 10)->has(kPossiblyIncomplete));   // the parent, alive throughout
  EXPECT_EQ(model.counters.get(Counter::gaps), 1u);
  EXPECT_EQ(model.counters.get(Counter::eventsLost), 12u);
  ASSERT_EQ(model.losses.size(), 1u);
  EXPECT_EQ(model.losses[0].fromNs, 3 * kMs);  // the record before the gap
  EXPECT_EQ(model.losses[0].toNs, 5 * kMs);
}

TEST(ProcessTracker, OpenProcessForkedAfterTheLastGapIsNotPossiblyIncomplete) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20);
  tracker.onGap(3 * kMs, format::Gap{0, 5, format::GapReason::kernelOverrun, "ENOBUFS"});
  Feeder(tracker) << fork(5 * kMs, 10, 21) << exec(6 * kMs, 21);
  Model model = tracker.finish();
  EXPECT_TRUE(only(model, 20)->has(kOpen));
  EXPECT_TRUE(only(model, 20)->has(kPossiblyIncomplete));  // alive across the gap
  EXPECT_TRUE(only(model, 21)->has(kOpen));
  EXPECT_FALSE(only(model, 21)->has(kPossiblyIncomplete));  // open too, but forked after it
}

TEST(ProcessTracker, GapsThatCannotHideProcessEventsFlagNoProcess) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20);
  tracker.onGap(3 * kMs, format::Gap{1, 7, format::GapReason::kernelOverrun, "ENOBUFS"}, /*ofProcessEvents=*/false);
  tracker.onGap(4 * kMs, format::Gap{0, 0, format::GapReason::queueOverflow, "nothing lost"});
  Feeder(tracker) << exit(5 * kMs, 20, 0) << fork(6 * kMs, 10, 20);  // a new incarnation of 20
  Model model = tracker.finish();
  for (const auto& process : model.processes) EXPECT_FALSE(process.has(kPossiblyIncomplete)) << process.pid;
  EXPECT_EQ(model.counters.get(Counter::processesPossiblyIncomplete), 0u);
  EXPECT_EQ(model.counters.get(Counter::gaps), 2u);
  EXPECT_EQ(model.counters.get(Counter::eventsLost), 7u);
  EXPECT_EQ(model.losses.size(), 2u);  // still reported
}

TEST(ProcessTracker, AnchorBeyondThePlausibleRangeLeavesItsTimesUnknown) {
  ProcessTracker tracker;
  constexpr int64_t kWall = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
  tracker.onClocks({1 * kMs, kWall, 0});
  tracker.onClocks({2 * kMs, (int64_t(1) << 62) + 1, 0});  // after 2116: not clamped, unknown
  tracker.onClocks({3 * kMs, kWall + 2 * kMs, 0});
  Model model = tracker.finish();
  EXPECT_EQ(model.wallNs(1 * kMs + 500'000), kWall + 500'000);
  EXPECT_FALSE(model.wallNs(2 * kMs + 500'000).has_value());
  EXPECT_EQ(model.wallNs(5 * kMs), kWall + 4 * kMs);
}

TEST(ProcessTracker, AnchorAtAnImplausibleMonotonicTimeGivesNoWallTime) {
  ProcessTracker tracker;
  tracker.onClocks({(int64_t(1) << 61), 1'767'225'600'000'000'000, 0});  // 73 years of uptime
  Model model = tracker.finish();
  EXPECT_FALSE(model.wallNs(5 * kMs).has_value());
  EXPECT_FALSE(model.wallNs(int64_t(1) << 61).has_value());
}

TEST(ProcessTracker, ProcessFirstSeenAtItsExitHangsUnderTheParentTheExitNames) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20);
  tracker.onGap(2 * kMs, format::Gap{0, std::nullopt, format::GapReason::kernelOverrun, ""});
  Feeder(tracker) << exitWithParent(3 * kMs, 30, exitedWith(2), 20)  // forked by 20 inside the gap
                  << exitWithParent(4 * kMs, 31, 0, 99);              // a parent the trace never saw
  Model model = tracker.finish();
  const Process* orphan = only(model, 30);
  EXPECT_EQ(orphan->parentPid, 20);
  EXPECT_EQ(orphan->parentId, only(model, 20)->id);
  EXPECT_TRUE(orphan->has(kStartUnknown));
  EXPECT_EQ(orphan->exitStatus, 2);
  EXPECT_EQ(only(model, 31)->parentPid, 99);
  EXPECT_EQ(only(model, 31)->parentId, 0u);
  EXPECT_EQ(model.counters.get(Counter::exitUnknownPid), 2u);
}

// A recorder's --keep deleted the segment with the command's fork: its child
// exits, naming it, before the trace shows the command itself, which it does
// when it forks again. A pid forked after the exit is another process.
TEST(ProcessTracker, ExitNamingAParentTheTraceShowsOnlyLaterHangsUnderIt) {
  ProcessTracker tracker;
  Feeder(tracker) << exitWithParent(1 * kMs, 30, 0, 20)   // 20 not seen yet
                  << exitWithParent(2 * kMs, 31, 0, 40)   // 40 not seen yet
                  << fork(3 * kMs, 20, 32)                // 20 shows up, start unknown
                  << fork(4 * kMs, 10, 40);               // 40 is forked after 31 exited
  Model model = tracker.finish();
  EXPECT_EQ(only(model, 30)->parentId, only(model, 20)->id);
  EXPECT_TRUE(only(model, 20)->has(kStartUnknown));
  EXPECT_EQ(only(model, 32)->parentId, only(model, 20)->id);
  EXPECT_EQ(only(model, 31)->parentPid, 40);
  EXPECT_EQ(only(model, 31)->parentId, 0u);
}

TEST(ProcessTracker, ExitForUnknownPidAndExecWithoutForkAreCounted) {
  ProcessTracker tracker;
  Feeder(tracker) << exit(1 * kMs, 50, exitedWith(1)) << exec(2 * kMs, 60) << exit(3 * kMs, 60, 0);
  Model model = tracker.finish();
  EXPECT_EQ(model.counters.get(Counter::exitUnknownPid), 1u);
  EXPECT_EQ(model.counters.get(Counter::execWithoutFork), 1u);
  const Process* unknown = only(model, 50);
  EXPECT_TRUE(unknown->has(kStartUnknown));
  EXPECT_FALSE(unknown->startNs.has_value());
  EXPECT_EQ(unknown->endNs, 1 * kMs);
  EXPECT_EQ(unknown->exitStatus, 1);
  EXPECT_TRUE(only(model, 60)->has(kStartUnknown));
  EXPECT_EQ(describe(Counter::exitUnknownPid).severity, Severity::dataLoss);
}

TEST(ProcessTracker, ForkDeliveredAfterItsChildsExecIsJoined) {
  ProcessTracker tracker;
  // The child ran on another CPU and its exec overtook the parent's fork event.
  Feeder(tracker) << exec(2 * kMs, 20) << fork(2 * kMs - 1000, 10, 20) << exit(3 * kMs, 20, 0);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 1u);
  const Process* child = only(model, 20);
  EXPECT_TRUE(child->forkSeen());
  EXPECT_FALSE(child->has(kStartUnknown));
  EXPECT_EQ(child->startNs, 2 * kMs - 1000);
  EXPECT_EQ(child->parentId, only(model, 10)->id);
  EXPECT_EQ(child->execs.size(), 1u);
  EXPECT_EQ(model.counters.get(Counter::forkDeliveredLate), 1u);
  EXPECT_EQ(model.counters.get(Counter::execWithoutFork), 0u);
}

TEST(ProcessTracker, ExitBeforeForkIsCountedAndDoesNotCrash) {
  ProcessTracker tracker;
  // Delivered out of order, kernel times in order: joined.
  Feeder(tracker) << exit(2 * kMs, 20, exitedWith(4)) << fork(1 * kMs + 999'000, 10, 20);
  // Kernel times say the exit came first: a pid reused after an unknown process's exit.
  Feeder(tracker) << exit(10 * kMs, 30, 0) << fork(50 * kMs, 10, 30);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 1u);
  EXPECT_EQ(only(model, 20)->exitStatus, 4);
  EXPECT_EQ(only(model, 20)->durationNs(), 1000);
  EXPECT_EQ(model.counters.get(Counter::exitBeforeFork), 1u);
  EXPECT_EQ(incarnations(model, 30), 2u);
  EXPECT_TRUE(only(model, 30, 1)->has(kOpen));
}

TEST(ProcessTracker, DuplicateExitIsCountedAndIgnored) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exit(2 * kMs, 20, exitedWith(1)) << exit(2 * kMs, 20, exitedWith(1))
                  << exit(3 * kMs, 20, 9);
  Model model = tracker.finish();
  ASSERT_EQ(incarnations(model, 20), 1u);
  EXPECT_EQ(only(model, 20)->endNs, 2 * kMs);
  EXPECT_EQ(only(model, 20)->exitStatus, 1);
  EXPECT_TRUE(only(model, 20)->has(kDuplicateExit));
  EXPECT_EQ(model.counters.get(Counter::duplicateExit), 2u);
  EXPECT_EQ(describe(Counter::duplicateExit).severity, Severity::error);
}

TEST(ProcessTracker, DuplicateForkIsCountedAndIgnored) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << fork(1 * kMs, 10, 20) << exit(2 * kMs, 20, 0);
  Model model = tracker.finish();
  EXPECT_EQ(incarnations(model, 20), 1u);
  EXPECT_EQ(model.counters.get(Counter::duplicateFork), 1u);
}

TEST(ProcessTracker, ExitAfterAGapWithItsForkLostIsANewProcess) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << exit(2 * kMs, 20, 0);
  tracker.onGap(3 * kMs, format::Gap{0, std::nullopt, format::GapReason::kernelOverrun, ""});
  Feeder(tracker) << exit(4 * kMs, 20, 0);  // the pid's next fork fell into the gap
  Model model = tracker.finish();
  EXPECT_EQ(incarnations(model, 20), 2u);
  EXPECT_EQ(model.counters.get(Counter::duplicateExit), 0u);
  EXPECT_EQ(model.counters.get(Counter::gapsCountUnknown), 1u);
}

TEST(ProcessTracker, AttributesAttachToTheProcess) {
  ProcessTracker tracker;
  ProcEvent uid = procEvent(ProcEventType::uid, 2 * kMs);
  uid.processPid = uid.processTgid = 20;
  uid.ruid = 1000;
  uid.euid = 0;
  ProcEvent uid2 = uid;
  uid2.euid = 1000;
  ProcEvent sid = procEvent(ProcEventType::sid, 3 * kMs);
  sid.processPid = sid.processTgid = 20;
  ProcEvent comm = procEvent(ProcEventType::comm, 3 * kMs);
  comm.processPid = comm.processTgid = 20;
  comm.comm = "worker";
  ProcEvent threadComm = comm;
  threadComm.processPid = 21;
  threadComm.comm = "thread-name";
  ProcEvent ptrace = procEvent(ProcEventType::ptrace, 3 * kMs);
  ptrace.processPid = ptrace.processTgid = 20;
  ptrace.tracerPid = ptrace.tracerTgid = 99;
  ProcEvent core = procEvent(ProcEventType::coredump, 4 * kMs);
  core.processPid = core.processTgid = 20;
  Feeder(tracker) << fork(1 * kMs, 10, 20) << uid << uid2 << sid << comm << threadComm << ptrace << core;
  Model model = tracker.finish();
  const Process* process = only(model, 20);
  EXPECT_EQ(process->ruid, 1000u);
  EXPECT_EQ(process->euid, 1000u);
  EXPECT_TRUE(process->has(kCredentialsChanged));
  EXPECT_TRUE(process->has(kSessionLeader));
  EXPECT_EQ(process->comm, "worker");
  EXPECT_TRUE(process->has(kTraced));
  EXPECT_EQ(process->tracerPid, 99);
  EXPECT_TRUE(process->has(kCoredumpEvent));
}

// su, a daemon dropping root: the child forks with its parent's ids and
// changes them before (or without) an exec.
TEST(ProcessTracker, AForkedChildHasItsParentsIdsAndNameSoItsFirstUidChangeIsFlagged) {
  ProcessTracker tracker;
  ProcEvent drop = procEvent(ProcEventType::uid, 3 * kMs);
  drop.processPid = drop.processTgid = 20;
  drop.ruid = drop.euid = 65534;
  format::ProcessInfo root = execInfo(10, {"su"});
  root.ruid = root.euid = 0;
  root.comm = "su";
  Feeder(tracker) << exec(1 * kMs, 10);
  Feeder(tracker).info(1 * kMs + 100'000, root);
  Feeder(tracker) << fork(2 * kMs, 10, 20) << fork(2 * kMs, 10, 21) << drop;
  Model model = tracker.finish();
  const Process* dropped = only(model, 20);
  EXPECT_TRUE(dropped->has(kCredentialsChanged));
  EXPECT_EQ(dropped->ruid, 65534u);
  EXPECT_EQ(dropped->rgid, 1000u);  // its parent's, unchanged
  const Process* kept = only(model, 21);
  EXPECT_FALSE(kept->has(kCredentialsChanged));
  EXPECT_EQ(kept->ruid, 0u);
  EXPECT_EQ(kept->comm, "su");  // the name, too, is copied at the fork
}

// A set-user-ID program (sudo) changes the ids at exec, with no uid event:
// the exec's process info shows it.
TEST(ProcessTracker, AnExecThatChangesTheIdsIsFlaggedByItsProcessInfo) {
  ProcessTracker tracker;
  format::ProcessInfo sudo = execInfo(20, {"sudo", "make", "install"});
  sudo.euid = 0;
  Feeder(tracker) << exec(1 * kMs, 10);
  Feeder(tracker).info(1 * kMs + 100'000, execInfo(10, {"make"}));
  Feeder(tracker) << fork(2 * kMs, 10, 20) << exec(3 * kMs, 20);
  Feeder(tracker).info(3 * kMs + 100'000, sudo);
  Model model = tracker.finish();
  EXPECT_TRUE(only(model, 20)->has(kCredentialsChanged));
  EXPECT_EQ(only(model, 20)->euid, 0u);
  EXPECT_FALSE(only(model, 10)->has(kCredentialsChanged));
}

TEST(ProcessTracker, InvalidPidsAndUnknownEventsAreCountedAndIgnored) {
  ProcessTracker tracker;
  ProcEvent unknown = procEvent(ProcEventType::unknown, 1 * kMs);
  Feeder(tracker) << fork(1 * kMs, 10, 0) << exec(1 * kMs, -5) << exit(1 * kMs, 0, 0) << unknown;
  Model model = tracker.finish();
  EXPECT_TRUE(model.processes.size() <= 1u);  // at most the parent of the bad fork
  EXPECT_EQ(model.counters.get(Counter::invalidPid), 3u);
  EXPECT_EQ(model.counters.get(Counter::unknownEvents), 1u);
}

TEST(ProcessTracker, ParentCyclesFromNonsenseForksAreCut) {
  ProcessTracker tracker;
  // 20 appears by exec, forks 21; then "21 forks 20" arrives and would make 21 its parent.
  Feeder(tracker) << exec(10 * kMs, 20) << fork(10 * kMs + 1, 20, 21) << fork(10 * kMs, 21, 20);
  Model model = tracker.finish();
  for (const auto& process : model.processes) {
    ProcessId id = process.parentId;
    for (size_t steps = 0; id != 0; ++steps) {
      ASSERT_LT(steps, model.processes.size()) << "cycle through pid " << process.pid;
      id = model.find(id)->parentId;
    }
  }
}

// Random event soup: whatever the order, the tracker neither crashes nor
// builds a model that breaks its own invariants.
TEST(ProcessTracker, RandomEventOrdersNeverCrash) {
  std::mt19937 random(12345);
  for (int round = 0; round < 50; ++round) {
    ProcessTracker tracker;
    Feeder feed(tracker);
    for (int i = 0; i < 400; ++i) {
      int64_t t = int64_t(random() % 1000) * kMs;
      int32_t a = int32_t(random() % 12), b = int32_t(random() % 12);
      switch (random() % 7) {
        case 0: feed << fork(t, a, b); break;
        case 1: feed << threadFork(t, a, b + 100); break;
        case 2: feed << exec(t, a); break;
        case 3: feed << exit(t, a, uint32_t(random()), b % 2 ? a : b); break;
        case 4: feed.info(t, execInfo(a, {"x"})); break;
        case 5: tracker.onGap(t, format::Gap{}); break;
        default: {
          format::Snapshot snapshot;
          snapshot.processes = {snapshotEntry(a, b, {"s"}), snapshotEntry(b, a, {"t"})};
          tracker.onSnapshot(t, snapshot);
        }
      }
    }
    Model model = tracker.finish();
    for (const auto& process : model.processes) {
      ASSERT_EQ(model.find(process.id), &process);
      ASSERT_TRUE(process.parentId == 0 || model.find(process.parentId));
      ASSERT_FALSE(process.has(kOpen) && process.ended());
      auto duration = process.durationNs();
      ASSERT_TRUE(!duration || *duration >= 0);
    }
  }
}

}  // namespace
}  // namespace proctape::test::analyze
