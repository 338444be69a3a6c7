// Dropping the capabilities the recorder no longer needs once its sockets
// are set up. Capabilities are per thread: call it before starting threads.
#pragma once

#include <string>
#include <vector>

namespace proctape::record {

struct KeptCapability {
  int capability;      // CAP_*
  const char* name;    // "cap_sys_ptrace"
  const char* why;     // one line, for --verbose and the docs
};

// Reduces the permitted and effective sets to those of `keep` the process
// already has, and clears the inheritable and ambient sets. Returns the
// names kept, or an error message (the recorder goes on: it only had more
// privilege than it needed).
std::string dropCapabilitiesExcept(const std::vector<KeptCapability>& keep, std::vector<std::string>& kept);

}  // namespace proctape::record
