#include "proctape/record/drain_period.h"

#include <gtest/gtest.h>

namespace proctape::record {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(DrainPeriod, IdleRoundsDoubleThePeriodUpToTheIdleLimit) {
  int64_t interval = 10 * kMs;
  interval = nextDrainInterval(interval, false, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 20 * kMs);
  interval = nextDrainInterval(interval, false, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 40 * kMs);
  interval = nextDrainInterval(interval, false, 10 * kMs, 50 * kMs);
  EXPECT_EQ(interval, 50 * kMs);
  EXPECT_EQ(nextDrainInterval(interval, false, 10 * kMs, 50 * kMs), 50 * kMs);
}

TEST(DrainPeriod, ARoundThatReceivedSomethingRestoresTheBasePeriod) {
  EXPECT_EQ(nextDrainInterval(50 * kMs, true, 10 * kMs, 50 * kMs), 10 * kMs);
  EXPECT_EQ(nextDrainInterval(10 * kMs, true, 10 * kMs, 50 * kMs), 10 * kMs);
}

TEST(DrainPeriod, NoBackOffWhenTheIdleLimitIsTheBasePeriodOrShorter) {
  // Small receive buffers: the recorder passes the base period as the limit.
  EXPECT_EQ(nextDrainInterval(10 * kMs, false, 10 * kMs, 10 * kMs), 10 * kMs);
  // --drain-interval longer than the idle limit: the base period wins.
  EXPECT_EQ(nextDrainInterval(100 * kMs, false, 100 * kMs, 50 * kMs), 100 * kMs);
}

}  // namespace
}  // namespace proctape::record
