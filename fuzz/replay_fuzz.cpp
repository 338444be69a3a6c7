// libFuzzer target: replay over arbitrary trace bytes, through everything
// proctape-replay does with a trace, by the replay library's API: rendered as
// text, JSON Lines and pcap (each through the reader, the event stream with
// its lookahead and names, the filter and the renderer), then the --info and
// --verify reports (replay/src/report.h, what runTool() prints). The trace
// lives in a memfd, so the reader sees a real file (it maps it) and nothing
// touches the disk. Output goes to a sink that reads every byte and drops it.
// Readers are single-threaded, as renderTrace() uses them: the same input
// always takes the same path, and no threads start per input.
//
// An input that starts like a trace file (the file header's skippable-frame
// magic) is the trace, byte for byte: that is how samples/*.pt seed it. Its
// chunks carry checksums, so mutations of it mostly exercise the reader's
// damage handling. Any other input is a recipe: its bytes choose records
// (well-formed or arbitrary frames, process info, snapshots, gaps, clock
// anchors, times from ordinary to extreme) that TraceWriter writes into the
// memfd, so mutated values reach the decoders, the event stream and the
// renderers behind intact chunks.
//
// Which time column text uses, and whether a pid filter with --descendants
// applies, depend on the input's size, so one input always takes one path.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/writer.h"
#include "proctape/replay/replay.h"
#include "replay/frames.h"
#include "report.h"

using namespace proctape;
using namespace proctape::replay;

namespace {

volatile uint64_t touched = 0;

// Reads every byte written to it, keeps none.
class DiscardSink final : public Sink {
 public:
  Status write(std::string_view bytes) override {
    uint64_t sum = 0;
    for (char c : bytes) sum += static_cast<unsigned char>(c);
    touched = touched + sum + bytes.size();
    return okStatus();
  }
};

// One memfd for the whole run, refilled with each input.
struct Input {
  int fd = -1;
  std::string path;

  Input() {
    fd = ::memfd_create("fuzz-replay.pt", MFD_CLOEXEC);
    if (fd < 0) {
      std::perror("fuzz_replay: memfd_create");
      std::abort();
    }
    path = "/proc/self/fd/" + std::to_string(fd);
  }

  void fill(const uint8_t* data, size_t size) {
    if (::ftruncate(fd, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd, data + done, size - done, off_t(done));
      if (n <= 0) std::abort();
      done += size_t(n);
    }
  }
};

Input& input() {
  static Input in;
  return in;
}

// ---- recipes: records chosen by the input, written by TraceWriter ----------

namespace fr = proctape::test::frames;

constexpr size_t kMaxRecords = 256;
constexpr size_t kMaxRawFrame = 1024;

// Capture times (and the monotonic clock of anchors) as TraceWriter takes
// them: it subtracts them to age chunks and anchors, so they stay within
// +-2^61 ns (+-73 years) of each other, as CLOCK_MONOTONIC values do. Replay
// still gets every extreme it must survive: a reader sees whatever a file
// holds, and the wall clock of anchors takes any value.
constexpr int64_t kTimeBound = int64_t(1) << 61;

int64_t clampTime(int64_t t) { return std::clamp(t, -kTimeBound, kTimeBound); }

int64_t pickTime(FuzzedDataProvider& in, int64_t previous) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return in.ConsumeIntegralInRange<int64_t>(-kTimeBound, kTimeBound);  // anywhere
    case 1: return clampTime(previous - in.ConsumeIntegralInRange<int64_t>(0, 1'000'000'000));  // back in time
    default: return clampTime(previous + in.ConsumeIntegralInRange<int64_t>(0, 200'000'000));
  }
}

// Pids from a small set, so forks, execs, exits and process info meet.
int32_t pickPid(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<int32_t>(0, 6) : in.ConsumeIntegral<int32_t>();
}

fr::Bytes procFrame(FuzzedDataProvider& in) {
  static constexpr uint32_t kWhats[] = {fr::kWhatNone, fr::kWhatFork,   fr::kWhatExec,     fr::kWhatUid,
                                        fr::kWhatGid,  fr::kWhatSid,    fr::kWhatPtrace,   fr::kWhatComm,
                                        fr::kWhatCoredump, fr::kWhatExit, 0x400};
  uint32_t what = in.PickValueInArray(kWhats);
  fr::Bytes data;
  for (int i = 0; i < 6; ++i) fr::putI32(data, pickPid(in));
  size_t unionBytes = in.PickValueInArray({size_t(24), size_t(16), size_t(8), size_t(32)});
  data.resize(unionBytes);
  fr::ProcHeader h;
  h.cpu = in.ConsumeIntegralInRange<uint32_t>(0, 3);
  h.seq = in.ConsumeIntegral<uint32_t>();
  h.timestampNs = in.ConsumeIntegral<uint64_t>();
  return fr::procFrame(what, data, h, unionBytes);
}

fr::Bytes routeFrame(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) {
    fr::Link l;
    l.type = in.ConsumeBool() ? fr::kRtmNewLink : fr::kRtmDelLink;
    l.ifindex = in.ConsumeIntegralInRange<int32_t>(-1, 4);
    l.ifFlags = in.ConsumeIntegral<uint32_t>();
    l.name = in.ConsumeRandomLengthString(24);
    l.mac = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 8));
    l.operState = in.ConsumeIntegral<uint8_t>();
    return fr::link(l);
  }
  fr::Addr a;
  a.type = in.ConsumeBool() ? fr::kRtmNewAddr : fr::kRtmDelAddr;
  a.family = in.ConsumeBool() ? 2 : (in.ConsumeBool() ? 10 : in.ConsumeIntegral<uint8_t>());
  a.prefix = in.ConsumeIntegral<uint8_t>();
  a.scope = in.ConsumeIntegral<uint8_t>();
  a.ifindex = in.ConsumeIntegralInRange<uint32_t>(0, 4);
  a.address = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 17));
  a.local = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 17));
  a.broadcast = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 5));
  a.label = in.ConsumeRandomLengthString(20);
  return fr::addr(a);
}

// A frame: well-formed cn_proc or rtnetlink, several in one datagram, or raw bytes.
fr::Bytes anyFrame(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return procFrame(in);
    case 1: return routeFrame(in);
    case 2: return fr::concat({routeFrame(in), routeFrame(in), fr::done(in.ConsumeIntegral<uint32_t>())});
    case 3: return fr::concat({procFrame(in), in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 40))});
    default: return in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, kMaxRawFrame));
  }
}

format::ProcessInfo anyInfo(FuzzedDataProvider& in) {
  format::ProcessInfo p;
  p.pid = pickPid(in);
  p.tgid = in.ConsumeBool() ? p.pid : pickPid(in);
  p.ppid = pickPid(in);
  p.exe = in.ConsumeRandomLengthString(40);
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 4); n > 0; --n) p.argv.push_back(in.ConsumeRandomLengthString(20));
  p.cwd = in.ConsumeRandomLengthString(20);
  p.comm = in.ConsumeRandomLengthString(17);
  p.ruid = in.ConsumeIntegral<uint32_t>();
  p.cgroup = in.ConsumeRandomLengthString(20);
  p.startTimeTicks = in.ConsumeIntegral<uint64_t>();
  p.reason = format::InfoReason(in.ConsumeIntegralInRange<int>(0, 2));
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 3); n > 0; --n)
    p.misses.push_back({format::InfoField(in.ConsumeIntegralInRange<int>(0, 7)),
                        format::MissReason(in.ConsumeIntegralInRange<int>(0, 4)), in.ConsumeIntegral<int32_t>()});
  return p;
}

format::ClockAnchor anyAnchor(FuzzedDataProvider& in) {
  format::ClockAnchor a;
  a.monotonicNs = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-kTimeBound, kTimeBound) : 0;
  a.realtimeNs = in.ConsumeBool() ? in.ConsumeIntegral<int64_t>() : 1'767'225'600'000'000'000;
  a.boottimeNs = in.ConsumeIntegral<int64_t>();
  return a;
}

Status writeRecord(FuzzedDataProvider& in, format::TraceWriter& writer, int64_t time) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: return writer.writeProcessInfo(time, anyInfo(in));
    case 1: {
      format::Snapshot snapshot;
      for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 4); n > 0; --n) snapshot.processes.push_back(anyInfo(in));
      return writer.writeSnapshot(time, snapshot);
    }
    case 2: {
      format::Gap gap;
      gap.sourceId = in.ConsumeIntegralInRange<uint16_t>(0, 2);
      if (in.ConsumeBool()) gap.lostCount = in.ConsumeIntegral<uint64_t>();
      gap.reason = format::GapReason(in.ConsumeIntegralInRange<int>(0, 3));
      gap.detail = in.ConsumeRandomLengthString(30);
      return writer.writeGap(time, gap);
    }
    case 3: return writer.writeClocks(time, anyAnchor(in));
    case 4: return writer.flush();
    default: return writer.writeFrame(time, in.ConsumeIntegralInRange<uint16_t>(0, 2), anyFrame(in));
  }
}

format::Meta recipeMeta(FuzzedDataProvider& in) {
  format::Meta meta;
  meta.hostname = "fuzz";
  uint32_t family = in.ConsumeBool() ? 11 : in.ConsumeIntegralInRange<uint32_t>(0, 12);
  meta.sources = {{0, family, {1}, "proc connector"}, {1, 0, {1, 5, 9}, "rtnetlink"}};
  meta.commandPid = pickPid(in);
  return meta;
}

// Writes the trace the recipe describes into `file`'s memfd; some recipes
// then cut the file short, as a recorder killed mid-write leaves it.
void writeRecipe(const uint8_t* data, size_t size, Input& file) {
  FuzzedDataProvider in(data, size);
  format::WriterOptions options;
  options.deterministic = true;
  format::ClockAnchor start = anyAnchor(in);
  options.clock = [start] { return start; };
  options.chunkRawBytes = in.ConsumeIntegralInRange<size_t>(256, 8192);
  options.shuffleFrames = in.ConsumeBool();
  uint8_t cut = in.ConsumeIntegral<uint8_t>();  // below 32: keep only (cut * 3)% of the file
  if (::ftruncate(file.fd, 0) != 0) std::abort();
  auto writer = format::TraceWriter::create(file.path, recipeMeta(in), options);
  if (!writer) std::abort();  // a memfd is always writable
  int64_t time = start.monotonicNs;
  for (size_t n = 0; n < kMaxRecords && in.remaining_bytes() > 0; ++n) {
    time = pickTime(in, time);
    if (!writeRecord(in, *writer, time)) break;
  }
  (void)writer->close();
  if (cut < 32) {
    off_t length = ::lseek(file.fd, 0, SEEK_END);
    if (length < 0 || ::ftruncate(file.fd, length * cut * 3 / 100) != 0) std::abort();
  }
}

format::ReaderOptions singleThread() {
  format::ReaderOptions options;
  options.threads = 1;  // what renderTrace() uses: deterministic, and no threads to start per input
  return options;
}

void render(const std::string& path, const ReplayOptions& options) {
  auto reader = format::TraceReader::open(path, singleThread());
  if (!reader) return;
  ReaderSource source(*reader);
  DiscardSink sink;
  auto summary = proctape::replay::replay(source, options, sink);
  if (!summary) std::abort();  // a sink that never fails: replay has nothing to fail on
  touched = touched + summary->events + summary->shown + reader->damage().size();
}

// --info and --verify, as runTool() makes them, on a single-threaded reader.
void report(const std::string& path, bool info) {
  auto reader = format::TraceReader::open(path, singleThread());
  if (!reader) return;
  auto made = info ? detail::describeTrace("fuzz-input.pt", *reader) : detail::verifyTrace("fuzz-input.pt", *reader);
  touched = touched + made.text.size() + made.damaged;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input& in = input();
  static constexpr uint8_t kTraceMagic[] = {0x5e, 0x2a, 0x4d, 0x18};  // 0x184D2A5E, little-endian
  if (size >= 4 && std::memcmp(data, kTraceMagic, 4) == 0)
    in.fill(data, size);
  else
    writeRecipe(data, size, in);
  static const TimeMode kTimes[] = {TimeMode::relative, TimeMode::wall, TimeMode::none};
  auto text = defaultOptions(Format::text, kTimes[size % 3]);
  if (size % 2) {  // the pid filter follows forks, snapshots and process info
    text.filter.pid = 1;
    text.filter.descendants = true;
  }
  render(in.path, text);
  render(in.path, defaultOptions(Format::json));
  render(in.path, defaultOptions(Format::pcap));
  report(in.path, true);
  report(in.path, false);
  return 0;
}
