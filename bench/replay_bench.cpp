// replay_bench: decode + render throughput of proctape::replay on realistic
// cn_proc traffic, against `zstd -d` on the same file.
//
// It writes a trace of N proc connector datagrams from the frame generator
// that format_bench uses (bench/cn_proc_generator.h: fork -> exec -> exit
// lifecycles, 76-byte frames as the kernel sends them), plus, after each exec,
// the process-info record a recorder writes once it has read /proc (argv,
// exe, cwd, comm, ids, cgroup of a make-driven C++ build). It then measures,
// each as the median of --runs runs, on one core (TraceReader with one
// thread, everything on the calling thread):
//   - read: TraceReader::open + next() over every record;
//   - decode: the same through EventStream (netlink decoding, names, the
//     exec / process-info match), no rendering;
//   - text and JSON Lines: proctape::replay::replay() with proctape-replay's
//     default options for the format, into a sink writing to /dev/null;
//   - text and JSON rendering alone: the renderers over events decoded
//     beforehand (untimed) in batches of 1024, so that they are in cache as
//     in replay(), into a buffer emptied every 64 KiB;
//   - `zstd -d -c FILE > /dev/null` and `zstd -d --no-asyncio`, the peers.
// Throughput is in cn_proc events per second: N over the time. JSON Lines
// also renders one process_info object per exec, so it writes more lines
// than there are events; the line rate is shown beside it.
//
// It prints a Markdown report and a PASS/FAIL line for the target (JSON
// rendering alone >= 2,000,000 events/s on one core), and exits 1 if it fails.
// --profile runs one measurement once, for valgrind --tool=callgrind.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench_support.h"
#include "cn_proc_generator.h"
#include "process_info_generator.h"
#include "proctape/format/reader.h"
#include "proctape/format/writer.h"
#include "proctape/replay/event_stream.h"
#include "proctape/replay/render.h"
#include "proctape/replay/replay.h"

namespace {

namespace fs = std::filesystem;
namespace pf = proctape::format;
namespace pr = proctape::replay;
using namespace proctape::bench;

constexpr double kTargetEventsPerSecond = 2'000'000;
constexpr size_t kFlushBytes = 64 * 1024;  // what replay() hands its sink at a time, by default

// ---- the trace ----------------------------------------------------------------------

struct TraceFacts {
  uint64_t frames = 0;
  uint64_t execs = 0;
  uint64_t infos = 0;
  uint64_t fileBytes = 0;
  uint64_t rawBytes = 0;
  uint64_t chunks = 0;
};

// Writes the recorder's start-up snapshot, the frames of `trace` and, 20-250
// us of capture time after each exec (by when 1-20 more events have arrived),
// its process-info record; with `framesOnly`, just the frames.
TraceFacts writeTrace(const Trace& trace, const std::string& path, uint64_t seed, bool framesOnly) {
  int64_t now = trace.captureNs.empty() ? 0 : trace.captureNs.front();
  pf::WriterOptions options;
  options.clock = clockFollowing(now);
  auto writer = pf::TraceWriter::create(path, cnProcMeta("replay_bench"), options);
  if (!writer) die(writer.error().message);
  if (!framesOnly)
    if (auto status = writer->writeSnapshot(now, parentsSnapshot(now)); !status) die(status.error().message);

  ProcessInfoGenerator infos(seed);
  std::mt19937_64 delays(seed ^ 0x64656c6179);  // "delay"
  std::unordered_map<int32_t, int32_t> parentOf;  // child pid -> parent pid, from the forks
  std::multimap<int64_t, pf::ProcessInfo> due;    // process-info records not yet written, by capture time
  TraceFacts facts;
  auto writeDue = [&](int64_t upTo) {
    while (!due.empty() && due.begin()->first <= upTo) {
      now = due.begin()->first;
      if (auto status = writer->writeProcessInfo(now, due.begin()->second); !status) die(status.error().message);
      due.erase(due.begin());
      ++facts.infos;
    }
  };
  for (size_t i = 0; i < trace.count(); ++i) {
    auto frame = trace.frame(i);
    writeDue(trace.captureNs[i]);
    now = trace.captureNs[i];
    if (auto status = writer->writeFrame(now, 0, frame); !status) die(status.error().message);
    uint32_t what = frameField<uint32_t>(frame, kOffWhat);
    if (what == kProcEventFork) parentOf[frameField<int32_t>(frame, kOffData + 8)] = frameField<int32_t>(frame, kOffData);
    if (what != kProcEventExec) continue;
    ++facts.execs;
    int32_t pid = frameField<int32_t>(frame, kOffData);
    int32_t parent = parentOf[pid];
    parentOf.erase(pid);
    if (framesOnly) continue;
    auto delay = std::uniform_int_distribution<int64_t>(20'000, 250'000)(delays);
    due.emplace(now + delay, infos.make(pid, parent, frameField<uint64_t>(frame, kOffTimestamp)));
  }
  writeDue(INT64_MAX);
  if (auto status = writer->close(); !status) die(status.error().message);
  facts.frames = trace.count();
  facts.fileBytes = fs::file_size(path);
  facts.rawBytes = writer->stats().rawBytes;
  facts.chunks = writer->stats().chunks;
  return facts;
}

// ---- measurements -------------------------------------------------------------------

// Writes to /dev/null and counts what went through.
class NullSink final : public pr::Sink {
 public:
  NullSink() : fd_(::open("/dev/null", O_WRONLY | O_CLOEXEC)), sink_(fd_, "/dev/null") {
    if (fd_ < 0) die("cannot open /dev/null");
  }
  NullSink(const NullSink&) = delete;
  NullSink& operator=(const NullSink&) = delete;
  ~NullSink() override { ::close(fd_); }
  proctape::Status write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return sink_.write(bytes);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  pr::FdSink sink_;
  uint64_t bytes_ = 0;
};

pf::TraceReader openReader(const std::string& path) {
  auto reader = pf::TraceReader::open(path, {1, true});  // one thread: chunks decode on the caller's
  if (!reader) die(reader.error().message);
  return std::move(*reader);
}

void checkIntact(const pf::TraceReader& reader, const std::string& path) {
  if (!reader.damage().empty()) die("damage reading " + path + ": " + describe(reader.damage().front()));
}

struct Timing {
  double seconds = 0;
  uint64_t items = 0;  // records, events or lines, as the measurement counts them
  uint64_t bytes = 0;  // output bytes
};

// TraceReader::open + next() over every record.
Timing readOnly(const std::string& path) {
  auto start = Clock::now();
  auto reader = openReader(path);
  pf::Record record;
  uint64_t records = 0;
  while (reader.next(record)) ++records;
  auto end = Clock::now();
  checkIntact(reader, path);
  return {seconds(start, end), records, 0};
}

// The same through EventStream: every event decoded and resolved, none rendered.
Timing decodeOnly(const std::string& path) {
  auto start = Clock::now();
  auto reader = openReader(path);
  pr::ReaderSource source(reader);
  pr::EventStream stream(source);
  const pr::Event* event = nullptr;
  uint64_t events = 0;
  while (stream.next(event) == pr::Pull::record) ++events;
  auto end = Clock::now();
  checkIntact(reader, path);
  return {seconds(start, end), events, 0};
}

// proctape::replay::replay() with proctape-replay's defaults for `format`, to /dev/null.
Timing decodeAndRender(const std::string& path, pr::Format format) {
  NullSink sink;
  auto start = Clock::now();
  auto reader = openReader(path);
  pr::ReaderSource source(reader);
  auto summary = pr::replay(source, pr::defaultOptions(format), sink);
  auto end = Clock::now();
  if (!summary) die(summary.error().message);
  checkIntact(reader, path);
  return {seconds(start, end), summary->shown, sink.bytes()};
}

// What a rendering pass saw besides its timing.
struct RenderNotes {
  std::string firstBytes;     // the start of the output
  uint64_t execs = 0;
  uint64_t execsWithInfo = 0;  // execs the stream gave their process info (name, argv, exe, cwd)
};

// The renderer for `format` alone, over the events proctape-replay shows by
// default. The stream's events are copied into a batch, untimed; each full
// batch is then rendered, timed, into a buffer emptied every kFlushBytes (a
// discarding sink). A batch is small enough to stay in cache, as an event does
// in replay(), which renders it as soon as the stream releases it: rendering
// a whole trace kept in memory (hundreds of MB) would time cache misses.
Timing renderOnly(const std::string& path, pr::Format format, RenderNotes* notes = nullptr) {
  constexpr size_t kBatchEvents = 1024;
  auto reader = openReader(path);
  pr::ReaderSource source(reader);
  pr::EventStream stream(source);
  auto types = pr::defaultTypes(format);
  auto renderer = pr::makeRenderer(format, pr::TimeMode::relative);
  pr::Buffer buffer;
  std::vector<pr::Event> batch(kBatchEvents);  // slots reused, so their vectors keep their capacity
  Timing timing;
  auto renderBatch = [&](size_t count) {
    auto start = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      renderer->render(batch[i], stream, buffer);
      if (buffer.size() < kFlushBytes) continue;
      if (notes && notes->firstBytes.empty()) notes->firstBytes = buffer.view();
      timing.bytes += buffer.size();
      buffer.clear();
    }
    timing.seconds += seconds(start, Clock::now());
  };
  size_t filled = 0;
  const pr::Event* event = nullptr;
  while (stream.next(event) == pr::Pull::record) {
    if (notes && event->type == pr::EventType::exec) ++notes->execs, notes->execsWithInfo += event->info != nullptr;
    if (!types.contains(event->type)) continue;
    batch[filled++] = *event;
    if (filled == kBatchEvents) renderBatch(filled), filled = 0;
  }
  renderBatch(filled);
  checkIntact(reader, path);
  timing.bytes += buffer.size();
  for (size_t type = 0; type < pr::kEventTypeCount; ++type)
    if (types.contains(pr::EventType(type))) timing.items += stream.stats().events[type];
  return timing;
}

double zstdDecompress(const std::string& path, bool noAsyncIo) {
  std::vector<std::string> args = {"zstd", "-d", "-c", "-q"};
  if (noAsyncIo) args.push_back("--no-asyncio");  // zstd >= 1.5.3 reads and writes on a second thread by default
  args.push_back(path);
  return runCommand(args, "", "/dev/null");
}

// ---- report -------------------------------------------------------------------------

struct Row {
  std::string name;
  std::string what;
  std::vector<Timing> runs;
  std::vector<double> pairedRatio;  // per run: zstd -d time / this time
  Timing median() const {
    std::vector<double> s, items, bytes;
    for (const auto& t : runs) s.push_back(t.seconds), items.push_back(double(t.items)), bytes.push_back(double(t.bytes));
    return {proctape::bench::median(s), uint64_t(proctape::bench::median(items)), uint64_t(proctape::bench::median(bytes))};
  }
};

std::string mega(double perSecond) { return fixed(perSecond / 1e6, 2); }

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// The measurements, by the name --profile takes.
struct Measurements {
  std::string path;

  Timing run(const std::string& name) const {
    if (name == "read") return readOnly(path);
    if (name == "decode") return decodeOnly(path);
    if (name == "text") return decodeAndRender(path, pr::Format::text);
    if (name == "json") return decodeAndRender(path, pr::Format::json);
    if (name == "render-text") return renderOnly(path, pr::Format::text);
    if (name == "render-json") return renderOnly(path, pr::Format::json);
    if (name == "zstd") return {zstdDecompress(path, false), 0, 0};
    return {zstdDecompress(path, true), 0, 0};  // "zstd-sync"
  }
};

// One measurement, once, kept out of line so that a profiler finds it by name:
//   valgrind --tool=callgrind --toggle-collect='*profileMeasurement*' replay_bench --profile json --events 200000
// (for the renderers alone: --profile render-json and --toggle-collect='*JsonRenderer::render*')
[[gnu::noinline]] Timing profileMeasurement(const Measurements& m, const std::string& name) { return m.run(name); }

std::vector<Row> measureAll(const Measurements& m, int runs) {
  std::vector<Row> rows = {
      {"read", "`TraceReader::open` + `next()` over every record", {}, {}},
      {"decode", "... through `EventStream`: netlink decoding, names, exec / process-info matching", {}, {}},
      {"text", "decode + render: `replay()`, text (default types), to /dev/null", {}, {}},
      {"json", "decode + render: `replay()`, JSON Lines (default types), to /dev/null", {}, {}},
      {"render-text", "text rendering alone (events decoded beforehand, in batches of 1024)", {}, {}},
      {"render-json", "JSON rendering alone (events decoded beforehand, in batches of 1024)", {}, {}},
      {"zstd", "`zstd -d -c FILE > /dev/null` (whole process, start-up included)", {}, {}},
      {"zstd-sync", "`zstd -d --no-asyncio -c FILE > /dev/null`", {}, {}},
  };
  for (int r = 0; r < runs; ++r) {
    std::fprintf(stderr, "run %d of %d ...\n", r + 1, runs);
    for (auto& row : rows) row.runs.push_back(m.run(row.name));
    double zstdSeconds = rows[6].runs.back().seconds;  // the same run's pair drifts less than two medians
    for (auto& row : rows) row.pairedRatio.push_back(zstdSeconds / row.runs.back().seconds);
  }
  return rows;
}

const Row& rowNamed(const std::vector<Row>& rows, const std::string& name) {
  for (const auto& row : rows)
    if (row.name == name) return row;
  die("no measurement " + name);
}

struct Setup {
  std::string commandLine;
  std::string base;
  size_t events = 0;
  int runs = 0;
  uint64_t seed = 0;
  TraceFacts facts;
  uint64_t execsWithInfo = 0;
  double setupSeconds = 0;
  std::string loadBefore, loadAfter;
  std::string textSample, jsonSample;
};

// The first `lines` lines of `text`, each cut to `width` characters.
std::string firstLines(const std::string& text, int lines, size_t width) {
  std::string out;
  size_t pos = 0;
  for (int i = 0; i < lines && pos < text.size(); ++i) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (line.size() > width) line = line.substr(0, width) + " ...";
    out += line + "\n";
    pos = end + 1;
  }
  return out;
}

void printHeader(const Setup& s) {
  const TraceFacts& f = s.facts;
  std::printf("## Replay benchmark\n\n");
  std::printf("- command: `%s`\n", s.commandLine.c_str());
  std::printf("- date: %s\n", utcNow().c_str());
  std::printf("- machine: %u cores (std::thread::hardware_concurrency), %s\n", std::thread::hardware_concurrency(),
              cpuModel().c_str());
  std::printf("- load average (1, 5, 15 min): %s before, %s after\n", s.loadBefore.c_str(), s.loadAfter.c_str());
  std::printf("- zstd CLI: %s\n", commandOutput("zstd --version 2>&1").c_str());
  std::printf("- files in: %s\n", s.base.c_str());
  std::printf("- trace: %" PRIu64 " cn_proc events (%" PRIu64 " execs) and %" PRIu64
              " process-info records, seed 0x%" PRIx64 "; %" PRIu64 " bytes on disk (%.2f bytes/event), %" PRIu64
              " bytes of Cap'n Proto inside, %" PRIu64 " chunks; generated and written in %.2f s\n",
              f.frames, f.execs, f.infos, s.seed, f.fileBytes, double(f.fileBytes) / double(f.frames), f.rawBytes,
              f.chunks, s.setupSeconds);
  std::printf("- execs shown with their process info (name, argv, exe, cwd): %" PRIu64 " of %" PRIu64 "\n",
              s.execsWithInfo, f.execs);
  std::printf("- one core: the reader decodes chunks on the calling thread (`ReaderOptions::threads = 1`); "
              "medians of %d runs\n\n", s.runs);
}

void printTable(const std::vector<Row>& rows, const Setup& s) {
  double n = double(s.facts.frames);
  const Timing zstd = rowNamed(rows, "zstd").median();
  std::printf("| measurement | what runs | M events/s | M lines/s | output MB/s | vs `zstd -d` | "
              "vs `zstd -d`, median of per-run ratios |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  for (const auto& row : rows) {
    Timing t = row.median();
    bool rendered = t.bytes > 0;
    bool peer = row.name.rfind("zstd", 0) == 0;
    double outBytes = peer ? double(s.facts.rawBytes) : double(t.bytes);
    std::printf("| %s | %s | %s | %s | %s | %.2f | %.2f |\n", row.name.c_str(), row.what.c_str(),
                mega(n / t.seconds).c_str(), rendered ? mega(double(t.items) / t.seconds).c_str() : "",
                rendered || peer ? fixed(outBytes / 1e6 / t.seconds, 0).c_str() : "", zstd.seconds / t.seconds,
                proctape::bench::median(row.pairedRatio));
  }
  std::printf("\nM events/s: cn_proc events in the trace (%" PRIu64 ") per second. M lines/s: lines written "
              "(JSON Lines: one per event and one per process-info record). `zstd -d` writes the trace's Cap'n Proto "
              "(its MB/s are of that).\n\n", s.facts.frames);
}

void printSamples(const Setup& s) {
  std::printf("Start of the output:\n\n```\n%s```\n\n```\n%s```\n\n", firstLines(s.textSample, 6, 200).c_str(),
              firstLines(s.jsonSample, 4, 400).c_str());
}

bool printVerdict(const std::vector<Row>& rows, const Setup& s) {
  double n = double(s.facts.frames);
  Timing render = rowNamed(rows, "render-json").median();
  Timing json = rowNamed(rows, "json").median();
  Timing text = rowNamed(rows, "text").median();
  Timing zstd = rowNamed(rows, "zstd").median();
  bool ok = n / render.seconds >= kTargetEventsPerSecond;
  std::printf("```\n");
  std::printf("%s json: JSON rendering alone, %s M events/s on one core (target >= %s; %s M lines/s)\n",
              ok ? "PASS" : "FAIL", mega(n / render.seconds).c_str(), mega(kTargetEventsPerSecond).c_str(),
              mega(double(render.items) / render.seconds).c_str());
  std::printf("     decode + render, JSON Lines: %s M events/s, %.2fx zstd -d (%s M events/s); text: %s M events/s, %.2fx\n",
              mega(n / json.seconds).c_str(), zstd.seconds / json.seconds, mega(n / zstd.seconds).c_str(),
              mega(n / text.seconds).c_str(), zstd.seconds / text.seconds);
  std::printf("```\n");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Decode + render throughput of proctape::replay on realistic cn_proc traffic, against zstd -d"};
  Setup s;
  s.events = 1'000'000;
  s.runs = 5;
  s.seed = GeneratorOptions{}.seed;
  std::string dirOption, profile, keep;
  app.add_option("--events", s.events, "cn_proc events in the trace (at least 1,000,000 for the documented figures)")
      ->check(CLI::PositiveNumber);
  app.add_option("--runs", s.runs, "Runs per measurement; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--dir", dirOption, "Directory for the trace (default: $TMPDIR, else /dev/shm, else /tmp)");
  app.add_option("--seed", s.seed, "Seed of the frame and process-info generators");
  bool framesOnly = false;
  app.add_flag("--frames-only", framesOnly,
               "Write no snapshot or process-info records (not for the documented figures): how much the "
               "records cost");
  app.add_option("--keep", keep, "Also keep the trace as this file (e.g. to run proctape-replay on it)");
  app.add_option("--profile", profile, "Only run one measurement once, for a profiler")
      ->check(CLI::IsMember({"read", "decode", "text", "json", "render-text", "render-json"}));
  CLI11_PARSE(app, argc, argv);
  setProgramName("replay_bench");
  for (int i = 0; i < argc; ++i) s.commandLine += (i ? " " : "") + std::string(argv[i]);

  s.loadBefore = loadAverage();
  s.base = pickDirectory(dirOption);
  std::string dir = makeTempDir(s.base, "replay_bench");
  Measurements m{dir + "/trace.pt"};
  std::fprintf(stderr, "writing %zu events ...\n", s.events);
  auto setupStart = Clock::now();
  s.facts = writeTrace(FrameGenerator({s.seed, 1}).generate(s.events), m.path, s.seed, framesOnly);
  s.setupSeconds = seconds(setupStart, Clock::now());
  if (!keep.empty()) fs::copy_file(m.path, keep, fs::copy_options::overwrite_existing);
  if (!profile.empty()) {
    Timing t = profileMeasurement(m, profile);
    std::fprintf(stderr, "%s: %.3f s, %.2f M events/s\n", profile.c_str(), t.seconds, double(s.events) / t.seconds / 1e6);
    removeTempDir();
    return 0;
  }
  // One untimed pass first, so that no measurement pays for first page faults and cold caches.
  std::fprintf(stderr, "warming up ...\n");
  RenderNotes textNotes, jsonNotes;
  renderOnly(m.path, pr::Format::text, &textNotes);
  renderOnly(m.path, pr::Format::json, &jsonNotes);
  s.textSample = textNotes.firstBytes;
  s.jsonSample = jsonNotes.firstBytes;
  s.execsWithInfo = jsonNotes.execsWithInfo;
  decodeAndRender(m.path, pr::Format::json);
  auto rows = measureAll(m, s.runs);
  s.loadAfter = loadAverage();
  removeTempDir();

  printHeader(s);
  printTable(rows, s);
  printSamples(s);
  return printVerdict(rows, s) ? 0 : 1;
}
