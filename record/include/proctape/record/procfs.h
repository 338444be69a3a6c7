// Reads what /proc knows about a process: argv, exe, cwd, comm, ids, cgroup
// and start time. Whatever cannot be read is recorded as a Miss with its
// reason, never as an empty value.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::record {

// Reads /proc/PID under `procRoot`, cmdline first (argv lasts only as long
// as the process), every file through one descriptor of the /proc/PID
// directory: if the pid is reused meanwhile, the reads fail (a `gone` miss)
// rather than mix two processes. Callers that know when the process they
// mean started (the enricher: before its exec) compare startTimeTicks.
format::ProcessInfo readProcessInfo(pid_t pid, format::InfoReason reason, const std::string& procRoot = "/proc");

// readProcessInfo in two steps, for bursts: the constructor opens /proc/PID
// and reads cmdline (a few microseconds), finish() reads the rest. The
// enricher starts every exec of a burst before finishing any.
class ProcessRead {
 public:
  ProcessRead(pid_t pid, format::InfoReason reason, const std::string& procRoot = "/proc");
  ProcessRead(ProcessRead&& other) noexcept;
  ProcessRead& operator=(ProcessRead&&) = delete;
  ProcessRead(const ProcessRead&) = delete;
  ~ProcessRead();

  // The record, with a miss for each field that could not be read. Once.
  format::ProcessInfo finish();

 private:
  format::ProcessInfo info_;
  int dir_ = -1;
  int dirErr_ = 0;
  std::string cmdline_;
  int cmdlineErr_ = 0;
};

// Every process (thread-group leader) listed in `procRoot`, read as above.
format::Snapshot readProcessTable(const std::string& procRoot = "/proc");

}  // namespace proctape::record
