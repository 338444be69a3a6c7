#include "build_trace_generator.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <cmath>
#include <cstring>
#include <deque>
#include <queue>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "cn_proc_generator.h"  // the datagram layout and its constants

namespace proctape::bench {
namespace {

namespace pf = proctape::format;

constexpr uint32_t kProcEventUid = 0x00000004;
constexpr uint32_t kProcEventGid = 0x00000040;
constexpr uint32_t kProcEventSid = 0x00000080;
constexpr uint32_t kProcEventComm = 0x00000200;
constexpr uint32_t kProcEventCoredump = 0x40000000;
constexpr uint32_t kThreadExitSignal = 0xffffffff;  // a thread's exit_signal is -1

constexpr int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;
constexpr uint32_t kNoTask = UINT32_MAX;
constexpr uint32_t kWaitFailed = 1u << 8;  // wait statuses: exit 1
constexpr uint32_t kSigsegvCore = 11 | 0x80, kSigabrtCore = 6 | 0x80;

// The pids of the processes running when the recording starts.
constexpr int32_t kSystemd = 1, kKthreadd = 2, kCron = 612, kRunner = 841, kRunnerShell = 8802, kRecorder = 8830;
constexpr uint32_t kCi = 1000, kRoot = 0;

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// Programs whose /proc entries the records describe.
enum class Program : uint8_t {
  none, ciScript, nproc, xargs, buildScript, git, mkdirBuild, make, makeCheck, mkdirDir, shell, mkdirObj, cc, cc1, as,
  ccLink, collect2, ld, test, sudo, makeInstall, install, cronShell, sa1,
};

// What a process does, from its fork (or, for the snapshot's, from the start).
enum class Role : uint8_t {
  command, nproc, xargs, buildOne, git, mkdirBuild, makeAll, mkdirDir, compile, mkdirObj, cc1, as, link, collect2, ld,
  makeCheck, test, sudo, sudoChild, install, cronDaemon, cronJob, sa1, runnerAgent, thread,
};

enum class Op : uint8_t { exec, work, children, stream, threads, comm, setsid, setuid, setgid, coredump, exit, loop };

struct Child {
  Role role;
  uint32_t arg;  // which object, test or program
};

struct Step {
  Step(Op o) : op(o) {}  // NOLINT(google-explicit-constructor): steps are written as {Op::...}
  Op op;
  bool skipIfFailed = false;  // skipped once a step before it failed (a `&&` chain, make stopping)
  Program program = Program::none;  // exec
  uint32_t arg = 0;                 // exec: the object, test or program; threads: how many; setuid/setgid: the id
  int64_t ns = 0;                   // work; threads: how long each runs
  unsigned jobs = 1;                // children, stream: how many at once
  std::vector<Child> children;
  uint32_t status = 0;      // exit: the wait status if nothing failed
  uint32_t failStatus = 0;  // ... and if a child failed
};

struct Task {
  uint32_t generation = 0;
  bool alive = false;
  bool thread = false;
  int32_t pid = 0, tgid = 0;
  int32_t ppid = 0;                // the parent process (exit events carry it)
  uint32_t parent = kNoTask;       // the task to wake when this one exits
  uint32_t parentGeneration = 0;
  unsigned cpu = 0;
  uint32_t project = 0;
  std::vector<Step> steps;
  size_t cursor = 0;
  size_t nextChild = 0;
  unsigned running = 0;      // children or threads of the current step still running
  bool childFailed = false;  // one of them failed
  bool failed = false;       // a step failed
  Program image = Program::none;
  uint32_t imageArg = 0;
  uint32_t execs = 0;
  int64_t startNs = 0;
  uint32_t uid = kCi, gid = kCi;
  uint32_t threadsMade = 0;
  std::string comm;  // threads: the name they give themselves
};

struct Project {
  std::string name;
  uint32_t objects = 0;
  uint32_t programs = 0;
  uint32_t tests = 0;
  bool install = false;
};

// Something to emit at kernel time `t`: a datagram or a process-info record.
struct Out {
  int64_t t = 0;
  uint64_t order = 0;
  bool info = false;
  uint32_t what = 0;  // frames
  unsigned cpu = 0;
  std::array<uint8_t, 24> data{};  // frames: the event data union
  uint32_t task = 0, generation = 0, execs = 0;  // info: whose /proc is read
  int32_t pid = 0, tgid = 0;                     // ... and its ids
  bool operator>(const Out& o) const { return t != o.t ? t > o.t : order > o.order; }
};

struct Action {
  int64_t t;
  uint64_t order;
  uint32_t task;
  uint32_t generation;
  bool operator>(const Action& o) const { return t != o.t ? t > o.t : order > o.order; }
};

constexpr const char* kProjectNames[] = {
    "zlib", "libpng", "curl", "lua", "jq", "sqlite", "redis", "nginx", "htop", "tmux", "libuv", "expat", "pcre2",
    "lz4", "zstd", "libyaml", "jansson", "libevent", "openssl-tools", "bzip2", "xz", "flac", "libogg", "opus",
    "libsodium", "mbedtls", "cjson", "libxml2", "freetype", "harfbuzz-lite", "libjpeg", "giflib", "libtiff",
    "libwebp", "nghttp2", "c-ares", "libssh2", "brotli", "snappy-c", "miniz",
};
constexpr const char* kWords[] = {
    "parser", "lexer", "util", "hash", "buffer", "list", "tree", "alloc", "io", "stream", "config", "main", "log",
    "error", "string", "array", "map", "queue", "thread", "socket", "http", "json", "crc", "inflate", "deflate",
    "encode", "decode", "table", "cache", "pool", "timer", "event", "signal", "path", "file", "dir", "url", "date",
    "random", "base64", "utf8", "format", "print", "scan", "sort", "search", "match", "regex", "option", "cli",
};
constexpr const char* kSourceDirs[] = {"src", "lib", "src/core", "src/util"};
constexpr const char* kTestNames[] = {
    "basic", "roundtrip", "errors", "limits", "unicode", "large", "stress", "fuzz_corpus", "regress", "api",
    "concurrency", "streaming", "compat", "perf_smoke",
};
constexpr const char* kKernelThreads[] = {
    "rcu_gp", "rcu_par_gp", "slub_flushwq", "netns", "mm_percpu_wq", "rcu_tasks_kthread", "ksoftirqd/0",
    "rcu_preempt", "migration/0", "cpuhp/0", "kdevtmpfs", "inet_frag_wq", "kauditd", "khungtaskd", "oom_reaper",
    "writeback", "kcompactd0", "ksmd", "khugepaged", "kintegrityd", "kblockd", "blkcg_punt_bio", "kswapd0",
    "kthrotld", "acpi_thermal_pm", "scsi_eh_0", "kworker/u128:0", "jbd2/vda1-8", "ext4-rsv-conver", "kworker/0:1H",
};

constexpr std::string_view kGccLib = "/usr/lib/gcc/x86_64-linux-gnu/12";
constexpr std::string_view kHome = "/home/ci";
constexpr std::string_view kRunnerCgroup = "/system.slice/gitlab-runner.service";

std::string basename(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

struct BuildTraceGenerator::Impl {
  explicit Impl(const BuildTraceOptions& o) : options(o), rng(o.seed ^ 0x6275696c64) {  // "build"
    options.cpus = std::max(1u, options.cpus);
    options.lanes = std::max(1u, options.lanes);
    options.jobs = std::max(1u, options.jobs);
    cpuSeq.resize(options.cpus);
    for (auto& seq : cpuSeq) seq = uint32_t(uniform(1'500'000, 2'500'000));  // events since boot
    // Five days of uptime, plus a random part so no field is suspiciously round.
    startNs = 5ll * 86'400 * kS + int64_t(uniform(0, 3'600ull * kS));
    pidUsed.assign(kPidMax, 0);
    projects.emplace_back().name = "none";  // project 0: what runs outside the builds
    makeSnapshot();
    nextPid = int32_t(uniform(9'000, 9'400));
    commandPid = allocPid();  // known before the run: the meta record names it
  }

  // --- randomness ------------------------------------------------------------------

  uint64_t uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
  // Durations spread over orders of magnitude, as compile and test times are.
  int64_t logUniform(int64_t lo, int64_t hi) {
    double x = std::uniform_real_distribution<double>(std::log(double(lo)), std::log(double(hi)))(rng);
    return int64_t(std::exp(x));
  }
  int64_t syscallGap() { return int64_t(uniform(1 * kUs, 4 * kUs)); }

  // --- the snapshot -------------------------------------------------------------------

  uint32_t newTask() {
    uint32_t index;
    if (!freeTasks.empty()) {
      index = freeTasks.back();
      freeTasks.pop_back();
    } else {
      index = uint32_t(tasks.size());
      tasks.emplace_back();
    }
    Task& t = tasks[index];
    uint32_t generation = t.generation + 1;
    t = Task{};
    t.generation = generation;
    t.alive = true;
    ++liveTasks;
    facts.maxLiveTasks = std::max<uint64_t>(facts.maxLiveTasks, liveTasks);
    return index;
  }

  uint32_t snapshotTask(int32_t pid, int32_t ppid, uint32_t uid, std::vector<std::string> argv, std::string exe,
                        std::string cwd, std::string cgroup, int64_t ageNs) {
    uint32_t index = newTask();
    Task& t = tasks[index];
    t.pid = t.tgid = pid;
    t.ppid = ppid;
    t.uid = t.gid = uid;
    t.cpu = unsigned(uniform(0, options.cpus - 1));
    t.startNs = startNs - ageNs;
    pidUsed[size_t(pid)] = 1;
    pf::ProcessInfo info;
    info.pid = info.tgid = pid;
    info.ppid = ppid;
    info.comm = basename(exe.empty() ? (argv.empty() ? std::string("?") : argv[0]) : exe).substr(0, 15);
    info.argv = std::move(argv);
    info.exe = std::move(exe);
    info.cwd = std::move(cwd);
    info.ruid = info.euid = uid;
    info.rgid = info.egid = uid;
    info.cgroup = std::move(cgroup);
    info.startTimeTicks = uint64_t(t.startNs / 10'000'000);  // USER_HZ = 100
    info.reason = pf::InfoReason::snapshot;
    snapshot.processes.push_back(std::move(info));
    return index;
  }

  void makeSnapshot() {
    constexpr int64_t kBoot = 5ll * 86'400 * kS;
    snapshotTask(kSystemd, 0, kRoot, {"/sbin/init"}, "/usr/lib/systemd/systemd", "/", "/init.scope", kBoot);
    snapshotTask(kKthreadd, 0, kRoot, {}, "", "/", "/", kBoot);
    int32_t pid = 3;
    for (const char* name : kKernelThreads) {
      snapshotTask(pid, kKthreadd, kRoot, {}, "", "/", "/", kBoot);
      auto& info = snapshot.processes.back();
      info.comm = name;  // no exe, no argv: a kernel thread
      info.misses = {{pf::InfoField::exe, pf::MissReason::other, 2 /* ENOENT */}};
      pid += int32_t(uniform(1, 40));
    }
    snapshotTask(312, kSystemd, kRoot, {"/lib/systemd/systemd-journald"}, "/usr/lib/systemd/systemd-journald", "/",
                 "/system.slice/systemd-journald.service", kBoot);
    snapshotTask(341, kSystemd, kRoot, {"/lib/systemd/systemd-udevd"}, "/usr/lib/systemd/systemd-udevd", "/",
                 "/system.slice/systemd-udevd.service", kBoot);
    snapshotTask(598, kSystemd, 100, {"/usr/bin/dbus-daemon", "--system", "--address=systemd:", "--nofork",
                                      "--nopidfile", "--systemd-activation", "--syslog-only"},
                 "/usr/bin/dbus-daemon", "/", "/system.slice/dbus.service", kBoot);
    cronTask = snapshotTask(kCron, kSystemd, kRoot, {"/usr/sbin/cron", "-f"}, "/usr/sbin/cron", "/var/spool/cron",
                            "/system.slice/cron.service", kBoot);
    snapshotTask(640, kSystemd, kRoot, {"/usr/sbin/rsyslogd", "-n", "-iNONE"}, "/usr/sbin/rsyslogd", "/",
                 "/system.slice/rsyslog.service", kBoot);
    snapshotTask(705, kSystemd, kRoot, {"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
                 "/usr/sbin/sshd", "/", "/system.slice/ssh.service", kBoot);
    runnerTask = snapshotTask(kRunner, kSystemd, 999,
                              {"/usr/bin/gitlab-runner", "run", "--working-directory", "/home/gitlab-runner",
                               "--config", "/etc/gitlab-runner/config.toml", "--service", "gitlab-runner", "--user",
                               "gitlab-runner"},
                              "/usr/bin/gitlab-runner", "/home/gitlab-runner", std::string(kRunnerCgroup), kBoot);
    snapshotTask(kRunnerShell, kRunner, kCi, {"bash", "--login"}, "/usr/bin/bash", std::string(kHome),
                 std::string(kRunnerCgroup), 4 * kS);
    recorderTask = snapshotTask(kRecorder, kRunnerShell, kCi,
                                {"proctape-record", "-o", "build.pt", "--", "bash", "ci/build-all.sh"},
                                "/usr/local/bin/proctape-record", std::string(kHome), std::string(kRunnerCgroup),
                                50 * kMs);
    facts.snapshotProcesses = snapshot.processes.size();
    facts.processes = snapshot.processes.size();
    // The daemons that keep working outside the recorded command.
    tasks[cronTask].steps = {work(logUniform(2 * kS, 20 * kS)), children({{Role::cronJob, 0}}), {Op::loop}};
    tasks[runnerTask].steps = {work(logUniform(200 * kMs, 2 * kS)), threads(uint32_t(uniform(1, 2)), 20 * kMs),
                               {Op::loop}};
    tasks[runnerTask].comm = "gitlab-runner";
  }

  // --- steps --------------------------------------------------------------------------

  static Step exec(Program program, uint32_t arg = 0) {
    Step s{Op::exec};
    s.program = program;
    s.arg = arg;
    return s;
  }
  static Step work(int64_t ns) {
    Step s{Op::work};
    s.ns = ns;
    return s;
  }
  static Step children(std::vector<Child> list, unsigned jobs = 1, bool skipIfFailed = false) {
    Step s{Op::children};
    s.children = std::move(list);
    s.jobs = jobs;
    s.skipIfFailed = skipIfFailed;
    return s;
  }
  static Step threads(uint32_t count, int64_t ns) {
    Step s{Op::threads};
    s.arg = count;
    s.ns = ns;
    return s;
  }
  static Step exit(uint32_t status = 0, uint32_t failStatus = kWaitFailed) {
    Step s{Op::exit};
    s.status = status;
    s.failStatus = failStatus;
    return s;
  }
  static Step ids(Op op, uint32_t id) {
    Step s{op};
    s.arg = id;
    return s;
  }
  static Step skippable(Step s) {
    s.skipIfFailed = true;
    return s;
  }

  // A program that runs for a while and exits with `status`.
  void leaf(Task& t, Program program, uint32_t arg, int64_t ns, uint32_t status = 0) {
    t.steps = {exec(program, arg), work(ns), exit(status)};
  }

  // The gcc driver after its exec: cc1, then as, each waited for.
  void driverSteps(Task& t, uint32_t object) {
    t.steps.push_back(work(int64_t(uniform(300 * kUs, 1500 * kUs))));
    t.steps.push_back(children({{Role::cc1, object}}));
    t.steps.push_back(skippable(work(int64_t(uniform(100 * kUs, 400 * kUs)))));
    t.steps.push_back(children({{Role::as, object}}, 1, true));
    t.steps.push_back(exit());
  }

  void script(Task& t, Role role, uint32_t arg) {
    const Project& p = projects[t.project];
    switch (role) {
      case Role::command:
        t.steps = {exec(Program::ciScript), work(3 * kMs), children({{Role::nproc, 0}}), children({{Role::xargs, 0}}),
                   exit(0, kWaitFailed)};
        return;
      case Role::nproc: return leaf(t, Program::nproc, 0, int64_t(uniform(500 * kUs, 1200 * kUs)));
      case Role::xargs: {
        Step stream{Op::stream};
        stream.jobs = options.lanes;
        t.steps = {exec(Program::xargs), work(1 * kMs), stream, exit(0, 123u << 8)};
        return;
      }
      case Role::buildOne: {
        t.steps = {exec(Program::buildScript), work(int64_t(uniform(1 * kMs, 3 * kMs))),
                   children({{Role::git, 0}}),
                   children({{Role::mkdirBuild, 0}}, 1, true),
                   children({{Role::makeAll, 0}}, 1, true),
                   children({{Role::makeCheck, 0}}, 1, true)};
        if (p.install) t.steps.push_back(children({{Role::sudo, 0}}, 1, true));
        t.steps.push_back(exit(0, 2u << 8));
        return;
      }
      case Role::git: return leaf(t, Program::git, 0, logUniform(20 * kMs, 300 * kMs));
      case Role::mkdirBuild: return leaf(t, Program::mkdirBuild, 0, int64_t(uniform(500 * kUs, 1500 * kUs)));
      case Role::makeAll: {
        std::vector<Child> dirs, objects, programs;
        for (uint32_t i = 0; i < 3; ++i) dirs.push_back({Role::mkdirDir, i});
        for (uint32_t i = 0; i < p.objects; ++i) objects.push_back({Role::compile, i});
        for (uint32_t i = 0; i < p.programs; ++i) programs.push_back({Role::link, i});
        t.steps = {exec(Program::make), work(logUniform(5 * kMs, 30 * kMs)), children(std::move(dirs), options.jobs),
                   children(std::move(objects), options.jobs, true), children(std::move(programs), options.jobs, true),
                   work(500 * kUs), exit(0, 2u << 8)};
        return;
      }
      case Role::mkdirDir: return leaf(t, Program::mkdirDir, arg, int64_t(uniform(500 * kUs, 1500 * kUs)));
      case Role::compile:
        // A recipe with shell syntax goes through sh, which runs its last command by exec;
        // a plain command line make runs itself.
        if (chance(0.5)) {
          t.steps = {exec(Program::shell, arg), work(int64_t(uniform(300 * kUs, 900 * kUs))),
                     children({{Role::mkdirObj, arg}}), exec(Program::cc, arg)};
        } else {
          t.steps = {exec(Program::cc, arg)};
        }
        return driverSteps(t, arg);
      // Sometimes gone before the recorder reads its /proc entry.
      case Role::mkdirObj: return leaf(t, Program::mkdirObj, arg, int64_t(uniform(150 * kUs, 1200 * kUs)));
      case Role::cc1: return leaf(t, Program::cc1, arg, logUniform(4 * kMs, 150 * kMs), chance(0.002) ? kWaitFailed : 0);
      case Role::as: return leaf(t, Program::as, arg, int64_t(uniform(2 * kMs, 8 * kMs)));
      case Role::link:
        t.steps = {exec(Program::ccLink, arg), work(int64_t(uniform(1 * kMs, 3 * kMs))),
                   children({{Role::collect2, arg}}), exit()};
        return;
      case Role::collect2:
        t.steps = {exec(Program::collect2, arg), work(int64_t(uniform(400 * kUs, 900 * kUs))),
                   children({{Role::ld, arg}}), work(200 * kUs), exit()};
        return;
      case Role::ld: return leaf(t, Program::ld, arg, logUniform(20 * kMs, 300 * kMs), chance(0.002) ? kWaitFailed : 0);
      case Role::makeCheck: {
        std::vector<Child> tests;
        for (uint32_t i = 0; i < p.tests; ++i) tests.push_back({Role::test, i});
        t.steps = {exec(Program::makeCheck), work(logUniform(5 * kMs, 15 * kMs)),
                   children(std::move(tests), options.jobs), exit(0, 2u << 8)};
        return;
      }
      case Role::test: {
        t.steps = {exec(Program::test, arg), work(logUniform(1 * kMs, 5 * kMs))};
        if (chance(0.6)) {
          if (chance(0.2)) t.steps.push_back({Op::comm});  // the main thread names itself too
          t.steps.push_back(threads(uint32_t(uniform(2, 8)), logUniform(5 * kMs, 100 * kMs)));
        }
        t.steps.push_back(work(logUniform(1 * kMs, 20 * kMs)));
        uint64_t roll = uniform(0, 9'999);
        if (roll < 9'900) {
          t.steps.push_back(exit(0));
        } else if (roll < 9'980) {
          t.steps.push_back(exit(kWaitFailed));
        } else {
          t.steps.push_back({Op::coredump});
          t.steps.push_back(exit(roll < 9'995 ? kSigsegvCore : kSigabrtCore));
        }
        return;
      }
      case Role::sudo:
        // sudo becomes root itself, then its child starts a session as root and runs the command.
        t.steps = {exec(Program::sudo), work(logUniform(5 * kMs, 20 * kMs)), ids(Op::setuid, kRoot),
                   children({{Role::sudoChild, 0}}), work(1 * kMs), exit()};
        return;
      case Role::sudoChild: {
        std::vector<Child> installs;
        for (uint32_t i = 0; i < p.programs; ++i) installs.push_back({Role::install, i});
        t.steps = {{Op::setsid}, ids(Op::setgid, kRoot), ids(Op::setuid, kRoot), work(200 * kUs),
                   exec(Program::makeInstall), work(logUniform(3 * kMs, 8 * kMs)), children(std::move(installs)),
                   exit(0, 2u << 8)};
        return;
      }
      case Role::install: return leaf(t, Program::install, arg, int64_t(uniform(1 * kMs, 3 * kMs)));
      case Role::cronJob:
        t.steps = {exec(Program::cronShell), work(int64_t(uniform(500 * kUs, 1500 * kUs))),
                   children({{Role::sa1, 0}}), exit()};
        return;
      case Role::sa1: return leaf(t, Program::sa1, 0, logUniform(5 * kMs, 40 * kMs));
      case Role::cronDaemon:
      case Role::runnerAgent:
      case Role::thread: return;  // set up elsewhere
    }
  }

  Project& newProject() {
    uint64_t n = projects.size() - 1;  // project 0 is none
    Project& p = projects.emplace_back();
    constexpr size_t kNames = std::size(kProjectNames);
    p.name = kProjectNames[n % kNames];
    if (n >= kNames) p.name += "-" + std::to_string(n / kNames);
    p.objects = uint32_t(logUniform(6, 80));
    p.programs = uint32_t(uniform(1, 3));
    p.tests = uint32_t(uniform(3, 14));
    p.install = chance(0.125);
    ++facts.projects;
    return p;
  }

  // --- pids and frames ---------------------------------------------------------------

  int32_t allocPid() {
    for (;;) {
      nextPid += chance(0.1) ? int32_t(uniform(2, 3)) : 1;  // kworkers and others take a pid now and then
      if (nextPid >= kPidMax) {
        nextPid = kReservedPids + (nextPid - kPidMax);
        ++facts.pidWraps;
      }
      if (!pidUsed[size_t(nextPid)]) {
        pidUsed[size_t(nextPid)] = 1;
        return nextPid;
      }
    }
  }

  void emit(int64_t t, uint32_t what, unsigned cpu, std::initializer_list<uint32_t> fields, const char* comm = nullptr) {
    Out out;
    out.t = t;
    out.order = outOrder++;
    out.what = what;
    out.cpu = cpu;
    size_t at = 0;
    for (uint32_t field : fields) {
      std::memcpy(out.data.data() + at, &field, 4);  // host byte order, as the kernel sends it
      at += 4;
    }
    if (comm) std::strncpy(reinterpret_cast<char*>(out.data.data() + 8), comm, 16);
    outputs.push(out);
    ++framesQueued;
  }

  void schedule(uint32_t task, int64_t t) { actions.push({t, actionOrder++, task, tasks[task].generation}); }

  // Forks a child (a process, or a thread of `parent`'s process) at `now`.
  void spawn(uint32_t parentIndex, Role role, uint32_t arg, int64_t now) {
    uint32_t index = newTask();
    Task& parent = tasks[parentIndex];
    Task& child = tasks[index];
    child.thread = role == Role::thread;
    child.pid = role == Role::command ? commandPid : allocPid();
    child.tgid = child.thread ? parent.tgid : child.pid;
    child.ppid = child.thread ? parent.ppid : parent.tgid;
    child.parent = parentIndex;
    child.parentGeneration = parent.generation;
    child.cpu = chance(0.7) ? parent.cpu : unsigned(uniform(0, options.cpus - 1));
    child.project = parent.project;
    child.image = parent.image;
    child.imageArg = parent.imageArg;
    child.uid = parent.uid;
    child.gid = parent.gid;
    child.startNs = now;
    int64_t first = now + int64_t(uniform(30 * kUs, 150 * kUs));
    if (child.thread) {
      child.comm = parent.comm.empty() ? "worker-" + std::to_string(parent.threadsMade) : parent.comm;
      ++parent.threadsMade;
      child.steps = {{Op::comm}, work(int64_t(uniform(uint64_t(arg) / 2, uint64_t(arg)))), exit()};
      first = now + int64_t(uniform(10 * kUs, 40 * kUs));
    } else {
      if (role == Role::buildOne) child.project = uint32_t(projects.size() - 1);
      script(child, role, arg);
      ++facts.processes;
    }
    // A fork on one CPU can be delivered after the child's first event on another (cn_proc
    // sends it once the child is running).
    bool late = !child.thread && child.cpu != parent.cpu && !child.steps.empty() && child.steps[0].op == Op::exec &&
                chance(0.003);
    if (late) {
      first = now + int64_t(uniform(5 * kUs, 15 * kUs));
      ++facts.lateForks;
    }
    int32_t parentPid = child.thread ? child.ppid : parent.pid, parentTgid = child.thread ? child.ppid : parent.tgid;
    emit(late ? first + int64_t(uniform(2 * kUs, 20 * kUs)) : now, kProcEventFork, parent.cpu,
         {uint32_t(parentPid), uint32_t(parentTgid), uint32_t(child.pid), uint32_t(child.tgid)});
    ++parent.running;
    schedule(index, first);
  }

  // Starts what the current children step may start; true once every child has exited.
  bool runChildren(uint32_t index, int64_t& now) {
    Task& t = tasks[index];
    Step& s = t.steps[t.cursor];
    bool stream = s.op == Op::stream;
    for (;;) {
      Task& task = tasks[index];
      bool stop = task.childFailed && !stream;  // make stops starting jobs after an error; xargs goes on
      bool more = stream ? framesQueued < options.events : task.nextChild < task.steps[task.cursor].children.size();
      if (stop || !more || task.running >= task.steps[task.cursor].jobs) break;
      if (stream) {
        newProject();
        spawn(index, Role::buildOne, 0, now);
      } else {
        const Child& c = task.steps[task.cursor].children[task.nextChild];
        ++task.nextChild;
        spawn(index, c.role, c.arg, now);
      }
      now += int64_t(uniform(20 * kUs, 80 * kUs));
    }
    Task& task = tasks[index];
    if (task.running > 0) return false;
    task.failed |= task.childFailed;
    task.childFailed = false;
    task.nextChild = 0;
    return true;
  }

  void exitTask(uint32_t index, int64_t now, uint32_t status) {
    Task& t = tasks[index];
    if (t.thread) {
      emit(now, kProcEventExit, t.cpu,
           {uint32_t(t.pid), uint32_t(t.tgid), 0, kThreadExitSignal, uint32_t(t.ppid), uint32_t(t.ppid)});
    } else {
      emit(now, kProcEventExit, t.cpu,
           {uint32_t(t.pid), uint32_t(t.tgid), status, uint32_t(kSigchld), uint32_t(t.ppid), uint32_t(t.ppid)});
      if (status != 0) ++facts.failed;
    }
    pidUsed[size_t(t.pid)] = 0;
    t.alive = false;
    t.steps.clear();
    t.steps.shrink_to_fit();
    --liveTasks;
    freeTasks.push_back(index);
    if (index == commandTask) {
      done = true;
      endNs = now;
    }
    if (t.parent == kNoTask) return;
    Task& parent = tasks[t.parent];
    if (!parent.alive || parent.generation != t.parentGeneration) return;
    if (status != 0 && !t.thread) parent.childFailed = true;
    --parent.running;
    schedule(t.parent, now + int64_t(uniform(10 * kUs, 60 * kUs)));  // wait4() returns
  }

  // Runs task `index` from time `now` until it waits or exits.
  void resume(uint32_t index, int64_t now) {
    for (;;) {
      Task& t = tasks[index];
      if (t.cursor >= t.steps.size()) return;  // a snapshot process with nothing to do
      Step& s = t.steps[t.cursor];
      if (s.skipIfFailed && t.failed) {
        ++t.cursor;
        continue;
      }
      switch (s.op) {
        case Op::exec: {
          t.image = s.program;
          t.imageArg = s.arg;
          ++t.execs;
          emit(now, kProcEventExec, t.cpu, {uint32_t(t.pid), uint32_t(t.tgid)});
          Out read;
          read.t = now + int64_t(uniform(20 * kUs, 250 * kUs));  // the enricher reads /proc
          read.order = outOrder++;
          read.info = true;
          read.task = index;
          read.generation = t.generation;
          read.execs = t.execs;
          read.pid = t.pid;
          read.tgid = t.tgid;
          outputs.push(read);
          ++t.cursor;
          now += syscallGap();
          break;
        }
        case Op::work:
          ++t.cursor;
          if (chance(0.1)) t.cpu = unsigned(uniform(0, options.cpus - 1));  // migrated
          return schedule(index, now + s.ns);
        case Op::children:
        case Op::stream:
          if (!runChildren(index, now)) return;
          ++tasks[index].cursor;
          break;
        case Op::threads: {
          if (t.running == 0 && t.nextChild == 0) {
            t.nextChild = 1;  // started
            for (uint32_t i = 0; i < s.arg; ++i) {
              spawn(index, Role::thread, uint32_t(s.ns), now);
              now += int64_t(uniform(5 * kUs, 30 * kUs));
            }
            return;
          }
          if (t.running > 0) return;
          t.nextChild = 0;
          ++t.cursor;
          break;
        }
        case Op::comm: {
          std::string name = t.thread ? t.comm : "test-main";
          emit(now, kProcEventComm, t.cpu, {uint32_t(t.pid), uint32_t(t.tgid)}, name.c_str());
          ++t.cursor;
          now += syscallGap();
          break;
        }
        case Op::setsid:
          emit(now, kProcEventSid, t.cpu, {uint32_t(t.pid), uint32_t(t.tgid)});
          ++t.cursor;
          now += syscallGap();
          break;
        case Op::setuid:
        case Op::setgid: {
          bool uid = s.op == Op::setuid;
          (uid ? t.uid : t.gid) = s.arg;
          emit(now, uid ? kProcEventUid : kProcEventGid, t.cpu, {uint32_t(t.pid), uint32_t(t.tgid), s.arg, s.arg});
          ++t.cursor;
          now += syscallGap();
          break;
        }
        case Op::coredump:
          emit(now, kProcEventCoredump, t.cpu, {uint32_t(t.pid), uint32_t(t.tgid), uint32_t(t.ppid), uint32_t(t.ppid)});
          ++t.cursor;
          now += logUniform(2 * kMs, 30 * kMs);  // writing the core
          break;
        case Op::exit: return exitTask(index, now, t.failed ? s.failStatus : s.status);
        case Op::loop: t.cursor = 0; break;
      }
    }
  }

  // --- what /proc says ------------------------------------------------------------------

  std::string tempName(uint32_t project, uint32_t object) {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t h = mix(options.seed ^ (uint64_t(project) << 32 | object));
    std::string name = "/tmp/cc";
    for (int i = 0; i < 6; ++i, h /= 62) name += kChars[h % 62];
    return name + ".s";
  }

  std::string source(uint32_t object) {  // without the extension
    constexpr size_t kCount = std::size(kWords);
    std::string name = std::string(kSourceDirs[object % std::size(kSourceDirs)]) + "/" + kWords[object % kCount];
    if (object >= kCount) name += std::to_string(object / kCount);
    return name;
  }

  std::string programName(const Project& p, uint32_t i) {
    return i == 0 ? basename(p.name) : basename(p.name) + (i == 1 ? "-cli" : "-bench");
  }

  std::vector<std::string> linkInputs(const Project& p) {
    std::vector<std::string> objects;
    for (uint32_t i = 0; i < p.objects; ++i) objects.push_back("build/" + source(i) + ".o");
    return objects;
  }

  // collect2's and ld's command line (gcc 12 on Debian, a PIE).
  std::vector<std::string> linkerArgs(std::string argv0, const Project& p, uint32_t program) {
    std::string lib(kGccLib);
    std::vector<std::string> a = {
        std::move(argv0), "-plugin", "/usr/libexec/gcc/x86_64-linux-gnu/12/liblto_plugin.so",
        "-plugin-opt=/usr/libexec/gcc/x86_64-linux-gnu/12/lto-wrapper",
        "-plugin-opt=-fresolution=" + tempName(uint32_t(&p - projects.data()), 100000 + program).substr(0, 13) + ".res",
        "-plugin-opt=-pass-through=-lgcc", "-plugin-opt=-pass-through=-lgcc_s", "-plugin-opt=-pass-through=-lc",
        "-plugin-opt=-pass-through=-lgcc", "-plugin-opt=-pass-through=-lgcc_s", "--build-id", "--eh-frame-hdr", "-m",
        "elf_x86_64", "--hash-style=gnu", "--as-needed", "-dynamic-linker", "/lib64/ld-linux-x86-64.so.2", "-pie",
        "-o", "build/" + programName(p, program), lib + "/../../../x86_64-linux-gnu/Scrt1.o",
        lib + "/../../../x86_64-linux-gnu/crti.o", lib + "/crtbeginS.o", "-L" + lib,
        "-L" + lib + "/../../../x86_64-linux-gnu", "-L" + lib + "/../../../../lib", "-L/lib/x86_64-linux-gnu",
        "-L/lib/../lib", "-L/usr/lib/x86_64-linux-gnu", "-L/usr/lib/../lib", "-L" + lib + "/../../.."};
    for (auto& object : linkInputs(p)) a.push_back(std::move(object));
    for (const char* tail : {"-lm", "-lgcc", "--push-state", "--as-needed", "-lgcc_s", "--pop-state", "-lc", "-lgcc",
                             "--push-state", "--as-needed", "-lgcc_s", "--pop-state"})
      a.emplace_back(tail);
    a.push_back(lib + "/crtendS.o");
    a.push_back(lib + "/../../../x86_64-linux-gnu/crtn.o");
    return a;
  }

  static constexpr const char* kCflags[] = {"-O2", "-g", "-Wall", "-Wextra", "-Iinclude", "-MMD", "-MP"};

  void describe(pf::ProcessInfo& info, const Task& t) {
    const Project& p = projects[t.project];
    uint32_t projectIndex = t.project;
    std::string dir = std::string(kHome) + "/builds/" + p.name;
    uint32_t a = t.imageArg;
    info.cwd = dir;
    switch (t.image) {
      case Program::none: break;
      case Program::ciScript:
        info.exe = "/usr/bin/bash", info.argv = {"bash", "ci/build-all.sh"}, info.cwd = kHome;
        break;
      case Program::nproc: info.exe = "/usr/bin/nproc", info.argv = {"nproc"}, info.cwd = kHome; break;
      case Program::xargs:
        info.exe = "/usr/bin/xargs";
        info.argv = {"xargs", "-P", std::to_string(options.lanes), "-n", "1", "ci/build-one.sh"};
        info.cwd = kHome;
        break;
      case Program::buildScript:
        info.exe = "/usr/bin/bash", info.argv = {"bash", "ci/build-one.sh", p.name}, info.cwd = kHome;
        break;
      case Program::git:
        info.exe = "/usr/bin/git", info.argv = {"git", "-C", "builds/" + p.name, "pull", "--ff-only", "--quiet"};
        info.cwd = kHome;
        break;
      case Program::mkdirBuild: info.exe = "/usr/bin/mkdir", info.argv = {"mkdir", "-p", "build"}; break;
      case Program::make: info.exe = "/usr/bin/make", info.argv = {"make", "-j" + std::to_string(options.jobs)}; break;
      case Program::makeCheck:
        info.exe = "/usr/bin/make", info.argv = {"make", "-j" + std::to_string(options.jobs), "check"};
        break;
      case Program::mkdirDir:
        info.exe = "/usr/bin/mkdir", info.argv = {"mkdir", "-p", std::string("build/") + kSourceDirs[a % 4]};
        break;
      case Program::shell: {
        std::string command = "mkdir -p build/" + std::string(kSourceDirs[a % 4]) + " && cc";
        for (const char* flag : kCflags) command += std::string(" ") + flag;
        command += " -c -o build/" + source(a) + ".o " + source(a) + ".c";
        info.exe = "/usr/bin/dash", info.argv = {"/bin/sh", "-c", std::move(command)};
        break;
      }
      case Program::mkdirObj:
        info.exe = "/usr/bin/mkdir", info.argv = {"mkdir", "-p", std::string("build/") + kSourceDirs[a % 4]};
        break;
      case Program::cc:
        info.exe = "/usr/bin/x86_64-linux-gnu-gcc-12";
        info.argv = {"cc"};
        for (const char* flag : kCflags) info.argv.emplace_back(flag);
        for (std::string arg : {std::string("-c"), std::string("-o"), "build/" + source(a) + ".o", source(a) + ".c"})
          info.argv.push_back(std::move(arg));
        break;
      case Program::cc1: {
        std::string src = source(a), base = basename(src);
        info.exe = std::string(kGccLib) + "/cc1";
        info.argv = {info.exe, "-quiet", "-I", "include", "-imultiarch", "x86_64-linux-gnu", "-MMD",
                     "build/" + src + ".d", "-MP", "-MQ", "build/" + src + ".o", src + ".c", "-quiet", "-dumpdir",
                     "build/" + src.substr(0, src.size() - base.size()), "-dumpbase", base + ".c", "-dumpbase-ext",
                     ".c", "-mtune=generic", "-march=x86-64", "-g", "-O2", "-Wall", "-Wextra",
                     "-fasynchronous-unwind-tables", "-o", tempName(projectIndex, a)};
        break;
      }
      case Program::as:
        info.exe = "/usr/bin/x86_64-linux-gnu-as";
        info.argv = {"as", "-I", "include", "--gdwarf-5", "--64", "-o", "build/" + source(a) + ".o",
                     tempName(projectIndex, a)};
        break;
      case Program::ccLink:
        info.exe = "/usr/bin/x86_64-linux-gnu-gcc-12";
        info.argv = {"cc", "-O2", "-g", "-o", "build/" + programName(p, a)};
        for (auto& object : linkInputs(p)) info.argv.push_back(std::move(object));
        info.argv.emplace_back("-lm");
        break;
      case Program::collect2:
        info.exe = std::string(kGccLib) + "/collect2";
        info.argv = linkerArgs(info.exe, p, a);
        break;
      case Program::ld:
        info.exe = "/usr/bin/x86_64-linux-gnu-ld.bfd";
        info.argv = linkerArgs("/usr/bin/ld", p, a);
        break;
      case Program::test: {
        std::string name = std::string("build/tests/test_") + kTestNames[a % std::size(kTestNames)];
        if (a >= std::size(kTestNames)) name += std::to_string(a);
        info.exe = dir + "/" + name;
        info.argv = {name};
        break;
      }
      case Program::sudo: info.exe = "/usr/bin/sudo", info.argv = {"sudo", "make", "install", "PREFIX=/usr/local"}; break;
      case Program::makeInstall: info.exe = "/usr/bin/make", info.argv = {"make", "install", "PREFIX=/usr/local"}; break;
      case Program::install: {
        std::string program = programName(p, a);
        info.exe = "/usr/bin/install";
        info.argv = {"install", "-m", "755", "build/" + program, "/usr/local/bin/" + program};
        break;
      }
      case Program::cronShell:
        info.exe = "/usr/bin/dash";
        info.argv = {"/bin/sh", "-c", "command -v debian-sa1 > /dev/null && debian-sa1 1 1"};
        info.cwd = "/root";
        break;
      case Program::sa1:
        info.exe = "/usr/bin/dash", info.argv = {"/bin/sh", "/usr/lib/sysstat/debian-sa1", "1", "1"}, info.cwd = "/root";
        break;
    }
  }

  pf::ProcessInfo readProc(const Out& read) {
    pf::ProcessInfo info;
    info.reason = pf::InfoReason::exec;
    const Task& t = tasks[read.task];
    info.pid = t.pid;
    info.tgid = t.tgid;
    if (t.generation != read.generation || !t.alive || t.execs != read.execs) {
      // Exited (or exec'd again) before the enricher got to it.
      info.pid = read.pid;
      info.tgid = read.tgid;
      info.misses = {{pf::InfoField::all, pf::MissReason::gone, 3 /* ESRCH */}};
      ++facts.infosGone;
      return info;
    }
    describe(info, t);
    info.ppid = t.ppid;
    info.comm = basename(info.exe).substr(0, 15);
    info.ruid = info.euid = t.uid;
    info.rgid = info.egid = t.gid;
    info.cgroup = std::string(kRunnerCgroup);
    if (t.project == 0 && (t.image == Program::cronShell || t.image == Program::sa1)) info.cgroup = "/system.slice/cron.service";
    info.startTimeTicks = uint64_t(t.startNs / 10'000'000);
    return info;
  }

  // --- output ---------------------------------------------------------------------------

  void countArgv(const pf::ProcessInfo& info) {
    facts.argvCount += info.argv.size();
    for (const auto& arg : info.argv) facts.argvBytes += arg.size() + 1;
  }

  void write(const Out& out, BuildTraceSink& sink) {
    if (out.info) {
      int64_t capture = std::max(lastCapture, out.t);
      lastCapture = capture;
      auto info = readProc(out);
      countArgv(info);
      ++facts.infos;
      facts.lastNs = capture;
      sink.processInfo(capture, info);
      return;
    }
    uint8_t f[kFrameBytes];
    uint32_t seq = cpuSeq[out.cpu]++;  // the kernel's per-CPU proc_event_counts
    auto put = [&f](size_t offset, auto value) { std::memcpy(f + offset, &value, sizeof value); };
    put(kOffNlLen, uint32_t(kFrameBytes));
    put(kOffNlType, kNlmsgDone);
    put(kOffNlFlags, uint16_t(0));
    put(kOffNlSeq, seq);
    put(kOffNlPid, uint32_t(0));
    put(kOffCnIdx, kCnIdxProc);
    put(kOffCnVal, kCnValProc);
    put(kOffCnSeq, seq);
    put(kOffCnAck, uint32_t(0));
    put(kOffCnLen, uint16_t(40));  // sizeof(struct proc_event)
    put(kOffCnFlags, uint16_t(0));
    put(kOffWhat, out.what);
    put(kOffCpu, uint32_t(out.cpu));
    put(kOffTimestamp, uint64_t(out.t));
    std::memcpy(f + kOffData, out.data.data(), out.data.size());
    // The recorder stamps a datagram a few microseconds after the event; those
    // that queued while it was busy share the capture time of their batch.
    int64_t capture = std::max(lastCapture, out.t + int64_t(uniform(2 * kUs, 8 * kUs)));
    lastCapture = capture;
    facts.lastNs = capture;
    ++facts.events;
    int32_t field0 = 0, field2 = 0, field3 = 0;
    std::memcpy(&field0, out.data.data(), 4);
    std::memcpy(&field2, out.data.data() + 8, 4);
    std::memcpy(&field3, out.data.data() + 12, 4);
    switch (out.what) {
      case kProcEventFork: (field2 == field3 ? facts.forks : facts.threadForks)++; break;
      case kProcEventExec: ++facts.execs; break;
      case kProcEventExit: {
        int32_t tgid = 0;
        std::memcpy(&tgid, out.data.data() + 4, 4);
        (field0 == tgid ? facts.exits : facts.threadExits)++;
        break;
      }
      case kProcEventUid: ++facts.uids; break;
      case kProcEventGid: ++facts.gids; break;
      case kProcEventSid: ++facts.sids; break;
      case kProcEventComm: ++facts.comms; break;
      case kProcEventCoredump: ++facts.coredumps; break;
      default: break;
    }
    sink.frame(capture, std::span<const uint8_t>(f, kFrameBytes));
  }

  // Everything due before `t`: no action at `t` or later can emit anything earlier.
  void flush(int64_t t, BuildTraceSink& sink) {
    while (!outputs.empty() && outputs.top().t < t) {
      Out out = outputs.top();
      outputs.pop();
      write(out, sink);
    }
  }

  BuildTraceFacts run(BuildTraceSink& sink) {
    facts.firstNs = lastCapture = startNs;
    sink.snapshot(startNs, snapshot);
    schedule(cronTask, startNs + int64_t(uniform(0, 5 * kS)));
    schedule(runnerTask, startNs + int64_t(uniform(0, 1 * kS)));
    // The recorder starts the command once its snapshot is written.
    int64_t now = startNs + 2 * kMs;
    spawnCommand(now);
    while (!actions.empty() && !done) {
      Action a = actions.top();
      actions.pop();
      flush(a.t, sink);
      if (tasks[a.task].generation != a.generation || !tasks[a.task].alive) continue;
      resume(a.task, a.t);
    }
    // The recorder stops when the command has exited: what comes after is not in the trace.
    flush(endNs + 1, sink);
    return facts;
  }

  void spawnCommand(int64_t now) {
    spawn(recorderTask, Role::command, 0, now);
    for (uint32_t i = 0; i < tasks.size(); ++i)
      if (tasks[i].alive && tasks[i].pid == commandPid) commandTask = i;
  }

  BuildTraceOptions options;
  std::mt19937_64 rng;
  BuildTraceFacts facts;
  pf::Snapshot snapshot;
  std::deque<Task> tasks;  // a deque: references stay valid as tasks are added
  std::vector<uint32_t> freeTasks;
  uint64_t liveTasks = 0;
  std::vector<Project> projects;
  std::vector<uint8_t> pidUsed;
  int32_t nextPid = 0;
  int32_t commandPid = 0;
  uint32_t commandTask = kNoTask, recorderTask = kNoTask, cronTask = kNoTask, runnerTask = kNoTask;
  std::vector<uint32_t> cpuSeq;
  int64_t startNs = 0;
  int64_t endNs = 0;
  int64_t lastCapture = 0;
  bool done = false;
  uint64_t framesQueued = 0;
  uint64_t outOrder = 0, actionOrder = 0;
  std::priority_queue<Action, std::vector<Action>, std::greater<>> actions;
  std::priority_queue<Out, std::vector<Out>, std::greater<>> outputs;
};

BuildTraceGenerator::BuildTraceGenerator(const BuildTraceOptions& options) : impl_(std::make_unique<Impl>(options)) {}
BuildTraceGenerator::~BuildTraceGenerator() = default;

format::Meta BuildTraceGenerator::meta() const {
  format::Meta meta = cnProcMeta("proctape-record");
  meta.hostname = "ci-runner-7";
  meta.recorderVersion = std::string("0.1.0");
  meta.commandLine = {"proctape-record", "-o", "build.pt", "--", "bash", "ci/build-all.sh"};
  meta.commandPid = impl_->commandPid;
  return meta;
}

int64_t BuildTraceGenerator::startNs() const { return impl_->startNs; }

BuildTraceFacts BuildTraceGenerator::run(BuildTraceSink& sink) { return impl_->run(sink); }

}  // namespace proctape::bench
