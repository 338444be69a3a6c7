// Command mode, live: a known workload recorded around a shell, checked
// event by event against what the shell must have done.
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "live_fixture.h"

namespace proctape::test {
namespace {

using netlink::ProcEvent;
using netlink::ProcEventType;

// The subtree of `root` as the fork events describe it.
struct Subtree {
  std::set<int32_t> processes;               // pids of processes (thread-group leaders), root included
  std::map<int32_t, int32_t> parentOf;       // child pid -> parent tgid
  std::map<int32_t, int> execs;              // pid -> exec events
  std::map<int32_t, const ProcEvent*> exits; // leader pid -> its exit event
  std::map<int32_t, std::vector<int32_t>> threadsOf;  // tgid -> thread ids
  std::set<int32_t> threadExits;
};

Subtree subtreeOf(const std::vector<ProcEvent>& events, int32_t root) {
  Subtree tree;
  tree.processes.insert(root);
  for (const auto& event : events) {
    if (event.type == ProcEventType::fork) {
      if (event.childPid == event.childTgid && tree.processes.count(event.parentTgid)) {
        tree.processes.insert(event.childPid);
        tree.parentOf[event.childPid] = event.parentTgid;
      } else if (event.childPid != event.childTgid && tree.processes.count(event.childTgid)) {
        tree.threadsOf[event.childTgid].push_back(event.childPid);
      }
    } else if (event.type == ProcEventType::exec && tree.processes.count(event.processTgid)) {
      ++tree.execs[event.processTgid];
    } else if (event.type == ProcEventType::exit && tree.processes.count(event.processTgid)) {
      if (event.processPid == event.processTgid) tree.exits[event.processPid] = &event;
      else tree.threadExits.insert(event.processPid);
    }
  }
  return tree;
}

const format::ProcessInfo* infoFor(const TraceContents& trace, int32_t pid) {
  for (const auto& info : trace.infos) {
    if (info.pid == pid && info.has(format::InfoField::argv)) return &info;
  }
  return nullptr;
}

TEST_F(LiveRecorder, CommandModeRecordsTheWholeSubtree) {
  std::string trace = dir_.file("command.pt");
  std::string script = std::string(
                           "for i in $(seq 200); do /bin/true; done; "
                           "/bin/false; "
                           "sleep 30 & victim=$!; sleep 0.3; kill -9 $victim; wait $victim; ") +
                       PROCTAPE_THREADS_HELPER + " 3; exit 7";
  Child recorder({kRecorder, "-o", trace, "--", "sh", "-c", script});
  auto status = recorder.wait(60000);
  ASSERT_TRUE(status) << recorder.output();
  EXPECT_EQ(*status, 7) << "the recorder must exit with the command's status\n" << recorder.output();
  EXPECT_NE(recorder.output().find(" events="), std::string::npos) << recorder.output();

  TraceContents contents = readTrace(trace);
  ASSERT_TRUE(contents.meta);
  int32_t root = contents.meta->commandPid;
  ASSERT_GT(root, 0) << "the meta must name the command's pid";
  EXPECT_TRUE(contents.damage.empty()) << describe(contents.damage.front());
  EXPECT_TRUE(contents.gaps.empty()) << contents.gaps.front().detail;
  EXPECT_EQ(contents.snapshots, 1u);

  Subtree tree = subtreeOf(contents.events, root);
  // The shell was forked by the recorder and exec'd sh.
  EXPECT_EQ(tree.execs[root], 1);
  // Every process of the subtree that was forked also exited. (Some never
  // exec: e.g. a sanitizer's helper, or a shell's subshell.)
  for (auto pid : tree.processes) {
    EXPECT_TRUE(tree.exits.count(pid)) << "pid " << pid << " has no exit event";
  }
  // The shell's children that exec'd: 200 true, false, sleep, the helper and
  // seq (its command substitution), each exec'd once.
  std::vector<int32_t> children;
  for (auto [pid, parent] : tree.parentOf) {
    if (parent == root && tree.execs[pid] > 0) children.push_back(pid);
  }
  EXPECT_GE(children.size(), 204u);
  int zero = 0, one = 0, killed = 0;
  for (auto pid : children) {
    EXPECT_EQ(tree.execs[pid], 1) << "pid " << pid;
    if (!tree.exits.count(pid)) continue;
    const ProcEvent& exit = *tree.exits[pid];
    if (exit.hasParent && exit.parentTgid != 0) {  // 0: the kernel could not tell
      EXPECT_EQ(exit.parentTgid, root) << "the exit of " << pid << " names another parent";
    }
    if (exit.status() == 0) ++zero;
    if (exit.status() == 1) ++one;
    if (exit.termSignal() == 9) ++killed;
  }
  EXPECT_GE(zero, 202) << "200 true, seq and the helper exit 0";
  EXPECT_EQ(one, 1) << "exactly one /bin/false";
  EXPECT_EQ(killed, 1) << "exactly one child killed by SIGKILL";
  ASSERT_TRUE(tree.exits.count(root));
  EXPECT_EQ(tree.exits[root]->status(), 7);
  // The process-info records of the shell's children name the shell as parent.
  size_t checked = 0;
  for (const auto& info : contents.infos) {
    if (std::find(children.begin(), children.end(), info.pid) == children.end() || !info.has(format::InfoField::ids)) {
      continue;
    }
    EXPECT_EQ(info.ppid, root) << "pid " << info.pid;
    ++checked;
  }
  EXPECT_GE(checked, 4u);

  // Threads: the helper's three, each with its exit.
  size_t threads = 0;
  for (const auto& [tgid, ids] : tree.threadsOf) {
    threads += ids.size();
    for (auto id : ids) EXPECT_TRUE(tree.threadExits.count(id)) << "thread " << id << " has no exit";
  }
  EXPECT_GE(threads, 3u);

  // argv for the long-lived ones; no exec'd process enriched with an empty argv.
  const auto* shell = infoFor(contents, root);
  ASSERT_TRUE(shell) << "no argv for the shell";
  EXPECT_EQ(shell->argv.at(0), "sh");
  EXPECT_EQ(shell->argv.at(2), script);
  bool sawSleep = false, sawHelper = false;
  for (const auto& info : contents.infos) {
    if (info.has(format::InfoField::argv)) {
      EXPECT_FALSE(info.argv.empty()) << "pid " << info.pid;
    }
    if (!tree.processes.count(info.pid) || !info.has(format::InfoField::argv)) continue;
    if (info.argv == std::vector<std::string>{"sleep", "30"}) sawSleep = true;
    if (info.argv.size() == 2 && info.argv[0] == PROCTAPE_THREADS_HELPER) sawHelper = true;
  }
  EXPECT_TRUE(sawSleep) << "no argv for the killed sleep";
  EXPECT_TRUE(sawHelper) << "no argv for the thread helper";
}

TEST_F(LiveRecorder, CommandNotFoundExitsLikeAShell) {
  Child recorder({kRecorder, "-q", "-o", dir_.file("none.pt"), "--", "/nonexistent/command"});
  auto status = recorder.wait(20000);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 127) << recorder.output();
  EXPECT_NE(recorder.output().find("cannot run the command"), std::string::npos) << recorder.output();
  EXPECT_TRUE(readTrace(dir_.file("none.pt")).damage.empty());
}

// SigIgn of /proc/PID/status as written in `statusText`.
uint64_t ignoredSignals(const std::string& statusText) {
  auto at = statusText.find("SigIgn:");
  return at == std::string::npos ? ~uint64_t(0) : std::stoull(statusText.substr(at + 7), nullptr, 16);
}

// A parent (a CI runner, a daemon) may start the recorder with SIGCHLD
// ignored, which it inherits: the kernel then reaped the command itself, and
// the recorder waited for it forever, deaf to SIGTERM. The command still gets
// the dispositions the recorder was started with.
TEST_F(LiveRecorder, StartedWithSigchldIgnoredItStillSeesTheCommandExit) {
  // Runs the recorder around `command` with SIGCHLD ignored, as such a parent would.
  auto recordIgnoringSigchld = [this](const std::string& name, std::vector<std::string> command) {
    std::vector<std::string> argv = {kRecorder, "-q", "-o", dir_.file(name)};
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    struct sigaction ignore {}, old {};
    ignore.sa_handler = SIG_IGN;
    EXPECT_EQ(::sigaction(SIGCHLD, &ignore, &old), 0);
    auto recorder = std::make_unique<Child>(argv);
    ::sigaction(SIGCHLD, &old, nullptr);  // the recorder has inherited it: this process must reap its children
    return recorder;
  };
  auto failing = recordIgnoringSigchld("exit3.pt", {"sh", "-c", "exit 3"});
  auto exit = failing->wait(20000);
  ASSERT_TRUE(exit) << "the recorder did not end\n" << failing->output();
  EXPECT_EQ(*exit, 3) << failing->output();
  EXPECT_TRUE(readTrace(dir_.file("exit3.pt")).damage.empty());

  auto reading = recordIgnoringSigchld("status.pt", {"cat", "/proc/self/status"});
  ASSERT_TRUE(reading->wait(20000)) << reading->output();
  uint64_t own = ignoredSignals(readText("/proc/self/status"));
  EXPECT_EQ(ignoredSignals(reading->output()), own | (uint64_t(1) << (SIGCHLD - 1))) << reading->output();
}

// Records `sh -c SCRIPT` with --redact PATTERN; the recorder must succeed.
TraceContents recordRedacted(const TempDir& dir, const std::string& pattern, const std::string& script) {
  std::string trace = dir.file("redacted.pt");
  Child recorder({kRecorder, "-q", "--redact", pattern, "-o", trace, "--", "sh", "-c", script});
  auto status = recorder.wait(20000);
  EXPECT_EQ(status, 0) << recorder.output();
  return readTrace(trace);
}

// The command's name in the recorder's own messages is redacted too.
TEST_F(LiveRecorder, RedactsTheCommandInItsMessages) {
  std::filesystem::create_symlink("/bin/true", dir_.file("s3cret-true"));
  Child recorder({kRecorder, "--redact", "s3cret", "-o", dir_.file("named.pt"), "--", dir_.file("s3cret-true")});
  EXPECT_EQ(recorder.wait(20000), 0) << recorder.output();
  EXPECT_NE(recorder.output().find("while running " + dir_.file("***-true")), std::string::npos) << recorder.output();
  EXPECT_EQ(recorder.output().find("s3cret"), std::string::npos) << recorder.output();
  Child missing({kRecorder, "--redact", "s3cret", "-o", dir_.file("missing.pt"), "--", "./no-s3cret-here"});
  EXPECT_EQ(missing.wait(20000), 127) << missing.output();
  EXPECT_NE(missing.output().find("./no-***-here"), std::string::npos) << missing.output();
  EXPECT_EQ(missing.output().find("s3cret"), std::string::npos) << missing.output();
}

TEST_F(LiveRecorder, RedactsCommandLinesBeforeWriting) {
  TraceContents contents = recordRedacted(dir_, "tok_[a-z0-9]+", "sleep 0.2; echo tok_s3cret >/dev/null");
  ASSERT_TRUE(contents.meta);
  for (const auto& arg : contents.meta->commandLine) EXPECT_EQ(arg.find("tok_s3cret"), std::string::npos) << arg;
  const auto* shell = infoFor(contents, contents.meta->commandPid);
  ASSERT_TRUE(shell);
  EXPECT_EQ(shell->argv.at(2), "sleep 0.2; echo *** >/dev/null");
}

// A pattern that is one bracket expression, with a comma in it: the option
// parser took "[0-9,]" for a list, and redacted "0-9" literally, or nothing.
TEST_F(LiveRecorder, RedactsWithAPatternThatIsOneBracketExpression) {
  TraceContents contents = recordRedacted(dir_, "[0-9,]", "sleep 0.2; echo pin 47,11 0-9 >/dev/null");
  const auto* shell = infoFor(contents, contents.meta ? contents.meta->commandPid : 0);
  ASSERT_TRUE(shell);
  EXPECT_EQ(shell->argv.at(2), "sleep ***.***; echo pin *************** ***-*** >/dev/null");
}

// A long secret used to overflow the enricher's stack inside std::regex: the
// recorder died (SIGSEGV) and its command ran on unrecorded.
TEST_F(LiveRecorder, RedactsAnArgumentOfSixtyKilobytes) {
  TraceContents contents = recordRedacted(dir_, "token=\\S+",
                                          "v=$(head -c 60000 /dev/zero | tr '\\0' a); sh -c 'sleep 0.2' sh token=$v");
  bool seen = false;
  for (const auto& info : contents.infos) {
    if (info.argv.size() != 5 || info.argv[2] != "sleep 0.2") continue;
    seen = true;
    EXPECT_EQ(info.argv[4], "***");
  }
  EXPECT_TRUE(seen) << "no argv for the shell that carried the token";
}

// --max-events in command mode stops the frames while the command goes on:
// no process info may follow for execs the trace no longer takes.
TEST_F(LiveRecorder, MaxEventsInCommandModeStopsTheProcessInfoToo) {
  std::string trace = dir_.file("max.pt");
  Child recorder({kRecorder, "-q", "-o", trace, "--max-events", "20", "--", "sh", "-c",
                  "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do /bin/true; done; exit 9"});
  auto status = recorder.wait(20000);
  ASSERT_TRUE(status) << recorder.output();
  EXPECT_EQ(*status, 9) << recorder.output();
  TraceContents contents = readTrace(trace);
  EXPECT_EQ(contents.frames, 20u);
  std::set<int32_t> execed;
  for (const auto& event : contents.events)
    if (event.type == netlink::ProcEventType::exec) execed.insert(event.processTgid);
  for (const auto& info : contents.infos) {
    if (info.reason != format::InfoReason::exec) continue;
    EXPECT_TRUE(execed.count(info.tgid)) << "an info for pid " << info.tgid << " whose exec is not in the trace";
  }
  // (The summary's execs= counts what the enricher served: it reads /proc
  // at once, before the batched frames reach the limit.)
}

TEST_F(LiveRecorder, MistypedOptionsAndBadValuesAreRefusedBeforeAnythingRuns) {
  std::string trace = dir_.file("refused.pt");
  const std::vector<std::vector<std::string>> refused = {
      {"--duraton", "1s"},                    // a typo, not a command
      {"--"},                                 // no command after --
      {"--queue", "4294967296", "--", "true"},
      {"--duration", "1s", "--", "true"},     // a command ends the recording itself
      {"--duration", "0"},
      {"--keep", "-1"},
      {"--keep", "3"},                        // without a rotation limit: one segment, nothing to keep
      {"--rotate-size", "0"},
      {"--rcvbuf", "0"},
      {"--compression-level", "100"},
      {"--self-test-timeout", "0"},
      {"--check", "--", "true"},
      {"--no-enrich", "--enrich-max-rate", "5"},
  };
  for (const auto& args : refused) {
    std::vector<std::string> argv = {kRecorder, "-q", "-o", trace};
    argv.insert(argv.end(), args.begin(), args.end());
    Child recorder(argv);
    auto status = recorder.wait(20000);
    ASSERT_TRUE(status) << args.front();
    EXPECT_EQ(*status, 2) << args.front() << ": " << recorder.output();
    EXPECT_EQ(recorder.output().rfind("proctape-record: ", 0), 0u) << recorder.output();
    EXPECT_FALSE(std::filesystem::exists(trace)) << args.front();
  }
}

TEST_F(LiveRecorder, ForwardsSigtermToTheCommand) {
  for (int signal : {SIGTERM, SIGQUIT, SIGUSR1}) {  // SIGQUIT and SIGUSR1 used to kill the recorder itself
    std::string trace = dir_.file("forwarded-" + std::to_string(signal) + ".pt");
    auto recorder = startRecorder({"-o", trace, "--", "sleep", "30"});
    recorder->signal(signal);
    auto status = recorder->wait(10000);
    ASSERT_TRUE(status) << recorder->output();
    EXPECT_EQ(*status, 128 + signal) << strsignal(signal) << ": " << recorder->output();
    EXPECT_TRUE(readTrace(trace).damage.empty()) << strsignal(signal);
  }
}

}  // namespace
}  // namespace proctape::test
