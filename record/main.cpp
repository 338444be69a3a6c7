// proctape-record: records the kernel's process events (and optionally
// rtnetlink link/address changes) into a proctape trace. Parses the command
// line and hands over to proctape::record::runRecorder.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proctape/record/proc_connector.h"
#include "proctape/record/recorder.h"
#include "proctape/record/units.h"
#include "proctape/replay/tool.h"

namespace {

using namespace proctape;
using record::RecorderOptions;

struct RawOptions {
  std::vector<std::string> sources{"proc"};
  std::string events = "all";
  std::string receiveBuffer = "64M";
  std::string drainInterval = "10ms";
  std::string duration;
  std::string rotateSize;
  std::string rotateTime;
  size_t keep = 0;
  bool keepGiven = false;
  bool noEnrich = false;
  bool noSnapshot = false;
  bool print = false;
};

// --print: proctape-replay's own text output, live. It follows the trace as
// it is written (replay's --follow), so what it prints is byte for byte what
// `proctape-replay TRACE` prints afterwards, a chunk (about 100 ms) behind.
class Printer {
 public:
  void start(const std::string& trace) {
    thread_ = std::thread([this, trace] {
      replay::ToolOptions options;
      options.input = trace;
      options.follow = true;
      options.poll = kPoll;
      options.stop = [this] { return stopNow(); };
      replay::ToolIo io;
      io.error = [](const std::string& message) {
        std::fprintf(stderr, "proctape-record: --print: %s\n", message.c_str());
      };
      replay::runTool(options, io);
    });
  }
  // The trace is closed: print the rest, then return.
  void finish() {
    finished_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  static constexpr std::chrono::milliseconds kPoll{50};
  // A single file ends the follow by itself once closed and read; a segment
  // directory never does, so stop once it has been looked at again after the end.
  bool stopNow() {
    if (!finished_.load()) return false;
    auto now = std::chrono::steady_clock::now();
    if (!finishedSeen_) finishedSeen_ = now;
    return now - *finishedSeen_ > 3 * kPoll;
  }
  std::atomic<bool> finished_{false};
  std::optional<std::chrono::steady_clock::time_point> finishedSeen_;
  std::thread thread_;
};

void addOptions(CLI::App& app, RecorderOptions& o, RawOptions& raw) {
  app.add_option("-o,--output", o.output, "Trace file, or a directory of segments with --rotate-* (required)");
  app.add_option("--source", raw.sources, "What to record: proc (process events), route (rtnetlink links and "
                 "addresses); repeatable")->check(CLI::IsMember({"proc", "route"}))->default_str("proc");
  app.add_option("--events", raw.events, "Process event types: fork,exec,exit,nonzero-exit,uid,gid,sid,ptrace,comm,"
                 "coredump or all (filtered by the kernel on Linux >= 6.6)")->default_str("all");
  app.add_option("--subscribe", o.subscribe, "auto: proc_input (kernel filtering) where the kernel has it; classic: "
                 "the pre-6.6 4-byte subscription, filtering in user space")
      ->transform(CLI::CheckedTransformer(std::map<std::string, record::SubscribeMode>{
          {"auto", record::SubscribeMode::automatic}, {"proc-input", record::SubscribeMode::procInput},
          {"classic", record::SubscribeMode::classic}}))
      ->default_str("auto")
      ->option_text("{auto,proc-input,classic}=auto");  // not the transformer's internal numbers
  app.add_option("--rcvbuf", raw.receiveBuffer, "Socket receive buffer (SO_RCVBUFFORCE with CAP_NET_ADMIN)")
      ->default_str("64M");
  app.add_option("--drain-interval", raw.drainInterval, "How often the receiving thread drains the sockets while events come (up to 50 ms when few do)")
      ->default_str("10ms");
  app.add_option("--queue", o.queueSlots, "Slots in the receiver-to-writer queue")
      ->check(CLI::Range(size_t(64), size_t(1) << 20))
      ->default_val(16384);
  app.add_flag("--no-enrich", raw.noEnrich, "Do not read /proc after each exec (no argv, exe, cwd, ids, cgroup)");
  app.add_option("--enrich-max-rate", o.enrichMaxPerSecond, "Read /proc for at most this many execs per second "
                 "(others get a miss record); 0: no limit")
      ->check(CLI::Range(0u, 10'000'000u))
      ->default_val(0);
  app.add_option("--enrich-priority", o.enrichPriority, "Scheduling of the enrichment thread: rt (SCHED_FIFO 1, "
                 "else nice), nice, normal")
      ->transform(CLI::CheckedTransformer(std::map<std::string, record::EnrichPriority>{
          {"rt", record::EnrichPriority::realtime}, {"nice", record::EnrichPriority::nice},
          {"normal", record::EnrichPriority::normal}}))
      ->default_str("rt")
      ->option_text("{rt,nice,normal}=rt");
  app.add_option("--enrich-nice", o.enrichNice, "Nice value of the enrichment thread with --enrich-priority nice")
      ->check(CLI::Range(-20, 19))
      ->default_val(-10);
  app.add_flag("--no-snapshot", raw.noSnapshot, "Do not record the process table at start");
  app.add_option("--redact", o.redact, "Replace matches of this regular expression (RE2 syntax) in command lines "
                 "with ***; repeatable")
      // One pattern per --redact, taken as written: CLI11 would read "[0-9]"
      // as a list, stripping the brackets and splitting at commas.
      ->allow_extra_args(false);
  app.add_option("--duration", raw.duration, "Stop after this long (e.g. 30s, 5m)");
  app.add_option("--max-events", o.maxEvents, "Stop after this many events")
      ->check(CLI::Range(uint64_t(1), uint64_t(1) << 62));
  app.add_option("--rotate-size", raw.rotateSize, "Start a new segment after this many bytes (e.g. 100M)");
  app.add_option("--rotate-time", raw.rotateTime, "Start a new segment after this long (e.g. 10m)");
  app.add_option("--keep", raw.keep, "Keep only the newest N segments (a flight recorder; 0: all)")
      ->check(CLI::Range(size_t(0), size_t(1'000'000)))
      ->each([&raw](const std::string&) { raw.keepGiven = true; });
  app.add_option("--compression-level", o.compressionLevel, "zstd level: 1 (fastest) to 19; -7 to -1 faster still")
      ->check(CLI::Range(-7, 19))
      ->default_val(3);
  app.add_option("--self-test-timeout", o.selfTestTimeoutMs, "Milliseconds to wait for the probe's events")
      ->check(CLI::Range(10, 600'000))
      ->default_val(2000);
  app.add_flag("--print", raw.print, "Also print the events as they are recorded, exactly as proctape-replay "
               "prints them (text, on standard output)");
  app.add_flag("--check", o.checkOnly, "Only subscribe and run the self-test, then exit (0: events arrive)");
  app.add_flag("-q,--quiet", o.quiet, "No status line and no notices (the summary line stays)");
  app.add_flag("-v,--verbose", o.verbose, "Say what was set up: buffers, subscription mode, capabilities kept");
  app.footer("Command mode: proctape-record [options] -o FILE -- CMD ARGS...  records while CMD runs and exits with "
             "its status.\nExit status otherwise: 0 ok, 2 usage, 69 cannot subscribe or self-test failed, 73 cannot "
             "create the output, 74 write error, 77 missing CAP_NET_ADMIN.\nDocumentation: docs/recorder.md");
  app.prefix_command();
  app.set_version_flag("--version", std::string("proctape-record ") + PROCTAPE_VERSION);
}

// Converts the text options; returns an error message or "".
std::string finish(RecorderOptions& o, const RawOptions& raw) {
  if (o.output.empty() && !o.checkOnly) return "--output (-o FILE) is required; run with --help for more";
  o.sourceProc = o.sourceRoute = false;
  for (const auto& source : raw.sources) (source == "proc" ? o.sourceProc : o.sourceRoute) = true;
  auto events = record::parseEventMask(raw.events);
  if (!events) return events.error().message;
  o.eventMask = *events;
  auto buffer = record::parseSize(raw.receiveBuffer);
  if (!buffer) return "--rcvbuf: " + buffer.error().message;
  if (*buffer < 4096 || *buffer > (uint64_t(1) << 30)) return "--rcvbuf must be between 4K and 1G";
  o.receiveBufferBytes = int(*buffer);
  auto drain = record::parseDuration(raw.drainInterval);
  if (!drain || *drain < 100'000 || *drain > 1'000'000'000) return "--drain-interval must be between 100us and 1s";
  o.drainIntervalNs = *drain;
  if (!raw.duration.empty()) {
    if (!o.command.empty()) return "--duration applies to system-wide recording, not to a command";
    auto duration = record::parseDuration(raw.duration);
    if (!duration) return "--duration: " + duration.error().message;
    if (*duration <= 0) return "--duration must be longer than 0";
    o.durationNs = *duration;
  }
  o.enrich = !raw.noEnrich;
  if (!o.enrich && o.enrichMaxPerSecond) return "--enrich-max-rate has no effect with --no-enrich: give one of them";
  o.snapshot = !raw.noSnapshot;
  bool limited = !raw.rotateSize.empty() || !raw.rotateTime.empty();
  if (raw.keepGiven && !limited)
    return "--keep needs --rotate-size or --rotate-time: without them the recording is one segment";
  bool rotate = limited || std::filesystem::is_directory(o.output);
  if (rotate) {
    format::RotationOptions rotation;
    if (!raw.rotateSize.empty()) {
      auto size = record::parseSize(raw.rotateSize);
      if (!size) return "--rotate-size: " + size.error().message;
      if (*size < 4096) return "--rotate-size must be at least 4K";
      rotation.maxBytes = *size;
    }
    if (!raw.rotateTime.empty()) {
      auto age = record::parseDuration(raw.rotateTime);
      if (!age) return "--rotate-time: " + age.error().message;
      if (*age < 100'000'000) return "--rotate-time must be at least 100ms";
      rotation.maxAgeNs = *age;
    }
    rotation.keep = raw.keep;
    o.rotation = rotation;
  }
  if (o.checkOnly && !o.command.empty()) return "--check only tests the subscription: it runs no command";
  return {};
}

// Started with standard input, output or error closed, the recorder would
// hand those numbers to its own sockets and eventfds, then write its messages
// (and --print) into them: they get /dev/null instead (as does the command).
void keepStandardStreamsOpen() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    (void)::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);  // the lowest free number: fd
  }
}

}  // namespace

int main(int argc, char** argv) {
  keepStandardStreamsOpen();
  CLI::App app{"proctape-record: record Linux process events (netlink cn_proc) into a proctape trace"};
  RecorderOptions options;
  RawOptions raw;
  addOptions(app, options, raw);
  // Parse errors name the tool, as its other messages do.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("proctape-record: ") + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : record::kExitUsage;
  }
  options.command = app.remaining();
  bool separated = !options.command.empty() && options.command.front() == "--";
  if (separated) options.command.erase(options.command.begin());
  std::string error;
  if (separated && options.command.empty())
    error = "-- must be followed by the command to record";
  else if (!separated && !options.command.empty() && options.command.front().starts_with("-"))
    error = "unknown option " + options.command.front() + " (see --help; a command to record goes after --)";
  if (error.empty()) error = finish(options, raw);
  if (!error.empty()) {
    std::fprintf(stderr, "proctape-record: %s\n", error.c_str());
    return record::kExitUsage;
  }
  options.recorderCommandLine.assign(argv, argv + argc);
  options.version = PROCTAPE_VERSION;
  // In command mode the terminal is the command's: a line redrawn every
  // second would scribble on what it prints.
  if (!options.command.empty()) options.statusLine = false;
  Printer printer;
  if (raw.print) {
    options.statusLine = false;  // it would tear through the printed lines on a terminal
    options.onRecording = [&printer](const std::string& trace) { printer.start(trace); };
    options.onStopped = [&printer] { printer.finish(); };
  }
  return record::runRecorder(options);
}
