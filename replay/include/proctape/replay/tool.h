// runTool(): everything proctape-replay does, behind its thin main: input
// (file, segment directory or standard input), --info, --verify, --follow,
// output, damage report and exit code.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "proctape/replay/filter.h"
#include "proctape/replay/render.h"

namespace proctape::replay {

// Exit codes of proctape-replay.
inline constexpr int kExitOk = 0;        // all read and written; --verify: the trace is intact
inline constexpr int kExitDamaged = 1;   // the trace is damaged (or --verify found frames that do not decode):
                                         // every readable event was written, the damage went to stderr
inline constexpr int kExitUsage = 2;     // a bad command line
inline constexpr int kExitNoInput = 3;   // the input could not be opened as a trace at all
inline constexpr int kExitOutput = 4;    // the output could not be written

// The exit codes, as --help and docs/replay.md list them.
const char* exitCodeHelp();

struct ToolOptions {
  std::string input;               // a trace file, a segment directory, or "-" for standard input
  std::string output;              // empty or "-": standard output
  Format format = Format::text;
  TimeMode time = TimeMode::relative;
  FilterOptions filter;
  bool typesGiven = false;         // false: filter.types becomes defaultTypes(format)
  bool info = false;               // print the trace's description instead of its events
  bool verify = false;             // check every chunk and frame; print a verdict
  bool follow = false;             // keep reading a trace that is being written
  double speed = 0;
  std::chrono::milliseconds poll{200};
  std::function<bool()> stop;      // --follow: returns true to end it (main: on SIGINT/SIGTERM)
};

struct ToolIo {
  int in = 0;   // standard input, for "-"
  int out = 1;  // standard output
  // One message for the user (no trailing newline); by default written to
  // stderr after "proctape-replay: ".
  std::function<void(const std::string&)> error;
};

// Runs proctape-replay with parsed options; returns its exit code.
int runTool(const ToolOptions& options, const ToolIo& io = {});

}  // namespace proctape::replay
