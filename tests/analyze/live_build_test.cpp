// proctape-analyze against an independent record of the same run, live.
//
// A generated C project (scripts/make-c-project: 30 units and a main, built
// with `make -j2`, plus two recipe lines that fail: an exit status and a
// death by signal) is built under strace, and the whole thing is recorded in
// command mode:
//
//   proctape-record -o T.pt -- [chrt -R -f 1] strace -f -ttt -s 65536 -o S.txt
//       -e trace=process,execve make -C PROJECT -j2 app checks
//
// Both observe one run. The recorded command is strace, so the default scope
// of `proctape-analyze processes` (the command's subtree) is strace plus
// everything strace traced: make (strace's child, the first pid in its log)
// and below. For every process they must agree on: the pid set (so the number
// of processes), the parent, each successful exec's program and argv in order
// (strace's failed execve attempts of a PATH search are not execs), the exit
// status or killing signal, and the threads created.
//
// Durations. strace cannot see the kernel's fork or exit, only the stops
// around them (see strace_log.h): the fork lies between the creating call's
// entry stamp and the next stop of the creator or the child; the exit between
// the process's last stop and strace's `+++ exited` report. So the test
// asserts, for every process, that proctape's duration (kernel timestamps)
// lies inside the range strace's stops allow, up to clock tolerance, and
// that proctape's UTC start and end lie inside those windows too.
//
// strace's own figure for a lifetime, `+++ exited` minus the creating call's
// entry (for make, strace's child: minus its execve's entry, against
// proctape's exec-to-exit), is an upper bound; by how much it exceeds
// proctape's is what strace could not see. Measured with this test (2 vCPUs
// shared with other builds, load 5-7; 99 processes per run), strace's figure
// minus proctape's:
//   strace SCHED_FIFO, dev and asan builds (8 runs): median 67-122 us,
//     90th percentile 135-218 us, max 0.4-30 ms, 0-2 processes over 2 ms;
//   strace at normal priority (3 runs): median 91-112 us, 90th percentile
//     230-689 us, max 4.3-10.4 ms, 1-6 processes over 2 ms.
// The excess splits into two delays that are strace's, not proctape's (the
// test prints the split for every process over 2 ms):
//  - the end: strace learns of an exit when its wait4 returns, after the
//    kernel's exit event. At normal priority strace waits for a CPU first:
//    2.6-10.3 ms. At SCHED_FIFO (chrt --reset-on-fork, so make and the
//    compilers stay normal) it stays under 0.11 ms, so the test runs strace
//    that way when the kernel allows it;
//  - the start: strace stamps the clone's entry, writes its line, lets the
//    parent go, and the parent (make, gcc) forks when it gets a CPU: 2.4-30 ms
//    for a few processes per run on this loaded machine, at either priority.
//    (For make, its execve's entry to the kernel's exec event: loading the
//    binary too, 2.8-5.5 ms when it went over.)
// So agreement within 2 ms cannot hold for every process on a busy machine,
// and the test asserts what does: every proctape duration inside strace's
// range (so a process strace pins to within 2 ms agrees within 2 ms), the
// median excess at most 0.5 ms, and at least 90% of the processes within
// 2 ms.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "record/live_fixture.h"
#include "strace_log.h"
#include "support/json.h"

namespace proctape::test {
namespace {

constexpr int64_t kMs = 1000000;

bool onPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// "2026-11-22T13:41:29.670776Z" -> ns since the epoch.
std::optional<int64_t> utcNs(const json::Value& value) {
  auto text = value.string();
  if (!text) return std::nullopt;
  std::tm tm{};
  const char* rest = ::strptime(text->c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  int64_t ns = int64_t(::timegm(&tm)) * 1000000000;
  if (*rest == '.') {
    int64_t scale = 100000000;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) ns += (*rest - '0') * scale;
  }
  return ns;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::string us(int64_t ns) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(0);
  out << double(ns) / 1000.0 << " us";
  return out.str();
}

// The program strace saw exec'd, as /proc/PID/exe names it: symlinks
// resolved (cc -> x86_64-linux-gnu-gcc-12), relative to the exec's cwd.
std::string resolved(const std::string& path, const std::optional<std::string>& cwd) {
  std::filesystem::path full = path;
  if (full.is_relative() && cwd) full = std::filesystem::path(*cwd) / full;
  std::error_code error;
  auto canonical = std::filesystem::canonical(full, error);
  return error ? full.string() : canonical.string();
}

// ------------------------------------------------------------------------
// The strace reader, on hand-written logs.

TEST(StraceLog, JoinsSplitCallsAndBoundsTheForkOnBothSides) {
  auto log = strace::parse(
      "100  10.000000 execve(\"/usr/bin/make\", [\"make\", \"-j2\"], 0x7ffd /* 3 vars */) = 0\n"
      "100  10.100000 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f, stack_size=0x9000}, 88"
      " <unfinished ...>\n"
      "101  10.100300 execve(\"/usr/bin/cc\", [\"cc\", \"-c\", \"a.c\"], 0x55 /* 4 vars */ <unfinished ...>\n"
      "100  10.100500 <... clone3 resumed>) = 101\n"
      "101  10.100600 <... execve resumed>) = 0\n"
      "101  10.200000 exit_group(0)                     = ?\n"
      "101  10.200100 +++ exited with 0 +++\n"
      "100  10.200200 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101} ---\n"
      "100  10.300000 exit_group(2)                     = ?\n"
      "100  10.300050 +++ exited with 2 +++\n");
  ASSERT_TRUE(log.errors.empty()) << log.errors.front();
  EXPECT_EQ(log.lines, 10u);
  EXPECT_EQ(log.root, 100);
  ASSERT_EQ(log.processes.size(), 2u);
  const auto& make = log.processes[0];
  EXPECT_EQ(make.pid, 100);
  EXPECT_EQ(make.parent, 0);
  EXPECT_FALSE(make.created);
  ASSERT_EQ(make.execs.size(), 1u);
  EXPECT_EQ(make.execs[0].argv, (std::vector<std::string>{"make", "-j2"}));
  EXPECT_EQ(make.execs[0].entryNs, 10000000000);
  EXPECT_EQ(make.execs[0].doneByNs, 10100000000);  // the next stop of the thread
  EXPECT_EQ(make.exitStatus, 2);
  EXPECT_EQ(make.lastStopNs, 10300000000);
  const auto& cc = log.processes[1];
  EXPECT_EQ(cc.pid, 101);
  EXPECT_EQ(cc.parent, 100);
  EXPECT_EQ(cc.createdAfterNs, 10100000000);
  EXPECT_EQ(cc.createdByNs, 10100300000);  // its own first stop came before the clone's return
  ASSERT_EQ(cc.execs.size(), 1u);
  EXPECT_EQ(cc.execs[0].path, "/usr/bin/cc");
  EXPECT_EQ(cc.execs[0].entryNs, 10100300000);
  EXPECT_EQ(cc.execs[0].doneByNs, 10100600000);
  EXPECT_EQ(cc.exitStatus, 0);
  EXPECT_EQ(cc.lastStopNs, 10200000000);
  EXPECT_EQ(cc.endReportedNs, 10200100000);
}

TEST(StraceLog, DecodesEscapesAndSkipsFailedExecs) {
  auto log = strace::parse(
      "7  1.000001 execve(\"/root/bin/as\", [\"as\", \"x\"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)\n"
      "7  1.000002 execve(\"/usr/bin/as\", [\"as\", \"q\\\"uote\", \"back\\\\slash\", \"tab\\there\", "
      "\"\\303\\251t\\303\\251\","
      " \"\\x41\\0\", \"\\33[0m\", \"a) = 0\", \"\"], 0x1 /* 1 var */) = 0\n"
      "7  1.000003 vfork()                                 = 8\n"
      "8  1.000004 execveat(AT_FDCWD, \"/bin/true\", [\"true\"], 0x1 /* 1 var */, 0) = 0\n"
      "8  1.000005 exit_group(0)                           = ?\n"
      "8  1.000006 +++ exited with 0 +++\n"
      "7  1.000007 +++ exited with 0 +++\n");
  ASSERT_TRUE(log.errors.empty()) << log.errors.front();
  EXPECT_EQ(log.failedExecs, 1u);
  ASSERT_EQ(log.processes.size(), 2u);
  ASSERT_EQ(log.processes[0].execs.size(), 1u);
  EXPECT_EQ(log.processes[0].execs[0].argv,
            (std::vector<std::string>{"as", "q\"uote", "back\\slash", "tab\there", "\xc3\xa9t\xc3\xa9",
                                      std::string("A\0", 2), "\x1b[0m", "a) = 0", ""}));
  // A call printed whole: its return is bounded by the thread's next stop.
  EXPECT_EQ(log.processes[1].createdAfterNs, 1000003000);
  EXPECT_EQ(log.processes[1].createdByNs, 1000004000);
  ASSERT_EQ(log.processes[1].execs.size(), 1u);
  EXPECT_EQ(log.processes[1].execs[0].path, "/bin/true");
  EXPECT_EQ(log.processes[1].execs[0].argv, std::vector<std::string>{"true"});
}

TEST(StraceLog, ThreadsSignalsAndClonesOfTheParent) {
  auto log = strace::parse(
      "50  2.000000 clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
      "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[51], tls=0x7f,"
      " child_tidptr=0x7f <unfinished ...>\n"
      "51  2.000010 clone(child_stack=NULL, flags=CLONE_PARENT|SIGCHLD <unfinished ...>\n"
      "50  2.000020 <... clone resumed>) = 51\n"
      "51  2.000030 <... clone resumed>) = 52\n"
      "52  2.000040 +++ killed by SIGSEGV (core dumped) +++\n"
      "51  2.000050 exit(0)                                 = ?\n"
      "51  2.000060 +++ exited with 0 +++\n"
      "50  2.000070 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7)"
      " = 53\n"
      "53  2.000080 +++ killed by SIGRT_2 +++\n"
      "50  2.000090 +++ killed by SIGTERM +++\n");
  ASSERT_TRUE(log.errors.empty()) << log.errors.front();
  ASSERT_EQ(log.processes.size(), 3u);
  EXPECT_EQ(log.processes[0].threads, 1);
  EXPECT_EQ(log.processes[0].termSignal, SIGTERM);
  EXPECT_FALSE(log.processes[0].exitStatus);
  EXPECT_EQ(log.processes[1].pid, 52);
  EXPECT_EQ(log.processes[1].parent, 0);  // CLONE_PARENT from a thread of the root: the root's parent
  EXPECT_EQ(log.processes[1].termSignal, SIGSEGV);
  EXPECT_TRUE(log.processes[1].coreDumped);
  EXPECT_EQ(log.processes[2].pid, 53);
  EXPECT_EQ(log.processes[2].parent, 50);
  EXPECT_EQ(log.processes[2].termSignal, SIGRTMIN + 2);
}

TEST(StraceLog, ReportsWhatItCannotRead) {
  auto cut = strace::parse("9  1.000000 execve(\"/usr/lib/gcc/x86_64-linux-gnu/12\"..., [\"x\"], 0x1) = 0\n");
  EXPECT_FALSE(cut.errors.empty());
  auto manyArgs = strace::parse("9  1.000000 execve(\"/bin/x\", [\"a\", \"b\", ...], 0x1) = 0\n");
  EXPECT_FALSE(manyArgs.errors.empty());
  auto noPid = strace::parse("1.000000 execve(\"/bin/x\", [\"x\"], 0x1) = 0\n");
  EXPECT_FALSE(noPid.errors.empty());
  auto orphan = strace::parse("9  1.000000 exit_group(0) = ?\n12  1.000001 +++ exited with 0 +++\n");
  EXPECT_FALSE(orphan.errors.empty()) << "a pid whose creation strace never showed";
}

// ------------------------------------------------------------------------
// The live comparison.

class LiveBuild : public LiveRecorder {};

struct Excess {
  int32_t pid;
  int64_t ns;           // strace's lifetime minus proctape's
  int64_t startSideNs;  // proctape's fork (UTC) minus the clone's entry stamp (make: its exec, the execve's)
  int64_t endSideNs;    // strace's exit report minus proctape's exit (UTC)
  std::string command;
};

TEST_F(LiveBuild, AnalysisAgreesWithStraceOnAParallelCBuild) {
  // Needed, not optional: scripts/setup installs them, so CI never skips this.
  for (const char* tool : {"strace", "make", "cc", "chrt"}) {
    ASSERT_TRUE(onPath(tool)) << tool << " is not installed (scripts/setup installs it)";
  }
  std::string project = dir_.file("project");
  ASSERT_EQ(shell("bash " PROCTAPE_SOURCE_DIR "/scripts/make-c-project " + project + " 30"), 0);
  {
    std::ofstream makefile(project + "/Makefile", std::ios::app);
    makefile << "checks: app\n"
                "\t-sh -c 'exit 3'\n"
                "\t-sh -c 'kill -TERM $$$$'\n"
                ".PHONY: checks\n";
  }
  size_t sources = 0;
  for (const auto& entry : std::filesystem::directory_iterator(project)) sources += entry.path().extension() == ".c";
  ASSERT_GE(sources, 30u);

  // strace at SCHED_FIFO when the kernel allows it (see the top of the file).
  bool realtime = shell("chrt --reset-on-fork --fifo 1 true >/dev/null 2>&1") == 0;
  std::string trace = dir_.file("build.pt"), straceOut = dir_.file("strace.txt");
  std::vector<std::string> argv = {kRecorder, "-q", "-o", trace, "--"};
  if (realtime) argv.insert(argv.end(), {"chrt", "--reset-on-fork", "--fifo", "1"});
  argv.insert(argv.end(), {"strace", "-f", "-ttt", "-s", "65536", "-o", straceOut, "-e", "trace=process,execve", "make",
                           "-C", project, "-j2", "app", "checks"});
  Child recorder(argv);
  auto status = recorder.wait(150000);
  ASSERT_TRUE(status) << "the build did not end within 150 s:\n" << recorder.output();
  ASSERT_EQ(*status, 0) << recorder.output();
  EXPECT_EQ(summaryValue(recorder.output(), "gaps"), 0) << recorder.output();
  EXPECT_EQ(summaryValue(recorder.output(), "lost"), 0) << recorder.output();
  ASSERT_TRUE(std::filesystem::exists(project + "/app")) << recorder.output();

  strace::Log log = strace::parse(readText(straceOut));
  ASSERT_TRUE(log.errors.empty()) << log.errors.size() << " strace lines not understood, first: " << log.errors.front();
  ASSERT_GE(log.processes.size(), 1 + 3 * (sources) + 3) << "make, cc/cc1/as per source, cc/collect2/ld to link";

  auto ended = [&](std::optional<int> exitStatus, std::optional<int> termSignal) {
    return std::any_of(log.processes.begin(), log.processes.end(), [&](const strace::Process& process) {
      return process.exitStatus == exitStatus && process.termSignal == termSignal;
    });
  };
  EXPECT_TRUE(ended(3, std::nullopt)) << "the recipe line that exits 3";
  EXPECT_TRUE(ended(std::nullopt, SIGTERM)) << "the recipe line killed by SIGTERM";

  std::string rowsFile = dir_.file("rows.jsonl"), errFile = dir_.file("analyze.err");
  int raw = std::system(
      (std::string(PROCTAPE_ANALYZE_EXE) + " processes --format json " + trace + " >" + rowsFile + " 2>" + errFile)
          .c_str());
  ASSERT_TRUE(WIFEXITED(raw) && WEXITSTATUS(raw) == 0) << readText(errFile);
  auto lines = json::parseLines(readText(rowsFile));
  ASSERT_TRUE(lines.error.empty()) << "line " << lines.badLine << " of processes --format json: " << lines.error;
  std::map<int32_t, json::Value> rows;
  for (json::Value& row : lines.values) {
    auto pid = row.at("pid").integer();
    ASSERT_TRUE(pid);
    ASSERT_TRUE(rows.emplace(int32_t(*pid), std::move(row)).second) << "pid " << *pid << " twice";
  }

  // The scope: strace (the recorded command), the children strace forks to
  // probe ptrace features before it starts the command (they never exec),
  // and everything strace traced.
  int32_t straceRoot = 0;
  size_t probes = 0;
  std::string untraced;
  for (const auto& [pid, row] : rows) {
    if (log.find(pid)) continue;
    untraced += "\n  pid " + std::to_string(pid) + " parent " +
                std::to_string(row.at("parent_pid").integer().value_or(0)) + " execs " +
                std::to_string(row.at("execs").items.size()) + ": " +
                joined(row.at("argv").strings().value_or(std::vector<std::string>{}));
    if (!row.at("execs").items.empty()) {
      EXPECT_EQ(straceRoot, 0) << "two exec'd processes strace did not trace";
      straceRoot = pid;
      auto image = row.at("execs").items.back().at("argv").strings();
      EXPECT_TRUE(image && !image->empty() && image->front() == "strace") << untraced;
    }
  }
  ASSERT_NE(straceRoot, 0) << untraced;
  for (const auto& [pid, row] : rows) {
    if (log.find(pid) || pid == straceRoot) continue;
    EXPECT_EQ(row.at("parent_pid").integer(), straceRoot) << "not traced, not strace's probe" << untraced;
    ++probes;
  }
  EXPECT_EQ(rows.size(), log.processes.size() + 1 + probes) << "the number of processes" << untraced;

  std::vector<int64_t> excesses;
  std::vector<Excess> over2ms;
  size_t execs = 0, argvUnknown = 0, compared = 0;  // argvUnknown: execs missing argv or exe
  for (const auto& process : log.processes) {
    auto found = rows.find(process.pid);
    ASSERT_NE(found, rows.end()) << "pid " << process.pid << " is in strace's log, not in proctape's scope";
    const json::Value& row = found->second;
    std::string command = process.execs.empty() ? "(no exec)" : joined(process.execs.back().argv);
    SCOPED_TRACE("pid " + std::to_string(process.pid) + ": " + command);
    ++compared;

    // Parent, exit, threads, completeness.
    int32_t parent = process.pid == log.root ? straceRoot : process.parent;
    EXPECT_EQ(row.at("parent_pid").integer(), parent);
    EXPECT_EQ(row.at("exit_status").integer(), process.exitStatus);
    EXPECT_EQ(row.at("term_signal").integer(), process.termSignal);
    EXPECT_EQ(row.at("core_dumped").boolean, process.coreDumped);
    EXPECT_EQ(row.at("thread_count").integer(), process.threads);
    for (const auto& flag : row.at("flags").items) {
      EXPECT_TRUE(flag.text != "possibly_incomplete" && flag.text != "start_unknown" && flag.text != "open" &&
                  flag.text != "end_unknown" && flag.text != "start_before_trace")
          << flag.text;
    }

    // The exec chain: program and argv of each exec, in order.
    const auto& rowExecs = row.at("execs").items;
    ASSERT_EQ(rowExecs.size(), process.execs.size()) << "exec count";
    EXPECT_EQ(row.at("exec_count").integer(), int64_t(process.execs.size()));
    for (size_t i = 0; i < process.execs.size(); ++i) {
      const auto& seen = process.execs[i];
      const auto& recorded = rowExecs[i];
      ++execs;
      // What the recorder could not read from /proc is unknown (null), never wrong.
      auto argvRecorded = recorded.at("argv").strings();
      auto exeRecorded = recorded.at("exe").string();
      if (!argvRecorded || !exeRecorded) ++argvUnknown;
      if (argvRecorded) {
        EXPECT_EQ(*argvRecorded, seen.argv) << "exec " << i;
      }
      if (exeRecorded) {
        EXPECT_EQ(*exeRecorded, resolved(seen.path, recorded.at("cwd").string()))
            << "exec " << i << " of " << seen.path;
      }
    }

    // Times. proctape: kernel timestamps (CLOCK_MONOTONIC), and UTC through
    // the trace's clock anchors; strace: CLOCK_REALTIME stamps of its stops.
    auto startNs = row.at("start_ns").integer(), endNs = row.at("end_ns").integer();
    auto startUtc = utcNs(row.at("start_time")), endUtc = utcNs(row.at("end_time"));
    ASSERT_TRUE(startNs && endNs && startUtc && endUtc && process.endReportedNs && process.lastStopNs);
    int64_t toUtc = *startUtc - *startNs;  // exact to the microsecond of start_time
    // The root (make) was forked by strace before tracing: its lifetime is
    // compared from its exec on.
    bool root = process.pid == log.root;
    ASSERT_TRUE(root ? !process.execs.empty() && rowExecs[0].at("time_ns").integer() && process.execs[0].doneByNs
                     : process.createdAfterNs && process.createdByNs);
    int64_t from = root ? *rowExecs[0].at("time_ns").integer() : *startNs;
    int64_t fromAfter = root ? process.execs[0].entryNs : *process.createdAfterNs;
    int64_t fromBy = root ? *process.execs[0].doneByNs : *process.createdByNs;
    int64_t duration = *endNs - from;
    int64_t upper = *process.endReportedNs - fromAfter, lower = *process.lastStopNs - fromBy;
    // Clock tolerance: strace stamps are truncated to 1 us, start_time to
    // 1 us, and CLOCK_REALTIME may run up to 500 ppm off CLOCK_MONOTONIC
    // while NTP slews it.
    int64_t tolerance = 10000 + duration / 2000;
    EXPECT_LE(duration, upper + tolerance) << "proctape's lifetime is longer than strace's outer bound";
    EXPECT_GE(duration, lower - tolerance) << "proctape's lifetime is shorter than strace's inner bound";
    // UTC: inside the same windows, with the anchors' error. An anchor pairs
    // CLOCK_MONOTONIC and CLOCK_REALTIME read one after the other by the
    // recorder; under load a preemption between the two reads skews every
    // time converted through it (0.7-0.75 ms was seen once at load 6.5), so
    // 2 ms, the test's own bound for durations.
    constexpr int64_t kAnchor = 2 * kMs;
    EXPECT_GE(from + toUtc, fromAfter - kAnchor);
    EXPECT_LE(from + toUtc, fromBy + kAnchor);
    EXPECT_GE(*endUtc, *process.lastStopNs - kAnchor);
    EXPECT_LE(*endUtc, *process.endReportedNs + kAnchor);
    for (size_t i = 0; i < process.execs.size(); ++i) {
      auto at = rowExecs[i].at("time_ns").integer();
      ASSERT_TRUE(at) << "exec " << i;
      EXPECT_GE(*at + toUtc, process.execs[i].entryNs - kAnchor) << "exec " << i;
      if (process.execs[i].doneByNs) {
        EXPECT_LE(*at + toUtc, *process.execs[i].doneByNs + kAnchor) << "exec " << i;
      }
    }

    int64_t excess = upper - duration;
    excesses.push_back(excess);
    if (excess > 2 * kMs) {
      over2ms.push_back({process.pid, excess, from + toUtc - fromAfter, *process.endReportedNs - *endUtc, command});
    }
  }

  ASSERT_FALSE(excesses.empty());
  std::sort(excesses.begin(), excesses.end());
  int64_t median = excesses[excesses.size() / 2];
  int64_t p90 = excesses[excesses.size() * 9 / 10];
  int64_t max = excesses.back();
  std::ostringstream report;
  report << "compared " << compared << " processes (and strace with " << probes << " probe children), " << execs
         << " execs (" << log.failedExecs << " failed execve attempts of PATH searches not counted), " << argvUnknown
         << " execs without argv or exe in the trace; strace " << (realtime ? "SCHED_FIFO" : "at normal priority")
         << "; strace's lifetime minus proctape's: median " << us(median) << ", 90th percentile " << us(p90) << ", max "
         << us(max) << ", over 2 ms: " << over2ms.size();
  for (const auto& over : over2ms) {
    report << "\n  pid " << over.pid << " (" << over.command.substr(0, 60) << "): " << us(over.ns) << " = "
           << us(over.startSideNs) << " from strace's stamp of the clone's entry (the exec's, for make) to the"
           << " kernel's event + " << us(over.endSideNs) << " from the kernel's exit to strace's report";
  }
  std::cout << report.str() << std::endl;
  RecordProperty("processes", int(compared));
  RecordProperty("duration_excess_median_us", int(median / 1000));
  RecordProperty("duration_excess_max_us", int(max / 1000));

  EXPECT_LE(argvUnknown * 50, execs) << "more than 2% of the execs lack argv or exe in the trace\n" << report.str();
  EXPECT_LE(median, kMs / 2) << report.str();
  EXPECT_LE(over2ms.size() * 10, compared) << "more than 10% of the durations differ by over 2 ms\n" << report.str();
}

}  // namespace
}  // namespace proctape::test
