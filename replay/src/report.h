// The --info and --verify reports.
#pragma once

#include <cstdint>
#include <string>

#include "proctape/format/reader.h"

namespace proctape::replay::detail {

struct Report {
  std::string text;     // what to print on standard output
  bool damaged = false;  // damage found (info, verify) or frames that do not decode (verify)
};

// Reads the whole trace and describes it: header, sources, segments, chunks,
// time span, events by type, gaps, decode errors and damage.
Report describeTrace(const std::string& name, format::TraceReader& reader);

// Reads every chunk and decodes every frame: "intact" or the damage report.
Report verifyTrace(const std::string& name, format::TraceReader& reader);

}  // namespace proctape::replay::detail
