// Scope, summary figures, critical path and parallelism on small synthetic builds.
#include "proctape/analyze/summary.h"

#include <gtest/gtest.h>

#include "events.h"
#include "proctape/analyze/load.h"
#include "proctape/analyze/scope.h"

namespace proctape::test::analyze {
namespace {

using namespace proctape::analyze;

// make (pid 100, 0-100 ms) runs cc a.c (10-40) and cc b.c (10-60) in
// parallel, then ld (60-95), and works alone at both ends. An unrelated
// daemon (pid 500) lives beside it.
Model smallBuild() {
  ProcessTracker tracker;
  Feeder feed(tracker);
  feed << fork(0, 1, 100) << exec(0, 100);
  feed.info(1, execInfo(100, {"make", "-j2"}));
  feed << fork(10 * kMs, 100, 101) << exec(10 * kMs, 101);
  feed.info(10 * kMs + 1, execInfo(101, {"cc", "-c", "a.c"}));
  feed << fork(10 * kMs, 100, 102) << exec(10 * kMs, 102);
  feed.info(10 * kMs + 2, execInfo(102, {"cc", "-c", "b.c"}));
  feed << fork(20 * kMs, 1, 500) << exit(40 * kMs, 101, 0) << exit(60 * kMs, 102, 0);
  feed << fork(60 * kMs, 100, 103) << exec(60 * kMs, 103);
  feed.info(60 * kMs + 1, execInfo(103, {"ld", "-o", "app"}));
  feed << exit(95 * kMs, 103, exitedWith(1)) << exit(100 * kMs, 100, exitedWith(2));
  tracker.setSpan(0, 120 * kMs);
  return tracker.finish();
}

Scope scopeOf(const Model& model, const ProcessTree& tree, ScopeOptions options, int32_t commandPid = 0) {
  auto scope = selectScope(model, tree, options, commandPid);
  EXPECT_TRUE(scope.ok());
  return scope.ok() ? scope.value() : Scope{};
}

int32_t pidOf(const Model& model, ProcessId id) { return id ? model.find(id)->pid : 0; }

TEST(Scope, CommandPidPicksItsSubtree) {
  Model model = smallBuild();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {}, 100);
  EXPECT_EQ(scope.count, 4u);
  EXPECT_EQ(scope.description, "command pid 100");
  ASSERT_EQ(scope.roots.size(), 1u);
  EXPECT_EQ(pidOf(model, scope.roots[0]), 100);
  auto walk = walkTree(tree, scope);
  ASSERT_EQ(walk.size(), 4u);
  EXPECT_EQ(pidOf(model, walk[0].id), 100);
  EXPECT_EQ(walk[1].depth, 1u);
}

TEST(Scope, RootPidAllAndMissingPids) {
  Model model = smallBuild();
  ProcessTree tree(model);
  EXPECT_EQ(scopeOf(model, tree, {102, false}, 100).count, 1u);
  Scope all = scopeOf(model, tree, {std::nullopt, true}, 100);
  EXPECT_EQ(all.count, model.processes.size());
  EXPECT_EQ(all.roots.size(), 1u);  // init (pid 1), seen as a parent
  EXPECT_FALSE(selectScope(model, tree, {4242, false}, 0).ok());
  Scope fallback = scopeOf(model, tree, {}, 4242);
  EXPECT_EQ(fallback.count, model.processes.size());
  EXPECT_NE(fallback.description.find("not in the trace"), std::string::npos);
}

TEST(Summary, CriticalPathOfASmallBuild) {
  Model model = smallBuild();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {}, 100);
  Summary summary = summarize(model, tree, scope, {});
  EXPECT_EQ(summary.wallNs, 100 * kMs);
  const auto& path = summary.criticalPath;
  ASSERT_EQ(path.size(), 4u);
  struct Expected {
    int32_t pid;
    int64_t from, to;
    uint32_t depth;
  };
  Expected expected[] = {{100, 0, 10 * kMs, 0}, {102, 10 * kMs, 60 * kMs, 1}, {103, 60 * kMs, 95 * kMs, 1},
                         {100, 95 * kMs, 100 * kMs, 0}};
  double shares = 0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(pidOf(model, path[i].id), expected[i].pid) << i;
    EXPECT_EQ(path[i].fromNs, expected[i].from) << i;
    EXPECT_EQ(path[i].toNs, expected[i].to) << i;
    EXPECT_EQ(path[i].depth, expected[i].depth) << i;
    shares += path[i].share;
  }
  EXPECT_DOUBLE_EQ(path[1].share, 0.5);
  EXPECT_NEAR(shares, 1.0, 1e-9);
}

TEST(Summary, ParallelismCountsLeavesNotWaitingParents) {
  Model model = smallBuild();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {}, 100);
  Summary summary = summarize(model, tree, scope, {});
  EXPECT_EQ(summary.parallelism.peak, 2u);
  EXPECT_EQ(summary.parallelism.peakAtNs, 10 * kMs);
  // make 0-10, two cc 10-40, one cc 40-60, ld 60-95, make 95-100: 130 ms of work in 100 ms.
  EXPECT_NEAR(summary.parallelism.average, 1.3, 1e-9);
}

TEST(Summary, CountsFailuresAndTopCommandsByExecutable) {
  Model model = smallBuild();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {}, 100);
  Summary summary = summarize(model, tree, scope, {2});
  EXPECT_EQ(summary.processes, 4u);
  EXPECT_EQ(summary.execs, 4u);
  ASSERT_EQ(summary.failures.size(), 2u);
  EXPECT_EQ(pidOf(model, summary.failures[0]), 103);  // by end time
  EXPECT_EQ(pidOf(model, summary.failures[1]), 100);
  ASSERT_EQ(summary.topByTotal.size(), 2u);
  EXPECT_EQ(summary.topByTotal[0].exe, "/usr/bin/make");
  EXPECT_EQ(summary.topByTotal[1].exe, "/usr/bin/cc");
  EXPECT_EQ(summary.topByTotal[1].runs, 2u);
  EXPECT_EQ(summary.topByTotal[1].totalNs, 80 * kMs);
  EXPECT_EQ(summary.topByMax[1].exe, "/usr/bin/cc");
  EXPECT_EQ(summary.topByMax[1].maxNs, 50 * kMs);
  EXPECT_EQ(pidOf(model, summary.topByMax[1].maxId), 102);
}

TEST(Summary, SequentialChildrenAndOpenRootGiveATiledPath) {
  ProcessTracker tracker;
  Feeder(tracker) << fork(0, 1, 10) << fork(5 * kMs, 10, 11) << exit(15 * kMs, 11, 0) << fork(20 * kMs, 10, 12)
                  << exit(30 * kMs, 12, 0);
  tracker.setSpan(0, 40 * kMs);  // 10 never exits: open to the trace's end
  Model model = tracker.finish();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {10, false});
  Summary summary = summarize(model, tree, scope, {});
  EXPECT_EQ(summary.wallNs, 40 * kMs);
  EXPECT_EQ(summary.open, 1u);
  std::vector<int32_t> pids;
  int64_t covered = 0;
  for (const auto& step : summary.criticalPath) {
    pids.push_back(pidOf(model, step.id));
    covered += step.toNs - step.fromNs;
  }
  EXPECT_EQ(pids, (std::vector<int32_t>{10, 11, 10, 12, 10}));
  EXPECT_EQ(covered, 40 * kMs);
}

TEST(Summary, CriticalStepOfAChildWithUnknownStartIsMarked) {
  // 10 forks 11 at 5 ms; 12's fork was lost, and it is seen only at its exit
  // at 30 ms. Its step begins where 10's part began (10's start, so 10 keeps
  // no time before it): a guess, so marked.
  ProcessTracker tracker;
  Feeder(tracker) << fork(0, 1, 10) << fork(5 * kMs, 10, 11) << exit(15 * kMs, 11, 0) << exitWithParent(30 * kMs, 12, 0, 10)
                  << exit(40 * kMs, 10, 0);
  tracker.setSpan(0, 40 * kMs);
  Model model = tracker.finish();
  ProcessTree tree(model);
  Summary summary = summarize(model, tree, scopeOf(model, tree, {10, false}), {});
  std::vector<std::pair<int32_t, bool>> steps;
  for (const auto& step : summary.criticalPath) steps.emplace_back(pidOf(model, step.id), step.startUnknown);
  EXPECT_EQ(steps, (std::vector<std::pair<int32_t, bool>>{{12, true}, {10, false}}));
  ASSERT_EQ(summary.criticalPath.size(), 2u);
  EXPECT_EQ(summary.criticalPath[0].fromNs, 0);
  EXPECT_EQ(summary.criticalPath[0].toNs, 30 * kMs);
}

TEST(Summary, DeepChainsAndEmptyScopesAreSafe) {
  ProcessTracker tracker;
  Feeder feed(tracker);
  for (int32_t pid = 2; pid < 20000; ++pid) feed << fork(pid, pid - 1, pid);
  Model model = tracker.finish();
  ProcessTree tree(model);
  Scope scope = scopeOf(model, tree, {2, false});
  Summary summary = summarize(model, tree, scope, {});
  EXPECT_EQ(summary.processes, 19998u);
  EXPECT_EQ(summary.parallelism.peak, 1u);
  Model empty;
  ProcessTree emptyTree(empty);
  Scope none = scopeOf(empty, emptyTree, {});
  Summary nothing = summarize(empty, emptyTree, none, {});
  EXPECT_EQ(nothing.wallNs, 0);
  EXPECT_TRUE(nothing.criticalPath.empty());
}

TEST(LocateDamage, PlacesDamageBetweenTheChunksAroundIt) {
  std::vector<format::SegmentInfo> segments(1);
  segments[0].path = "t.pt";
  std::vector<format::ChunkInfo> chunks = {{0, 100, 0, 1 * kMs, 2 * kMs, 1, 0, 0},
                                           {0, 300, 1, 3 * kMs, 4 * kMs, 1, 0, 0},
                                           {0, 500, 2, 5 * kMs, 6 * kMs, 1, 0, 0}};
  auto middle = locateDamage({"t.pt", 300, format::DamageKind::corruptChunk, 10, "bad crc"}, segments, chunks);
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->fromNs, 2 * kMs);
  EXPECT_EQ(middle->toNs, 5 * kMs);
  auto tail = locateDamage({"t.pt", 700, format::DamageKind::truncated, 10, ""}, segments, chunks);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->fromNs, 6 * kMs);
  EXPECT_FALSE(tail->toNs);
  EXPECT_FALSE(locateDamage({"t.pt", 700, format::DamageKind::notClosed, 0, ""}, segments, chunks));
}

}  // namespace
}  // namespace proctape::test::analyze

namespace proctape::analyze {
namespace {

TEST(SummaryTop, LargestFirstTiesInTheirOrderAndAtMostN) {
  std::vector<CommandStats> stats = {{"/a", 1, 0, 30, 5, 1}, {"/b", 1, 0, 50, 5, 2}, {"/c", 1, 0, 30, 9, 3},
                                     {"/d", 1, 0, 10, 9, 4}, {"/e", 1, 0, 50, 1, 5}};
  auto exes = [](const std::vector<CommandStats>& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows) out.push_back(row.exe);
    return out;
  };
  EXPECT_EQ(exes(topByTotal(stats, 4)), (std::vector<std::string>{"/b", "/e", "/a", "/c"}));
  EXPECT_EQ(exes(topByMax(stats, 3)), (std::vector<std::string>{"/c", "/d", "/a"}));
  EXPECT_EQ(exes(topByTotal(stats, 10)), (std::vector<std::string>{"/b", "/e", "/a", "/c", "/d"}));
  EXPECT_TRUE(topByMax(stats, 0).empty());
  EXPECT_TRUE(topByTotal({}, 5).empty());
}

}  // namespace
}  // namespace proctape::analyze
