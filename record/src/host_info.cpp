#include "proctape/record/host_info.h"

#include <sys/utsname.h>

#include <fstream>

namespace proctape::record {

format::Meta readHostMeta() {
  format::Meta meta;
  utsname names{};
  if (uname(&names) == 0) {
    meta.hostname = names.nodename;
    meta.kernelRelease = names.release;
    meta.kernelVersion = names.version;
    meta.machine = names.machine;
  }
  std::ifstream bootId("/proc/sys/kernel/random/boot_id");
  std::getline(bootId, meta.bootId);
  return meta;
}

}  // namespace proctape::record
