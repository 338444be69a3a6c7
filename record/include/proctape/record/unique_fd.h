// The recorder uses the format library's file-descriptor owner.
#pragma once

#include "proctape/format/unique_fd.h"

namespace proctape::record {

using format::UniqueFd;

}  // namespace proctape::record
