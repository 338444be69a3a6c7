// Filter: which events replay prints. The filters combine (all must pass).
//
// Filtering decides output only: the stream still sees every record, so
// names, fork relations and clock anchors stay right whatever is filtered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/replay/event.h"
#include "proctape/replay/event_stream.h"

namespace proctape::replay {

// A bound of --since / --until: seconds from the trace's start, or a
// wall-clock time (compared with the event's wall time from the clock anchors).
struct TimeBound {
  bool wall = false;
  int64_t ns = 0;  // relative: ns after the trace's first record; wall: ns since the Unix epoch
};

// Parses "12.5" (seconds from the start), or a wall-clock time
// "2026-11-22T10:00:00[.fraction][Z|+hh:mm|-hh:mm]" (also with a space for
// the T); without a zone it is local time. The error says what was expected.
Result<TimeBound> parseTimeBound(const std::string& text);

struct FilterOptions {
  std::optional<int32_t> pid;     // events about this pid or tgid (fork: parent or child)
  bool descendants = false;       // ... and about its descendants, by the fork relations in the trace
  EventTypeSet types = EventTypeSet::all();
  std::optional<TimeBound> since;  // events at or after
  std::optional<TimeBound> until;  // events before
  std::vector<uint16_t> sources;   // empty: every source
};

class Filter {
 public:
  explicit Filter(FilterOptions options);

  // Whether `event` is to be shown. Call it with every event of the stream,
  // in order: it follows fork relations for --descendants.
  bool accept(const Event& event, const EventStream& stream);

  const FilterOptions& options() const { return options_; }

 private:
  bool acceptPid(const Event& event);
  bool acceptTime(const Event& event, const EventStream& stream) const;
  bool acceptSource(const Event& event, const EventStream& stream) const;
  bool tracked(int32_t id) const { return id != 0 && tracked_.count(id) != 0; }
  void trackSnapshot(const format::Snapshot& snapshot);

  FilterOptions options_;
  std::unordered_set<int32_t> tracked_;  // tgids of the process and its live descendants
};

}  // namespace proctape::replay
