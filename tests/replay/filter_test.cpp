// Filters: --pid (with --descendants), --type, --since/--until, --source, combined.
#include <gtest/gtest.h>

#include "replay_support.h"

namespace proctape::test {
namespace {

using replay::EventType;
using replay::EventTypeSet;

std::string filtered(const std::string& path, replay::FilterOptions filter,
                     replay::Format format = replay::Format::text) {
  auto o = options(format);
  if (filter.types == EventTypeSet::all()) filter.types = replay::defaultTypes(format);
  o.filter = filter;
  return render(path, o);
}

// --pid PID --descendants.
replay::FilterOptions descendantsOf(int32_t pid) {
  replay::FilterOptions filter;
  filter.pid = pid;
  filter.descendants = true;
  return filter;
}

// 100 forks 200 and 201; 200 forks 300 and starts a thread 202; 400 is
// unrelated; 300 exits, and its pid is then reused by a child of 400.
std::string familyTrace(TraceBuilder& trace) {
  trace.proc(1 * kSec, frames::fork(100, 100, 200, 200))
      .proc(2 * kSec, frames::fork(100, 100, 201, 201))
      .proc(3 * kSec, frames::fork(200, 200, 300, 300))
      .proc(4 * kSec, frames::fork(100, 100, 202, 200))
      .proc(5 * kSec, frames::exec(300, 300))
      .proc(6 * kSec, frames::fork(400, 400, 401, 401))
      .proc(7 * kSec, frames::exit(300, 300, 0, 17, 200, 200))
      .proc(8 * kSec, frames::fork(400, 400, 300, 300))
      .proc(9 * kSec, frames::exec(300, 300))
      .route(10 * kSec, frames::link());
  return trace.close();
}

TEST(Filter, PidAloneShowsEventsAboutThatPid) {
  TraceBuilder trace;
  replay::FilterOptions filter;
  filter.pid = 200;
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "fork(): ? (100, 100) -> (200, 200)\n"
            "fork(): ? (200, 200) -> (300, 300)\n"
            "fork(): ? (100, 100) -> (202, 200)\n");
}

TEST(Filter, DescendantsFollowForksAndForgetExitedPids) {
  TraceBuilder trace;
  replay::FilterOptions filter = descendantsOf(100);
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "fork(): ? (100, 100) -> (200, 200)\n"
            "fork(): ? (100, 100) -> (201, 201)\n"
            "fork(): ? (200, 200) -> (300, 300)\n"
            "fork(): ? (100, 100) -> (202, 200)\n"
            "exec(): ? (300, 300)\n"
            "exit(): (300, 300) -> rc=0\n");
}

// The kernel names a new thread's parent as its process's parent: a thread
// fork is how a trace may first learn that a thread group (500, forked
// before the trace began) is a child of the pid asked for.
TEST(Filter, DescendantsIncludeAThreadGroupFirstSeenThroughItsThread) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(100, 100, 502, 500))
      .proc(2 * kSec, frames::fork(500, 500, 600, 600))
      .proc(3 * kSec, frames::exec(600, 600))
      .proc(4 * kSec, frames::exit(600, 600, 0, 17, 500, 500))
      .proc(5 * kSec, frames::sid(700, 700));
  replay::FilterOptions filter = descendantsOf(100);
  EXPECT_EQ(filtered(trace.close(), filter),
            "fork(): ? (100, 100) -> (502, 500)\n"
            "fork(): ? (500, 500) -> (600, 600)\n"
            "exec(): ? (600, 600)\n"
            "exit(): (600, 600) -> rc=0\n");
}

TEST(Filter, DescendantsFromTheSnapshot) {
  format::Snapshot snapshot;
  snapshot.processes = {processInfo(50, 1, "/bin/init-child", {}, format::InfoReason::snapshot),
                        processInfo(60, 50, "/bin/child", {}, format::InfoReason::snapshot),
                        processInfo(70, 60, "/bin/grandchild", {}, format::InfoReason::snapshot),
                        processInfo(80, 1, "/bin/other", {}, format::InfoReason::snapshot)};
  TraceBuilder trace;
  trace.snapshot(0, snapshot)
      .proc(1 * kSec, frames::sid(70, 70))
      .proc(2 * kSec, frames::sid(80, 80))
      .proc(3 * kSec, frames::sid(60, 60));
  replay::FilterOptions filter = descendantsOf(50);
  EXPECT_EQ(filtered(trace.close(), filter),
            "sid(): /bin/grandchild (70, 70)\n"
            "sid(): /bin/child (60, 60)\n");
}

TEST(Filter, PidKeepsGapsAndDecodeErrors) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::sid(5, 5))
      .gap(2 * kSec, {kProcSource, 2, format::GapReason::kernelOverrun, ""})
      .proc(3 * kSec, frames::sid(6, 6));
  replay::FilterOptions filter;
  filter.pid = 6;
  EXPECT_EQ(filtered(trace.close(), filter),
            "gap: 2 events lost on source 0 (kernel overrun)\n"
            "sid(): ? (6, 6)\n");
}

TEST(Filter, Types) {
  TraceBuilder trace;
  replay::FilterOptions filter;
  filter.types = EventTypeSet::none().add(EventType::exec).add(EventType::link);
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "exec(): ? (300, 300)\n"
            "exec(): ? (300, 300)\n"
            "link eth0(2) NEWLINK up running mtu 1500 mac 08:00:27:41:de:23\n");
}

TEST(Filter, SinceAndUntilInSecondsFromTheStartAreHalfOpen) {
  TraceBuilder trace;
  replay::FilterOptions filter;
  filter.since = replay::TimeBound{false, 3 * kSec};
  filter.until = replay::TimeBound{false, 5 * kSec};
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "fork(): ? (200, 200) -> (300, 300)\n"
            "fork(): ? (100, 100) -> (202, 200)\n");
}

TEST(Filter, SinceAndUntilCountAProcessEventsKernelTime) {
  // Captured together at 5 s, made by the kernel at 3.5 s and 4.5 s.
  TraceBuilder trace;
  trace.proc(5 * kSec, frames::sid(1, 1, {.timestampNs = 3 * kSec + 500 * kMs}))
      .proc(5 * kSec, frames::sid(2, 2, {.timestampNs = 4 * kSec + 500 * kMs}));
  std::string bytes = trace.close();
  replay::FilterOptions filter;
  filter.since = replay::TimeBound{false, 4 * kSec};
  EXPECT_EQ(filtered(bytes, filter), "sid(): ? (2, 2)\n");
  filter.since.reset();
  filter.until = replay::TimeBound{false, 4 * kSec};
  EXPECT_EQ(filtered(bytes, filter), "sid(): ? (1, 1)\n");
}

TEST(Filter, SinceAndUntilAsWallClockTimes) {
  TraceBuilder trace;
  replay::FilterOptions filter;
  filter.since = replay::parseTimeBound("2026-01-01T00:00:08Z").value();
  filter.until = replay::parseTimeBound("2026-01-01T01:00:09.5+01:00").value();
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "fork(): ? (400, 400) -> (300, 300)\n"
            "exec(): ? (300, 300)\n");
}

TEST(Filter, Sources) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::sid(5, 5))
      .info(1 * kSec, processInfo(5, 1, "/bin/x", {"x"}, format::InfoReason::other))
      .route(2 * kSec, frames::link())
      .gap(3 * kSec, {kRouteSource, 1, format::GapReason::other, ""});
  std::string path = trace.close();
  replay::FilterOptions filter;
  filter.types = EventTypeSet::all();
  filter.sources = {kRouteSource};
  auto route = filtered(path, filter, replay::Format::json);
  EXPECT_NE(route.find(R"("type":"link")"), std::string::npos);
  EXPECT_NE(route.find(R"("type":"gap")"), std::string::npos);
  EXPECT_EQ(route.find(R"("type":"sid")"), std::string::npos);
  EXPECT_EQ(route.find(R"("type":"process_info")"), std::string::npos);
  filter.sources = {kProcSource};
  auto proc = filtered(path, filter, replay::Format::json);
  EXPECT_NE(proc.find(R"("type":"sid")"), std::string::npos);
  EXPECT_NE(proc.find(R"("type":"process_info")"), std::string::npos);  // side records go with the connector
  EXPECT_EQ(proc.find(R"("type":"link")"), std::string::npos);
  EXPECT_EQ(proc.find(R"("type":"gap")"), std::string::npos);
}

TEST(Filter, AllCombine) {
  TraceBuilder trace;
  replay::FilterOptions filter = descendantsOf(100);
  filter.types = EventTypeSet::none().add(EventType::fork);
  filter.since = replay::TimeBound{false, 2 * kSec};
  filter.sources = {kProcSource};
  EXPECT_EQ(filtered(familyTrace(trace), filter),
            "fork(): ? (100, 100) -> (201, 201)\n"
            "fork(): ? (200, 200) -> (300, 300)\n"
            "fork(): ? (100, 100) -> (202, 200)\n");
}

TEST(TimeBound, Parses) {
  auto seconds = replay::parseTimeBound("12.5");
  ASSERT_TRUE(seconds.ok());
  EXPECT_FALSE(seconds->wall);
  EXPECT_EQ(seconds->ns, 12'500'000'000);
  auto utc = replay::parseTimeBound("2026-11-22T10:00:00Z");
  ASSERT_TRUE(utc.ok());
  EXPECT_TRUE(utc->wall);
  EXPECT_EQ(utc->ns, 1'795'341'600'000'000'000);
  auto fraction = replay::parseTimeBound("2026-11-22 10:00:00.25-02:30");
  ASSERT_TRUE(fraction.ok());
  EXPECT_EQ(fraction->ns, 1'795'341'600'000'000'000 + 9000 * kSec + 250 * kMs);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  auto local = replay::parseTimeBound("2026-11-22T10:00:00");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->ns, 1'795'341'600'000'000'000);
  for (const char* bad : {"", "-1", "abc", "1e3x", "2026-13-01T00:00:00Z", "2026-11-22T10:00:00+25:00",
                          "2026-11-22T10:00", "2026-11-22T10:00:00.Z", "2026-02-30T00:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z"})
    EXPECT_FALSE(replay::parseTimeBound(bad).ok()) << bad;
  auto leapDay = replay::parseTimeBound("2028-02-29T00:00:00Z");
  ASSERT_TRUE(leapDay.ok());
  EXPECT_EQ(leapDay->ns, 1'835'395'200'000'000'000);
}

// Nanoseconds since 1970 in 64 bits end in 2262: a later (or pre-1678) time
// is refused by name, never wrapped into one that selects the wrong events.
TEST(TimeBound, WallTimesBeyondNanosecondRangeAreRefused) {
  for (const char* far : {"2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1600-01-01T00:00:00Z"}) {
    auto bound = replay::parseTimeBound(far);
    ASSERT_FALSE(bound.ok()) << far;
    EXPECT_NE(bound.error().message.find("run from 1678 to 2261"), std::string::npos) << bound.error().message;
  }
  EXPECT_TRUE(replay::parseTimeBound("2261-12-31T23:59:59Z").ok());
  EXPECT_TRUE(replay::parseTimeBound("1678-01-01T00:00:00Z").ok());
}

}  // namespace
}  // namespace proctape::test
