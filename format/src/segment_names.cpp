#include "segment_names.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace proctape::format {

std::string segmentFileName(int64_t realtimeNs, uint32_t segmentIndex) {
  time_t seconds = time_t(realtimeNs / 1'000'000'000);
  long nanos = long(realtimeNs % 1'000'000'000);
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  tm utc{};
  gmtime_r(&seconds, &utc);
  char name[64];
  std::snprintf(name, sizeof name, "%04d%02d%02dT%02d%02d%02d.%09ldZ-%06u.pt", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, nanos, segmentIndex);
  return name;
}

bool isSegmentFileName(const std::string& name) {
  // 8 digits T 6 digits . 9 digits Z - 6+ digits .pt
  static constexpr const char* kPattern = "ddddddddTdddddd.dddddddddZ-dddddd";
  size_t n = std::char_traits<char>::length(kPattern);
  if (name.size() < n + 3 || name.substr(name.size() - 3) != ".pt") return false;
  for (size_t i = 0; i < n; ++i) {
    bool ok = kPattern[i] == 'd' ? std::isdigit(uint8_t(name[i])) != 0 : name[i] == kPattern[i];
    if (!ok) return false;
  }
  return std::all_of(name.begin() + long(n), name.end() - 3, [](char c) { return std::isdigit(uint8_t(c)); });
}

std::vector<std::filesystem::path> listSegments(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && isSegmentFileName(entry.path().filename().string()))
      segments.push_back(entry.path());
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

}  // namespace proctape::format
