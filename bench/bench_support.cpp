#include "bench_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace proctape::bench {
namespace {

namespace fs = std::filesystem;

std::string gProgram = "bench";
std::string gTempDir;  // removed on the way out, errors included

}  // namespace

void setProgramName(std::string name) { gProgram = std::move(name); }

std::string makeTempDir(const std::string& base, const std::string& prefix) {
  std::string pattern = base + "/" + prefix + ".XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) die("cannot create a temporary directory in " + base + ": " + std::strerror(errno));
  gTempDir = buffer.data();
  return gTempDir;
}

void removeTempDir() {
  std::error_code ignored;
  if (!gTempDir.empty()) fs::remove_all(gTempDir, ignored);
  gTempDir.clear();
}

void die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", gProgram.c_str(), message.c_str());
  removeTempDir();
  std::exit(2);
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

RunCost runTimed(const std::vector<std::string>& args, const std::string& stdinPath, const std::string& stdoutPath) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdinPath.empty()) posix_spawn_file_actions_addopen(&actions, 0, stdinPath.c_str(), O_RDONLY, 0);
  if (!stdoutPath.empty())
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string shown;
  for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;

  auto start = Clock::now();
  pid_t pid = 0;
  int err = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) die("cannot run `" + shown + "`: " + std::strerror(err));
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) die("wait4 failed for `" + shown + "`");
  }
  auto end = Clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("`" + shown + "` failed (status " + std::to_string(status) + ")");
  auto secondsOf = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return {seconds(start, end), secondsOf(usage.ru_utime) + secondsOf(usage.ru_stime), uint64_t(usage.ru_maxrss)};
}

double runCommand(const std::vector<std::string>& args, const std::string& stdinPath, const std::string& stdoutPath) {
  return runTimed(args, stdinPath, stdoutPath).seconds;
}

std::string commandOutput(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

std::string pickDirectory(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) return tmp;
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) return "/dev/shm";
  return "/tmp";
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string utcNow() {
  char date[64];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return date;
}

}  // namespace proctape::bench
