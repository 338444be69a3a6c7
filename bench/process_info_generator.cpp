#include "process_info_generator.h"

#include <filesystem>
#include <utility>

namespace proctape::bench {
namespace {

namespace fs = std::filesystem;
namespace pf = proctape::format;

// Sources of the build; one name is not ASCII, as names on real disks sometimes are.
constexpr const char* kSources[] = {
    "format/src/writer",           "format/src/reader",           "format/src/chunk_decoder",
    "format/src/frame_batch",      "format/src/schema_convert",   "format/src/netlink_walk",
    "format/src/netlink_cn_proc",  "format/src/netlink_rtnetlink", "format/src/zstd_sink",
    "replay/src/json_renderer",    "replay/src/text_renderer",    "replay/src/event_stream",
    "replay/src/filter",           "replay/src/escape",           "replay/src/tool",
    "record/src/recorder",         "record/src/receiver",         "record/src/enricher",
    "record/src/procfs",           "tests/format/größe_test",
};
constexpr const char* kDirs[] = {"format/src", "replay/src", "record/src", "tests/format"};

}  // namespace

ProcessInfoGenerator::ProcessInfoGenerator(uint64_t seed) : rng_(seed ^ 0x696e666f) {}  // "info"

pf::ProcessInfo ProcessInfoGenerator::make(int32_t pid, int32_t parent, uint64_t kernelNs) {
  pf::ProcessInfo info;
  info.pid = info.tgid = pid;
  info.reason = pf::InfoReason::exec;
  uint64_t roll = uniform(0, 99);
  if (roll < 2) {  // exited before /proc could be read: nothing but the ids from the event
    info.misses = {{pf::InfoField::all, pf::MissReason::gone, 3 /* ESRCH */}};
    return info;
  }
  info.ppid = parent;
  command(info, parent);
  info.comm = fs::path(info.exe).filename().string().substr(0, 15);
  info.ruid = info.euid = 1000;
  info.rgid = info.egid = 1000;
  info.cgroup = "/user.slice/user-1000.slice/session-3.scope";
  info.startTimeTicks = kernelNs / 10'000'000;  // USER_HZ = 100
  if (roll < 3) {  // a zombie already: argv, exe and cwd are gone, comm is not
    info.argv.clear(), info.exe.clear(), info.cwd.clear();
    for (auto field : {pf::InfoField::argv, pf::InfoField::exe, pf::InfoField::cwd})
      info.misses.push_back({field, pf::MissReason::zombie, 0});
  }
  return info;
}

std::string ProcessInfoGenerator::tempName() {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string name = "/tmp/cc";
  for (int i = 0; i < 6; ++i) name += kChars[uniform(0, sizeof kChars - 2)];
  return name + ".s";
}

void ProcessInfoGenerator::command(pf::ProcessInfo& info, int32_t parent) {
  static constexpr const char* kProject = "/home/dev/src/proctape";
  info.cwd = kProject;
  if (parent == kLoginShell) return shellCommand(info);
  if (parent == kRecipeShell) return compilerCommand(info);
  if (parent == kSubMakeFormat) info.cwd += "/format";
  if (parent == kSubMakeReplay) info.cwd += "/replay";
  if (uniform(0, 9) == 0) {
    info.exe = "/usr/bin/mkdir";
    info.argv = {"mkdir", "-p", std::string("build/") + pick(kDirs)};
    return;
  }
  std::string source = pick(kSources);
  info.exe = "/usr/bin/dash";
  info.argv = {"/bin/sh", "-c",
               "g++ -std=c++20 -O2 -g -Wall -Wextra -Werror -DPROCTAPE_VERSION=\\\"0.1.0\\\" -Iinclude -MMD -MP -c " +
                   source + ".cpp -o build/" + source + ".o"};
}

void ProcessInfoGenerator::shellCommand(pf::ProcessInfo& info) {
  switch (uniform(0, 4)) {
    case 0: info.exe = "/usr/bin/git", info.argv = {"git", "status", "--short"}; return;
    case 1: info.exe = "/usr/bin/ls", info.argv = {"ls", "--color=auto", "-la", "build"}; return;
    case 2: info.exe = "/usr/bin/grep", info.argv = {"grep", "-rn", "--color=auto", "TODO", "format/src"}; return;
    case 3: info.exe = "/usr/bin/tail", info.argv = {"tail", "-n", "50", "build/Testing/Temporary/LastTest.log"}; return;
    default: info.exe = "/usr/bin/make", info.argv = {"make", "-j2", "all"}; return;
  }
}

void ProcessInfoGenerator::compilerCommand(pf::ProcessInfo& info) {
  std::string source = pick(kSources);
  std::string object = "build/" + source + ".o";
  std::string temp = tempName();
  switch (uniform(0, 5)) {
    case 0:
    case 1:
      info.exe = "/usr/bin/x86_64-linux-gnu-g++-12";
      info.argv = {"g++", "-std=c++20", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-DPROCTAPE_VERSION=\"0.1.0\"",
                   "-Iinclude", "-MMD", "-MP", "-c", source + ".cpp", "-o", object};
      return;
    case 2:
    case 3:
      info.exe = "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus";
      info.argv = {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "-quiet", "-I", "include", "-imultiarch",
                   "x86_64-linux-gnu", "-MMD", "build/" + source + ".d", "-MP", "-D_GNU_SOURCE",
                   "-D", "PROCTAPE_VERSION=\"0.1.0\"", source + ".cpp", "-quiet", "-dumpdir", "build/",
                   "-dumpbase", fs::path(source).filename().string() + ".cpp", "-dumpbase-ext", ".cpp",
                   "-mtune=generic", "-march=x86-64", "-g", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c++20",
                   "-fasynchronous-unwind-tables", "-o", temp};
      return;
    case 4:
      info.exe = "/usr/bin/x86_64-linux-gnu-as";
      info.argv = {"as", "-I", "include", "--gdwarf-5", "--64", "-o", object, temp};
      return;
    default:
      info.exe = "/usr/bin/rm";
      info.argv = {"rm", "-f", temp};
      return;
  }
}

// What a recorder's start-up snapshot says about the parents of the
// generated children (cn_proc_generator.h): a login shell, make, two
// sub-makes and the shell make runs a recipe in.
pf::Snapshot parentsSnapshot(int64_t nowNs) {
  auto process = [nowNs](int32_t pid, int32_t ppid, std::vector<std::string> argv, std::string exe, std::string cwd) {
    pf::ProcessInfo info;
    // Started a while ago: the shell two hours, the makes five minutes (USER_HZ = 100).
    info.startTimeTicks = uint64_t(nowNs / 10'000'000) - (pid == kLoginShell ? 720'000 : 30'000);
    info.pid = info.tgid = pid;
    info.ppid = ppid;
    info.comm = fs::path(exe).filename().string();
    info.argv = std::move(argv);
    info.exe = std::move(exe);
    info.cwd = std::move(cwd);
    info.ruid = info.euid = info.rgid = info.egid = 1000;
    info.cgroup = "/user.slice/user-1000.slice/session-3.scope";
    info.reason = pf::InfoReason::snapshot;
    return info;
  };
  const std::string project = "/home/dev/src/proctape";
  pf::Snapshot snapshot;
  snapshot.processes = {
      process(kLoginShell, 1150, {"-zsh"}, "/usr/bin/zsh", project),
      process(kMake, kLoginShell, {"make", "-j2", "all"}, "/usr/bin/make", project),
      process(kSubMakeFormat, kMake, {"make", "-C", "format"}, "/usr/bin/make", project + "/format"),
      process(kSubMakeReplay, kMake, {"make", "-C", "replay"}, "/usr/bin/make", project + "/replay"),
      process(kRecipeShell, kMake, {"/bin/sh", "-c", "g++ -std=c++20 -O2 -c tests/format/größe_test.cpp"},
              "/usr/bin/dash", project),
  };
  return snapshot;
}

}  // namespace proctape::bench
