// Reading a trace into a Model: records are decoded by replay's EventStream
// (each frame with its source's netlink family, in the trace's byte order) and
// fed to a ProcessTracker in capture order; the reader's damage report becomes
// loss notices placed in time by the chunks around each damaged offset.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proctape/analyze/model.h"
#include "proctape/analyze/process_tracker.h"
#include "proctape/format/reader.h"
#include "proctape/format/result.h"

namespace proctape::analyze {

struct LoadOptions {
  unsigned threads = 0;  // chunk decoding threads; 0: one per core
  TrackerOptions tracker;
};

struct AnalyzedTrace {
  std::string path;
  std::optional<format::Meta> meta;    // the first segment's, when readable
  std::vector<format::Damage> damage;  // everything the reader reported
  std::vector<Recording> recordings;   // in reading order
  Model model;

  std::string host() const { return meta ? meta->hostname : std::string(); }
  int32_t commandPid() const { return meta ? meta->commandPid : 0; }  // the first recording's
};

// Reads the trace file or segment directory at `path` to its end. Fails only
// when the reader cannot open it at all; damage inside is reported, and the
// rest is analyzed.
Result<AnalyzedTrace> loadTrace(const std::string& path, const LoadOptions& options = {});

// Where a damaged part lies in capture time: between the last chunk before
// its offset and the first chunk after it (open-ended at either end of the
// trace). Structural damage that loses no records (an unclosed file, a bad
// index) gives none.
std::optional<LossNotice> locateDamage(const format::Damage& damage, const std::vector<format::SegmentInfo>& segments,
                                       const std::vector<format::ChunkInfo>& chunks);

}  // namespace proctape::analyze
