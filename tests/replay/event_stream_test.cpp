// Names from process info and snapshots, fork inheritance, and the bounded
// lookahead that lets an exec line show its new image.
#include <gtest/gtest.h>

#include "replay_support.h"

namespace proctape::test {
namespace {

format::Snapshot snapshotOf(std::initializer_list<format::ProcessInfo> processes) {
  format::Snapshot snapshot;
  snapshot.processes = processes;
  return snapshot;
}

format::ProcessInfo snap(int32_t pid, int32_t ppid, const std::string& exe) {
  return processInfo(pid, ppid, exe, {exe}, format::InfoReason::snapshot);
}

TEST(Names, ForkChildrenInheritUntilTheirExecInfoArrives) {
  TraceBuilder trace;
  trace.snapshot(0, snapshotOf({snap(100, 1, "/usr/bin/make")}))
      .proc(1 * kSec, frames::fork(100, 100, 200, 200))
      .proc(1 * kSec + 1 * kMs, frames::uid(200, 200, 0, 0))  // before its exec: still make
      .proc(1 * kSec + 2 * kMs, frames::exec(200, 200))
      .info(1 * kSec + 4 * kMs, processInfo(200, 100, "/usr/bin/gcc", {"gcc", "-c", "a.c"}))
      .proc(1 * kSec + 9 * kMs, frames::sid(200, 200))
      .proc(2 * kSec, frames::exit(200, 200, 0, 17, 100, 100));
  EXPECT_EQ(renderText(trace.close()),
            "fork(): /usr/bin/make (100, 100) -> (200, 200)\n"
            "uid(): /usr/bin/make (200, 200) ruid=0 euid=0\n"
            "exec(): /usr/bin/gcc (200, 200)\n"
            "sid(): /usr/bin/gcc (200, 200)\n"
            "exit(): (200, 200) -> rc=0\n");
}

TEST(Names, ExeElseArgv0ElseCommElseQuestionMark) {
  auto noExe = processInfo(11, 1, "", {"python3", "x.py"}, format::InfoReason::snapshot);
  noExe.misses.push_back({format::InfoField::exe, format::MissReason::permission, 13});
  auto commOnly = processInfo(12, 1, "", {}, format::InfoReason::snapshot);
  commOnly.comm = "kworker/0:1";
  commOnly.misses.push_back({format::InfoField::exe, format::MissReason::other, 2});
  commOnly.misses.push_back({format::InfoField::argv, format::MissReason::other, 0});
  auto nothing = processInfo(13, 1, "", {}, format::InfoReason::snapshot);
  nothing.misses.push_back({format::InfoField::all, format::MissReason::gone, 3});
  TraceBuilder trace;
  trace.snapshot(0, snapshotOf({snap(10, 1, "/bin/bash"), noExe, commOnly, nothing}))
      .proc(1 * kSec, frames::sid(10, 10))
      .proc(1 * kSec, frames::sid(11, 11))
      .proc(1 * kSec, frames::sid(12, 12))
      .proc(1 * kSec, frames::sid(13, 13));
  EXPECT_EQ(renderText(trace.close()),
            "sid(): /bin/bash (10, 10)\n"
            "sid(): python3 (11, 11)\n"
            "sid(): kworker/0:1 (12, 12)\n"
            "sid(): ? (13, 13)\n");
}

TEST(Names, ThreadsDoNotRenameTheirProcess) {
  TraceBuilder trace;
  trace.snapshot(0, snapshotOf({snap(100, 1, "/usr/bin/java"), snap(1, 0, "/sbin/init")}))
      // A new thread: the kernel gives the process's parent as parent_pid.
      .proc(1 * kSec, frames::fork(1, 1, 105, 100))
      .proc(2 * kSec, frames::comm(105, 100, "GC Thread"))
      .proc(3 * kSec, frames::exit(105, 100, 0, uint32_t(-1), 1, 1))
      .proc(4 * kSec, frames::sid(100, 100));
  EXPECT_EQ(renderText(trace.close()),
            "fork(): /sbin/init (1, 1) -> (105, 100)\n"
            "comm(): /usr/bin/java (105, 100) comm=GC Thread\n"
            "exit(): (105, 100) -> rc=0\n"
            "sid(): /usr/bin/java (100, 100)\n");
}

TEST(Names, ExecWithoutProcessInfoIsUnknownUntilInfoArrives) {
  TraceBuilder trace;
  trace.snapshot(0, snapshotOf({snap(100, 1, "/bin/sh")}))
      .proc(1 * kSec, frames::fork(100, 100, 200, 200))
      .proc(1 * kSec, frames::exec(200, 200))
      .proc(1 * kSec + 60 * kMs, frames::sid(200, 200))
      // 100 ms after the exec: beyond the 50 ms lookahead, so the exec line
      // went out without it, but later lines use it.
      .info(1 * kSec + 100 * kMs, processInfo(200, 100, "/bin/late", {"late"}))
      .proc(1 * kSec + 200 * kMs, frames::sid(200, 200));
  EXPECT_EQ(renderText(trace.close()),
            "fork(): /bin/sh (100, 100) -> (200, 200)\n"
            "exec(): ? (200, 200)\n"
            "sid(): ? (200, 200)\n"
            "sid(): /bin/late (200, 200)\n");
}

TEST(Names, LookaheadIsBoundedByEventCount) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::exec(200, 200));
  for (int i = 0; i < 10; ++i) trace.proc(1 * kSec, frames::sid(300 + i, 300 + i));
  trace.info(1 * kSec, processInfo(200, 1, "/bin/x", {"x"}));
  auto o = options(replay::Format::text);
  o.stream.lookaheadEvents = 4;
  std::string text = render(trace.close(), o);
  EXPECT_EQ(text.substr(0, text.find('\n')), "exec(): ? (200, 200)");
}

TEST(Names, LookaheadKeepsOrderAndMatchesTheRightExec) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 200, 200))
      .proc(1 * kSec, frames::fork(1, 1, 201, 201))
      .proc(1 * kSec + 1 * kMs, frames::exec(200, 200))
      .proc(1 * kSec + 2 * kMs, frames::exec(201, 201))
      .proc(1 * kSec + 3 * kMs, frames::exit(300, 300, 0, 17, 1, 1))
      .info(1 * kSec + 4 * kMs, processInfo(201, 1, "/bin/second", {"second"}))
      .info(1 * kSec + 5 * kMs, processInfo(200, 1, "/bin/first", {"first"}));
  EXPECT_EQ(renderText(trace.close()),
            "fork(): ? (1, 1) -> (200, 200)\n"
            "fork(): ? (1, 1) -> (201, 201)\n"
            "exec(): /bin/first (200, 200)\n"
            "exec(): /bin/second (201, 201)\n"
            "exit(): (300, 300) -> rc=0\n");
}

TEST(Names, PidReuseTakesTheNewParentsName) {
  TraceBuilder trace;
  trace.snapshot(0, snapshotOf({snap(100, 1, "/bin/a"), snap(101, 1, "/bin/b")}))
      .proc(1 * kSec, frames::fork(100, 100, 500, 500))
      .proc(2 * kSec, frames::exit(500, 500, 0, 17, 100, 100))
      .proc(3 * kSec, frames::fork(101, 101, 500, 500))
      .proc(4 * kSec, frames::sid(500, 500));
  std::string text = renderText(trace.close());
  EXPECT_EQ(text.substr(text.rfind("sid")), "sid(): /bin/b (500, 500)\n");
}

TEST(EventStream, CountsEveryEventTypeAndKeepsTheTraceStart) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 2, 2))
      .proc(2 * kSec, frames::exec(2, 2))
      .route(3 * kSec, frames::concat({frames::link(), frames::done()}))
      .gap(4 * kSec, {0, 1, format::GapReason::other, ""});
  auto rendered = replay::renderTrace(trace.close(), options(replay::Format::json));
  ASSERT_TRUE(rendered.ok());
  const auto& stats = rendered->summary.stats;
  EXPECT_EQ(stats.events[size_t(replay::EventType::fork)], 1u);
  EXPECT_EQ(stats.events[size_t(replay::EventType::exec)], 1u);
  EXPECT_EQ(stats.events[size_t(replay::EventType::link)], 1u);
  EXPECT_EQ(stats.events[size_t(replay::EventType::netlinkControl)], 1u);
  EXPECT_EQ(stats.events[size_t(replay::EventType::gap)], 1u);
  EXPECT_EQ(stats.frames, 3u);
  EXPECT_EQ(stats.firstTimeNs, 0);  // the deterministic writer's meta
  EXPECT_EQ(stats.lastTimeNs, 4 * kSec);
  EXPECT_EQ(rendered->summary.events, 5u);
  EXPECT_TRUE(rendered->damage.empty());
}

}  // namespace
}  // namespace proctape::test
