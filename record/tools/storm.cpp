// proctape-storm: a process storm for measuring the recorder: N cycles of
// fork+exec(/bin/true)+wait (or fork+_exit+wait with --fork-only), spread
// over P worker processes, as fast as the machine allows. Prints one line:
//   cycles=N workers=P mode=exec seconds=S rate=R/s
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

double now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

void work(long cycles, bool forkOnly) {
  for (long i = 0; i < cycles; ++i) {
    pid_t child = fork();
    if (child == 0) {
      if (forkOnly) _exit(0);
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (child < 0 || waitpid(child, nullptr, 0) != child) _exit(1);
  }
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  long cycles = 10000, workers = 1;
  bool forkOnly = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--cycles") && i + 1 < argc) cycles = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) workers = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--fork-only")) forkOnly = true;
    else {
      std::fprintf(stderr, "usage: proctape-storm [--cycles N] [--workers P] [--fork-only]\n");
      return 2;
    }
  }
  if (cycles < 1 || workers < 1) return 2;
  double start = now();
  std::vector<pid_t> pids;
  for (long w = 0; w < workers; ++w) {
    long share = cycles / workers + (w < cycles % workers ? 1 : 0);
    pid_t worker = fork();
    if (worker == 0) work(share, forkOnly);
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
