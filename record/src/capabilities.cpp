#include "capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace proctape::record {

namespace {

bool has(const __user_cap_data_struct (&sets)[2], int capability) {
  return sets[capability / 32].permitted & (1u << (capability % 32));
}

}  // namespace

std::string dropCapabilitiesExcept(const std::vector<KeptCapability>& keep, std::vector<std::string>& kept) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct current[2]{};
  if (::syscall(SYS_capget, &header, current) != 0) return std::string("capget: ") + std::strerror(errno);
  __user_cap_data_struct reduced[2]{};
  for (const auto& capability : keep) {
    if (!has(current, capability.capability)) continue;
    uint32_t bit = 1u << (capability.capability % 32);
    reduced[capability.capability / 32].permitted |= bit;
    reduced[capability.capability / 32].effective |= bit;
    kept.push_back(capability.name);
  }
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capset, &header, reduced) != 0) return std::string("capset: ") + std::strerror(errno);
  return {};
}

}  // namespace proctape::record
