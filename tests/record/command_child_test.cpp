// The held command of command mode (record/src/command.h): released, it
// runs; never released because the recorder died, it exits instead of
// waiting forever (and holding the recorder's standard output open).
#include "command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace proctape::record {
namespace {

// Gone, or a zombie waiting for a reaper that is not this test.
bool exited(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pidField, comm, state;
  stat >> pidField >> comm >> state;
  return !stat || state == "Z" || state == "X";
}

TEST(CommandChild, ReleasedChildRunsAndItsStatusIsReturned) {
  auto child = CommandChild::spawnHeld({"sh", "-c", "exit 3"});
  ASSERT_TRUE(child) << child.error().message;
  int failed = 0;
  ASSERT_TRUE(child->release(failed));
  EXPECT_EQ(child->wait(), 3);
}

TEST(CommandChild, HeldChildExitsWhenTheRecorderDiesBeforeReleasingIt) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t recorder = ::fork();
  ASSERT_GE(recorder, 0);
  if (recorder == 0) {
    auto child = CommandChild::spawnHeld({"sleep", "60"});
    pid_t held = child ? child->pid() : -1;
    if (::write(report[1], &held, sizeof held) != sizeof held) ::_exit(2);
    ::_exit(0);  // dies as a crash would: neither releasing nor killing its child
  }
  ::close(report[1]);
  pid_t held = -1;
  ASSERT_EQ(::read(report[0], &held, sizeof held), ssize_t(sizeof held));
  ::close(report[0]);
  ::waitpid(recorder, nullptr, 0);
  ASSERT_GT(held, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!exited(held) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool gone = exited(held);
  if (!gone) ::kill(held, SIGKILL);
  EXPECT_TRUE(gone) << "the held child " << held << " still waits for a recorder that is gone";
}

}  // namespace
}  // namespace proctape::record
