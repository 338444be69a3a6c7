// The report text helpers (analyze/src/text.h): counts and shortened command lines.
#include "text.h"

#include <gtest/gtest.h>

namespace proctape::analyze {
namespace {

TEST(Counted, NounAgreesWithTheNumber) {
  EXPECT_EQ(counted(0, "event", "events"), "0 events");
  EXPECT_EQ(counted(1, "process", "processes"), "1 process");
  EXPECT_EQ(counted(2, "step", "steps"), "2 steps");
}

TEST(Shortened, ShortTextIsKept) { EXPECT_EQ(shortened("cc -c a.c", 9), "cc -c a.c"); }

TEST(Shortened, NeverCutsAnEscapeInTwo) {
  // "ab\x20cd": a cut at 4 bytes would leave "ab\x", which reads as another escape.
  EXPECT_EQ(shortened("ab\\x20cd", 4), "ab...");
  EXPECT_EQ(shortened("ab\\x20cd", 6), "ab\\x20...");
  EXPECT_EQ(shortened("a\\\\b", 2), "a...");  // an escaped backslash stays whole
  EXPECT_EQ(shortened("a\\\\b", 3), "a\\\\...");
  EXPECT_EQ(shortened("a\\nbc", 2), "a...");
}

TEST(Shortened, NeverCutsAUtf8CharacterInTwo) {
  EXPECT_EQ(shortened("a\xc3\xa9z", 2), "a...");           // é is 2 bytes
  EXPECT_EQ(shortened("a\xe2\x82\xac" "bc", 3), "a...");   // € is 3 bytes
  EXPECT_EQ(shortened("a\xe2\x82\xac" "bc", 4), "a\xe2\x82\xac...");
}

}  // namespace
}  // namespace proctape::analyze
