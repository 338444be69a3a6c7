// record_bench: the recorder benchmark (docs/recorder.md, "Benchmark"). It
// runs process storms (proctape-storm) and a realistic build bare and under
// each listener in turn, system-wide, in one run:
//
//   bare, proctape-record, bare, forkstat -e all, bare, extrace -t, bare
//
// so that every listener's storm is bracketed by bare runs, and reports per
// listener: the storm's events it captured, drops, its CPU per 10,000 storm
// events and peak RSS (from wait4's rusage), output bytes per event, the
// share of execs whose argv it got, and the storm's speed relative to the
// mean of the bare runs before and after it. Rounds repeat the whole
// sequence; the report gives medians over rounds and per-round figures.
//
// Counting: the storm logs its children's pids (--pid-log), and each
// listener's output is searched for events about those pids. pid_max must
// exceed the number of cycles so that no pid repeats within a storm:
// scripts/bench-record raises it for the run.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "proctape/format/netlink.h"
#include "proctape/format/reader.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string recorder, storm, workdir, project;
  long cycles = 100000;
  int rounds = 3;
  std::vector<std::string> storms{"exec:1", "exec:2", "fork:2"};
  std::vector<std::string> tools{"proctape", "proctape:--no-enrich", "forkstat", "extrace"};
  int buildRounds = 3;
  std::vector<std::string> recorderOptions;
};

// What a listener got of one storm.
struct Capture {
  long forks = 0, execs = 0, exits = 0, argv = 0;
  long lost = 0;  // drops the listener itself reported (proctape: lost + unknown gaps)
  long outputBytes = 0, outputEvents = 0;
};

struct Sample {
  double seconds = 0;        // the storm's own time
  double bareSeconds = 0;    // mean of the bare runs around it
  double cpuSeconds = 0;     // the listener's user + system time
  long peakRssKib = 0;
  Capture capture;
};

// ---- processes -------------------------------------------------------------

struct Finished {
  int status = -1;
  rusage usage{};
};

pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  // Unflushed report text would otherwise be written again by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int outFd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int errFd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (outFd < 0 || errFd < 0 || ::dup2(outFd, 1) < 0 || ::dup2(errFd, 2) < 0) ::_exit(126);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to end.
std::optional<Finished> waitFor(pid_t pid, std::chrono::milliseconds timeout) {
  Finished done;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (::wait4(pid, &done.status, WNOHANG, &done.usage) == pid) return done;
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Waits for `pid`, sending SIGKILL after `timeout`.
Finished reap(pid_t pid, std::chrono::milliseconds timeout) {
  if (auto done = waitFor(pid, timeout)) return *done;
  ::kill(pid, SIGKILL);
  Finished done;
  ::wait4(pid, &done.status, 0, &done.usage);
  std::fprintf(stderr, "record_bench: pid %d did not stop within %lld ms; killed\n", pid,
               static_cast<long long>(timeout.count()));
  return done;
}

double cpuOf(const rusage& usage) {
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

long fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? long(st.st_size) : 0;
}

// ---- the storm -------------------------------------------------------------

struct StormKind {
  bool forkOnly = false;
  int workers = 1;
  std::string label() const {
    return std::string(forkOnly ? "fork+exit" : "fork+exec+exit") + ", P=" + std::to_string(workers);
  }
  long eventsPerCycle() const { return forkOnly ? 2 : 3; }
};

StormKind parseStorm(const std::string& text) {
  StormKind kind;
  size_t colon = text.find(':');
  std::string mode = text.substr(0, colon);
  if (mode != "exec" && mode != "fork") throw CLI::ValidationError("--storms", "unknown storm " + text);
  kind.forkOnly = mode == "fork";
  kind.workers = colon == std::string::npos ? 1 : std::stoi(text.substr(colon + 1));
  return kind;
}

// Runs one storm; its seconds (from its own output), or nullopt on failure.
std::optional<double> runStorm(const Options& options, const StormKind& kind, const std::string& pidLog) {
  std::vector<std::string> argv{options.storm, "--cycles", std::to_string(options.cycles), "--workers",
                                std::to_string(kind.workers)};
  if (kind.forkOnly) argv.push_back("--fork-only");
  if (!pidLog.empty()) {
    ::unlink(pidLog.c_str());
    argv.insert(argv.end(), {"--pid-log", pidLog});
  }
  std::string out = options.workdir + "/storm.out";
  Finished done = reap(spawn(argv, out, options.workdir + "/storm.err"), std::chrono::hours(2));
  std::string text = slurp(out);
  size_t at = text.find("seconds=");
  if (!WIFEXITED(done.status) || WEXITSTATUS(done.status) != 0 || at == std::string::npos) {
    std::fprintf(stderr, "record_bench: the storm failed: %s%s\n", text.c_str(),
                 slurp(options.workdir + "/storm.err").c_str());
    return std::nullopt;
  }
  return std::stod(text.substr(at + 8));
}

std::unordered_set<int32_t> readPids(const std::string& path) {
  std::unordered_set<int32_t> pids;
  std::ifstream in(path);
  for (int32_t pid = 0; in >> pid;) pids.insert(pid);
  return pids;
}

// ---- the listeners -----------------------------------------------------------

struct Listener {
  std::string name;
  std::vector<std::string> argv;
  std::string output;  // the file whose size is "bytes on disk"
};

// "proctape", "forkstat", "extrace", or "proctape:OPT,OPT..." for the
// recorder with extra options (e.g. proctape:--no-enrich).
Listener listenerFor(const std::string& name, const Options& options) {
  const std::string& dir = options.workdir;
  if (name == "proctape" || name.rfind("proctape:", 0) == 0) {
    Listener l{name, {options.recorder, "-q", "-o", dir + "/proctape.pt"}, dir + "/proctape.pt"};
    l.argv.insert(l.argv.end(), options.recorderOptions.begin(), options.recorderOptions.end());
    std::stringstream extra(name.size() > 9 ? name.substr(9) : "");
    for (std::string option; std::getline(extra, option, ',');) l.argv.push_back(option);
    return l;
  }
  if (name == "forkstat") return {name, {"forkstat", "-e", "all"}, dir + "/forkstat.out"};
  if (name == "extrace") return {name, {"extrace", "-t", "-o", dir + "/extrace.out"}, dir + "/extrace.out"};
  throw CLI::ValidationError("--tools", "unknown listener " + name);
}

bool isProctape(const Listener& listener) { return listener.name.rfind("proctape", 0) == 0; }

// Counts what a proctape trace holds about the storm's children.
Capture countProctape(const std::string& trace, const std::string& summary,
                      const std::unordered_set<int32_t>& children) {
  namespace nl = proctape::netlink;
  Capture capture;
  auto reader = proctape::format::TraceReader::open(trace);
  if (!reader) return capture;
  auto order = reader->meta() ? reader->meta()->byteOrder : proctape::format::ByteOrder::little;
  proctape::format::Record record;
  while (reader->next(record)) {
    if (const auto* frame = std::get_if<proctape::format::Frame>(&record.body)) {
      for (const auto& message : nl::decodeDatagram(nl::kFamilyConnector, order, frame->bytes)) {
        const auto* event = std::get_if<nl::ProcEvent>(&message.body);
        if (!event || !children.count(event->pid())) continue;
        ++capture.outputEvents;
        capture.forks += event->type == nl::ProcEventType::fork;
        capture.execs += event->type == nl::ProcEventType::exec;
        capture.exits += event->type == nl::ProcEventType::exit;
      }
    } else if (const auto* info = std::get_if<const proctape::format::ProcessInfo*>(&record.body)) {
      const auto& argv = (*info)->argv;
      if (children.count((*info)->pid) && argv.size() == 2 && argv[1] == "proctape-storm-child") ++capture.argv;
    }
  }
  auto value = [&](const char* key) {
    size_t at = summary.find(std::string(" ") + key + "=");
    return at == std::string::npos ? 0L : std::stol(summary.substr(at + std::strlen(key) + 2));
  };
  capture.lost = value("lost") + value("lost_unknown");
  return capture;
}

// forkstat -e all: "HH:MM:SS event PID info duration process...", with a
// "fork PID parent" line and a "fork PID child" line per fork.
Capture countForkstat(const std::string& path, const std::unordered_set<int32_t>& children) {
  Capture capture;
  std::ifstream in(path);
  std::string line, time, event, info;
  int32_t pid = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    if (!(words >> time >> event >> pid) || !children.count(pid)) continue;
    words >> info;
    if (event == "fork" && info == "child") ++capture.forks;
    if (event == "exec") ++capture.execs, capture.argv += line.find("proctape-storm-child") != std::string::npos;
    if (event == "exit") ++capture.exits;
  }
  capture.outputEvents = capture.forks + capture.execs + capture.exits;
  return capture;
}

// extrace -t: "PID+ argv..." at exec and "PID- name exited status=..." at
// exit, indented by depth; no fork events.
Capture countExtrace(const std::string& path, const std::unordered_set<int32_t>& children) {
  Capture capture;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || !std::isdigit(static_cast<unsigned char>(line[start]))) continue;
    size_t end = line.find_first_not_of("0123456789", start);
    if (end == std::string::npos || !children.count(std::stoi(line.substr(start, end - start)))) continue;
    if (line[end] == '+') ++capture.execs, capture.argv += line.find("proctape-storm-child") != std::string::npos;
    if (line[end] == '-') ++capture.exits;
  }
  capture.outputEvents = capture.execs + capture.exits;
  return capture;
}

// Starts a listener, gives it a second to subscribe, runs `work`, gives it
// half a second to read what is queued, stops it with SIGINT, and returns
// its rusage. (forkstat and extrace print nothing we could wait on when
// their output is a file, so every listener gets the same fixed second.)
template <typename Work>
Finished underListener(const Listener& listener, const Options& options, Work work) {
  std::string out = listener.name == "forkstat" ? listener.output : options.workdir + "/listener.stdout";
  pid_t pid = spawn(listener.argv, out, options.workdir + "/listener.stderr");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  work();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(pid, SIGINT);
  // extrace, when it runs no command, ignores SIGINT; SIGTERM ends it (its
  // rusage is whole either way). The others stop on SIGINT within a second.
  if (auto done = waitFor(pid, std::chrono::seconds(5))) return *done;
  ::kill(pid, SIGTERM);
  return reap(pid, std::chrono::seconds(60));
}

Capture countFor(const Listener& listener, const Options& options, const std::unordered_set<int32_t>& children) {
  if (isProctape(listener)) return countProctape(listener.output, slurp(options.workdir + "/listener.stderr"), children);
  if (listener.name == "forkstat") return countForkstat(listener.output, children);
  return countExtrace(listener.output, children);
}

// ---- statistics and the report ----------------------------------------------

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

template <typename Field>
double medianOf(const std::vector<Sample>& samples, Field field) {
  std::vector<double> values;
  for (const auto& sample : samples) values.push_back(field(sample));
  return median(values);
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

void printStormTable(const StormKind& kind, const Options& options,
                     const std::map<std::string, std::vector<Sample>>& results) {
  long generated = options.cycles * kind.eventsPerCycle();
  std::printf("\n### %s, N=%ld cycles (%ld events)\n\n", kind.label().c_str(), options.cycles, generated);
  std::printf("| listener | events captured | drops | CPU s per 10k events | CPU vs forkstat | peak RSS MiB "
              "| output bytes/event | argv | storm speed vs bare (per round) |\n|---|---|---|---|---|---|---|---|---|\n");
  double forkstatCpu = 0;
  if (auto it = results.find("forkstat"); it != results.end())
    forkstatCpu = medianOf(it->second, [&](const Sample& s) { return s.cpuSeconds; });
  for (const auto& name : options.tools) {
    auto it = results.find(name);
    if (it == results.end() || it->second.empty()) continue;
    const auto& samples = it->second;
    // extrace reports no forks: its share is of the exec and exit events.
    long trackable = name == "extrace" ? 2 * options.cycles : generated;
    if (kind.forkOnly && name == "extrace") {
      std::printf("| extrace | – (reports execs only) | | | | | | | |\n");
      continue;
    }
    double captured = medianOf(samples, [](const Sample& s) { return double(s.capture.outputEvents); });
    double cpu = medianOf(samples, [](const Sample& s) { return s.cpuSeconds; });
    std::string speeds;
    for (const auto& s : samples) speeds += (speeds.empty() ? "" : ", ") + fixed(s.bareSeconds / s.seconds, 3);
    std::printf("| %s | %.0f / %ld (%s%%) | %.0f | %s | %s | %s | %s | %s | %s (%s) |\n", name.c_str(), captured,
                trackable, fixed(100.0 * captured / double(trackable), 2).c_str(),
                medianOf(samples, [&](const Sample& s) {
                  return double(std::max(s.capture.lost, trackable - s.capture.outputEvents));
                }),
                fixed(cpu * 10000.0 / double(generated), 3).c_str(),
                forkstatCpu > 0 ? fixed(cpu / forkstatCpu, 2).c_str() : "–",
                fixed(medianOf(samples, [](const Sample& s) { return double(s.peakRssKib); }) / 1024.0, 1).c_str(),
                fixed(medianOf(samples,
                               [](const Sample& s) {
                                 return s.capture.outputEvents ? double(s.capture.outputBytes) /
                                                                     double(s.capture.outputEvents)
                                                               : 0.0;
                               }),
                      1)
                    .c_str(),
                kind.forkOnly ? "–"
                              : (fixed(100.0 * medianOf(samples, [](const Sample& s) { return double(s.capture.argv); }) /
                                           double(options.cycles),
                                       2) +
                                 "%")
                                    .c_str(),
                fixed(medianOf(samples, [](const Sample& s) { return s.bareSeconds / s.seconds; }), 3).c_str(),
                speeds.c_str());
  }
}

// ---- the benchmark -------------------------------------------------------------

void benchStorm(const StormKind& kind, const Options& options) {
  std::map<std::string, std::vector<Sample>> results;
  std::string pidLog = options.workdir + "/pids";
  for (int round = 1; round <= options.rounds; ++round) {
    auto before = runStorm(options, kind, "");
    for (const auto& name : options.tools) {
      Listener listener = listenerFor(name, options);
      ::unlink(listener.output.c_str());
      std::optional<double> seconds;
      Finished done = underListener(listener, options, [&] { seconds = runStorm(options, kind, pidLog); });
      auto after = runStorm(options, kind, "");
      if (!before || !seconds || !after) continue;
      Sample sample;
      sample.seconds = *seconds;
      sample.bareSeconds = (*before + *after) / 2;
      sample.cpuSeconds = cpuOf(done.usage);
      sample.peakRssKib = done.usage.ru_maxrss;
      sample.capture = countFor(listener, options, readPids(pidLog));
      sample.capture.outputBytes = fileSize(listener.output);
      std::fprintf(stderr,
                   "  %s round %d %-8s storm %.2fs bare %.2fs cpu %.3fs rss %ld KiB events %ld (fork %ld exec %ld "
                   "exit %ld) argv %ld lost %ld\n",
                   kind.label().c_str(), round, name.c_str(), sample.seconds, sample.bareSeconds, sample.cpuSeconds,
                   sample.peakRssKib, sample.capture.outputEvents, sample.capture.forks, sample.capture.execs,
                   sample.capture.exits, sample.capture.argv, sample.capture.lost);
      results[name].push_back(sample);
      before = after;
      ::unlink(listener.output.c_str());
    }
  }
  printStormTable(kind, options, results);
}

// One clean `make -j2` of the project; its wall seconds.
double timeBuild(const Options& options) {
  std::string quiet = " >/dev/null 2>&1";
  if (std::system(("make -C " + options.project + " clean" + quiet).c_str()) != 0) return 0;
  auto start = Clock::now();
  int status = std::system(("make -C " + options.project + " -j2" + quiet).c_str());
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (status != 0) std::fprintf(stderr, "record_bench: the build in %s failed\n", options.project.c_str());
  return status == 0 ? seconds : 0;
}

void benchBuild(const Options& options) {
  std::map<std::string, std::vector<double>> costs;
  std::map<std::string, std::vector<double>> bareTimes;
  for (int round = 1; round <= options.buildRounds; ++round) {
    double before = timeBuild(options);
    for (const auto& name : options.tools) {
      Listener listener = listenerFor(name, options);
      double seconds = 0;
      underListener(listener, options, [&] { seconds = timeBuild(options); });
      double after = timeBuild(options);
      ::unlink(listener.output.c_str());
      if (before <= 0 || seconds <= 0 || after <= 0) continue;
      double bare = (before + after) / 2;
      costs[name].push_back(seconds / bare - 1);
      bareTimes[name].push_back(bare);
      std::fprintf(stderr, "  build round %d %-8s %.2fs, bare around it %.2fs and %.2fs\n", round, name.c_str(),
                   seconds, before, after);
      before = after;
    }
  }
  long files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(options.project)) files += entry.path().extension() == ".c";
  std::printf("\n### make -j2 of a generated C project of %ld files, %d rounds\n\n", files, options.buildRounds);
  std::printf("| listener | build time vs bare (median) | per round | bare build (median) |\n|---|---|---|---|\n");
  for (const auto& name : options.tools) {
    if (costs[name].empty()) continue;
    std::string rounds;
    for (double cost : costs[name]) rounds += (rounds.empty() ? "" : ", ") + fixed(100 * cost, 1) + "%";
    std::printf("| %s | %s%% | %s | %ss |\n", name.c_str(), fixed(100 * median(costs[name]), 1).c_str(),
                rounds.c_str(), fixed(median(bareTimes[name]), 2).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"The recorder benchmark: process storms and a build, bare and under each listener"};
  app.add_option("--recorder", options.recorder, "proctape-record")->required();
  app.add_option("--storm", options.storm, "proctape-storm")->required();
  app.add_option("--workdir", options.workdir, "where outputs go")->required();
  app.add_option("--project", options.project, "a generated C project for the build (none: no build)");
  app.add_option("--cycles", options.cycles, "storm cycles")->capture_default_str();
  app.add_option("--rounds", options.rounds, "storm rounds")->capture_default_str();
  app.add_option("--storms", options.storms, "storms: exec:P or fork:P")->capture_default_str();
  app.add_option("--tools", options.tools, "listeners: proctape, proctape:OPT,OPT.., forkstat, extrace")->capture_default_str();
  app.add_option("--build-rounds", options.buildRounds, "build rounds")->capture_default_str();
  app.add_option("--recorder-option", options.recorderOptions, "an extra proctape-record option (repeatable)");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<StormKind> kinds;
    for (const auto& text : options.storms) kinds.push_back(parseStorm(text));
    for (const auto& name : options.tools) listenerFor(name, options);
    for (const auto& kind : kinds) benchStorm(kind, options);
    if (!options.project.empty() && options.buildRounds > 0) benchBuild(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "record_bench: %s\n", error.what());
    return 2;
  }
  return 0;
}
