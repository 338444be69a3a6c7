// Names of rotated segment files: UTC time to the nanosecond, then a sequence
// number, so that a plain name sort is time order, also across restarts.
//   20261122T101842.123456789Z-000003.pt
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace proctape::format {

std::string segmentFileName(int64_t realtimeNs, uint32_t segmentIndex);
bool isSegmentFileName(const std::string& name);
// The segment files in `dir`, oldest first. Throws std::filesystem_error.
std::vector<std::filesystem::path> listSegments(const std::filesystem::path& dir);

}  // namespace proctape::format
