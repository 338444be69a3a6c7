#include "proctape/analyze/model.h"

#include <algorithm>
#include <array>

namespace proctape::analyze {

const char* toString(ProcessFlag flag) {
  static constexpr std::array<const char*, kProcessFlagCount> kNames = {
      "start_before_trace", "start_unknown", "open",       "end_unknown",         "possibly_incomplete",
      "session_leader",     "traced",        "credentials_changed", "coredump", "threads_outlived_leader",
      "duplicate_exit",
  };
  for (int i = 0; i < kProcessFlagCount; ++i)
    if (uint32_t(flag) == (1u << i)) return kNames[size_t(i)];
  return "?";
}

std::optional<int64_t> Process::durationNs() const {
  if (!startNs || !endNs || *endNs < *startNs) return std::nullopt;
  return *endNs - *startNs;
}

const Image* Process::lastImage() const {
  if (!execs.empty()) return execs.back().image.get();
  return inherited.get();
}

std::optional<int64_t> Model::wallNs(int64_t monotonicNs) const {
  if (anchors.empty()) return std::nullopt;
  auto after = std::upper_bound(anchors.begin(), anchors.end(), monotonicNs,
                                [](int64_t t, const format::ClockAnchor& a) { return t < a.monotonicNs; });
  const format::ClockAnchor& anchor = after == anchors.begin() ? anchors.front() : *(after - 1);
  if (anchor.realtimeNs == 0) return std::nullopt;
  return anchor.realtimeNs + (monotonicNs - anchor.monotonicNs);
}

}  // namespace proctape::analyze
