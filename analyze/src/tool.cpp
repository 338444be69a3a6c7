#include "proctape/analyze/tool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proctape/analyze/load.h"
#include "text.h"

namespace proctape::analyze {
namespace {

constexpr const char* kFormatNames[] = {"text", "json", "markdown", "csv"};

class Tool {
 public:
  Tool(const ToolOptions& options, const ToolIo& io) : options_(options), io_(io) {}
  int run();
  // Moves the models into a heap object that is never freed. A static
  // pointer keeps it reachable, so LeakSanitizer does not call it a leak;
  // volatile, so the compiler keeps the store (and the object).
  void leaveModelsToExit() {
    [[maybe_unused]] static std::vector<AnalyzedTrace>* volatile kept = nullptr;
    kept = new std::vector<AnalyzedTrace>(std::move(traces_));
  }

 private:
  void say(const std::string& message) const {
    if (io_.error)
      io_.error(message);
    else
      std::fprintf(stderr, "proctape-analyze: %s\n", message.c_str());
  }
  int load();
  int scope();
  void reportQuality(const AnalyzedTrace& trace, const Scope& scope) const;
  int write();
  int writeDatabase();

  const ToolOptions& options_;
  const ToolIo& io_;
  std::vector<AnalyzedTrace> traces_;
  std::vector<TraceView> views_;
};

int Tool::load() {
  LoadOptions load;
  load.threads = options_.threads;
  for (const auto& input : options_.inputs) {
    auto trace = loadTrace(input, load);
    if (!trace) {
      say(trace.error().message);
      return kExitNoInput;
    }
    traces_.push_back(std::move(*trace));
  }
  return kExitOk;
}

int Tool::scope() {
  for (size_t i = 0; i < traces_.size(); ++i) {
    ProcessTree tree(traces_[i].model);
    auto scope = selectScope(traces_[i].model, tree, options_.scope, traces_[i].recordings);
    if (!scope) {
      say(traces_[i].path + ": " + scope.error().message);
      continue;
    }
    views_.push_back({&traces_[i], i, std::move(tree), std::move(*scope)});
  }
  return views_.empty() ? kExitNoScope : kExitOk;
}

// Damage, and losses that may have touched the processes in scope, in a few lines.
void Tool::reportQuality(const AnalyzedTrace& trace, const Scope& scope) const {
  for (const auto& damage : trace.damage) say(format::describe(damage));
  const Counters& c = trace.model.counters;
  size_t incomplete = 0;
  for (const auto& process : trace.model.processes)
    incomplete += scope.contains(process.id) && process.has(kPossiblyIncomplete) ? 1 : 0;
  if (c.get(Counter::gaps) == 0 && trace.damage.empty() && incomplete == 0) return;
  std::string text = trace.path + ": ";
  if (c.get(Counter::gaps))
    text += "gap records: " + std::to_string(c.get(Counter::gaps)) + " (" + counted(c.get(Counter::eventsLost), "event", "events") +
            " lost" + (c.get(Counter::gapsCountUnknown) ? ", and more uncounted" : "") + "); ";
  if (!trace.damage.empty()) text += "damaged parts: " + std::to_string(trace.damage.size()) + "; ";
  text += counted(incomplete, "process", "processes") + " in scope may be incomplete (flag possibly_incomplete; "
          "`summary` lists them)";
  say(text);
}

int Tool::writeDatabase() {
  if (options_.output.empty() || options_.output == "-") {
    say("sqlite: needs -o FILE (a database cannot go to standard output)");
    return kExitUsage;
  }
  if (auto status = writeSqlite(views_, options_.output); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  return kExitOk;
}

int Tool::write() {
  if (options_.command == Command::sqlite) return writeDatabase();
  ReportOptions report;
  report.format = options_.format.value_or(formatsOf(options_.command).front());
  report.top = options_.top;
  auto output = replay::OutputFile::open(options_.output, io_.out);
  if (!output) {
    say(output.error().message);
    return kExitOutput;
  }
  Status status = okStatus();
  replay::FdSink sink(output->fd(), output->name());
  switch (options_.command) {
    case Command::tree: status = writeTree(views_, report, sink); break;
    case Command::summary: status = writeSummary(views_, report, sink); break;
    case Command::processes: status = writeProcesses(views_, report, sink); break;
    case Command::timeline: status = writeTimeline(views_, report, sink); break;
    case Command::sqlite: break;  // writeDatabase()
  }
  if (status) status = output->close();
  if (!status) {
    say(status.error().message);
    return kExitOutput;
  }
  return kExitOk;
}

int Tool::run() {
  for (const auto& input : options_.inputs) {
    if (auto clash = replay::outputClash(options_.output, input)) {
      say(*clash);
      return kExitUsage;
    }
  }
  auto formats = formatsOf(options_.command);
  if (options_.format && std::find(formats.begin(), formats.end(), *options_.format) == formats.end()) {
    say(std::string(toString(options_.command)) + ": --format " + toString(*options_.format) +
        " is not one of its formats");
    return kExitUsage;
  }
  if (int code = load(); code != kExitOk) return code;
  if (int code = scope(); code != kExitOk) return code;
  for (const auto& view : views_) reportQuality(*view.trace, view.scope);
  if (int code = write(); code != kExitOk) return code;
  bool damaged = std::any_of(traces_.begin(), traces_.end(), [](const AnalyzedTrace& t) { return !t.damage.empty(); });
  return damaged ? kExitDamaged : kExitOk;
}

}  // namespace

const char* toString(Command command) {
  switch (command) {
    case Command::tree: return "tree";
    case Command::summary: return "summary";
    case Command::processes: return "processes";
    case Command::timeline: return "timeline";
    case Command::sqlite: return "sqlite";
  }
  return "?";
}

const char* toString(OutputFormat format) { return kFormatNames[size_t(format) % 4]; }

std::optional<OutputFormat> parseOutputFormat(std::string_view name) {
  for (size_t i = 0; i < 4; ++i)
    if (name == kFormatNames[i]) return OutputFormat(i);
  return std::nullopt;
}

std::vector<OutputFormat> formatsOf(Command command) {
  switch (command) {
    case Command::tree: return {OutputFormat::text};
    case Command::summary: return {OutputFormat::text, OutputFormat::json, OutputFormat::markdown};
    case Command::processes: return {OutputFormat::csv, OutputFormat::json};
    case Command::timeline: return {OutputFormat::json};
    case Command::sqlite: return {OutputFormat::text};  // not a stream: a database file
  }
  return {OutputFormat::text};
}

const char* exitCodeHelp() {
  return "Exit codes:\n"
         "  0  success: every trace was read whole and the report written\n"
         "  1  a trace is damaged (or not closed by its recorder, or its index is bad): everything readable\n"
         "     was analyzed; the damage and the processes it may affect are on stderr and in the report\n"
         "  2  a bad command line\n"
         "  3  a trace cannot be opened (missing, unreadable, empty, not a trace, newer format)\n"
         "  4  the output cannot be written\n"
         "  5  --root names a pid that none of the traces shows\n";
}

int runTool(const ToolOptions& options, const ToolIo& io) {
  Tool tool(options, io);
  int code = tool.run();
  if (io.leaveModelsToExit) tool.leaveModelsToExit();
  return code;
}

}  // namespace proctape::analyze
