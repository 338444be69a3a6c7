// The column-wise frame store: the byte shuffle and its inverse, and the
// rules by which a FrameRun gathers frames (one source, Int32 time steps).
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "frame_batch.h"

namespace proctape::format {
namespace {

std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1103515245u + 12345u;
    b = uint8_t(x >> 16);
  }
  return bytes;
}

TEST(FrameBatch, ShuffleMatchesTheDocumentedTransposition) {
  const size_t count = 5;
  const size_t width = 3;
  auto in = pattern(count * width, 1);
  std::vector<uint8_t> out(in.size(), 0);
  shuffleBytes(in.data(), count, width, out.data());
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < width; ++j) EXPECT_EQ(out[j * count + i], in[i * width + j]) << i << "," << j;
  // Written out: frames "abc", "def", ... become columns "ad..", "be..", "cf..".
  const uint8_t frames[] = {'a', 'b', 'c', 'd', 'e', 'f'};
  uint8_t columns[6] = {};
  shuffleBytes(frames, 2, 3, columns);
  EXPECT_EQ(std::string(columns, columns + 6), "adbecf");
}

TEST(FrameBatch, UnshuffleInvertsShuffleForManyWidthsAndCounts) {
  for (size_t width : {size_t(1), size_t(2), size_t(3), size_t(8), size_t(76), size_t(257)}) {
    for (size_t count : {size_t(0), size_t(1), size_t(2), size_t(255), size_t(256), size_t(257), size_t(1000),
                         size_t(1025)}) {
      auto in = pattern(width * count, uint32_t(width * 7919 + count));
      std::vector<uint8_t> shuffled(in.size() + 1, 0xEE);  // one guard byte
      shuffleBytes(in.data(), count, width, shuffled.data());
      EXPECT_EQ(shuffled.back(), 0xEE) << "shuffle wrote past its output, width " << width << " count " << count;
      std::vector<uint8_t> back(in.size() + 1, 0xEE);
      unshuffleBytes(shuffled.data(), count, width, back.data());
      EXPECT_EQ(back.back(), 0xEE) << "unshuffle wrote past its output, width " << width << " count " << count;
      back.pop_back();
      ASSERT_EQ(back, in) << "width " << width << " count " << count;
      // And the other way round: shuffle inverts unshuffle.
      std::vector<uint8_t> again(in.size());
      shuffleBytes(back.data(), count, width, again.data());
      shuffled.pop_back();
      EXPECT_EQ(again, shuffled) << "width " << width << " count " << count;
    }
  }
}

TEST(FrameBatch, WidthOneAndCountOneAreIdentities) {
  auto in = pattern(300, 9);
  std::vector<uint8_t> out(in.size());
  shuffleBytes(in.data(), in.size(), 1, out.data());
  EXPECT_EQ(out, in);
  unshuffleBytes(in.data(), in.size(), 1, out.data());
  EXPECT_EQ(out, in);
  shuffleBytes(in.data(), 1, in.size(), out.data());
  EXPECT_EQ(out, in);
  unshuffleBytes(in.data(), 1, in.size(), out.data());
  EXPECT_EQ(out, in);
}

TEST(FrameBatch, ZeroCountOrZeroWidthTouchesNothing) {
  uint8_t in[4] = {1, 2, 3, 4};
  uint8_t out[4] = {9, 9, 9, 9};
  shuffleBytes(in, 0, 4, out);
  unshuffleBytes(in, 0, 4, out);
  shuffleBytes(in, 4, 0, out);
  unshuffleBytes(in, 4, 0, out);
  for (uint8_t b : out) EXPECT_EQ(b, 9);
}

TEST(FrameRun, AcceptsOnlyItsOwnSource) {
  FrameRun run;
  run.reset(3, 1000);
  EXPECT_TRUE(run.accepts(3, 1000));
  EXPECT_TRUE(run.accepts(3, 2000));
  EXPECT_FALSE(run.accepts(4, 1000));
  EXPECT_FALSE(run.accepts(0, 1000));
  run.reset(4, 1000);
  EXPECT_TRUE(run.accepts(4, 1000));
  EXPECT_FALSE(run.accepts(3, 1000));
  EXPECT_EQ(run.sourceId(), 4);
}

TEST(FrameRun, RejectsTimeStepsThatDoNotFitInt32) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  const int64_t t = 5'000'000'000;
  FrameRun run;
  run.reset(1, t);
  EXPECT_TRUE(run.accepts(1, t + kMax));
  EXPECT_FALSE(run.accepts(1, t + kMax + 1));
  EXPECT_TRUE(run.accepts(1, t + kMin));  // time may step backwards a little
  EXPECT_FALSE(run.accepts(1, t + kMin - 1));

  // The step is measured from the last frame, not the first.
  run.append(t, std::vector<uint8_t>(4, 1));
  run.append(t + kMax, std::vector<uint8_t>(4, 2));
  EXPECT_EQ(run.lastTimeNs(), t + kMax);
  EXPECT_EQ(run.firstTimeNs(), t);
  EXPECT_TRUE(run.accepts(1, t + 2 * kMax));
  EXPECT_FALSE(run.accepts(1, t + 2 * kMax + 1));
  EXPECT_TRUE(run.accepts(1, t + kMax + kMin));
  EXPECT_FALSE(run.accepts(1, t + kMax + kMin - 1));
  ASSERT_EQ(run.deltas().size(), 2u);
  EXPECT_EQ(run.deltas()[0], 0);
  EXPECT_EQ(run.deltas()[1], kMax);
}

TEST(FrameRun, RejectsStepsThatOverflowInt64) {
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
  FrameRun run;
  run.reset(0, kInt64Max);
  EXPECT_TRUE(run.accepts(0, kInt64Max));
  EXPECT_FALSE(run.accepts(0, kInt64Min));
  run.reset(0, kInt64Min);
  EXPECT_TRUE(run.accepts(0, kInt64Min));
  EXPECT_FALSE(run.accepts(0, kInt64Max));
  EXPECT_FALSE(run.accepts(0, -1));
}

TEST(FrameRun, AppendKeepsBytesEndsAndDeltas) {
  FrameRun run;
  run.reset(2, 100);
  EXPECT_EQ(run.count(), 0u);
  std::vector<std::vector<uint8_t>> frames = {pattern(5, 1), {}, pattern(7, 2), pattern(1, 3)};
  int64_t times[] = {100, 110, 105, 205};
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(run.accepts(2, times[i]));
    run.append(times[i], frames[i]);
  }
  EXPECT_EQ(run.count(), 4u);
  std::vector<uint8_t> all;
  for (const auto& f : frames) all.insert(all.end(), f.begin(), f.end());
  EXPECT_EQ(run.bytes(), all);
  EXPECT_EQ(run.ends(), (std::vector<uint32_t>{5, 5, 12, 13}));
  EXPECT_EQ(run.deltas(), (std::vector<int32_t>{0, 10, -5, 100}));
  EXPECT_EQ(run.lastTimeNs(), 205);
  // The deltas add up to each frame's time, as the reader computes it.
  int64_t t = run.firstTimeNs();
  for (size_t i = 0; i < frames.size(); ++i) {
    t += run.deltas()[i];
    EXPECT_EQ(t, times[i]);
  }
}

TEST(FrameRun, UniformOnlyWhenNonEmptyAndEveryFrameHasTheSameSize) {
  FrameRun run;
  run.reset(0, 0);
  EXPECT_FALSE(run.uniform());  // nothing to store
  run.append(0, pattern(76, 1));
  EXPECT_TRUE(run.uniform());
  EXPECT_EQ(run.frameSize(), 76u);
  run.append(1, pattern(76, 2));
  run.append(2, pattern(76, 3));
  EXPECT_TRUE(run.uniform());
  run.append(3, pattern(75, 4));
  EXPECT_FALSE(run.uniform());
  run.append(4, pattern(76, 5));
  EXPECT_FALSE(run.uniform()) << "one odd frame spoils the run for good";

  run.reset(0, 10);
  EXPECT_FALSE(run.uniform());
  EXPECT_EQ(run.count(), 0u);
  EXPECT_TRUE(run.bytes().empty());
  EXPECT_TRUE(run.ends().empty());
  run.append(10, pattern(20, 6));
  EXPECT_TRUE(run.uniform()) << "reset clears the earlier odd frame";
  EXPECT_EQ(run.frameSize(), 20u);

  // Empty frames are uniform too (frame size 0).
  run.reset(0, 0);
  run.append(0, {});
  run.append(1, {});
  EXPECT_TRUE(run.uniform());
  EXPECT_EQ(run.frameSize(), 0u);
  // A first frame that differs from the rest also breaks uniformity.
  run.reset(0, 0);
  run.append(0, pattern(3, 1));
  run.append(1, pattern(4, 1));
  run.append(2, pattern(4, 1));
  EXPECT_FALSE(run.uniform());
}

}  // namespace
}  // namespace proctape::format
