// replay(): records in, rendered events out; the library behind proctape-replay.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/result.h"
#include "proctape/replay/event_stream.h"
#include "proctape/replay/filter.h"
#include "proctape/replay/output.h"
#include "proctape/replay/render.h"

namespace proctape::replay {

struct ReplayOptions {
  Format format = Format::text;
  TimeMode time = TimeMode::relative;
  FilterOptions filter;          // filter.types: see defaultTypes()
  StreamOptions stream;          // keepFrames is set for pcap whatever it says
  double speed = 0;              // > 0: paced by capture time, `speed` times the original pace; 0: at once
  size_t flushBytes = 64 * 1024;  // hand output to the sink once this much is buffered (and when idle)
};

// The types shown when --type is not given: all of them, except that text
// leaves out process_info and snapshot (what they say shows in the names).
EventTypeSet defaultTypes(Format format);

// Options as proctape-replay's defaults have them for `format`: no filter but
// the default types. What a golden test renders a sample with.
ReplayOptions defaultOptions(Format format, TimeMode time = TimeMode::relative);

struct ReplaySummary {
  uint64_t events = 0;  // decoded
  uint64_t shown = 0;   // passed the filter
  StreamStats stats;
};

// Replays `source` into `sink`: decodes each record, filters, renders and (with
// speed > 0) paces. Fails only when the sink fails, with its message; a
// trace's damage is no failure here (the caller has the reader's report).
Result<ReplaySummary> replay(RecordSource& source, const ReplayOptions& options, Sink& sink);

struct RenderedTrace {
  std::string output;
  std::vector<format::Damage> damage;
  ReplaySummary summary;
};

// Renders a whole trace (file or segment directory) into a string, with the
// damage found: what golden tests compare. Fails only when the trace cannot
// be opened at all. Single-threaded, so the same input gives the same bytes.
Result<RenderedTrace> renderTrace(const std::string& path, const ReplayOptions& options);

}  // namespace proctape::replay
