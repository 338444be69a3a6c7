#include "proctape/replay/tool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "proctape/format/unique_fd.h"
#include "proctape/replay/follow.h"
#include "proctape/replay/replay.h"
#include "report.h"

namespace proctape::replay {
namespace {

// Where the trace is read from. A file or directory is read in place. The
// reader maps its input and reads parts of it more than once, so standard
// input and pipes (`<(zstd -dc trace.pt.zst)`) are first copied to a
// temporary file, which is unlinked at once: nothing is left behind, even
// when the process is killed. Messages name the input as the user gave it.
class TraceInput {
 public:
  static Result<TraceInput> open(const std::string& given, int standardIn) {
    if (given == "-") return copyOf(standardIn, "standard input");
    struct stat st {};
    if (::stat(given.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) return TraceInput(given, given);
    format::UniqueFd pipe(::open(given.c_str(), O_RDONLY | O_CLOEXEC));
    if (!pipe) return Error{given + ": cannot open: " + std::strerror(errno)};
    return copyOf(pipe.get(), given);
  }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  // `message` with the temporary copy's path replaced by the input's name.
  std::string named(std::string message) const {
    if (path_ == name_) return message;
    for (size_t at = message.find(path_); at != std::string::npos; at = message.find(path_, at + name_.size()))
      message.replace(at, path_.size(), name_);
    return message;
  }

 private:
  TraceInput(std::string path, std::string name) : path_(std::move(path)), name_(std::move(name)) {}
  static Result<TraceInput> copyOf(int in, const std::string& name) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/proctape-replay-input-XXXXXX";
    format::UniqueFd fd(::mkstemp(pattern.data()));
    if (!fd) return Error{pattern + ": cannot create a temporary file for " + name + ": " + std::strerror(errno) +
                          " (set TMPDIR to a writable directory)"};
    ::unlink(pattern.c_str());
    if (auto status = copyAll(in, fd.get(), name, pattern); !status) return status.error();
    TraceInput input("/proc/self/fd/" + std::to_string(fd.get()), name);
    input.copy_ = std::move(fd);
    return input;
  }
  static Status copyAll(int in, int out, const std::string& name, const std::string& path) {
    std::vector<char> buffer(1 << 20);
    FdSink sink(out, path);
    for (;;) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{name + ": cannot read: " + std::strerror(errno)};
      if (n == 0) return okStatus();
      if (auto status = sink.write({buffer.data(), size_t(n)}); !status) return status;
    }
  }
  std::string path_;
  std::string name_;
  format::UniqueFd copy_;  // the unlinked copy, open for as long as the input is read
};

class Tool {
 public:
  Tool(const ToolOptions& options, const ToolIo& io) : options_(options), io_(io) {}
  int run();

 private:
  void say(const std::string& message) const {
    if (io_.error)
      io_.error(message);
    else
      std::fprintf(stderr, "proctape-replay: %s\n", message.c_str());
  }
  std::optional<int> checkUsage() const;
  std::optional<int> checkOutputPlace() const;
  bool filtersGiven() const;
  Result<OutputFile> openOutput() const;
  int runReport(format::TraceReader& reader, const TraceInput& input, OutputFile& out);
  int runReplay(format::TraceReader& reader, const TraceInput& input, OutputFile& out);
  int runFollow(const std::string& path);
  void warnOfTimesWithoutClock(const Result<ReplaySummary>& result) const;
  void warnOfUnknownSources(const format::TraceReader& reader) const;
  int finish(const Result<ReplaySummary>& result, const std::vector<format::Damage>& damage, const TraceInput& input,
             OutputFile& out);
  ReplayOptions replayOptions() const;

  const ToolOptions& options_;
  const ToolIo& io_;
};

bool Tool::filtersGiven() const {
  const FilterOptions& f = options_.filter;
  return f.pid || options_.typesGiven || f.since || f.until || !f.sources.empty() || options_.speed != 0;
}

std::optional<int> Tool::checkUsage() const {
  struct stat st {};
  if (options_.follow && (options_.input == "-" || (::stat(options_.input.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)))) {
    say("--follow needs a trace file or directory, not standard input or a pipe");
    return kExitUsage;
  }
  if (options_.info && options_.verify) {
    say("--info and --verify are two reports: give one of them");
    return kExitUsage;
  }
  bool report = options_.info || options_.verify;
  if (options_.follow && report) {
    say("--follow cannot go with --info or --verify");
    return kExitUsage;
  }
  if (report && options_.format != Format::text) {
    say(std::string(options_.info ? "--info" : "--verify") + " writes a text report; -f " +
        (options_.format == Format::json ? "json" : "pcap") + " does not apply to it");
    return kExitUsage;
  }
  if (report && filtersGiven()) {
    say(std::string(options_.info ? "--info" : "--verify") +
        " describes the whole trace: --pid, --type, --since, --until, --source and --speed do not apply to it");
    return kExitUsage;
  }
  if (options_.filter.descendants && !options_.filter.pid) {
    say("--descendants needs --pid");
    return kExitUsage;
  }
  if (options_.filter.pid && *options_.filter.pid <= 0) {
    say("--pid " + std::to_string(*options_.filter.pid) + ": a pid is a positive number");
    return kExitUsage;
  }
  if (!(options_.speed >= 0) || !std::isfinite(options_.speed)) {
    say("--speed must be a finite number: 0 (as fast as possible) or more");
    return kExitUsage;
  }
  return checkOutputPlace();
}

std::optional<int> Tool::checkOutputPlace() const {
  if (auto clash = outputClash(options_.output, options_.input)) {
    say(*clash);
    return kExitUsage;
  }
  return std::nullopt;
}

Result<OutputFile> Tool::openOutput() const {
  auto out = OutputFile::open(options_.output, io_.out);
  if (!out) return out.error();
  return out;
}

ReplayOptions Tool::replayOptions() const {
  ReplayOptions replay;
  replay.format = options_.format;
  replay.time = options_.time;
  replay.filter = options_.filter;
  if (!options_.typesGiven) replay.filter.types = defaultTypes(options_.format);
  replay.speed = options_.speed;
  return replay;
}

int Tool::runReport(format::TraceReader& reader, const TraceInput& input, OutputFile& out) {
  auto report = options_.info ? detail::describeTrace(input.name(), reader) : detail::verifyTrace(input.name(), reader);
  FdSink sink(out.fd(), out.name());
  if (auto status = sink.write(input.named(report.text)); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  if (auto status = out.close(); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  return report.damaged ? kExitDamaged : kExitOk;
}

int Tool::finish(const Result<ReplaySummary>& result, const std::vector<format::Damage>& damage,
                 const TraceInput& input, OutputFile& out) {
  if (!result) {
    say(result.error().message);
    return kExitOutput;
  }
  if (auto status = out.close(); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  if (damage.empty()) return kExitOk;
  for (const auto& d : damage) say(input.named("damage: " + format::describe(d)));
  say("the trace is damaged (" + std::to_string(damage.size()) +
      (damage.size() == 1 ? " problem" : " problems") +
      " above); every readable event was written. `proctape-replay --info` describes the trace.");
  return kExitDamaged;
}

int Tool::runReplay(format::TraceReader& reader, const TraceInput& input, OutputFile& out) {
  FdSink sink(out.fd(), out.name());
  ReaderSource source(reader);
  auto result = replay(source, replayOptions(), sink);
  warnOfTimesWithoutClock(result);
  warnOfUnknownSources(reader);
  return finish(result, reader.damage(), input, out);
}

// Wall-clock times come from the trace's clock anchors (its meta record or
// clocks records). Events before the first one (all of them when the meta
// record is lost and no clocks record follows) have none: a wall-clock bound
// cannot place them, and pcap, which must give every packet a time, gives
// them their capture time since boot. Say so rather than print nothing, or
// 1970, without a word.
void Tool::warnOfTimesWithoutClock(const Result<ReplaySummary>& result) const {
  if (!result || result->stats.eventsWithoutAnchor == 0) return;
  const FilterOptions& f = options_.filter;
  bool wallBound = (f.since && f.since->wall) || (f.until && f.until->wall);
  bool pcap = options_.format == Format::pcap;
  if (!wallBound && !pcap) return;
  const StreamStats& stats = result->stats;
  std::string which = stats.metaRecords == 0 && stats.clockRecords == 0
                          ? "the trace has no clock anchor (no meta or clocks record), so it has no wall-clock times"
                          : std::to_string(stats.eventsWithoutAnchor) +
                                " events came before the trace's first clock anchor (its meta record is damaged), so "
                                "they have no wall-clock time";
  if (wallBound)
    say(which + ": the wall-clock --since/--until matched none of them; give seconds from the trace's start instead");
  if (pcap) say(which + ": their pcap timestamps are capture times since boot, counted from 1970");
}

// --source with an id the trace does not declare selects nothing: say so.
void Tool::warnOfUnknownSources(const format::TraceReader& reader) const {
  if (!reader.meta()) return;
  const auto& declared = reader.meta()->sources;
  std::string ids;
  for (const auto& source : declared) ids += (ids.empty() ? "" : ", ") + std::to_string(source.id);
  for (uint16_t id : options_.filter.sources) {
    bool known = std::any_of(declared.begin(), declared.end(), [id](const auto& s) { return s.id == id; });
    if (!known)
      say("--source " + std::to_string(id) + ": the trace declares no such source (it has " +
          (ids.empty() ? std::string("none") : ids) + "; see --info)");
  }
}

int Tool::runFollow(const std::string& path) {
  FollowOptions follow;
  follow.poll = options_.poll;
  follow.stop = options_.stop;
  follow.onDamage = [this](const format::Damage& d) { say("damage: " + format::describe(d)); };
  bool endedEarly = false;  // what the recording wrote after that is not read
  follow.onEnd = [&](const std::string& why) {
    say(why);
    endedEarly = true;
  };
  auto source = FollowSource::open(path, follow);
  if (!source) {
    say(source.error().message);
    return kExitNoInput;
  }
  auto out = openOutput();
  if (!out) {
    say(out.error().message);
    return kExitOutput;
  }
  FdSink sink(out->fd(), out->name());
  auto result = replay(**source, replayOptions(), sink);
  if (!result) {
    say(result.error().message);
    return kExitOutput;
  }
  if (auto status = out->close(); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  return (*source)->damage().empty() && !endedEarly ? kExitOk : kExitDamaged;  // already reported as found
}

int Tool::run() {
  if (auto usage = checkUsage()) return *usage;
  bool toStandardOutput = options_.output.empty() || options_.output == "-";
  if (options_.format == Format::pcap && !options_.info && !options_.verify && toStandardOutput &&
      ::isatty(io_.out)) {
    say("pcap output is binary: give -o FILE (or redirect standard output)");
    return kExitUsage;
  }
  if (options_.follow) return runFollow(options_.input);
  auto input = TraceInput::open(options_.input, io_.in);
  if (!input) {
    say(input.error().message);
    return kExitNoInput;
  }
  auto reader = format::TraceReader::open(input->path());
  if (!reader) {
    say(input->named(reader.error().message));
    return kExitNoInput;
  }
  // Only now: an input that cannot be read leaves an existing -o file as it was.
  auto out = openOutput();
  if (!out) {
    say(out.error().message);
    return kExitOutput;
  }
  if (options_.info || options_.verify) return runReport(*reader, *input, *out);
  return runReplay(*reader, *input, *out);
}

}  // namespace

const char* exitCodeHelp() {
  return "Exit codes:\n"
         "  0  success: every record was read and written (--verify: the trace is intact)\n"
         "  1  the trace is damaged: every readable event was written and the damage reported on stderr\n"
         "     (--info, --verify: the damage, or frames that do not decode, are in the report;\n"
         "     --follow: also segments deleted before they were read, and a followed file deleted or replaced)\n"
         "  2  a bad command line\n"
         "  3  the input cannot be opened as a trace (missing, unreadable, empty, not a trace, newer format)\n"
         "  4  the output cannot be written\n";
}

int runTool(const ToolOptions& options, const ToolIo& io) { return Tool(options, io).run(); }

}  // namespace proctape::replay
