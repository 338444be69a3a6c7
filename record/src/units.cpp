#include "proctape/record/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace proctape::record {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "12.5ms" into 12.5 and "ms"; false if there is no number.
bool splitNumber(const std::string& text, double& number, std::string& unit) {
  const char* begin = text.c_str();
  char* end = nullptr;
  number = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(number) || number < 0) return false;
  unit = lower(std::string_view(end));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  return true;
}

}  // namespace

Result<uint64_t> parseSize(const std::string& text) {
  double number = 0;
  std::string unit;
  if (!splitNumber(text, number, unit)) return Error{"'" + text + "' is no size: use e.g. 65536, 64K, 100M or 1G"};
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1.0}, {"b", 1.0}, {"k", 0x1p10}, {"kb", 0x1p10}, {"kib", 0x1p10}, {"m", 0x1p20}, {"mb", 0x1p20},
      {"mib", 0x1p20}, {"g", 0x1p30}, {"gb", 0x1p30}, {"gib", 0x1p30}, {"t", 0x1p40}, {"tb", 0x1p40}, {"tib", 0x1p40}};
  for (auto [name, factor] : kUnits) {
    if (unit != name) continue;
    double bytes = number * factor;
    if (bytes > 0x1p62) return Error{"size '" + text + "' is too large"};
    return uint64_t(bytes);
  }
  return Error{"'" + text + "' has an unknown size unit: use K, M, G or T (powers of 1024)"};
}

Result<int64_t> parseDuration(const std::string& text) {
  double number = 0;
  std::string unit;
  if (!splitNumber(text, number, unit)) return Error{"'" + text + "' is no duration: use e.g. 500ms, 10s, 5m or 1h"};
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1e9}, {"s", 1e9}, {"sec", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"m", 60e9}, {"min", 60e9}, {"h", 3600e9},
      {"d", 86400e9}};
  for (auto [name, factor] : kUnits) {
    if (unit != name) continue;
    double ns = number * factor;
    if (ns > 0x1p62) return Error{"duration '" + text + "' is too long"};
    return int64_t(ns);
  }
  return Error{"'" + text + "' has an unknown time unit: use ms, s, m, h or d"};
}

std::string formatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) value /= 1024, ++unit;
  char text[32];
  if (unit == 0) std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

}  // namespace proctape::record
