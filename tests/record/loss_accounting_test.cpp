// Gap records from overruns (with the socket's drop count), truncated
// datagrams and per-CPU sequence jumps.
#include <gtest/gtest.h>

#include "proctape/record/loss_accounting.h"

namespace proctape::record {
namespace {

using format::Gap;
using format::GapReason;

TEST(SeqTracker, FirstEventPerCpuIsTheBaseline) {
  SeqTracker seq;
  EXPECT_EQ(seq.observe(0, 100), 0u);
  EXPECT_EQ(seq.observe(1, 5), 0u);
  EXPECT_EQ(seq.observe(0, 101), 0u);
  EXPECT_EQ(seq.observe(0, 105), 3u);
  EXPECT_EQ(seq.observe(1, 6), 0u);
}

TEST(SeqTracker, WrapsModuloTwoToThe32) {
  SeqTracker seq;
  seq.observe(0, 0xfffffffeu);
  EXPECT_EQ(seq.observe(0, 0xffffffffu), 0u);
  EXPECT_EQ(seq.observe(0, 2), 2u);
}

TEST(SeqTracker, BackwardsOrRepeatedNumbersRebaseQuietly) {
  SeqTracker seq;
  seq.observe(0, 1000);
  EXPECT_EQ(seq.observe(0, 10), 0u);
  EXPECT_EQ(seq.observe(0, 11), 0u);
  EXPECT_EQ(seq.observe(0, 11), 0u);
}

uint64_t sum(const std::vector<Gap>& gaps) {
  uint64_t total = 0;
  for (const auto& gap : gaps) total += gap.lostCount.value_or(0);
  return total;
}

TEST(LossAccounting, OverrunIsPlacedByTheJumpsThatFollow) {
  LossAccounting loss(true);
  EXPECT_TRUE(loss.onProcEvent(0, 0, 10, 0).empty());
  EXPECT_TRUE(loss.onProcEvent(0, 1, 50, 0).empty());
  EXPECT_TRUE(loss.onOverrun(0, true, 10, 1).empty());  // not written yet: jumps will place it
  EXPECT_TRUE(loss.onProcEvent(0, 0, 11, 2).empty());   // still queued before the drop
  auto gap0 = loss.onProcEvent(0, 0, 20, 3);
  ASSERT_EQ(gap0.size(), 1u);
  EXPECT_EQ(gap0[0].lostCount, 8u);
  EXPECT_EQ(gap0[0].reason, GapReason::kernelOverrun);
  auto gap1 = loss.onProcEvent(0, 1, 53, 4);
  ASSERT_EQ(gap1.size(), 1u);
  EXPECT_EQ(gap1[0].lostCount, 2u);
  EXPECT_TRUE(loss.finish().empty()) << "the jumps explained all 10 drops";
  EXPECT_EQ(loss.totals().lostKnown, 10u);
  EXPECT_EQ(loss.totals().gaps, 2u);
  EXPECT_EQ(loss.totals().overruns, 1u);
}

TEST(LossAccounting, DropsNoJumpPlacedAreWrittenWhenTheAccountCloses) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 0, 10, 0);
  loss.onProcEvent(0, 1, 50, 0);
  EXPECT_TRUE(loss.onOverrun(0, true, 30, 100).empty());
  EXPECT_EQ(sum(loss.onProcEvent(0, 0, 31, 200)), 20u);  // cpu 0 shows 20; cpu 1 sends nothing
  auto rest = loss.finish();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].lostCount, 10u);
  EXPECT_EQ(rest[0].reason, GapReason::kernelOverrun);
  EXPECT_EQ(loss.totals().lostKnown, 30u);
}

TEST(LossAccounting, AccountClosesAfterASecondAndTheSilentCpuRebases) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 0, 10, 0);
  loss.onProcEvent(0, 1, 50, 0);
  loss.onOverrun(0, true, 5, 1'000);
  auto late = loss.onProcEvent(0, 0, 11, 1'000 + LossAccounting::kSettleAfterNs + 1);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].lostCount, 5u);
  // cpu 1's loss is counted already: its next number is a baseline, not a second gap.
  EXPECT_TRUE(loss.onProcEvent(0, 1, 56, 3'000'000'000).empty());
  EXPECT_EQ(loss.totals().lostKnown, 5u);
}

TEST(LossAccounting, CpuFirstSeenAfterTheOverrunIsAttributedToIt) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 1, 7, 0);
  EXPECT_TRUE(loss.onOverrun(0, true, 49, 1).empty());
  EXPECT_TRUE(loss.onProcEvent(0, 0, 100, 2).empty());  // cpu 0's first message: its baseline
  auto gap = loss.onProcEvent(0, 0, 150, 3);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].lostCount, 49u);
  EXPECT_EQ(gap[0].reason, GapReason::kernelOverrun);
  EXPECT_TRUE(loss.finish().empty());
}

TEST(LossAccounting, JumpWithoutOverrunIsStillAGap) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 3, 1, 0);
  auto gap = loss.onProcEvent(0, 3, 4, 1);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].lostCount, 2u);
  EXPECT_EQ(gap[0].reason, GapReason::other);
}

TEST(LossAccounting, UnknownDropsUnexplainedBecomeAnUnknownGap) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 0, 1, 0);
  EXPECT_TRUE(loss.onOverrun(0, true, std::nullopt, 1).empty());
  auto gap = loss.finish();
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_FALSE(gap[0].lostCount);
  EXPECT_EQ(loss.totals().unknownGaps, 1u);
}

TEST(LossAccounting, SecondOverrunClosesTheFirst) {
  LossAccounting loss(true);
  loss.onProcEvent(0, 0, 1, 0);
  EXPECT_TRUE(loss.onOverrun(0, true, 4, 1).empty());
  auto first = loss.onOverrun(0, true, 2, 2);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].lostCount, 4u);
}

TEST(LossAccounting, KernelFilteringWritesTheCountedGapAtOnce) {
  LossAccounting loss(false);
  loss.onProcEvent(0, 0, 1, 0);
  EXPECT_TRUE(loss.onProcEvent(0, 0, 9, 1).empty());  // filtered-out types skip numbers: no loss implied
  auto gap = loss.onOverrun(0, true, 17, 2);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].lostCount, 17u);
  auto unknown = loss.onOverrun(0, true, std::nullopt, 3);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_FALSE(unknown[0].lostCount);
}

TEST(LossAccounting, RouteOverrunAndTruncation) {
  LossAccounting loss(true);
  auto overrun = loss.onOverrun(1, false, 3, 0);
  ASSERT_EQ(overrun.size(), 1u);
  EXPECT_EQ(overrun[0].sourceId, 1);
  EXPECT_EQ(overrun[0].lostCount, 3u);
  auto cut = loss.onTruncated(1, 70000, 65536);
  EXPECT_EQ(cut.lostCount, 1u);
  EXPECT_EQ(cut.reason, GapReason::truncatedDatagram);
  EXPECT_NE(cut.detail.find("70000"), std::string::npos);
  EXPECT_EQ(loss.totals().truncated, 1u);
  EXPECT_EQ(loss.totals().lostKnown, 4u);
}

}  // namespace
}  // namespace proctape::record
