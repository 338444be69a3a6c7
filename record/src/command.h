// The command of command mode: forked early but held before exec, so its pid
// is known when the trace's meta is written and nothing it does can precede
// the subscription; released once recording runs.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/record/unique_fd.h"

namespace proctape::record {

// The recorder's exit status for a wait status: the exit code, or 128 + the
// signal that killed it (as shells report it).
int exitStatusOf(int waitStatus);

// Dispositions the recorder changes for itself, as its parent had set them:
// the command gets them back.
struct InheritedSignals {
  bool pipeIgnored = false;   // the recorder ignores SIGPIPE
  bool childIgnored = false;  // the recorder must not: the kernel would reap its command, status and all
};

// Takes SIGCHLD back to its default (a parent such as a CI runner may start
// the recorder with it ignored) and ignores SIGPIPE; returns what they were.
InheritedSignals takeSignalDispositions();

class CommandChild {
 public:
  // Forks a child that waits for release() and then execs `argv` (searched
  // in PATH) with the signal dispositions the recorder was started with
  // (`inherited` for those it changed) and an empty signal mask. Call it
  // before starting threads.
  static Result<CommandChild> spawnHeld(const std::vector<std::string>& argv, InheritedSignals inherited = {});

  CommandChild(CommandChild&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        released_(other.released_),
        reaped_(other.reaped_),
        go_(std::move(other.go_)),
        errors_(std::move(other.errors_)) {}
  CommandChild& operator=(CommandChild&&) = delete;
  ~CommandChild();  // a child never released is killed and reaped

  pid_t pid() const { return pid_; }

  // Lets the child exec. Errors (the exec failed: not found, not
  // executable) carry the shell-style status in `failedStatus`.
  Status release(int& failedStatus);

  // Non-blocking wait: the recorder's exit status once the child has ended.
  std::optional<int> poll();
  // Blocking wait.
  int wait();

 private:
  CommandChild(pid_t pid, UniqueFd go, UniqueFd errors) : pid_(pid), go_(std::move(go)), errors_(std::move(errors)) {}
  pid_t pid_ = -1;
  bool released_ = false;
  bool reaped_ = false;
  UniqueFd go_;      // write end: one byte releases the child
  UniqueFd errors_;  // read end: the child's errno if exec failed, EOF if exec succeeded
};

}  // namespace proctape::record
