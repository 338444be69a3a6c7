// What the benchmarks share besides their data: timing, medians, running the
// peer CLI, describing the machine, a temporary directory, and dying cleanly.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace proctape::bench {

using Clock = std::chrono::steady_clock;

// Names the program in die()'s messages ("format_bench: ...").
void setProgramName(std::string name);

// Creates a fresh directory PREFIX.XXXXXX in `base`, removed by die() and by
// removeTempDir(); dies if it cannot.
std::string makeTempDir(const std::string& base, const std::string& prefix);
void removeTempDir();

// Prints "PROGRAM: MESSAGE" to stderr, removes the temporary directory and exits 2.
[[noreturn]] void die(const std::string& message);

double seconds(Clock::time_point a, Clock::time_point b);
double median(std::vector<double> values);

// What running a command cost: wall time, and from wait4's rusage its CPU
// time (user + system) and peak RSS.
struct RunCost {
  double seconds = 0;
  double cpuSeconds = 0;
  uint64_t maxRssKiB = 0;
};

// Runs argv (looked up in PATH) with stdin/stdout redirected to files when
// given; dies if it cannot run or fails.
RunCost runTimed(const std::vector<std::string>& args, const std::string& stdinPath, const std::string& stdoutPath);
// runTimed's wall time.
double runCommand(const std::vector<std::string>& args, const std::string& stdinPath, const std::string& stdoutPath);

// What a shell command prints, trailing newlines and spaces removed; empty if it cannot run.
std::string commandOutput(const std::string& command);

// The first "model name" of /proc/cpuinfo.
std::string cpuModel();

// `requested`, else $TMPDIR, else /dev/shm, else /tmp.
std::string pickDirectory(const std::string& requested);

// `value` with `decimals` decimals.
std::string fixed(double value, int decimals);

// Now, as "YYYY-MM-DD HH:MM:SS UTC".
std::string utcNow();

}  // namespace proctape::bench
