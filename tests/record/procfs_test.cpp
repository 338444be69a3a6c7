// readProcessInfo and readProcessTable against the real /proc (ourselves, a
// zombie child, pid 1) and against fake proc trees built in a temp dir (a
// process that is gone, comm with spaces and parentheses, unreadable stat).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "proctape/record/procfs.h"
#include "test_support.h"

namespace proctape::record {
namespace {

namespace fs = std::filesystem;
using format::InfoField;
using format::InfoReason;
using format::Miss;
using format::MissReason;
using format::ProcessInfo;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "proctape-procfs-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string root() const { return path_.string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> splitAtNul(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == '\0') {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

std::string linkTarget(const std::string& path) {
  std::error_code ec;
  auto target = fs::read_symlink(path, ec);
  return ec ? std::string() : target.string();
}

std::string trimNewline(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

const Miss* missFor(const ProcessInfo& info, InfoField field) {
  auto it = std::find_if(info.misses.begin(), info.misses.end(), [field](const Miss& m) { return m.field == field; });
  return it == info.misses.end() ? nullptr : &*it;
}

std::string describeMisses(const ProcessInfo& info) {
  std::string text;
  for (const auto& m : info.misses)
    text += std::string(format::toString(m.field)) + ":" + format::toString(m.reason) + "(" + std::to_string(m.err) + ") ";
  return text.empty() ? "no misses" : text;
}

// A /proc/PID/stat line: fields 3.. after "(comm)", with ppid and start time set.
std::string statLine(int pid, const std::string& comm, char state, int ppid, unsigned long long startTicks) {
  std::string line = std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid);
  // pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice num_threads itrealvalue (fields 5..21)
  line += " 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0";
  line += " " + std::to_string(startTicks);
  line += " 1234567 89 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
  return line;
}

std::string statusText(const std::string& name, int tgid, int ppid) {
  return "Name:\t" + name + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + std::to_string(tgid) +
         "\nNgid:\t0\nPid:\t" + std::to_string(tgid) + "\nPPid:\t" + std::to_string(ppid) +
         "\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\nFDSize:\t64\n";
}

// A fake /proc/PID directory with stat, status, cmdline, cgroup, exe and cwd.
void makeFakeProcess(const fs::path& root, int pid, const std::string& comm, int ppid, unsigned long long startTicks,
                     const std::string& cmdline) {
  fs::path dir = root / std::to_string(pid);
  fs::create_directories(dir);
  spit(dir / "stat", statLine(pid, comm, 'S', ppid, startTicks));
  spit(dir / "status", statusText(comm, pid, ppid));
  spit(dir / "cmdline", cmdline);
  spit(dir / "cgroup", "0::/user.slice/fake.scope\n");
  fs::create_symlink("/usr/bin/fake-binary", dir / "exe");
  fs::create_symlink("/home/fake dir", dir / "cwd");
}

TEST(Procfs, OwnProcessReadsCompletelyAndMatchesProcSelf) {
  ProcessInfo info = readProcessInfo(::getpid(), InfoReason::exec);
  EXPECT_TRUE(info.misses.empty()) << describeMisses(info);
  EXPECT_EQ(info.pid, ::getpid());
  EXPECT_EQ(info.tgid, ::getpid());
  EXPECT_EQ(info.ppid, ::getppid());
  EXPECT_EQ(info.reason, InfoReason::exec);
  auto argv = splitAtNul(proctape::test::readText("/proc/self/cmdline"));
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(info.argv, argv);
  EXPECT_NE(info.argv[0].find("record_tests"), std::string::npos) << info.argv[0];
  EXPECT_EQ(info.exe, linkTarget("/proc/self/exe"));
  EXPECT_EQ(info.cwd, fs::current_path().string());
  EXPECT_EQ(info.comm, trimNewline(proctape::test::readText("/proc/self/comm")));
  EXPECT_EQ(info.ruid, ::getuid());
  EXPECT_EQ(info.euid, ::geteuid());
  EXPECT_EQ(info.rgid, ::getgid());
  EXPECT_EQ(info.egid, ::getegid());
  EXPECT_GT(info.startTimeTicks, 0u);
  EXPECT_TRUE(info.has(InfoField::argv));
  EXPECT_TRUE(info.has(InfoField::all));
}

TEST(Procfs, ZombieChildGivesArgvMissWithReasonZombieNeverAnEmptyArgv) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0) << "fork failed";
  if (child == 0) ::_exit(3);
  // Wait for the exit but leave the child unreaped, so it stays a zombie.
  siginfo_t si{};
  ASSERT_EQ(::waitid(P_PID, id_t(child), &si, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(si.si_pid, child);
  EXPECT_EQ(si.si_status, 3);

  ProcessInfo info = readProcessInfo(child, InfoReason::exec);

  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // reap it now, whatever happens below
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);

  EXPECT_EQ(info.pid, child);
  EXPECT_EQ(info.ppid, ::getpid());
  EXPECT_GT(info.startTimeTicks, 0u);
  EXPECT_TRUE(info.argv.empty());
  const Miss* argv = missFor(info, InfoField::argv);
  ASSERT_NE(argv, nullptr) << "a zombie's empty cmdline came back as an empty argv: " << describeMisses(info);
  EXPECT_EQ(argv->reason, MissReason::zombie);
  for (InfoField field : {InfoField::exe, InfoField::cwd}) {
    const Miss* link = missFor(info, field);
    ASSERT_NE(link, nullptr) << format::toString(field) << ": " << describeMisses(info);
    EXPECT_EQ(link->reason, MissReason::zombie) << format::toString(field);
  }
  // What a zombie still has: its ids and name.
  EXPECT_TRUE(info.has(InfoField::ids));
  EXPECT_EQ(info.ruid, ::getuid());
  EXPECT_EQ(info.comm, trimNewline(proctape::test::readText("/proc/self/comm")));
  EXPECT_EQ(missFor(info, InfoField::all), nullptr);
}

// An argv of a megabyte, far more than one read buffer: it comes back whole,
// read in one piece (in pieces, an exit between two reads cut it short
// without a sign).
TEST(Procfs, MegabyteArgvIsReadWhole) {
  std::vector<std::string> args = {"/bin/sh", "-c", "read line", "sh"};
  for (int i = 0; i < 10; ++i) args.push_back(std::string(100'000, char('a' + i)));
  int hold[2];
  ASSERT_EQ(::pipe(hold), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(hold[0], 0);
    ::close(hold[1]);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  ::close(hold[0]);
  ProcessInfo info;
  for (int attempt = 0; attempt < 200; ++attempt) {  // until the exec has happened
    info = readProcessInfo(child, InfoReason::exec);
    if (info.argv == args) break;
    ::usleep(5000);
  }
  ::close(hold[1]);  // the shell reads end-of-file and exits
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(info.argv == args) << info.argv.size() << " arguments read: " << describeMisses(info);
}

TEST(Procfs, ProcessThatDoesNotExistIsAMissAllGone) {
  TempDir root;
  makeFakeProcess(root.path(), 100, "other", 1, 500, std::string("other\0", 6));
  ProcessInfo info = readProcessInfo(4321, InfoReason::exec, root.root());
  EXPECT_EQ(info.pid, 4321);
  EXPECT_EQ(info.reason, InfoReason::exec);
  ASSERT_EQ(info.misses.size(), 1u) << describeMisses(info);
  EXPECT_EQ(info.misses[0], (Miss{InfoField::all, MissReason::gone, ENOENT}));
  EXPECT_FALSE(info.has(InfoField::argv));
  EXPECT_TRUE(info.argv.empty());
  EXPECT_TRUE(info.exe.empty());
  EXPECT_EQ(info.startTimeTicks, 0u);

  // The same on the real /proc, for a pid above any pid_max.
  ProcessInfo real = readProcessInfo(INT_MAX, InfoReason::exec);
  ASSERT_EQ(real.misses.size(), 1u) << describeMisses(real);
  EXPECT_EQ(real.misses[0].field, InfoField::all);
  EXPECT_EQ(real.misses[0].reason, MissReason::gone);
}

TEST(Procfs, FakeProcessReadsEveryField) {
  TempDir root;
  makeFakeProcess(root.path(), 4242, "fakeproc", 77, 987654321, std::string("/usr/bin/fake\0-x\0\0last arg\0", 27));
  ProcessInfo info = readProcessInfo(4242, InfoReason::snapshot, root.root());
  EXPECT_TRUE(info.misses.empty()) << describeMisses(info);
  EXPECT_EQ(info.pid, 4242);
  EXPECT_EQ(info.tgid, 4242);
  EXPECT_EQ(info.ppid, 77);
  EXPECT_EQ(info.argv, (std::vector<std::string>{"/usr/bin/fake", "-x", "", "last arg"}));
  EXPECT_EQ(info.exe, "/usr/bin/fake-binary");
  EXPECT_EQ(info.cwd, "/home/fake dir");
  EXPECT_EQ(info.comm, "fakeproc");
  EXPECT_EQ(info.ruid, 1000u);
  EXPECT_EQ(info.euid, 1001u);
  EXPECT_EQ(info.rgid, 100u);
  EXPECT_EQ(info.egid, 101u);
  EXPECT_EQ(info.cgroup, "/user.slice/fake.scope");
  EXPECT_EQ(info.startTimeTicks, 987654321u);
  EXPECT_EQ(info.reason, InfoReason::snapshot);
}

TEST(Procfs, CommWithSpacesAndParenthesesParsesStatFromTheLastParenthesis) {
  // comm is at most 15 bytes and may hold anything, including what looks like
  // the fields that follow it.
  for (const std::string comm : {"(a) b)", "x) Z 999 1 2", ") ) )", "a b"}) {
    SCOPED_TRACE(comm);
    TempDir root;
    makeFakeProcess(root.path(), 4242, comm, 77, 987654321, std::string("prog\0", 5));
    ProcessInfo info = readProcessInfo(4242, InfoReason::exec, root.root());
    EXPECT_TRUE(info.misses.empty()) << describeMisses(info);
    EXPECT_EQ(info.ppid, 77);
    EXPECT_EQ(info.startTimeTicks, 987654321u);
    EXPECT_EQ(info.comm, comm);
    EXPECT_EQ(info.argv, std::vector<std::string>{"prog"});
  }
}

TEST(Procfs, UnparsableStatIsAMissNotAnEmptyRecord) {
  for (const std::string stat : {"", "4242 (trunc", "4242 (short) S 77 1 2\n"}) {
    SCOPED_TRACE(stat);
    TempDir root;
    makeFakeProcess(root.path(), 4242, "fakeproc", 77, 5, std::string("prog\0", 5));
    spit(root.path() / "4242" / "stat", stat);
    ProcessInfo info = readProcessInfo(4242, InfoReason::exec, root.root());
    const Miss* all = missFor(info, InfoField::all);
    ASSERT_NE(all, nullptr) << describeMisses(info);
    EXPECT_EQ(all->reason, MissReason::other);
    EXPECT_FALSE(info.has(InfoField::argv));
  }
}

TEST(Procfs, ProcessTableListsUsAndInitAndNeverAnEmptyArgvWithoutAMiss) {
  auto table = readProcessTable();
  auto find = [&table](pid_t pid) {
    return std::find_if(table.processes.begin(), table.processes.end(),
                        [pid](const ProcessInfo& info) { return info.pid == pid; });
  };
  auto self = find(::getpid());
  ASSERT_NE(self, table.processes.end());
  EXPECT_EQ(self->argv, splitAtNul(proctape::test::readText("/proc/self/cmdline")));
  EXPECT_EQ(self->reason, InfoReason::snapshot);
  auto init = find(1);
  ASSERT_NE(init, table.processes.end());
  EXPECT_EQ(init->ppid, 0);
  for (const auto& info : table.processes) {
    EXPECT_TRUE(!info.argv.empty() || !info.has(InfoField::argv)) << "pid " << info.pid << ": " << describeMisses(info);
    EXPECT_GT(info.pid, 0);
  }
}

TEST(Procfs, ProcessTableOnAFakeRootReadsOnlyPidDirectories) {
  TempDir root;
  makeFakeProcess(root.path(), 1, "init", 0, 1, std::string("/sbin/init\0", 11));
  makeFakeProcess(root.path(), 300, "worker", 1, 900, std::string("worker\0--fast\0", 14));
  fs::create_directories(root.path() / "sys" / "kernel");
  fs::create_directories(root.path() / "12abc");
  spit(root.path() / "uptime", "1.0 1.0\n");
  fs::create_directory_symlink("300", root.path() / "self");

  auto table = readProcessTable(root.root());
  ASSERT_EQ(table.processes.size(), 2u);
  std::sort(table.processes.begin(), table.processes.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  EXPECT_EQ(table.processes[0].pid, 1);
  EXPECT_EQ(table.processes[0].argv, std::vector<std::string>{"/sbin/init"});
  EXPECT_EQ(table.processes[1].pid, 300);
  EXPECT_EQ(table.processes[1].argv, (std::vector<std::string>{"worker", "--fast"}));
  EXPECT_EQ(table.processes[1].ppid, 1);
  for (const auto& info : table.processes) {
    EXPECT_TRUE(info.misses.empty()) << describeMisses(info);
    EXPECT_EQ(info.reason, InfoReason::snapshot);
  }
}

}  // namespace
}  // namespace proctape::record
