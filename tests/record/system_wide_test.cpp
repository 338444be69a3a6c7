// System-wide recording, live: a clean stop on SIGINT, a SIGKILL that leaves
// every complete chunk readable, the namespace probe, and spoofed frames.
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "live_fixture.h"

namespace proctape::test {
namespace {

using netlink::ProcEventType;

bool sawForkOf(const TraceContents& trace, pid_t child) {
  for (const auto& event : trace.events) {
    if (event.type == ProcEventType::fork && event.childPid == child && event.parentTgid == ::getpid()) return true;
  }
  return false;
}

TEST_F(LiveRecorder, SigintGivesAnIntactTrace) {
  std::string trace = dir_.file("sigint.pt");
  auto recorder = startRecorder({"-o", trace});
  auto pids = runTrue(20);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  recorder->signal(SIGINT);
  auto status = recorder->wait(10000);
  ASSERT_TRUE(status) << recorder->output();
  EXPECT_EQ(*status, 0) << recorder->output();
  EXPECT_GE(summaryValue(recorder->output(), "events"), 60) << recorder->output();

  auto mode = std::filesystem::status(trace).permissions() & std::filesystem::perms::all;
  EXPECT_EQ(mode, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write) << "the trace must be 0600";
  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty()) << describe(contents.damage.front());
  ASSERT_TRUE(contents.meta);
  EXPECT_EQ(contents.meta->commandPid, 0);
  EXPECT_EQ(contents.meta->recorderName, "proctape-record");
  EXPECT_EQ(contents.snapshots, 1u);
  for (pid_t pid : pids) EXPECT_TRUE(sawForkOf(contents, pid)) << "no fork event for " << pid;
  EXPECT_TRUE(contents.gaps.empty());
}

// Waits until every thread of `pid` is stopped (SIGSTOP takes effect a moment after kill()).
bool waitStopped(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    bool all = true;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
      std::ifstream stat(task.path() / "stat");
      std::string line;
      std::getline(stat, line);
      size_t close = line.rfind(')');
      all = all && close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'T';
    }
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// A process that exec'd again before the enricher read /proc (env running
// sleep; here the recorder is stopped meanwhile) must not give its first exec
// the second image's argv: that exec gets a `replaced` miss, the second its own.
TEST_F(LiveRecorder, AnExecReadAfterTheProcessExecdAgainIsAReplacedMiss) {
  std::string trace = dir_.file("replaced.pt");
  auto recorder = startRecorder({"-o", trace});
  ASSERT_EQ(::kill(recorder->pid(), SIGSTOP), 0);
  ASSERT_TRUE(waitStopped(recorder->pid()));
  pid_t child = ::fork();
  if (child == 0) {
    ::execl("/usr/bin/env", "env", "PROCTAPE_TEST=1", "/bin/sleep", "0.4", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // env has exec'd sleep by now
  ASSERT_EQ(::kill(recorder->pid(), SIGCONT), 0);
  ::waitpid(child, nullptr, 0);
  recorder->signal(SIGINT);
  auto status = recorder->wait(10000);
  ASSERT_TRUE(status) << recorder->output();
  EXPECT_EQ(*status, 0) << recorder->output();
  EXPECT_EQ(summaryValue(recorder->output(), "miss_replaced"), 1) << recorder->output();

  std::vector<format::ProcessInfo> infos;
  for (const auto& info : readTrace(trace).infos)
    if (info.pid == child && info.reason == format::InfoReason::exec) infos.push_back(info);
  ASSERT_EQ(infos.size(), 2u) << "one record per exec of " << child;
  ASSERT_EQ(infos[0].misses.size(), 1u);
  EXPECT_EQ(infos[0].misses[0].field, format::InfoField::all);
  EXPECT_EQ(infos[0].misses[0].reason, format::MissReason::replaced);
  EXPECT_EQ(infos[1].argv, (std::vector<std::string>{"/bin/sleep", "0.4"}));
}

// Signals whose default would kill the recorder and leave the trace unclosed
// stop it cleanly instead, with its summary.
TEST_F(LiveRecorder, QuitAndUserSignalsAlsoStopCleanly) {
  for (int signal : {SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGPWR, SIGRTMIN + 2}) {
    std::string trace = dir_.file("signal-" + std::to_string(signal) + ".pt");
    auto recorder = startRecorder({"-o", trace});
    recorder->signal(signal);
    auto status = recorder->wait(10000);
    ASSERT_TRUE(status) << recorder->output();
    EXPECT_EQ(*status, 0) << strsignal(signal) << ": " << recorder->output();
    EXPECT_GE(summaryValue(recorder->output(), "events"), 1) << recorder->output();
    TraceContents contents = readTrace(trace);
    EXPECT_TRUE(contents.damage.empty()) << strsignal(signal) << ": " << describe(contents.damage.front());
  }
}

// The nice value of each thread of `pid`, by thread name.
std::map<std::string, int> threadNices(pid_t pid) {
  std::map<std::string, int> nices;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(task.path() / "comm"), stat(task.path() / "stat");
    std::string name, line;
    std::getline(comm, name);
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // from field 3, the state
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
    }
    nices[name] = std::stoi(field);  // field 19: nice
  }
  return nices;
}

// A positive --enrich-nice lowers the enricher alone: the receiver, which
// must drain the socket in time, and the writer keep the recorder's nice.
TEST_F(LiveRecorder, APositiveEnrichNiceLowersOnlyTheEnricher) {
  errno = 0;
  int own = ::getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  if (own > 9) GTEST_SKIP() << "this test runs at nice " << own << ", above the value it sets";
  std::string trace = dir_.file("nice.pt");
  auto recorder = startRecorder({"--enrich-priority", "nice", "--enrich-nice", "10", "-o", trace});
  std::map<std::string, int> nices;
  for (int i = 0; i < 100 && nices["pt-enrich"] != 10; ++i) {  // the thread sets it as it starts
    nices = threadNices(recorder->pid());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  recorder->signal(SIGINT);
  ASSERT_TRUE(recorder->wait(10000)) << recorder->output();
  EXPECT_EQ(nices["pt-enrich"], 10);
  ASSERT_TRUE(nices.count("pt-receive") && nices.count("pt-write")) << "thread names changed?";
  for (const auto& [name, nice] : nices) {
    if (name != "pt-enrich") {
      EXPECT_EQ(nice, own) << name;
    }
  }
}

TEST_F(LiveRecorder, MaxEventsStopsCleanly) {
  std::string trace = dir_.file("max.pt");
  auto recorder = startRecorder({"--max-events", "30", "-o", trace});
  runTrue(30);
  auto status = recorder->wait(10000);
  ASSERT_TRUE(status) << "--max-events did not stop the recorder\n" << recorder->output();
  EXPECT_EQ(*status, 0);
  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty());
  EXPECT_EQ(contents.frames, 30u);
}

TEST_F(LiveRecorder, SigkillLeavesEveryCompleteChunkReadable) {
  std::string trace = dir_.file("sigkill.pt");
  auto recorder = startRecorder({"-o", trace});
  // Events across several 100 ms chunks.
  for (int i = 0; i < 4; ++i) {
    runTrue(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
  }
  recorder->signal(SIGKILL);
  recorder->wait(10000);

  auto reader = format::TraceReader::open(trace);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_GE(reader->chunks().size(), 3u);
  TraceContents contents = readTrace(trace);
  EXPECT_GT(contents.frames, 40u);
  EXPECT_EQ(contents.snapshots, 1u);
  ASSERT_FALSE(contents.damage.empty()) << "a killed recorder cannot have closed its trace";
  for (const auto& damage : contents.damage) {
    EXPECT_TRUE(damage.kind == format::DamageKind::notClosed || damage.kind == format::DamageKind::truncated)
        << describe(damage);
  }
}

TEST_F(LiveRecorder, ProbeInAUserNamespaceFailsFastAndSaysWhy) {
  if (shell("unshare --user --map-root-user true 2>/dev/null") != 0) {
    GTEST_SKIP() << "this kernel refuses to create user namespaces (unshare --user failed)";
  }
  int64_t start = nowMs();
  Child probe({"unshare", "--user", "--map-root-user", kRecorder, "--check"});
  auto status = probe.wait(10000);
  int64_t took = nowMs() - start;
  ASSERT_TRUE(status) << "the probe hung";
  EXPECT_NE(*status, 0);
  EXPECT_LT(took, 3000) << "the probe took " << took << " ms";
  EXPECT_NE(probe.output().find("non-initial user namespace"), std::string::npos) << probe.output();
  EXPECT_NE(probe.output().find("silently ignores"), std::string::npos) << probe.output();
}

// The proc connector exists in the initial network namespace only; in
// another, sending to it is refused, and the message must say where to run.
TEST_F(LiveRecorder, ANonInitialNetworkNamespaceIsNamedWithTheWayOut) {
  if (shell("unshare --net true 2>/dev/null") != 0) {
    GTEST_SKIP() << "this machine refuses to create network namespaces (unshare --net failed)";
  }
  Child probe({"unshare", "--net", kRecorder, "--check"});
  auto status = probe.wait(10000);
  ASSERT_TRUE(status) << "the probe hung";
  EXPECT_EQ(*status, 69) << probe.output();
  EXPECT_NE(probe.output().find("network namespace other than the initial one"), std::string::npos)
      << probe.output();
  EXPECT_NE(probe.output().find("host's network namespace"), std::string::npos) << probe.output();
}

// Unprivileged (allowed since Linux 6.6), the receive buffer is capped and a
// warning says so: once, --check's list of notes included.
TEST_F(LiveRecorder, UnprivilegedCheckWarnsOnceAboutTheBuffer) {
  // A copy that uid 65534 can reach (the build tree may lie under a private directory).
  char shared[] = "/tmp/proctape-unprivileged-XXXXXX";
  ASSERT_NE(::mkdtemp(shared), nullptr) << std::strerror(errno);
  const std::filesystem::path dir(shared), binary = dir / "proctape-record";
  std::filesystem::copy_file(kRecorder, binary);
  std::filesystem::permissions(dir, std::filesystem::perms(0755));
  std::filesystem::permissions(binary, std::filesystem::perms(0755));
  Child probe({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary.string(), "--check"});
  auto status = probe.wait(10000);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(status) << "the probe hung";
  ASSERT_NE(*status, 127) << "setpriv (util-linux) is missing? " << probe.output();
  if (*status == 77) GTEST_SKIP() << "this kernel needs CAP_NET_ADMIN to listen (before 6.6): " << probe.output();
  ASSERT_EQ(*status, 0) << probe.output();
  std::map<std::string, int> lines;
  std::istringstream output(probe.output());
  for (std::string line; std::getline(output, line);) ++lines[line];
  for (const auto& [line, count] : lines) EXPECT_EQ(count, 1) << line;
  std::ifstream rmemMax("/proc/sys/net/core/rmem_max");
  long cap = 0;
  if (rmemMax >> cap && cap < 64L * 1024 * 1024) {  // below the default --rcvbuf: the warning is due
    EXPECT_NE(probe.output().find("warning: connector receive buffer"), std::string::npos) << probe.output();
  }
}

// Port ids of the NETLINK_CONNECTOR sockets `pid` holds (from /proc/net/netlink).
std::vector<uint32_t> connectorPorts(pid_t pid) {
  std::set<std::string> inodes;
  std::string fdDir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* dir = ::opendir(fdDir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      char target[256] = {};
      std::string link = fdDir + "/" + entry->d_name;
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      std::string text(target, n > 0 ? size_t(n) : 0);
      if (text.rfind("socket:[", 0) == 0) inodes.insert(text.substr(8, text.size() - 9));
    }
    ::closedir(dir);
  }
  std::vector<uint32_t> ports;
  std::ifstream table("/proc/net/netlink");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream in(line);
    std::string sk, protocol, port, groups, rmem, wmem, dump, locks, drops, inode;
    in >> sk >> protocol >> port >> groups >> rmem >> wmem >> dump >> locks >> drops >> inode;
    if (protocol == "11" && inodes.count(inode)) ports.push_back(uint32_t(std::stoul(port)));
  }
  return ports;
}

// A 76-byte cn_proc fork event, as the kernel would send it, for pid 999999.
std::vector<uint8_t> forgedFork() {
  std::vector<uint8_t> frame(76);
  nlmsghdr header{76, NLMSG_DONE, 0, 1, uint32_t(::getpid())};
  cn_msg cn{};
  cn.id = {CN_IDX_PROC, CN_VAL_PROC};
  cn.len = 40;
  uint32_t what = netlink::kProcEventFork;
  int32_t pids[4] = {1, 1, 999999, 999999};
  std::memcpy(frame.data(), &header, 16);
  std::memcpy(frame.data() + 16, &cn, 20);
  std::memcpy(frame.data() + 36, &what, 4);
  std::memcpy(frame.data() + 52, pids, 16);
  return frame;
}

TEST_F(LiveRecorder, FramesFromUserspaceAreRejectedAndCounted) {
  std::string trace = dir_.file("spoof.pt");
  auto recorder = startRecorder({"-o", trace});
  auto ports = connectorPorts(recorder->pid());
  ASSERT_GE(ports.size(), 1u) << "cannot find the recorder's connector sockets";
  int sender = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  ASSERT_GE(sender, 0);
  auto frame = forgedFork();
  for (uint32_t port : ports) {
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = port;
    ASSERT_EQ(::sendto(sender, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              ssize_t(frame.size()))
        << std::strerror(errno);
  }
  ::close(sender);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  recorder->signal(SIGINT);
  ASSERT_EQ(recorder->wait(10000), 0) << recorder->output();
  EXPECT_EQ(summaryValue(recorder->output(), "rejected"), (long long)ports.size()) << recorder->output();
  TraceContents contents = readTrace(trace);
  for (const auto& event : contents.events) EXPECT_NE(event.childPid, 999999) << "a forged frame entered the trace";
  for (const auto& info : contents.infos) EXPECT_NE(info.pid, 999999);
}

}  // namespace
}  // namespace proctape::test

namespace proctape::test {
namespace {

size_t countType(const TraceContents& trace, netlink::ProcEventType type) {
  size_t count = 0;
  for (const auto& event : trace.events) count += event.type == type;
  return count;
}

// --events fork,exit: the kernel filters (proc_input), or user space does
// (the classic subscription of kernels before 6.6); enrichment works in both.
void checkFiltered(const std::string& subscribe, const std::string& trace) {
  Child recorder({kRecorder, "--subscribe", subscribe, "--events", "fork,exit", "-o", trace, "--", "sh", "-c",
                  "for i in 1 2 3; do /bin/true; done; sleep 0.1"});
  ASSERT_EQ(recorder.wait(20000), 0) << recorder.output();
  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty());
  EXPECT_TRUE(contents.gaps.empty());
  EXPECT_EQ(countType(contents, netlink::ProcEventType::exec), 0u);
  EXPECT_GE(countType(contents, netlink::ProcEventType::fork), 5u);
  EXPECT_GE(countType(contents, netlink::ProcEventType::exit), 5u);
  ASSERT_TRUE(contents.meta);
  bool shellInfo = false;
  for (const auto& info : contents.infos) {
    shellInfo = shellInfo || (info.pid == contents.meta->commandPid && info.has(format::InfoField::argv));
  }
  EXPECT_TRUE(shellInfo) << "the exec-only enrichment socket still reads argv\n" << recorder.output();
  long long filtered = summaryValue(recorder.output(), "filtered");
  if (subscribe == "classic") {
    EXPECT_GT(filtered, 0) << recorder.output();
  } else {
    // Only what arrived during setup, subscribed to every type for the self-test, is left to user space.
    EXPECT_LT(filtered, 20) << "the kernel should have filtered\n" << recorder.output();
  }
}

TEST_F(LiveRecorder, EventsFilteredByTheKernel) { checkFiltered("proc-input", dir_.file("kernel.pt")); }

TEST_F(LiveRecorder, EventsFilteredInUserSpaceWithTheClassicSubscription) {
  checkFiltered("classic", dir_.file("classic.pt"));
}

}  // namespace
}  // namespace proctape::test

namespace proctape::test {
namespace {

TEST_F(LiveRecorder, RotatesIntoAKeptRingOfPrivateSegments) {
  std::string ring = dir_.file("ring");
  auto recorder = startRecorder({"--rotate-time", "150ms", "--keep", "2", "-o", ring});
  for (int i = 0; i < 6; ++i) {
    runTrue(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  recorder->signal(SIGINT);
  ASSERT_EQ(recorder->wait(10000), 0) << recorder->output();
  size_t segments = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ring)) {
    ++segments;
    EXPECT_EQ(entry.path().extension(), ".pt");
    auto mode = std::filesystem::status(entry.path()).permissions();
    EXPECT_EQ(mode & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << entry.path() << ": command lines are sensitive";
  }
  EXPECT_EQ(segments, 2u) << "--keep 2";
  TraceContents contents = readTrace(ring);
  EXPECT_TRUE(contents.damage.empty());
  EXPECT_GT(contents.frames, 0u);
}

}  // namespace
}  // namespace proctape::test
