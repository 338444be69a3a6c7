// Reads what /proc knows about a process: argv, exe, cwd, comm, ids, cgroup
// and start time. Whatever cannot be read is recorded as a Miss with its
// reason, never as an empty value.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::record {

// Reads /proc/PID under `procRoot`. The start time is read before and after
// the other files; if it changed, the pid was reused meanwhile and every
// field is marked as a `reused` miss.
format::ProcessInfo readProcessInfo(pid_t pid, format::InfoReason reason, const std::string& procRoot = "/proc");

// Every process (thread-group leader) listed in `procRoot`, read as above.
format::Snapshot readProcessTable(const std::string& procRoot = "/proc");

}  // namespace proctape::record
