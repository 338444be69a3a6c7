// proctape-storm: a process storm for measuring the recorder: N cycles of
// fork+exec(/bin/true)+wait (or fork+_exit+wait with --fork-only), spread
// over P worker processes, as fast as the machine allows. Prints one line:
//   cycles=N workers=P mode=exec seconds=S rate=R/s
// The exec'd command line is "true proctape-storm-child", so a listener's
// output shows whether it got the argv or only the name. --pid-log FILE
// appends every child's pid to FILE (one per line, written after the storm
// so that it costs the storm nothing), for counting what a listener saw.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// Appends the pids to `path` in one write per 4 KiB; O_APPEND keeps the
// workers' writes whole.
void logPids(const char* path, const std::vector<pid_t>& pids) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) _exit(3);
  std::string text;
  for (size_t i = 0; i < pids.size(); ++i) {
    text += std::to_string(pids[i]);
    text += '\n';
    if (text.size() > 4000 || i + 1 == pids.size()) {
      if (write(fd, text.data(), text.size()) != ssize_t(text.size())) _exit(3);
      text.clear();
    }
  }
  close(fd);
}

void work(long cycles, bool forkOnly, const char* pidLog) {
  std::vector<pid_t> children;
  if (pidLog) children.reserve(size_t(cycles));
  for (long i = 0; i < cycles; ++i) {
    pid_t child = fork();
    if (child == 0) {
      if (forkOnly) _exit(0);
      execl("/bin/true", "true", "proctape-storm-child", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (child < 0 || waitpid(child, nullptr, 0) != child) _exit(1);
    if (pidLog) children.push_back(child);
  }
  if (pidLog) logPids(pidLog, children);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  long cycles = 10000, workers = 1;
  bool forkOnly = false;
  const char* pidLog = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--cycles") && i + 1 < argc) cycles = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) workers = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--fork-only")) forkOnly = true;
    else if (!std::strcmp(argv[i], "--pid-log") && i + 1 < argc) pidLog = argv[++i];
    else {
      std::fprintf(stderr, "usage: proctape-storm [--cycles N] [--workers P] [--fork-only] [--pid-log FILE]\n");
      return 2;
    }
  }
  if (cycles < 1 || workers < 1) return 2;
  double start = now();
  std::vector<pid_t> pids;
  for (long w = 0; w < workers; ++w) {
    long share = cycles / workers + (w < cycles % workers ? 1 : 0);
    pid_t worker = fork();
    if (worker == 0) work(share, forkOnly, pidLog);
    pids.push_back(worker);
  }
  int failed = 0;
  for (pid_t worker : pids) {
    int status = 0;
    waitpid(worker, &status, 0);
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  double seconds = now() - start;
  std::printf("cycles=%ld workers=%ld mode=%s seconds=%.3f rate=%.0f/s\n", cycles, workers,
              forkOnly ? "fork" : "exec", seconds, double(cycles) / seconds);
  return failed ? 1 : 0;
}
