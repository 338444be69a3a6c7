// format_bench: speed and size of the trace format on realistic cn_proc traffic.
//
// It generates N proc connector datagrams exactly as the kernel sends them
// (nlmsghdr + cn_msg + proc_event, 76 bytes, host byte order) for a stream of
// fork -> exec -> exit lifecycles, with capture times as a recorder would
// stamp them, and then measures, each as the median of --runs runs:
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

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/writer.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace pf = proctape::format;
using Clock = std::chrono::steady_clock;

// ---- the cn_proc frame generator ---------------------------------------------

constexpr size_t kFrameBytes = 76;  // NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event))
constexpr uint16_t kNlmsgDone = 3;
constexpr uint32_t kCnIdxProc = 1;
constexpr uint32_t kCnValProc = 1;
constexpr uint32_t kProcEventFork = 0x00000001;
constexpr uint32_t kProcEventExec = 0x00000002;
constexpr uint32_t kProcEventExit = 0x80000000;
constexpr int32_t kPidMax = 32768;   // /proc/sys/kernel/pid_max default
constexpr int32_t kReservedPids = 300;  // the kernel's RESERVED_PIDS: wrapped pids restart here
constexpr int32_t kSigchld = 17;
constexpr unsigned kCpus = 2;

// Field offsets in the datagram.
constexpr size_t kOffNlLen = 0, kOffNlType = 4, kOffNlFlags = 6, kOffNlSeq = 8, kOffNlPid = 12;
constexpr size_t kOffCnIdx = 16, kOffCnVal = 20, kOffCnSeq = 24, kOffCnAck = 28, kOffCnLen = 32,
                 kOffCnFlags = 34;
constexpr size_t kOffWhat = 36, kOffCpu = 40, kOffTimestamp = 44, kOffData = 52;
static_assert(kOffData + 24 == kFrameBytes);

template <typename T>
void put(uint8_t* frame, size_t offset, T value) {
  std::memcpy(frame + offset, &value, sizeof value);  // host byte order, as the kernel sends it
}

struct GeneratorOptions {
  uint64_t seed = 0x70726f6374617065;  // "proctape"
  unsigned inFlight = 1;               // lifecycles interleaved (1: strict fork, exec, exit, fork, ...)
};

struct Trace {
  std::vector<uint8_t> frames;     // count * kFrameBytes
  std::vector<int64_t> captureNs;  // CLOCK_MONOTONIC capture time of each frame
  size_t batches = 0;              // receive batches (frames sharing one capture time)
  size_t count() const { return captureNs.size(); }
  std::span<const uint8_t> frame(size_t i) const { return {frames.data() + i * kFrameBytes, kFrameBytes}; }
};

class FrameGenerator {
 public:
  explicit FrameGenerator(const GeneratorOptions& options) : options_(options), rng_(options.seed) {
    // Three days of uptime, plus a random part so no field is suspiciously round.
    kernelNs_ = 3ull * 86'400 * 1'000'000'000 + uniform(0, 3'600'000'000'000ull);
    for (auto& seq : cpuSeq_) seq = uint32_t(uniform(1'500'000, 2'500'000));  // events since boot
    nextPid_ = int32_t(uniform(20'000, 30'000));
  }

  Trace generate(size_t count) {
    Trace trace;
    trace.frames.resize(count * kFrameBytes);
    trace.captureNs.resize(count);
    size_t i = 0;
    int64_t lastCapture = 0;
    while (i < count) {
      // Usually the recorder gets one datagram per wakeup; sometimes it
      // falls behind and several wait in the socket, stamped together.
      size_t batch = uniform(0, 99) < 80 ? 1 : size_t(uniform(2, 5));
      batch = std::min(batch, count - i);
      for (size_t k = 0; k < batch; ++k) {
        kernelNs_ += uniform(10'000, 30'000);  // 10-30 us between events, ns jitter
        nextEvent(trace.frames.data() + (i + k) * kFrameBytes);
      }
      // Capture a few microseconds after the last event of the batch.
      int64_t capture = int64_t(kernelNs_ + uniform(2'000, 8'000));
      capture = std::max(capture, lastCapture);
      for (size_t k = 0; k < batch; ++k) trace.captureNs[i + k] = capture;
      lastCapture = capture;
      i += batch;
      ++trace.batches;
    }
    return trace;
  }

 private:
  struct Child {
    int32_t pid = 0;
    int32_t parent = 0;
    unsigned cpu = 0;
    bool execed = false;
  };

  uint64_t uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }

  int32_t allocatePid() {
    for (;;) {
      nextPid_ += int32_t(uniform(1, 3));  // other tasks (threads, kworkers) take a pid now and then
      if (nextPid_ >= kPidMax) nextPid_ = kReservedPids + (nextPid_ - kPidMax);
      bool taken = std::find(std::begin(kParents), std::end(kParents), nextPid_) != std::end(kParents) ||
                   std::any_of(children_.begin(), children_.end(), [&](const Child& c) { return c.pid == nextPid_; });
      if (!taken) return nextPid_;
    }
  }

  void header(uint8_t* f, uint32_t what, unsigned cpu) {
    uint32_t seq = cpuSeq_[cpu]++;  // the kernel's per-CPU proc_event_counts
    put<uint32_t>(f, kOffNlLen, uint32_t(kFrameBytes));
    put<uint16_t>(f, kOffNlType, kNlmsgDone);
    put<uint16_t>(f, kOffNlFlags, 0);
    put<uint32_t>(f, kOffNlSeq, seq);
    put<uint32_t>(f, kOffNlPid, 0);
    put<uint32_t>(f, kOffCnIdx, kCnIdxProc);
    put<uint32_t>(f, kOffCnVal, kCnValProc);
    put<uint32_t>(f, kOffCnSeq, seq);
    put<uint32_t>(f, kOffCnAck, 0);
    put<uint16_t>(f, kOffCnLen, 40);  // sizeof(struct proc_event)
    put<uint16_t>(f, kOffCnFlags, 0);
    put<uint32_t>(f, kOffWhat, what);
    put<uint32_t>(f, kOffCpu, cpu);
    put<uint64_t>(f, kOffTimestamp, kernelNs_);
    std::memset(f + kOffData, 0, kFrameBytes - kOffData);  // the kernel zeroes event_data
  }

  void nextEvent(uint8_t* f) {
    bool fork = children_.empty() || (children_.size() < options_.inFlight && uniform(0, 2) == 0);
    if (fork) {
      Child child;
      child.parent = kParents[uniform(0, std::size(kParents) - 1)];
      child.pid = allocatePid();
      unsigned forkCpu = unsigned(uniform(0, kCpus - 1));
      // The child mostly starts where its parent ran.
      child.cpu = uniform(0, 9) < 7 ? forkCpu : unsigned(uniform(0, kCpus - 1));
      header(f, kProcEventFork, forkCpu);
      put<int32_t>(f, kOffData + 0, child.parent);  // parent_pid
      put<int32_t>(f, kOffData + 4, child.parent);  // parent_tgid
      put<int32_t>(f, kOffData + 8, child.pid);     // child_pid
      put<int32_t>(f, kOffData + 12, child.pid);    // child_tgid
      children_.push_back(child);
      return;
    }
    size_t pick = size_t(uniform(0, children_.size() - 1));
    Child& child = children_[pick];
    if (uniform(0, 9) == 0) child.cpu = unsigned(uniform(0, kCpus - 1));  // migrated
    if (!child.execed) {
      header(f, kProcEventExec, child.cpu);
      put<int32_t>(f, kOffData + 0, child.pid);  // process_pid
      put<int32_t>(f, kOffData + 4, child.pid);  // process_tgid
      child.execed = true;
      return;
    }
    uint64_t roll = uniform(0, 99);
    uint32_t exitCode = roll < 88 ? 0 : roll < 98 ? 1u << 8 : 15;  // exit 0, exit 1, killed by SIGTERM
    header(f, kProcEventExit, child.cpu);
    put<int32_t>(f, kOffData + 0, child.pid);    // process_pid
    put<int32_t>(f, kOffData + 4, child.pid);    // process_tgid
    put<uint32_t>(f, kOffData + 8, exitCode);    // exit_code
    put<uint32_t>(f, kOffData + 12, kSigchld);   // exit_signal
    put<int32_t>(f, kOffData + 16, child.parent);  // parent_pid
    put<int32_t>(f, kOffData + 20, child.parent);  // parent_tgid
    children_.erase(children_.begin() + std::ptrdiff_t(pick));
  }

  // Login shell, a make and its sub-makes, the shells make runs recipes in.
  static constexpr int32_t kParents[] = {1187, 20411, 20415, 20433, 20533};

  GeneratorOptions options_;
  std::mt19937_64 rng_;
  uint64_t kernelNs_ = 0;
  std::array<uint32_t, kCpus> cpuSeq_{};
  int32_t nextPid_ = 0;
  std::vector<Child> children_;
};

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

std::string gTempDir;  // removed on the way out, errors included

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "format_bench: %s\n", message.c_str());
  std::error_code ignored;
  if (!gTempDir.empty()) fs::remove_all(gTempDir, ignored);
  std::exit(2);
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Runs argv (looked up in PATH) with stdin/stdout redirected to files when
// given; returns the wall time, or dies if it cannot run or fails.
double runCommand(const std::vector<std::string>& args, const std::string& stdinPath, const std::string& stdoutPath) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdinPath.empty()) posix_spawn_file_actions_addopen(&actions, 0, stdinPath.c_str(), O_RDONLY, 0);
  if (!stdoutPath.empty())
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string shown;
  for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;

  auto start = Clock::now();
  pid_t pid = 0;
  int err = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) die("cannot run `" + shown + "`: " + std::strerror(err));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) die("waitpid failed for `" + shown + "`");
  }
  auto end = Clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("`" + shown + "` failed (status " + std::to_string(status) + ")");
  return seconds(start, end);
}

std::string commandOutput(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

std::string kib(size_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
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

pf::Meta benchMeta() {
  pf::Meta meta;
  meta.hostname = "bench-host";
  meta.kernelRelease = "6.8.0-45-generic";
  meta.kernelVersion = "#45-Ubuntu SMP PREEMPT_DYNAMIC";
  meta.machine = "x86_64";
  meta.bootId = "5b0e4a8c-3f9d-4c41-9d2e-6a1f0c7b2e19";
  meta.recorderName = "format_bench";
  meta.recorderVersion = "0";
  meta.sources = {{0, 11, {1}, "proc connector (cn_proc)"}};  // NETLINK_CONNECTOR, CN_IDX_PROC
  return meta;
}

// Writes `trace` to `path`; returns the seconds spent in writeFrame + close().
double writeTrace(const Layout& layout, const std::string& path, pf::WriterStats* stats) {
  const Trace& trace = *layout.trace;
  // The writer stamps clock anchors with this clock: keep it on the trace's
  // timeline (as the system clock is for a live recorder), or chunks would be
  // cut at every anchor for spanning "days".
  int64_t now = trace.captureNs.empty() ? 0 : trace.captureNs.front();
  pf::WriterOptions options = layout.writer;
  constexpr int64_t kRealtimeOffset = 1'767'225'600'000'000'000 - 3ll * 86'400 * 1'000'000'000;
  options.clock = [&now] { return pf::ClockAnchor{now, now + kRealtimeOffset, now + 1'000'000}; };
  auto writer = pf::TraceWriter::create(path, benchMeta(), options);
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

std::string pickDirectory(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) return tmp;
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) return "/dev/shm";
  return "/tmp";
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
  std::string pattern = base + "/format_bench.XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) die("cannot create a temporary directory in " + base + ": " + std::strerror(errno));
  std::string dir = buffer.data();
  gTempDir = dir;

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
    std::error_code ignored;
    fs::remove_all(dir, ignored);
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
  std::error_code ec;
  fs::remove_all(dir, ec);

  // ---- report ---------------------------------------------------------------
  char date[64];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  const LayoutResult& main = results.front();

  std::printf("## Trace format benchmark\n\n");
  std::printf("- command: `%s`\n", commandLine.c_str());
  std::printf("- date: %s\n", date);
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
