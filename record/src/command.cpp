#include "command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace proctape::record {

int exitStatusOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return 1;
}

namespace {

bool setDisposition(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  struct sigaction old {};
  ::sigaction(signal, &action, &old);
  return old.sa_handler == SIG_IGN;
}

// In the child, between fork and exec: async-signal-safe calls only.
// `parentEnds` are the recorder's ends of the two pipes: closed here, so that
// the read below sees end-of-file when the recorder dies (crash, SIGKILL)
// before releasing the child, which then exits instead of waiting forever
// with the recorder's standard output and error held open.
[[noreturn]] void childMain(char* const* argv, int goFd, int errorFd, std::array<int, 2> parentEnds,
                            InheritedSignals inherited) {
  for (int fd : parentEnds) ::close(fd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  setDisposition(SIGPIPE, inherited.pipeIgnored ? SIG_IGN : SIG_DFL);
  if (inherited.childIgnored) setDisposition(SIGCHLD, SIG_IGN);
  char byte = 0;
  ssize_t n;
  while ((n = ::read(goFd, &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) ::_exit(127);  // the recorder gave up before releasing us
  ::execvp(argv[0], argv);
  int err = errno;
  ssize_t ignored = ::write(errorFd, &err, sizeof err);
  (void)ignored;
  ::_exit(err == ENOENT ? 127 : 126);
}

}  // namespace

InheritedSignals takeSignalDispositions() {
  InheritedSignals inherited;
  inherited.childIgnored = setDisposition(SIGCHLD, SIG_DFL);
  inherited.pipeIgnored = setDisposition(SIGPIPE, SIG_IGN);
  return inherited;
}

Result<CommandChild> CommandChild::spawnHeld(const std::vector<std::string>& argv, InheritedSignals inherited) {
  if (argv.empty()) return Error{"no command given after --"};
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int go[2], errors[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
  UniqueFd goRead(go[0]), goWrite(go[1]);
  if (::pipe2(errors, O_CLOEXEC) != 0) return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
  UniqueFd errorRead(errors[0]), errorWrite(errors[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error{"cannot fork to run " + argv[0] + ": " + std::strerror(errno)};
  if (pid == 0)
    childMain(args.data(), goRead.get(), errorWrite.get(), {goWrite.get(), errorRead.get()}, inherited);
  return CommandChild(pid, std::move(goWrite), std::move(errorRead));
}

CommandChild::~CommandChild() {
  if (pid_ <= 0 || reaped_) return;
  if (!released_) {
    ::kill(pid_, SIGKILL);
    (void)wait();
  }
}

Status CommandChild::release(int& failedStatus) {
  released_ = true;
  char byte = 1;
  if (::write(go_.get(), &byte, 1) != 1) return Error{std::string("cannot start the command: ") + std::strerror(errno)};
  go_.reset();
  int err = 0;
  ssize_t n;
  while ((n = ::read(errors_.get(), &err, sizeof err)) < 0 && errno == EINTR) {
  }
  errors_.reset();
  if (n != ssize_t(sizeof err)) return okStatus();
  failedStatus = err == ENOENT ? 127 : 126;
  return Error{std::string("cannot run the command: ") + std::strerror(err)};
}

std::optional<int> CommandChild::poll() {
  if (reaped_) return std::nullopt;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done < 0 && errno == ECHILD) return reaped_ = true, 1;  // reaped elsewhere: ended, its status lost
  if (done != pid_) return std::nullopt;
  reaped_ = true;
  return exitStatusOf(status);
}

int CommandChild::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return reaped_ = true, 1;
  }
  reaped_ = true;
  return exitStatusOf(status);
}

}  // namespace proctape::record
