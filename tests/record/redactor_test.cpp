// --redact: every match becomes ***, in argv, exe and cwd, before writing.
#include <gtest/gtest.h>

#include "proctape/record/redactor.h"

namespace proctape::record {
namespace {

TEST(Redactor, ReplacesEveryMatchInEachArgument) {
  auto redactor = Redactor::create({"ghp_[A-Za-z0-9]+", "--password=\\S+"});
  ASSERT_TRUE(redactor);
  std::vector<std::string> argv = {"git", "clone", "https://x:ghp_abc123@github.com/r", "--password=hunter2",
                                   "ghp_1 and ghp_2"};
  redactor->apply(argv);
  EXPECT_EQ(argv[0], "git");
  EXPECT_EQ(argv[2], "https://x:***@github.com/r");
  EXPECT_EQ(argv[3], "***");
  EXPECT_EQ(argv[4], "*** and ***");
}

TEST(Redactor, AnEmptyPatternIsRefused) {
  auto redactor = Redactor::create({"tok_[0-9]+", ""});
  ASSERT_FALSE(redactor);
  EXPECT_NE(redactor.error().message.find("--redact '': an empty pattern"), std::string::npos);
}

TEST(Redactor, CoversExeAndCwdOfProcessInfo) {
  auto redactor = Redactor::create({"secret"});
  ASSERT_TRUE(redactor);
  format::ProcessInfo info;
  info.argv = {"run", "secret"};
  info.exe = "/opt/secret/bin";
  info.cwd = "/home/secret";
  redactor->apply(info);
  EXPECT_EQ(info.argv[1], "***");
  EXPECT_EQ(info.exe, "/opt/***/bin");
  EXPECT_EQ(info.cwd, "/home/***");
}

// A long argument used to overflow the stack inside std::regex (a segfault
// of the recorder at 30 KB): matching must stay flat however long the text.
TEST(Redactor, AMegabyteArgumentIsRedactedWithoutExhaustingTheStack) {
  auto redactor = Redactor::create({"token=\\S+", "(a|b)+"});
  ASSERT_TRUE(redactor);
  std::vector<std::string> argv = {"run", "token=" + std::string(1 << 20, 'x'), std::string(1 << 20, 'a') + "!"};
  redactor->apply(argv);
  EXPECT_EQ(argv, (std::vector<std::string>{"run", "***", "***!"}));
}

TEST(Redactor, CoversTheNameToo) {
  auto redactor = Redactor::create({"ghp_[A-Za-z0-9]+"});
  ASSERT_TRUE(redactor);
  format::ProcessInfo info;
  info.comm = "s_ghp_SECRETab";
  redactor->apply(info);
  EXPECT_EQ(info.comm, "s_***");
}

TEST(Redactor, EmptyMatchesDoNotInsertStars) {
  auto redactor = Redactor::create({"x*"});
  ASSERT_TRUE(redactor);
  EXPECT_EQ(redactor->apply("abxxc"), "ab***c");
}

TEST(Redactor, NoPatternsLeavesEverything) {
  Redactor none;
  std::vector<std::string> argv = {"a", "b"};
  none.apply(argv);
  EXPECT_EQ(argv, (std::vector<std::string>{"a", "b"}));
}

TEST(Redactor, BadPatternIsAnErrorNamingIt) {
  auto bad = Redactor::create({"(unclosed"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("(unclosed"), std::string::npos);
  auto backReference = Redactor::create({"(a)\\1"});
  ASSERT_FALSE(backReference);
  EXPECT_NE(backReference.error().message.find("no back-references"), std::string::npos);
}

// Patterns that can run to the end of the text from every start position:
// std::regex searched from each one (10.5 s for ".*secret" over 20 KB, on the
// enricher's real-time thread; hours for a megabyte). RE2 is linear.
TEST(Redactor, PatternsThatScanToTheEndFromEveryStartStayLinear) {
  auto redactor = Redactor::create({".*secret", "[A-Za-z0-9]+=hidden"});
  ASSERT_TRUE(redactor);
  std::string plain(1 << 20, 'a');
  EXPECT_EQ(redactor->apply(plain), plain);
  EXPECT_EQ(redactor->apply("ab secret cd"), "*** cd");
}

// Command lines are bytes, not always UTF-8: an invalid byte inside a secret
// must not stop the match short of the secret's end.
TEST(Redactor, MatchesBytesThatAreNotUtf8) {
  auto redactor = Redactor::create({"token=\\S+"});
  ASSERT_TRUE(redactor);
  EXPECT_EQ(redactor->apply("x token=ab\xff\xfe" "cd y"), "x *** y");
}

}  // namespace
}  // namespace proctape::record
