// The report text helpers (analyze/src/text.h): counts, command lines and
// their shortened forms.
#include "text.h"

#include <gtest/gtest.h>

#include "events.h"

namespace proctape::analyze {
namespace {

namespace ev = proctape::test::analyze;

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

TEST(CommandText, MissedArgvShowsTheKernelNameAndWhy) {
  using format::InfoField;
  using format::MissReason;
  ProcessTracker tracker;
  ev::Feeder feed(tracker);
  auto zombie = ev::execInfo(20, {});
  zombie.comm = "ld";
  zombie.misses = {{InfoField::argv, MissReason::zombie, 0}, {InfoField::exe, MissReason::zombie, 2},
                   {InfoField::cwd, MissReason::zombie, 2}};
  auto nameless = ev::execInfo(21, {});
  nameless.misses = {{InfoField::argv, MissReason::gone, 2}, {InfoField::exe, MissReason::gone, 2},
                     {InfoField::cwd, MissReason::gone, 2}, {InfoField::comm, MissReason::gone, 2}};
  feed << ev::fork(1 * ev::kMs, 10, 20) << ev::exec(2 * ev::kMs, 20);
  feed.info(2 * ev::kMs + 50, zombie);
  feed << ev::fork(3 * ev::kMs, 10, 21) << ev::exec(4 * ev::kMs, 21);
  feed.info(4 * ev::kMs + 50, nameless);
  Model model = tracker.finish();
  std::vector<std::string> texts;
  for (const Process& p : model.processes)
    if (p.pid == 20 || p.pid == 21) texts.push_back(commandText(p));
  EXPECT_EQ(texts, (std::vector<std::string>{"[ld] (argv: zombie)", "[argv: gone]"}));
}

}  // namespace
}  // namespace proctape::analyze
