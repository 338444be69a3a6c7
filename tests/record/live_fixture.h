// The fixture of the live recorder tests. They run as root in CI; they skip
// (saying why) only when the kernel truly refuses: EPERM, or no connector.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "live_support.h"
#include "test_support.h"

namespace proctape::test {

inline const std::string kRecorder = PROCTAPE_RECORD_BIN;

class LiveRecorder : public ::testing::Test {
 protected:
  void SetUp() override {
    Child check({kRecorder, "--check"});
    auto status = check.wait(10000);
    ASSERT_TRUE(status) << "proctape-record --check hung";
    if (*status == 77) GTEST_SKIP() << "the kernel refuses process events here (EPERM): " << check.output();
    if (check.output().find("no such netlink family") != std::string::npos) {
      GTEST_SKIP() << "this kernel has no netlink connector: " << check.output();
    }
    ASSERT_EQ(*status, 0) << "proctape-record --check failed:\n" << check.output();
  }

  // Starts a recorder with `args` and waits until it records.
  std::unique_ptr<Child> startRecorder(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kRecorder};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = std::make_unique<Child>(argv);
    EXPECT_TRUE(child->waitFor("recording to", 10000)) << "the recorder did not start:\n" << child->output();
    return child;
  }

  TempDir dir_;
};

// Forks `count` children that exit at once (a fork+exit storm), reaping each.
inline void forkStorm(int count) {
  for (int i = 0; i < count; ++i) {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    if (child > 0) ::waitpid(child, nullptr, 0);
  }
}

// Runs /bin/true `count` times from this process.
inline std::vector<pid_t> runTrue(int count) {
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pid_t child = ::fork();
    if (child == 0) {
      ::execl("/bin/true", "true", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::waitpid(child, nullptr, 0);
    pids.push_back(child);
  }
  return pids;
}

}  // namespace proctape::test
