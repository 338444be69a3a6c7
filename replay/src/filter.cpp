#include "proctape/replay/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <unordered_map>

#include "time_math.h"

namespace proctape::replay {
namespace {

bool parseNumber(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::optional<int64_t> parseSeconds(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return std::nullopt;
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(seconds) || seconds < 0 || seconds > 9e9) return std::nullopt;
  return int64_t(std::llround(seconds * 1e9));
}

// "+hh:mm", "-hh:mm", "+hhmm" or "Z": the offset east of UTC in seconds.
std::optional<int64_t> parseZone(std::string_view zone) {
  if (zone == "Z" || zone == "z") return 0;
  if (zone.size() != 6 && zone.size() != 5) return std::nullopt;
  if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
  int hours = 0, minutes = 0;
  std::string_view mm = zone.size() == 6 ? zone.substr(4) : zone.substr(3);
  if (zone.size() == 6 && zone[3] != ':') return std::nullopt;
  if (!parseNumber(zone.substr(1, 2), hours) || !parseNumber(mm, minutes) || hours > 23 || minutes > 59)
    return std::nullopt;
  int64_t offset = hours * 3600 + minutes * 60;
  return zone[0] == '-' ? -offset : offset;
}

bool looksLikeWallTime(std::string_view text) {
  return text.size() >= 19 && text[4] == '-' && text[7] == '-' && (text[10] == 'T' || text[10] == ' ') &&
         text[13] == ':' && text[16] == ':';
}

int daysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Wall-clock times are nanoseconds since 1970 in an int64: years 1678 to 2261
// are safely inside that range.
constexpr int kFirstYear = 1678, kLastYear = 2261;

// YYYY-MM-DDTHH:MM:SS, then an optional fraction and zone.
Result<int64_t> parseWall(std::string_view text) {
  std::string invalid = "'" + std::string(text) + "' is no valid date and time";
  std::tm tm{};
  if (!parseNumber(text.substr(0, 4), tm.tm_year) || !parseNumber(text.substr(5, 2), tm.tm_mon) ||
      !parseNumber(text.substr(8, 2), tm.tm_mday) || !parseNumber(text.substr(11, 2), tm.tm_hour) ||
      !parseNumber(text.substr(14, 2), tm.tm_min) || !parseNumber(text.substr(17, 2), tm.tm_sec))
    return Error{invalid};
  if (tm.tm_year < kFirstYear || tm.tm_year > kLastYear)
    return Error{"'" + std::string(text) + "': wall-clock times run from " + std::to_string(kFirstYear) + " to " +
                 std::to_string(kLastYear) + " (nanoseconds since 1970 in 64 bits)"};
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > daysInMonth(tm.tm_year, tm.tm_mon) ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return Error{invalid};
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::string_view rest = text.substr(19);
  int64_t fractionNs = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    if (digits == 1 || digits > 10) return Error{invalid};
    int64_t scale = 100'000'000;
    for (size_t i = 1; i < digits; ++i, scale /= 10) fractionNs += (rest[i] - '0') * scale;
    rest = rest.substr(digits);
  }
  int64_t seconds = 0;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    seconds = std::mktime(&tm);  // local time
  } else {
    auto zone = parseZone(rest);
    if (!zone) return Error{invalid + " (the zone is Z, +hh:mm or -hh:mm)"};
    seconds = ::timegm(&tm) - *zone;
  }
  return seconds * 1'000'000'000 + fractionNs;
}

}  // namespace

Result<TimeBound> parseTimeBound(const std::string& text) {
  if (auto ns = parseSeconds(text)) return TimeBound{false, *ns};
  if (looksLikeWallTime(text)) {
    auto ns = parseWall(text);
    if (!ns) return ns.error();
    return TimeBound{true, *ns};
  }
  return Error{"'" + text +
               "' is no time: give seconds from the trace's start (e.g. 12.5) or a wall-clock time "
               "(e.g. 2026-11-22T10:00:00, 2026-11-22T10:00:00.5Z, 2026-11-22T10:00:00+01:00; local time without a zone)"};
}

Filter::Filter(FilterOptions options) : options_(std::move(options)) {
  if (options_.pid) tracked_.insert(*options_.pid);
}

bool Filter::accept(const Event& event, const EventStream& stream) {
  // The pid filter goes first and always runs: it follows fork relations.
  bool pass = acceptPid(event);
  return pass && options_.types.contains(event.type) && acceptTime(event, stream) && acceptSource(event, stream);
}

void Filter::trackSnapshot(const format::Snapshot& snapshot) {
  std::unordered_multimap<int32_t, int32_t> children;
  for (const auto& p : snapshot.processes) children.emplace(p.ppid, p.tgid ? p.tgid : p.pid);
  std::vector<int32_t> todo(tracked_.begin(), tracked_.end());
  while (!todo.empty()) {
    int32_t parent = todo.back();
    todo.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it)
      if (tracked_.insert(it->second).second) todo.push_back(it->second);
  }
}

bool Filter::acceptPid(const Event& event) {
  if (!options_.pid) return true;
  switch (event.type) {
    case EventType::gap:
    case EventType::decodeError: return true;  // a loss or an unreadable frame may concern any process
    case EventType::snapshot: {
      const auto& snapshot = *std::get<SnapshotPtr>(event.body);
      if (options_.descendants) trackSnapshot(snapshot);
      for (const auto& p : snapshot.processes)
        if (tracked(p.pid) || tracked(p.tgid)) return true;
      return false;
    }
    case EventType::processInfo: {
      const auto& info = *std::get<ProcessInfoPtr>(event.body);
      if (options_.descendants && tracked(info.ppid) && info.tgid != 0) tracked_.insert(info.tgid);
      return tracked(info.pid) || tracked(info.tgid);
    }
    default: break;
  }
  const auto* proc = event.proc();
  if (!proc || event.type == EventType::ack || event.type == EventType::unknown) return false;
  if (event.type == EventType::fork) {
    bool parent = tracked(proc->parentPid) || tracked(proc->parentTgid);
    bool child = tracked(proc->childPid) || tracked(proc->childTgid);
    // A new thread's fork names its process's parent as the parent (the
    // kernel's real_parent), so a thread fork also shows its thread group
    // to be a child: the group's own fork may lie before the trace.
    if (options_.descendants && parent) tracked_.insert(proc->childTgid);
    return parent || child;
  }
  bool mine = tracked(proc->processPid) || tracked(proc->processTgid);
  // A descendant that exits is forgotten, so a later process reusing its pid is not taken for it.
  if (mine && event.type == EventType::exit && options_.descendants && proc->processPid == proc->processTgid &&
      proc->processTgid != *options_.pid)
    tracked_.erase(proc->processTgid);
  return mine;
}

bool Filter::acceptTime(const Event& event, const EventStream& stream) const {
  auto value = [&](const TimeBound& bound) -> std::optional<int64_t> {
    if (bound.wall) return event.wallWhenNs();
    return detail::subClamped(event.whenNs(), stream.startNs().value_or(event.timeNs));
  };
  if (options_.since) {
    auto v = value(*options_.since);
    if (!v || *v < options_.since->ns) return false;
  }
  if (options_.until) {
    auto v = value(*options_.until);
    if (!v || *v >= options_.until->ns) return false;
  }
  return true;
}

bool Filter::acceptSource(const Event& event, const EventStream& stream) const {
  const auto& sources = options_.sources;
  if (sources.empty()) return true;
  auto selected = [&](uint16_t id) { return std::find(sources.begin(), sources.end(), id) != sources.end(); };
  if (event.frameNumber != 0 || event.type == EventType::gap) return selected(event.sourceId);
  // Process info and snapshots belong with the proc connector's events.
  for (uint16_t id : sources)
    if (stream.familyOf(id) == netlink::kFamilyConnector) return true;
  return false;
}

}  // namespace proctape::replay
