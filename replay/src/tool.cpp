#include "proctape/replay/tool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "proctape/replay/follow.h"
#include "proctape/replay/replay.h"
#include "report.h"

namespace proctape::replay {
namespace {

// A temporary copy of standard input, removed with the object.
class StdinCopy {
 public:
  static Result<StdinCopy> make(int in) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/proctape-replay-stdin-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) return Error{pattern + ": cannot create a temporary file for standard input: " + std::strerror(errno) +
                             " (set TMPDIR to a writable directory)"};
    StdinCopy copy(pattern);
    auto status = copyAll(in, fd, pattern);
    ::close(fd);
    if (!status) return status.error();
    return copy;
  }
  StdinCopy(StdinCopy&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  StdinCopy& operator=(StdinCopy&&) = delete;
  ~StdinCopy() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit StdinCopy(std::string path) : path_(std::move(path)) {}
  static Status copyAll(int in, int out, const std::string& path) {
    std::vector<char> buffer(1 << 20);
    for (;;) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{std::string("standard input: cannot read: ") + std::strerror(errno)};
      if (n == 0) return okStatus();
      FdSink sink(out, path);
      if (auto status = sink.write({buffer.data(), size_t(n)}); !status) return status;
    }
  }
  std::string path_;
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
  int runReport(const std::string& path, const std::string& name, OutputFile& out);
  int runReplay(const std::string& path, OutputFile& out);
  int finish(const Result<ReplaySummary>& result, const std::vector<format::Damage>& damage, OutputFile& out);
  ReplayOptions replayOptions() const;

  const ToolOptions& options_;
  const ToolIo& io_;
};

std::optional<int> Tool::checkUsage() const {
  if (options_.follow && options_.input == "-") {
    say("--follow needs a trace file or directory, not standard input");
    return kExitUsage;
  }
  if (options_.follow && (options_.info || options_.verify)) {
    say("--follow cannot go with --info or --verify");
    return kExitUsage;
  }
  if (options_.filter.descendants && !options_.filter.pid) {
    say("--descendants needs --pid");
    return kExitUsage;
  }
  if (!options_.output.empty() && options_.output != "-") {
    std::error_code ec;
    if (std::filesystem::equivalent(options_.output, options_.input, ec)) {
      say(options_.output + ": the output file is the input trace; choose another -o");
      return kExitUsage;
    }
  }
  if (options_.speed < 0) {
    say("--speed must be 0 (as fast as possible) or more");
    return kExitUsage;
  }
  return std::nullopt;
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

int Tool::runReport(const std::string& path, const std::string& name, OutputFile& out) {
  auto reader = format::TraceReader::open(path);
  if (!reader) {
    say(reader.error().message);
    return kExitNoInput;
  }
  auto report = options_.info ? detail::describeTrace(name, *reader) : detail::verifyTrace(name, *reader);
  FdSink sink(out.fd(), out.name());
  if (auto status = sink.write(report.text); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  if (auto status = out.close(); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  return report.damaged ? kExitDamaged : kExitOk;
}

int Tool::finish(const Result<ReplaySummary>& result, const std::vector<format::Damage>& damage, OutputFile& out) {
  if (!result) {
    say(result.error().message);
    return kExitOutput;
  }
  if (auto status = out.close(); !status) {
    say(status.error().message);
    return kExitOutput;
  }
  if (damage.empty()) return kExitOk;
  for (const auto& d : damage) say("damage: " + format::describe(d));
  say("the trace is damaged (" + std::to_string(damage.size()) +
      (damage.size() == 1 ? " problem" : " problems") +
      " above); every readable event was written. `proctape-replay --info` describes the trace.");
  return kExitDamaged;
}

int Tool::runReplay(const std::string& path, OutputFile& out) {
  FdSink sink(out.fd(), out.name());
  if (options_.follow) {
    FollowOptions follow;
    follow.poll = options_.poll;
    follow.stop = options_.stop;
    follow.onDamage = [this](const format::Damage& d) { say("damage: " + format::describe(d)); };
    auto source = FollowSource::open(path, follow);
    if (!source) {
      say(source.error().message);
      return kExitNoInput;
    }
    auto result = replay(**source, replayOptions(), sink);
    if (!result) {
      say(result.error().message);
      return kExitOutput;
    }
    if (auto status = out.close(); !status) {
      say(status.error().message);
      return kExitOutput;
    }
    return (*source)->damage().empty() ? kExitOk : kExitDamaged;  // already reported as found
  }
  auto reader = format::TraceReader::open(path);
  if (!reader) {
    say(reader.error().message);
    return kExitNoInput;
  }
  ReaderSource source(*reader);
  auto result = replay(source, replayOptions(), sink);
  return finish(result, reader->damage(), out);
}

int Tool::run() {
  if (auto usage = checkUsage()) return *usage;
  auto out = OutputFile::open(options_.output, io_.out);
  if (!out) {
    say(out.error().message);
    return kExitOutput;
  }
  if (options_.format == Format::pcap && !options_.info && !options_.verify && ::isatty(out->fd())) {
    say("pcap output is binary: give -o FILE (or redirect standard output)");
    return kExitUsage;
  }
  std::optional<StdinCopy> copy;
  std::string path = options_.input;
  if (path == "-") {
    auto made = StdinCopy::make(io_.in);
    if (!made) {
      say(made.error().message);
      return kExitNoInput;
    }
    copy.emplace(std::move(*made));
    path = copy->path();
  }
  std::string name = options_.input == "-" ? "standard input" : options_.input;
  if (options_.info || options_.verify) return runReport(path, name, *out);
  return runReplay(path, *out);
}

}  // namespace

const char* exitCodeHelp() {
  return "Exit codes:\n"
         "  0  success: every record was read and written (--verify: the trace is intact)\n"
         "  1  the trace is damaged: every readable event was written and the damage reported on stderr\n"
         "     (--info, --verify: the damage, or frames that do not decode, are in the report)\n"
         "  2  a bad command line\n"
         "  3  the input cannot be opened as a trace (missing, unreadable, empty, not a trace, newer format)\n"
         "  4  the output cannot be written\n";
}

int runTool(const ToolOptions& options, const ToolIo& io) { return Tool(options, io).run(); }

}  // namespace proctape::replay
