// process_info_generator: the process-info records a recorder writes for the
// execs of cn_proc_generator.h's traffic, and its start-up snapshot of their
// parents: what /proc says about each program of a `make -j2` C++ build
// started from a login shell (argv, exe, cwd, comm, ids, cgroup).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "proctape/format/records.h"

namespace proctape::bench {

// The parents of the generated children (FrameGenerator's kParents): a login
// shell, make, two sub-makes and the shell make runs a recipe in.
constexpr int32_t kLoginShell = 1187, kMake = 20411, kSubMakeFormat = 20415, kSubMakeReplay = 20433,
                  kRecipeShell = 20533;

// What /proc says about an exec'd process, as the recorder's enricher reads it
// shortly after the exec event. The programs: the shell's own commands (git,
// ls, grep, tail, make), make's recipe shells (`/bin/sh -c "g++ ..."`) and
// mkdirs, and the compiler driver with cc1plus, as and rm. 2 % of the
// processes are gone before /proc is read (every field missing), 1 % are
// zombies (argv, exe and cwd missing).
class ProcessInfoGenerator {
 public:
  explicit ProcessInfoGenerator(uint64_t seed);

  // The record for `pid`, a child of `parent` that exec'd at kernel time `kernelNs`.
  format::ProcessInfo make(int32_t pid, int32_t parent, uint64_t kernelNs);

 private:
  uint64_t uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
  template <size_t N>
  const char* pick(const char* const (&items)[N]) { return items[uniform(0, N - 1)]; }
  std::string tempName();
  void command(format::ProcessInfo& info, int32_t parent);
  void shellCommand(format::ProcessInfo& info);
  void compilerCommand(format::ProcessInfo& info);

  std::mt19937_64 rng_;
};

// The recorder's start-up snapshot at capture time `nowNs`: the five parents.
format::Snapshot parentsSnapshot(int64_t nowNs);

}  // namespace proctape::bench
