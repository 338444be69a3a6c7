// runTool(): everything proctape-analyze does behind its thin main: loading
// the traces, choosing the scope, reporting damage and data loss on stderr,
// writing the report, and the exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proctape/analyze/report.h"
#include "proctape/analyze/scope.h"

namespace proctape::analyze {

// Exit codes of proctape-analyze.
inline constexpr int kExitOk = 0;        // every trace read whole, the report written
inline constexpr int kExitDamaged = 1;   // a trace is damaged: everything readable was analyzed, the damage
                                         // and the processes it may affect went to stderr and the report
inline constexpr int kExitUsage = 2;     // a bad command line
inline constexpr int kExitNoInput = 3;   // a trace could not be opened at all
inline constexpr int kExitOutput = 4;    // the output could not be written
inline constexpr int kExitNoScope = 5;   // --root names a pid that none of the traces shows

// The exit codes, as --help and docs/analyze.md list them.
const char* exitCodeHelp();

enum class Command : uint8_t { tree, summary, processes, timeline, sqlite };
const char* toString(Command command);
const char* toString(OutputFormat format);
std::optional<OutputFormat> parseOutputFormat(std::string_view name);
// The formats a command writes; the first is its default.
std::vector<OutputFormat> formatsOf(Command command);

struct ToolOptions {
  Command command = Command::summary;
  std::vector<std::string> inputs;       // trace files or segment directories
  std::string output;                    // empty or "-": standard output
  std::optional<OutputFormat> format;    // empty: the command's default
  ScopeOptions scope;
  size_t top = 10;
  unsigned threads = 0;                  // chunk decoding threads per trace; 0: one per core
};

struct ToolIo {
  int out = 1;  // standard output
  // One message for the user (no trailing newline); by default written to
  // stderr after "proctape-analyze: ".
  std::function<void(const std::string&)> error;
  // The process ends right after runTool(): leave the models to the exit
  // instead of freeing them. Freeing millions of objects took 0.8 s of a
  // 10-million-event summary's 12; the operating system takes the memory back
  // at once. Only for main(): tests run the tool many times in one process.
  bool leaveModelsToExit = false;
};

// Runs proctape-analyze with parsed options; returns its exit code.
int runTool(const ToolOptions& options, const ToolIo& io = {});

}  // namespace proctape::analyze
