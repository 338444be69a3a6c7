#include "proctape/record/drain_period.h"

#include <gtest/gtest.h>

namespace proctape::record {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(DrainPeriod, IdleRoundsDoubleThePeriodUpToTheIdleLimit) {
  int64_t interval = 10 * kMs;
  interval = nextDrainInterval(interval, 0, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 20 * kMs);
  interval = nextDrainInterval(interval, 0, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 40 * kMs);
  interval = nextDrainInterval(interval, 0, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 50 * kMs);
  EXPECT_EQ(nextDrainInterval(interval, 0, 10 * kMs, 50 * kMs), 50 * kMs);
}

TEST(DrainPeriod, ABusyRoundRestoresTheBasePeriod) {
  EXPECT_EQ(nextDrainInterval(50 * kMs, kDrainTargetBatch, 10 * kMs, 50 * kMs), 10 * kMs);
  EXPECT_EQ(nextDrainInterval(50 * kMs, 20'000, 10 * kMs, 50 * kMs), 10 * kMs);
  EXPECT_EQ(nextDrainInterval(10 * kMs, 5'000, 10 * kMs, 50 * kMs), 10 * kMs);
}

TEST(DrainPeriod, ALightRoundLengthensThePeriodInProportion) {
  // Half a batch in 10 ms: 20 ms would fill one.
  EXPECT_EQ(nextDrainInterval(10 * kMs, kDrainTargetBatch / 2, 10 * kMs, 50 * kMs), 20 * kMs);
  // A few datagrams: as long as allowed.
  EXPECT_EQ(nextDrainInterval(10 * kMs, 3, 10 * kMs, 50 * kMs), 50 * kMs);
  // Most of a batch: a little longer.
  int64_t almost = nextDrainInterval(10 * kMs, kDrainTargetBatch - 1, 10 * kMs, 50 * kMs);
  EXPECT_GT(almost, 10 * kMs);
  EXPECT_LT(almost, 11 * kMs);
  // Never below the base period, however short the last one was.
  EXPECT_EQ(nextDrainInterval(1 * kMs, kDrainTargetBatch - 1, 10 * kMs, 50 * kMs), 10 * kMs);
}

TEST(DrainPeriod, NoBackOffWhenTheIdleLimitIsTheBasePeriodOrShorter) {
  // Small receive buffers: the recorder passes the base period as the limit.
  EXPECT_EQ(nextDrainInterval(10 * kMs, 0, 10 * kMs, 10 * kMs), 10 * kMs);
  EXPECT_EQ(nextDrainInterval(10 * kMs, 1, 10 * kMs, 10 * kMs), 10 * kMs);
  // --drain-interval longer than the idle limit: the base period wins.
  EXPECT_EQ(nextDrainInterval(100 * kMs, 0, 100 * kMs, 50 * kMs), 100 * kMs);
  EXPECT_EQ(nextDrainInterval(100 * kMs, 2, 100 * kMs, 50 * kMs), 100 * kMs);
}

}  // namespace
}  // namespace proctape::record
