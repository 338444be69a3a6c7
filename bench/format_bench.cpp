// format_bench: speed and size of the trace format on realistic cn_proc traffic.
//
// It generates N proc connector datagrams exactly as the kernel sends them
// (nlmsghdr + cn_msg + proc_event, 76 bytes, host byte order) for a stream of
// fork -> exec -> exit lifecycles, with capture times as a recorder would
// stamp them (cn_proc_generator.h, shared with replay_bench), and then
// measures, each as the median of --runs runs:
//   - TraceWriter::writeFrame over all frames plus close(), on one core;
//   - bytes per frame on disk;
//   - TraceReader::open + next() over every record, with 1 thread and with
//     one per core;
//   - `zstd -d -c FILE > /dev/null` on the very same file (the zstd CLI can
//     decode a trace: chunks are plain zstd frames, the rest skippable frames),
//     and `zstd -d --no-asyncio`, which keeps zstd to one thread;
// for the default layout and for alternatives (concatenated frames, chunk
// sizes, compression levels, interleaved lifecycles), plus the zstd CLI over
// the raw frames as a reference. It prints a Markdown report and PASS/FAIL
// lines for the targets, and exits 1 if one fails.
//
// --profile runs one phase alone for valgrind --tool=callgrind; --dump writes
// the generated frames out for offline analysis.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "cn_proc_generator.h"
#include "proctape/format/reader.h"
#include "proctape/format/writer.h"

namespace {

namespace fs = std::filesystem;
namespace pf = proctape::format;
using namespace proctape::bench;

// What a reader computes per frame: one byte of it (the low byte of the
// kernel timestamp, which differs from frame to frame) and its capture time.
uint64_t touch(std::span<const uint8_t> frame, int64_t timeNs) {
  return uint64_t(frame[kOffTimestamp]) + uint64_t(timeNs);
}

uint64_t expectedChecksum(const Trace& trace) {
  uint64_t sum = 0;
  for (size_t i = 0; i < trace.count(); ++i) sum += touch(trace.frame(i), trace.captureNs[i]);
  return sum;
}

// ---- helpers ---------------------------------------------------------------------

std::string kib(size_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}
std::string mfps(double framesPerSecond) { return fixed(framesPerSecond / 1e6, 2); }
// ---- measurements ----------------------------------------------------------------

struct Layout {
  std::string name;
  pf::WriterOptions writer;
  const Trace* trace = nullptr;
  std::string chunkCut;  // how chunks are cut, for the table
};

struct LayoutResult {
  uint64_t fileBytes = 0;
  uint64_t rawBytes = 0;  // the Cap'n Proto messages: what `zstd -d` outputs
  uint64_t chunks = 0;
  double writerFps = 0;
  double reader1Fps = 0;
  double readerAllFps = 0;
  double zstdSeconds = 0;
  double zstdFps = 0;
  double zstdMBps = 0;
  double bytesPerFrame = 0;
  double zstdSyncFps = 0;     // zstd -d --no-asyncio
  double pairedRatio1 = 0;    // median over runs of zstd time / reader time
  double pairedRatioAll = 0;
};

// Writes `trace` to `path`; returns the seconds spent in writeFrame + close().
double writeTrace(const Layout& layout, const std::string& path, pf::WriterStats* stats) {
  const Trace& trace = *layout.trace;
  int64_t now = trace.captureNs.empty() ? 0 : trace.captureNs.front();
  pf::WriterOptions options = layout.writer;
  options.clock = clockFollowing(now);
  auto writer = pf::TraceWriter::create(path, cnProcMeta("format_bench"), options);
  if (!writer) die(writer.error().message);

  auto start = Clock::now();
  for (size_t i = 0; i < trace.count(); ++i) {
    now = trace.captureNs[i];
    if (auto status = writer->writeFrame(trace.captureNs[i], 0, trace.frame(i)); !status) die(status.error().message);
  }
  if (auto status = writer->close(); !status) die(status.error().message);
  auto end = Clock::now();
  if (stats) *stats = writer->stats();
  return seconds(start, end);
}

// Reads every record; returns the seconds for open + reading.
double readTrace(const std::string& path, unsigned threads, size_t expectedFrames, uint64_t expectedSum) {
  auto start = Clock::now();
  uint64_t sum = 0;
  size_t frames = 0;
  {
    auto reader = pf::TraceReader::open(path, {threads, true});
    if (!reader) die(reader.error().message);
    pf::Record record;
    while (reader->next(record)) {
      if (const auto* frame = std::get_if<pf::Frame>(&record.body)) {
        sum += touch(frame->bytes, record.timeNs);
        ++frames;
      }
    }
    if (!reader->damage().empty()) die("damage reading " + path + ": " + describe(reader->damage().front()));
  }
  auto end = Clock::now();
  if (frames != expectedFrames || sum != expectedSum)
    die("read back " + std::to_string(frames) + " frames with the wrong contents from " + path);
  return seconds(start, end);
}

// Byte-for-byte comparison of what the reader returns with what was written.
void verifyTrace(const std::string& path, const Trace& trace) {
  auto reader = pf::TraceReader::open(path, {1, true});
  if (!reader) die(reader.error().message);
  pf::Record record;
  size_t i = 0;
  while (reader->next(record)) {
    const auto* frame = std::get_if<pf::Frame>(&record.body);
    if (!frame) continue;
    if (i >= trace.count() || record.timeNs != trace.captureNs[i] || frame->sourceId != 0 ||
        frame->bytes.size() != kFrameBytes || std::memcmp(frame->bytes.data(), trace.frame(i).data(), kFrameBytes) != 0)
      die(path + ": frame " + std::to_string(i) + " does not read back as written");
    ++i;
  }
  if (i != trace.count()) die(path + ": read back " + std::to_string(i) + " of " + std::to_string(trace.count()) + " frames");
}

LayoutResult measure(const Layout& layout, const std::string& dir, int runs) {
  const Trace& trace = *layout.trace;
  size_t n = trace.count();
  std::string path = dir + "/trace.pt";
  LayoutResult result;
  std::vector<double> writer, reader1, readerAll, zstd, zstdSync;
  pf::WriterStats stats;
  for (int r = 0; r < runs; ++r) {
    fs::remove(path);
    writer.push_back(writeTrace(layout, path, &stats));
  }
  result.fileBytes = fs::file_size(path);
  result.rawBytes = stats.rawBytes;
  result.chunks = stats.chunks;
  verifyTrace(path, trace);
  uint64_t sum = expectedChecksum(trace);
  std::vector<double> ratio1, ratioAll;
  for (int r = 0; r < runs; ++r) {
    reader1.push_back(readTrace(path, 1, n, sum));
    readerAll.push_back(readTrace(path, 0, n, sum));
    zstd.push_back(runCommand({"zstd", "-d", "-c", "-q", path}, "", "/dev/null"));
    // zstd >= 1.5.3 reads and writes on a second thread by default; this is
    // the strictly single-threaded decoder.
    zstdSync.push_back(runCommand({"zstd", "-d", "-c", "-q", "--no-asyncio", path}, "", "/dev/null"));
    // The same run's pair, which drifts less on a noisy machine than two medians.
    ratio1.push_back(zstd.back() / reader1.back());
    ratioAll.push_back(zstd.back() / readerAll.back());
  }
  result.pairedRatio1 = median(ratio1);
  result.zstdSyncFps = double(n) / median(zstdSync);
  result.pairedRatioAll = median(ratioAll);
  fs::remove(path);
  result.writerFps = double(n) / median(writer);
  result.reader1Fps = double(n) / median(reader1);
  result.readerAllFps = double(n) / median(readerAll);
  result.zstdSeconds = median(zstd);
  result.zstdFps = double(n) / result.zstdSeconds;
  result.zstdMBps = double(result.rawBytes) / 1e6 / result.zstdSeconds;
  result.bytesPerFrame = double(result.fileBytes) / double(n);
  return result;
}

// Entry points to point a profiler at (kept out of line so they show up by name).
[[gnu::noinline]] double profileWrite(const Layout& layout, const std::string& path) {
  return writeTrace(layout, path, nullptr);
}
[[gnu::noinline]] double profileRead(const std::string& path, unsigned threads, const Trace& trace) {
  return readTrace(path, threads, trace.count(), expectedChecksum(trace));
}

struct Reference {
  std::string name;
  double bytesPerFrame = 0;
  double compressFps = 0;
};

// `zstd -LEVEL` over the frames as plain bytes, optionally each preceded by
// its 8-byte capture time: what a generic compressor makes of the same data.
Reference zstdReference(const Trace& trace, const std::string& dir, int level, bool withTime, int runs) {
  std::string raw = dir + "/frames.bin";
  std::string packed = dir + "/frames.bin.zst";
  {
    std::ofstream out(raw, std::ios::binary);
    for (size_t i = 0; i < trace.count(); ++i) {
      if (withTime) out.write(reinterpret_cast<const char*>(&trace.captureNs[i]), sizeof(int64_t));
      out.write(reinterpret_cast<const char*>(trace.frame(i).data()), std::streamsize(kFrameBytes));
    }
    if (!out) die("cannot write " + raw);
  }
  std::vector<double> times;
  for (int r = 0; r < runs; ++r)
    times.push_back(runCommand({"zstd", "-" + std::to_string(level), "-q", "-c", raw}, "", packed));
  Reference ref;
  ref.name = "`zstd -" + std::to_string(level) + "` CLI over the raw 76-byte frames" +
             (withTime ? ", each after its 8-byte capture time" : "");
  ref.bytesPerFrame = double(fs::file_size(packed)) / double(trace.count());
  ref.compressFps = double(trace.count()) / median(times);
  fs::remove(raw);
  fs::remove(packed);
  return ref;
}

std::vector<size_t> parseList(const std::string& text) {
  std::vector<size_t> values;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    values.push_back(size_t(std::stoull(text.substr(pos, comma - pos))));
    pos = comma + 1;
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Speed and size of the proctape trace format on realistic cn_proc frames"};
  size_t frames = 1'000'000;
  int runs = 5;
  std::string dirOption;
  uint64_t seed = GeneratorOptions{}.seed;
  bool alternatives = true;
  std::string chunkKib = "512,2048,8192";
  std::string levels = "1,3";
  unsigned inFlightAlt = 4;
  app.add_option("--frames", frames, "Frames per trace")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "Runs per measurement; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--dir", dirOption, "Directory for the temporary files (default: $TMPDIR, else /dev/shm, else /tmp)");
  app.add_option("--seed", seed, "Seed of the frame generator");
  app.add_flag("!--no-alternatives", alternatives, "Measure the default layout only");
  app.add_option("--chunk-kib", chunkKib, "Comma-separated chunkRawBytes (KiB) for the alternatives");
  app.add_option("--levels", levels, "Comma-separated compression levels for the alternatives");
  app.add_option("--interleaved", inFlightAlt, "Lifecycles in flight for the interleaved-data alternative (0: skip)");
  std::string profile;
  app.add_option("--profile", profile,
                 "Only run one phase once on the default layout, for a profiler: 'write' (the writer), "
                 "'read' (write untimed, then read with 1 thread), 'read-all' (... with one thread per core)")
      ->check(CLI::IsMember({"write", "read", "read-all"}));
  std::string dumpDir;
  app.add_option("--dump", dumpDir,
                 "Only write the generated frames to DIR/frames.bin (76-byte frames back to back) and "
                 "DIR/capture_ns.bin (one int64 per frame), host byte order; with an explicit --interleaved N, "
                 "the data has N lifecycles in flight");
  CLI11_PARSE(app, argc, argv);
  setProgramName("format_bench");
  if (!dumpDir.empty()) {
    unsigned inFlight = app.count("--interleaved") ? std::max(1u, inFlightAlt) : 1;
    Trace dump = FrameGenerator({seed, inFlight}).generate(frames);
    std::ofstream f(dumpDir + "/frames.bin", std::ios::binary);
    f.write(reinterpret_cast<const char*>(dump.frames.data()), std::streamsize(dump.frames.size()));
    std::ofstream t(dumpDir + "/capture_ns.bin", std::ios::binary);
    t.write(reinterpret_cast<const char*>(dump.captureNs.data()), std::streamsize(dump.captureNs.size() * 8));
    if (!f || !t) die("cannot write the frames to " + dumpDir);
    return 0;
  }

  std::string commandLine;
  for (int i = 0; i < argc; ++i) commandLine += (i ? " " : "") + std::string(argv[i]);

  std::string base = pickDirectory(dirOption);
  std::string dir = makeTempDir(base, "format_bench");

  auto genStart = Clock::now();
  Trace trace = FrameGenerator({seed, 1}).generate(frames);
  if (!profile.empty()) {
    // e.g. valgrind --tool=callgrind --toggle-collect='*profileRead*' format_bench --profile read --frames 200000
    Layout layout{"default", pf::WriterOptions{}, &trace, ""};
    std::string path = dir + "/trace.pt";
    double spent = profile == "write" ? profileWrite(layout, path)
                                      : (writeTrace(layout, path, nullptr),
                                         profileRead(path, profile == "read" ? 1 : 0, trace));
    std::fprintf(stderr, "%s: %.3f s, %.2f Mframes/s\n", profile.c_str(), spent, double(frames) / spent / 1e6);
    removeTempDir();
    return 0;
  }
  Trace interleaved;
  if (alternatives && inFlightAlt > 1) interleaved = FrameGenerator({seed, inFlightAlt}).generate(frames);
  double genSeconds = seconds(genStart, Clock::now());

  // ---- layouts --------------------------------------------------------------
  std::vector<Layout> layouts;
  pf::WriterOptions defaults;
  auto cutText = [](const pf::WriterOptions& o) {
    std::string age = o.chunkMaxAgeNs >= std::numeric_limits<int64_t>::max() / 2
                          ? "no age limit"
                          : fixed(double(o.chunkMaxAgeNs) / 1e6, 0) + " ms";
    return kib(o.chunkRawBytes) + ", " + age;
  };
  layouts.push_back({"shuffled (default)", defaults, &trace, cutText(defaults)});
  if (alternatives) {
    pf::WriterOptions concatenated = defaults;
    concatenated.shuffleFrames = false;
    layouts.push_back({"concatenated", concatenated, &trace, cutText(concatenated)});
    for (size_t level : parseList(levels))
      for (size_t k : parseList(chunkKib)) {
        pf::WriterOptions o = defaults;
        o.compressionLevel = int(level);
        o.chunkRawBytes = k << 10;
        o.chunkMaxAgeNs = std::numeric_limits<int64_t>::max();
        layouts.push_back({"shuffled", o, &trace, cutText(o)});
      }
    if (inFlightAlt > 1)
      layouts.push_back({"shuffled (default); data: " + std::to_string(inFlightAlt) + " lifecycles interleaved", defaults,
                         &interleaved, cutText(defaults)});
  }

  // One untimed write and read first, so that no layout pays for the
  // process's first page faults and cold caches.
  {
    std::fprintf(stderr, "warming up ...\n");
    std::string path = dir + "/warmup.pt";
    writeTrace(layouts.front(), path, nullptr);
    readTrace(path, 1, trace.count(), expectedChecksum(trace));
    readTrace(path, 0, trace.count(), expectedChecksum(trace));
    fs::remove(path);
  }
  std::vector<LayoutResult> results;
  for (const auto& layout : layouts) {
    std::fprintf(stderr, "measuring %s, level %d, %s ...\n", layout.name.c_str(), layout.writer.compressionLevel,
                 layout.chunkCut.c_str());
    results.push_back(measure(layout, dir, runs));
  }
  std::vector<Reference> references;
  if (alternatives) {
    std::fprintf(stderr, "measuring the zstd CLI references ...\n");
    references.push_back(zstdReference(trace, dir, 3, false, runs));
    references.push_back(zstdReference(trace, dir, 3, true, runs));
  }
  // Process start-up cost of the zstd CLI, to read its timings against.
  double zstdStartup = 0;
  {
    std::string empty = dir + "/empty";
    std::ofstream{empty};
    runCommand({"zstd", "-q", "-f", empty, "-o", empty + ".zst"}, "", "");
    std::vector<double> t;
    for (int r = 0; r < runs; ++r) t.push_back(runCommand({"zstd", "-d", "-c", "-q", empty + ".zst"}, "", "/dev/null"));
    zstdStartup = median(t);
  }
  removeTempDir();

  // ---- report ---------------------------------------------------------------
  std::string date = utcNow();
  const LayoutResult& main = results.front();

  std::printf("## Trace format benchmark\n\n");
  std::printf("- command: `%s`\n", commandLine.c_str());
  std::printf("- date: %s\n", date.c_str());
  std::printf("- machine: %u cores (std::thread::hardware_concurrency), %s\n", std::thread::hardware_concurrency(),
              cpuModel().c_str());
  std::printf("- zstd CLI: %s\n", commandOutput("zstd --version 2>&1").c_str());
  std::printf("- files in: %s\n", base.c_str());
  std::printf("- frames: %zu cn_proc datagrams of %zu bytes (%zu receive batches), seed 0x%" PRIx64
              "; medians of %d runs; generated in %.2f s\n\n",
              frames, kFrameBytes, trace.batches, seed, runs, genSeconds);

  std::printf("| layout | level | chunk cut at | chunks | bytes/frame | writer Mframes/s (1 core) | reader Mframes/s, 1 thread | "
              "reader Mframes/s, all cores | `zstd -d` Mframes/s | `zstd -d` MB/s | reader/zstd (1 thread) | "
              "reader/zstd (all cores) | `zstd -d --no-asyncio` Mframes/s |\n");
  std::printf("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < layouts.size(); ++i) {
    const auto& l = layouts[i];
    const auto& r = results[i];
    std::printf("| %s | %d | %s | %" PRIu64 " | %.2f | %s | %s | %s | %s | %.0f | %.2f | %.2f | %s |\n", l.name.c_str(),
                l.writer.compressionLevel, l.chunkCut.c_str(), r.chunks, r.bytesPerFrame, mfps(r.writerFps).c_str(),
                mfps(r.reader1Fps).c_str(), mfps(r.readerAllFps).c_str(), mfps(r.zstdFps).c_str(), r.zstdMBps,
                r.reader1Fps / r.zstdFps, r.readerAllFps / r.zstdFps, mfps(r.zstdSyncFps).c_str());
  }
  if (!references.empty()) {
    std::printf("\n| reference | bytes/frame | compress Mframes/s (CLI, incl. start-up) |\n|---|---:|---:|\n");
    for (const auto& ref : references)
      std::printf("| %s | %.2f | %s |\n", ref.name.c_str(), ref.bytesPerFrame, mfps(ref.compressFps).c_str());
  }
  std::printf("\nDefault layout: %" PRIu64 " bytes on disk (%.2f bytes/frame), %" PRIu64
              " bytes of Cap'n Proto inside (%.1f bytes/frame, %.1fx compression), %" PRIu64 " chunks.\n",
              main.fileBytes, main.bytesPerFrame, main.rawBytes, double(main.rawBytes) / double(frames),
              double(main.rawBytes) / double(main.fileBytes), main.chunks);
  std::printf("`zstd -d` timings are wall time of the whole process; its start-up alone (an empty file) takes %.1f ms.\n\n",
              zstdStartup * 1e3);

  bool writerOk = main.writerFps >= 1e6;
  double ratio1 = main.reader1Fps / main.zstdFps;
  double ratioAll = main.readerAllFps / main.zstdFps;
  bool readerOk = ratio1 >= 0.5;
  bool sizeOk = main.bytesPerFrame <= 10.0;
  std::printf("```\n");
  std::printf("%s writer: %s Mframes/s on one core (target >= 1.00)\n", writerOk ? "PASS" : "FAIL",
              mfps(main.writerFps).c_str());
  std::printf("%s reader: %.2fx the throughput of zstd -d on the same file, 1 thread (%s vs %s Mframes/s; target >= 0.50x)\n",
              readerOk ? "PASS" : "FAIL", ratio1, mfps(main.reader1Fps).c_str(), mfps(main.zstdFps).c_str());
  std::printf("     (all cores: %.2fx, %s Mframes/s; median of per-run ratios: %.2fx with 1 thread, %.2fx all cores)\n",
              ratioAll, mfps(main.readerAllFps).c_str(), main.pairedRatio1, main.pairedRatioAll);
  std::printf("     (against single-threaded `zstd -d --no-asyncio`, %s Mframes/s: %.2fx with 1 thread)\n",
              mfps(main.zstdSyncFps).c_str(), main.reader1Fps / main.zstdSyncFps);
  std::printf("%s size: %.2f bytes per cn_proc frame on disk, capture time included (target <= 10.00)\n",
              sizeOk ? "PASS" : "FAIL", main.bytesPerFrame);
  std::printf("```\n");
  return writerOk && readerOk && sizeOk ? 0 : 1;
}
