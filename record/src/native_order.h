// The byte order of this machine, in which the kernel writes netlink frames.
#pragma once

#include <bit>

#include "proctape/format/records.h"

namespace proctape::record {

inline constexpr format::ByteOrder kNativeOrder =
    std::endian::native == std::endian::big ? format::ByteOrder::big : format::ByteOrder::little;

}  // namespace proctape::record
