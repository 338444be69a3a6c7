#include "proctape/replay/event.h"

#include <algorithm>
#include <array>
#include <limits>

namespace proctape::replay {
namespace {

constexpr std::array<const char*, kEventTypeCount> kNames = {
    "fork",          "exec",          "exit",         "uid",     "gid",          "sid",      "ptrace",
    "comm",          "coredump",      "ack",          "unknown", "link",         "addr",     "netlink_error",
    "netlink_control", "netlink_other", "decode_error", "gap",     "process_info", "snapshot",
};

}  // namespace

const char* toString(EventType type) {
  size_t index = size_t(type);
  return index < kNames.size() ? kNames[index] : "?";
}

std::optional<EventType> parseEventType(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return EventType(i);
  if (name == "info") return EventType::processInfo;
  if (name == "error") return EventType::decodeError;
  return std::nullopt;
}

std::string displayName(const format::ProcessInfo& info) {
  using format::InfoField;
  if (info.has(InfoField::exe) && !info.exe.empty()) return info.exe;
  if (info.has(InfoField::argv) && !info.argv.empty() && !info.argv.front().empty()) return info.argv.front();
  if (info.has(InfoField::comm) && !info.comm.empty()) return info.comm;
  return {};
}

int64_t Event::whenNs() const {
  const netlink::ProcEvent* event = proc();
  if (!event || event->timestampNs == 0) return timeNs;
  constexpr uint64_t kMax = uint64_t(std::numeric_limits<int64_t>::max());
  return int64_t(std::min(event->timestampNs, kMax));
}

std::optional<int64_t> Event::wallWhenNs() const {
  // Both steps checked: a clamped difference would give a wrong time that fits.
  int64_t sinceCapture = 0, wall = 0;
  if (!wallNs || __builtin_sub_overflow(whenNs(), timeNs, &sinceCapture) ||
      __builtin_add_overflow(*wallNs, sinceCapture, &wall))
    return std::nullopt;
  return wall;
}

}  // namespace proctape::replay
