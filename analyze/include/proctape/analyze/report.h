// The reports of proctape-analyze, one function per subcommand, each over
// every trace given (each keeps its host and its index among the arguments).
// Schemas and definitions: docs/analyze.md.
//
// Adding a report means one more function of this shape and one more
// subcommand in main.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "proctape/analyze/load.h"
#include "proctape/analyze/scope.h"
#include "proctape/analyze/summary.h"
#include "proctape/format/result.h"
#include "proctape/replay/output.h"

namespace proctape::analyze {

enum class OutputFormat : uint8_t { text, json, markdown, csv };

// One analyzed trace with its scope.
struct TraceView {
  const AnalyzedTrace* trace = nullptr;
  size_t index = 0;  // position among the TRACE arguments
  ProcessTree tree;
  Scope scope;
};

struct ReportOptions {
  OutputFormat format = OutputFormat::text;
  size_t top = 10;  // summary: rows of each top list
};

// An indented tree per trace: command line, pid, duration, status and
// markers ("!" failed, "?" incomplete). Text only.
Status writeTree(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink);

// The build summary per trace (and, for several traces, a total): text,
// json (one object) or markdown.
Status writeSummary(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink);

// One row per process incarnation in scope: csv (with a header line) or json
// (JSON Lines, each row also holding its exec chain).
Status writeProcesses(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink);

// A Chrome Trace Event JSON file (Perfetto, chrome://tracing): per process
// incarnation in scope, one track (in tree order) with one complete ("X")
// event, times in microseconds from the trace's start. json only.
Status writeTimeline(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink);

// An SQLite database at `path` (tables processes, execs, events, gaps, with
// indexes), written to `path`.partial in one transaction and renamed over
// `path` when complete. Fails, leaving no partial file, when the file cannot
// be created or written; the message names the path.
Status writeSqlite(const std::vector<TraceView>& views, const std::string& path);

}  // namespace proctape::analyze
