// analyze_bench: how fast proctape-analyze reads a large, realistic build
// trace, and how much memory it keeps per process, against `zstd -d` on the
// same file.
//
// It writes, with the format library's TraceWriter, a trace of at least
// --events cn_proc events of a CI host building C projects
// (bench/build_trace_generator.h: make -> sh -> cc -> cc1/as, links through
// collect2 and ld, test programs with threads, sudo make install, pid reuse,
// a process-info record after every exec, a start-up snapshot). Then, each
// run, in this order:
//   - summary: the real binary, `proctape-analyze summary TRACE > /dev/null`,
//     decoding chunks on every core (its default); wall time, CPU time and
//     peak RSS (wait4's rusage of that child);
//   - zstd: `zstd -d -c TRACE > /dev/null`: the zstd CLI decompresses every
//     chunk (each a plain zstd frame) and skips the headers, index and trailer
//     (zstd skippable frames), as format_bench and replay_bench time it;
//   - summary, 1 thread: the same with `--threads 1` (chunks decoded on the
//     analyzing thread);
//   - tree and processes (CSV): the binary, to /dev/null;
//   - load: proctape::analyze::loadTrace() in a fork of this process (the
//     reading and tracking alone, no report);
//   - baseline: `proctape-analyze summary` on a small trace of the same
//     generator (--baseline-events), for the memory any run needs.
// Speeds are cn_proc events of the trace per second of wall time, medians of
// --runs runs; ratios to zstd -d are taken within each run. Memory per
// process kept is (peak RSS - baseline RSS) / processes in the model, with
// the argv bytes of the trace shown apart.
//
// It prints a Markdown report and PASS/FAIL lines for the targets
// (summary >= 5,000,000 events/s; <= 1 KiB per process kept besides the argv
// strings), and exits 1 if one fails. --keep FILE keeps the trace (and
// FILE.facts) and --trace FILE reuses it; --profile load runs loadTrace()
// once, for perf or valgrind.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "bench_support.h"
#include "build_trace_generator.h"
#include "cn_proc_generator.h"
#include "proctape/analyze/load.h"
#include "proctape/analyze/scope.h"
#include "proctape/format/writer.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace pf = proctape::format;
namespace pa = proctape::analyze;
using namespace proctape::bench;

constexpr double kTargetEventsPerSecond = 5'000'000;
constexpr double kTargetBytesPerProcess = 1024;

// ---- the trace ----------------------------------------------------------------------

struct TraceFacts {
  BuildTraceFacts build;
  uint64_t fileBytes = 0;
  uint64_t rawBytes = 0;
  uint64_t chunks = 0;
  uint64_t records = 0;
};

class WriterSink final : public BuildTraceSink {
 public:
  WriterSink(pf::TraceWriter& writer, int64_t& now) : writer_(writer), now_(now) {}
  void snapshot(int64_t captureNs, const pf::Snapshot& snapshot) override {
    now_ = captureNs;
    check(writer_.writeSnapshot(captureNs, snapshot));
  }
  void frame(int64_t captureNs, std::span<const uint8_t> bytes) override {
    now_ = captureNs;
    check(writer_.writeFrame(captureNs, 0, bytes));
  }
  void processInfo(int64_t captureNs, const pf::ProcessInfo& info) override {
    now_ = captureNs;
    check(writer_.writeProcessInfo(captureNs, info));
  }

 private:
  static void check(const proctape::Status& status) {
    if (!status) die(status.error().message);
  }
  pf::TraceWriter& writer_;
  int64_t& now_;
};

TraceFacts writeTrace(const BuildTraceOptions& options, const std::string& path) {
  BuildTraceGenerator generator(options);
  int64_t now = generator.startNs();
  pf::WriterOptions writerOptions;
  writerOptions.clock = clockFollowing(now);
  auto writer = pf::TraceWriter::create(path, generator.meta(), writerOptions);
  if (!writer) die(writer.error().message);
  WriterSink sink(*writer, now);
  TraceFacts facts;
  facts.build = generator.run(sink);
  if (auto status = writer->close(); !status) die(status.error().message);
  facts.fileBytes = fs::file_size(path);
  facts.rawBytes = writer->stats().rawBytes;
  facts.chunks = writer->stats().chunks;
  facts.records = writer->stats().records;
  return facts;
}

// The facts beside a kept trace (FILE.facts), so that --trace can reuse it.
std::vector<std::pair<std::string, uint64_t*>> factFields(TraceFacts& f) {
  BuildTraceFacts& b = f.build;
  return {{"events", &b.events},   {"forks", &b.forks},
          {"thread_forks", &b.threadForks}, {"execs", &b.execs},
          {"exits", &b.exits},     {"thread_exits", &b.threadExits},
          {"uids", &b.uids},       {"gids", &b.gids},
          {"sids", &b.sids},       {"comms", &b.comms},
          {"coredumps", &b.coredumps}, {"infos", &b.infos},
          {"infos_gone", &b.infosGone}, {"late_forks", &b.lateForks},
          {"snapshot_processes", &b.snapshotProcesses}, {"processes", &b.processes},
          {"failed", &b.failed},   {"projects", &b.projects},
          {"pid_wraps", &b.pidWraps}, {"argv_bytes", &b.argvBytes},
          {"argv_count", &b.argvCount}, {"max_live_tasks", &b.maxLiveTasks},
          {"file_bytes", &f.fileBytes}, {"raw_bytes", &f.rawBytes},
          {"chunks", &f.chunks},   {"records", &f.records}};
}

void saveFacts(TraceFacts facts, const std::string& path) {
  std::ofstream out(path);
  for (auto& [name, value] : factFields(facts)) out << name << ' ' << *value << '\n';
  out << "first_ns " << facts.build.firstNs << "\nlast_ns " << facts.build.lastNs << '\n';
  if (!out) die("cannot write " + path);
}

TraceFacts loadFacts(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path + " (written by --keep beside the trace)");
  std::map<std::string, int64_t> values;
  std::string name;
  int64_t value = 0;
  while (in >> name >> value) values[name] = value;
  TraceFacts facts;
  for (auto& [field, target] : factFields(facts)) {
    if (!values.count(field)) die(path + ": no " + field);
    *target = uint64_t(values[field]);
  }
  facts.build.firstNs = values["first_ns"];
  facts.build.lastNs = values["last_ns"];
  return facts;
}

// ---- running the tools ----------------------------------------------------------------

struct ModelFacts {
  uint64_t processes = 0;  // incarnations in the model
  uint64_t inScope = 0;    // in the default scope (the recorded command's subtree)
  uint64_t execs = 0;
  uint64_t damage = 0;
};

// Failing inside a forked child: no exit handlers (die() would remove the parent's directory).
[[noreturn]] void childFail(const std::string& message) {
  std::fprintf(stderr, "analyze_bench: %s\n", message.c_str());
  ::_exit(2);
}

// Runs `work` in a forked copy of this process and hands back what it returns
// (a plain struct). The copy's memory never becomes this process's: a child
// that posix_spawn starts shares this process's memory until its exec, and
// the kernel counts this process's peak RSS into the child's ru_maxrss, so
// this process has to stay small for the RSS figures to be the tools' own.
template <typename T, typename F>
T inForkedChild(F work) {
  static_assert(std::is_trivially_copyable_v<T>);
  int fds[2];
  if (::pipe(fds) != 0) die(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    T result = work();
    const char* at = reinterpret_cast<const char*>(&result);
    for (size_t done = 0; done < sizeof result;) {
      ssize_t n = ::write(fds[1], at + done, sizeof result - done);
      if (n <= 0) ::_exit(2);
      done += size_t(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  T result{};
  char* at = reinterpret_cast<char*>(&result);
  size_t done = 0;
  while (done < sizeof result) {
    ssize_t n = ::read(fds[0], at + done, sizeof result - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid failed");
  if (done != sizeof result || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a measurement in a child failed");
  return result;
}

// loadTrace() in a process of ours (a fork): the reading and tracking alone.
RunCost loadInChild(const std::string& path) {
  return inForkedChild<RunCost>([&path] {
    auto start = Clock::now();
    auto trace = pa::loadTrace(path);
    auto end = Clock::now();
    if (!trace) childFail(trace.error().message);
    return RunCost{seconds(start, end), 0, 0};
  });
}

// loadTrace() in this process: the reading and tracking alone. Run it in a
// child (inForkedChild), except for --profile.
RunCost loadInProcess(const std::string& path, ModelFacts* facts = nullptr) {
  auto start = Clock::now();
  auto trace = pa::loadTrace(path);
  auto end = Clock::now();
  if (!trace) childFail(trace.error().message);
  if (facts) {
    facts->processes = trace->model.processes.size();
    facts->damage = trace->damage.size();
    for (const auto& p : trace->model.processes)
      for (const auto& exec : p.execs) facts->execs += exec.timeNs.has_value();
    pa::ProcessTree tree(trace->model);
    auto scope = pa::selectScope(trace->model, tree, {}, trace->recordings);
    if (scope) facts->inScope = scope->count;
  }
  return {seconds(start, end), 0, 0};
}

// One measurement, once, kept out of line so that a profiler finds it by name:
//   valgrind --tool=callgrind --toggle-collect='*profileLoad*' analyze_bench --trace FILE --profile load
[[gnu::noinline]] RunCost profileLoad(const std::string& path) { return loadInProcess(path); }

// ---- the measurements -----------------------------------------------------------------

struct Row {
  std::string name;
  std::string what;
  std::vector<RunCost> runs;
  std::vector<double> pairedRatio;  // per run: zstd -d time / this time
  bool memory = false;              // peak RSS measured
  RunCost median() const {
    std::vector<double> s, cpu, rss;
    for (const auto& t : runs) s.push_back(t.seconds), cpu.push_back(t.cpuSeconds), rss.push_back(double(t.maxRssKiB));
    return {proctape::bench::median(s), proctape::bench::median(cpu), uint64_t(proctape::bench::median(rss))};
  }
};

struct Setup {
  std::string commandLine;
  std::string base;
  std::string analyze;
  std::string trace, baselineTrace;
  std::string sampleOutput;
  BuildTraceOptions build;
  size_t baselineEvents = 0;
  int runs = 0;
  bool reports = true;
  TraceFacts facts, baselineFacts;
  ModelFacts model, baselineModel;
  double setupSeconds = 0;
  std::string loadBefore, loadAfter;
  std::vector<std::string> loadDuring;
};

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::vector<Row> measureAll(Setup& s) {
  std::vector<Row> rows = {
      {"summary", "`proctape-analyze summary TRACE > /dev/null` (the binary; chunks decoded on every core)", {}, {}, true},
      {"zstd", "`zstd -d -c TRACE > /dev/null` (whole process, start-up included)", {}, {}, true},
      {"summary-1", "`proctape-analyze summary --threads 1 TRACE > /dev/null` (one decoding thread)", {}, {}, true},
      {"tree", "`proctape-analyze tree TRACE > /dev/null`", {}, {}, true},
      {"processes", "`proctape-analyze processes TRACE > /dev/null` (CSV)", {}, {}, true},
      {"load", "`proctape::analyze::loadTrace()` in a fork of the benchmark: reading and tracking, no report", {}, {}, false},
      {"baseline", "`proctape-analyze summary` on the small trace (for memory)", {}, {}, true},
  };
  if (!s.reports) rows.erase(rows.begin() + 3, rows.begin() + 5);
  for (int r = 0; r < s.runs; ++r) {
    std::fprintf(stderr, "run %d of %d (load %s) ...\n", r + 1, s.runs, loadAverage().c_str());
    s.loadDuring.push_back(loadAverage());
    for (auto& row : rows) {
      if (row.name == "summary") row.runs.push_back(runTimed({s.analyze, "summary", s.trace}, "", "/dev/null"));
      if (row.name == "zstd") row.runs.push_back(runTimed({"zstd", "-d", "-c", "-q", s.trace}, "", "/dev/null"));
      if (row.name == "summary-1")
        row.runs.push_back(runTimed({s.analyze, "summary", "--threads", "1", s.trace}, "", "/dev/null"));
      if (row.name == "tree") row.runs.push_back(runTimed({s.analyze, "tree", s.trace}, "", "/dev/null"));
      if (row.name == "processes") row.runs.push_back(runTimed({s.analyze, "processes", s.trace}, "", "/dev/null"));
      if (row.name == "load") row.runs.push_back(loadInChild(s.trace));
      if (row.name == "baseline") row.runs.push_back(runTimed({s.analyze, "summary", s.baselineTrace}, "", "/dev/null"));
    }
    double zstdSeconds = rows[1].runs.back().seconds;  // the same run's pair drifts less than two medians
    for (auto& row : rows) row.pairedRatio.push_back(zstdSeconds / row.runs.back().seconds);
  }
  return rows;
}

const Row& rowNamed(const std::vector<Row>& rows, const std::string& name) {
  for (const auto& row : rows)
    if (row.name == name) return row;
  die("no measurement " + name);
}

// ---- the report -----------------------------------------------------------------------

std::string mega(double perSecond) { return fixed(perSecond / 1e6, 2); }
std::string mib(uint64_t kib) { return fixed(double(kib) / 1024, 1); }

std::string withCommas(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void printHeader(const Setup& s) {
  const BuildTraceFacts& b = s.facts.build;
  std::printf("## Analyze benchmark\n\n");
  std::printf("- command: `%s`\n", s.commandLine.c_str());
  std::printf("- date: %s\n", utcNow().c_str());
  std::printf("- machine: %u cores (std::thread::hardware_concurrency), %s\n", std::thread::hardware_concurrency(),
              cpuModel().c_str());
  std::printf("- load average (1, 5, 15 min): %s at the start, %s at the end; at the start of each run:",
              s.loadBefore.c_str(), s.loadAfter.c_str());
  for (const auto& l : s.loadDuring) std::printf(" %s;", l.substr(0, l.find(' ')).c_str());
  std::printf("\n- proctape-analyze: `%s`; zstd CLI: %s\n", s.analyze.c_str(),
              commandOutput("zstd --version 2>&1").c_str());
  std::printf("- files in: %s\n", s.base.c_str());
  std::printf("- trace: %s cn_proc events (fork %s, of threads %s; exec %s; exit %s, of threads %s; uid %s, gid %s, "
              "sid %s, comm %s, coredump %s), %s process-info records (%s of processes already gone), a snapshot of "
              "%s processes; %s projects built by %u lanes of `make -j%u` on %u CPUs; %s forks delivered after "
              "their child's exec; pids wrapped %s times; %.0f s of capture time, %.0f events/s\n",
              withCommas(b.events).c_str(), withCommas(b.forks + b.threadForks).c_str(),
              withCommas(b.threadForks).c_str(), withCommas(b.execs).c_str(),
              withCommas(b.exits + b.threadExits).c_str(), withCommas(b.threadExits).c_str(),
              withCommas(b.uids).c_str(), withCommas(b.gids).c_str(), withCommas(b.sids).c_str(),
              withCommas(b.comms).c_str(), withCommas(b.coredumps).c_str(), withCommas(b.infos).c_str(),
              withCommas(b.infosGone).c_str(), withCommas(b.snapshotProcesses).c_str(),
              withCommas(b.projects).c_str(), s.build.lanes, s.build.jobs, s.build.cpus,
              withCommas(b.lateForks).c_str(), withCommas(b.pidWraps).c_str(), double(b.lastNs - b.firstNs) / 1e9,
              double(b.events) / (double(b.lastNs - b.firstNs) / 1e9));
  std::printf("- on disk: %s bytes (%.2f bytes/event), %s bytes of Cap'n Proto inside, %s chunks (%.0f events "
              "each); argv: %s arguments, %s bytes (%.1f bytes per record); generated and written in %.1f s\n",
              withCommas(s.facts.fileBytes).c_str(), double(s.facts.fileBytes) / double(b.events),
              withCommas(s.facts.rawBytes).c_str(), withCommas(s.facts.chunks).c_str(),
              double(b.events) / double(std::max<uint64_t>(1, s.facts.chunks)), withCommas(b.argvCount).c_str(),
              withCommas(b.argvBytes).c_str(), double(b.argvBytes) / double(std::max<uint64_t>(1, b.infos + b.snapshotProcesses)),
              s.setupSeconds);
  std::printf("- the model: %s processes kept (%s in the default scope, the recorded command's subtree), %s execs; "
              "generator: %s processes, %s failed\n",
              withCommas(s.model.processes).c_str(), withCommas(s.model.inScope).c_str(),
              withCommas(s.model.execs).c_str(), withCommas(b.processes).c_str(), withCommas(b.failed).c_str());
  std::printf("- baseline trace: %s events, %s processes kept\n", withCommas(s.baselineFacts.build.events).c_str(),
              withCommas(s.baselineModel.processes).c_str());
  std::printf("- medians of %d runs\n\n", s.runs);
}

void printTable(const std::vector<Row>& rows, const Setup& s) {
  double n = double(s.facts.build.events);
  const RunCost zstd = rowNamed(rows, "zstd").median();
  std::printf("| measurement | what runs | s | M events/s | vs `zstd -d` | vs `zstd -d`, median of per-run ratios | "
              "CPU s (cores busy) | peak RSS MiB |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& row : rows) {
    RunCost t = row.median();
    bool baseline = row.name == "baseline";
    std::printf("| %s | %s | %.3f | %s | %s | %s | %s | %s |\n", row.name.c_str(), row.what.c_str(), t.seconds,
                baseline ? "" : mega(n / t.seconds).c_str(), baseline ? "" : fixed(zstd.seconds / t.seconds, 2).c_str(),
                baseline ? "" : fixed(proctape::bench::median(row.pairedRatio), 2).c_str(),
                row.memory ? (fixed(t.cpuSeconds, 2) + " (" + fixed(t.cpuSeconds / t.seconds, 2) + ")").c_str() : "",
                row.memory ? mib(t.maxRssKiB).c_str() : "");
  }
  std::printf("\nM events/s: cn_proc events in the trace (%s) per second of wall time. `zstd -d` decompresses "
              "every chunk (%s bytes out) on one thread; zstd has no multi-threaded decompression.\n\n",
              withCommas(s.facts.build.events).c_str(), withCommas(s.facts.rawBytes).c_str());
}

struct Memory {
  double perProcess = 0;          // (RSS - baseline) / processes
  double argvPerProcess = 0;      // argv bytes in the trace / processes
  double perProcessNoArgv = 0;
};

Memory memoryOf(const std::vector<Row>& rows, const Setup& s) {
  Memory m;
  double rss = double(rowNamed(rows, "summary").median().maxRssKiB) * 1024;
  double baseline = double(rowNamed(rows, "baseline").median().maxRssKiB) * 1024;
  double processes = double(std::max<uint64_t>(1, s.model.processes - s.baselineModel.processes));
  double argv = double(s.facts.build.argvBytes) - double(s.baselineFacts.build.argvBytes);
  m.perProcess = (rss - baseline) / processes;
  m.argvPerProcess = argv / processes;
  m.perProcessNoArgv = m.perProcess - m.argvPerProcess;
  return m;
}

void printMemory(const std::vector<Row>& rows, const Setup& s) {
  Memory m = memoryOf(rows, s);
  std::printf("Memory of `summary` (peak RSS, wait4's ru_maxrss): %s MiB, against %s MiB for the small trace: %.0f "
              "bytes per process kept (%s more processes). Of those, the argv strings as recorded (each argument "
              "and its NUL) are %.0f bytes per process; the rest, %.0f bytes per process, is the model and "
              "everything else.\n\n",
              mib(rowNamed(rows, "summary").median().maxRssKiB).c_str(),
              mib(rowNamed(rows, "baseline").median().maxRssKiB).c_str(), m.perProcess,
              withCommas(s.model.processes - s.baselineModel.processes).c_str(), m.argvPerProcess,
              m.perProcessNoArgv);
}

void printSample(const Setup& s) {
  std::istringstream in(s.sampleOutput);
  std::string line, out;
  for (int i = 0; i < 40 && std::getline(in, line); ++i) out += line + "\n";
  std::printf("The start of the summary:\n\n```\n%s```\n\n", out.c_str());
}

bool printVerdict(const std::vector<Row>& rows, const Setup& s) {
  double n = double(s.facts.build.events);
  RunCost summary = rowNamed(rows, "summary").median();
  RunCost zstd = rowNamed(rows, "zstd").median();
  Memory m = memoryOf(rows, s);
  bool fast = n / summary.seconds >= kTargetEventsPerSecond;
  bool small = m.perProcessNoArgv <= kTargetBytesPerProcess;
  std::printf("```\n");
  std::printf("%s summary: %s M events/s (target >= %s), %.2fx zstd -d (%s M events/s) on the same file\n",
              fast ? "PASS" : "FAIL", mega(n / summary.seconds).c_str(), mega(kTargetEventsPerSecond).c_str(),
              zstd.seconds / summary.seconds, mega(n / zstd.seconds).c_str());
  std::printf("%s memory: %.0f bytes per process kept besides the argv strings (target <= %.0f; %.0f with them)\n",
              small ? "PASS" : "FAIL", m.perProcessNoArgv, kTargetBytesPerProcess, m.perProcess);
  std::printf("```\n");
  return fast && small;
}

std::string defaultAnalyze() {
#ifdef PROCTAPE_ANALYZE_EXE
  return PROCTAPE_ANALYZE_EXE;
#else
  return "proctape-analyze";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"proctape-analyze on a large, realistic build trace: events per second against zstd -d, memory per "
               "process"};
  Setup s;
  s.build.events = 10'000'000;
  s.baselineEvents = 10'000;
  s.runs = 5;
  s.analyze = defaultAnalyze();
  std::string dirOption, keep, reuse, profile;
  bool noReports = false, generateOnly = false;
  app.add_option("--events", s.build.events, "cn_proc events in the trace, at least (10,000,000 for the documented "
                                             "figures)")
      ->check(CLI::PositiveNumber);
  app.add_option("--baseline-events", s.baselineEvents, "Events of the small trace whose peak RSS is the baseline")
      ->check(CLI::PositiveNumber);
  app.add_option("--runs", s.runs, "Runs per measurement; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--lanes", s.build.lanes, "Projects built at once")->check(CLI::PositiveNumber);
  app.add_option("--jobs", s.build.jobs, "make -j")->check(CLI::PositiveNumber);
  app.add_option("--cpus", s.build.cpus, "CPUs of the simulated host")->check(CLI::Range(1, 4096));
  app.add_option("--seed", s.build.seed, "Seed of the generator");
  app.add_option("--dir", dirOption, "Directory for the traces (default: $TMPDIR, else /dev/shm, else /tmp)");
  app.add_option("--analyze", s.analyze, "The proctape-analyze binary")->capture_default_str();
  app.add_option("--keep", keep, "Also keep the trace as this file, with its facts in FILE.facts");
  app.add_option("--trace", reuse, "Use this trace, kept earlier with --keep, instead of generating one");
  app.add_flag("--no-reports", noReports, "Leave out the tree and processes measurements");
  app.add_flag("--generate-only", generateOnly, "Only write the trace (with --keep)");
  app.add_option("--profile", profile, "Only run loadTrace() once on the trace, for a profiler")
      ->check(CLI::IsMember({"load"}));
  CLI11_PARSE(app, argc, argv);
  setProgramName("analyze_bench");
  for (int i = 0; i < argc; ++i) s.commandLine += (i ? " " : "") + std::string(argv[i]);
  s.reports = !noReports;

  s.loadBefore = loadAverage();
  s.base = pickDirectory(dirOption);
  std::string dir = makeTempDir(s.base, "analyze_bench");
  auto setupStart = Clock::now();
  if (!reuse.empty()) {
    s.trace = reuse;
    s.facts = loadFacts(reuse + ".facts");
  } else {
    s.trace = dir + "/trace.pt";
    std::fprintf(stderr, "writing a trace of %" PRIu64 " events ...\n", s.build.events);
    s.facts = writeTrace(s.build, s.trace);
    if (!keep.empty()) {
      fs::copy_file(s.trace, keep, fs::copy_options::overwrite_existing);
      saveFacts(s.facts, keep + ".facts");
    }
  }
  s.setupSeconds = seconds(setupStart, Clock::now());
  if (generateOnly) {
    removeTempDir();
    return 0;
  }
  if (!profile.empty()) {
    RunCost t = profileLoad(s.trace);
    std::fprintf(stderr, "load: %.3f s, %.2f M events/s\n", t.seconds, double(s.facts.build.events) / t.seconds / 1e6);
    removeTempDir();
    return 0;
  }
  BuildTraceOptions small = s.build;
  small.events = s.baselineEvents;
  s.baselineTrace = dir + "/baseline.pt";
  s.baselineFacts = writeTrace(small, s.baselineTrace);

  std::fprintf(stderr, "warming up ...\n");
  // In children, like every measurement, so that this process stays small.
  s.model = inForkedChild<ModelFacts>([&s] {
    ModelFacts facts;
    loadInProcess(s.trace, &facts);
    return facts;
  });
  s.baselineModel = inForkedChild<ModelFacts>([&s] {
    ModelFacts facts;
    loadInProcess(s.baselineTrace, &facts);
    return facts;
  });
  std::string samplePath = dir + "/summary.txt";
  runTimed({s.analyze, "summary", s.trace}, "", samplePath);
  {
    std::ifstream in(samplePath);
    std::stringstream text;
    text << in.rdbuf();
    s.sampleOutput = text.str();
  }
  if (s.model.damage) die("the trace reads with damage");
  auto rows = measureAll(s);
  s.loadAfter = loadAverage();
  removeTempDir();

  printHeader(s);
  printTable(rows, s);
  printMemory(rows, s);
  printSample(s);
  return printVerdict(rows, s) ? 0 : 1;
}
