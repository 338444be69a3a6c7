// What the recording machine says about itself, for the trace's meta record.
#pragma once

#include "proctape/format/records.h"

namespace proctape::record {

// Hostname, kernel release/version, machine and boot id of this machine.
// Fields that cannot be read stay empty.
format::Meta readHostMeta();

}  // namespace proctape::record
