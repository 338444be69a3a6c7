// proctape-replay as a whole: exit codes, damage, --info, --verify, standard
// input, --follow on a growing file and a rotating directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "proctape/replay/follow.h"
#include "proctape/replay/tool.h"
#include "replay_support.h"

namespace proctape::test {
namespace {

using replay::ToolOptions;

struct ToolRun {
  int code = -1;
  std::string out;
  std::string errors;
};

ToolRun runTool(ToolOptions options, const TempDir& dir) {
  std::string outPath = dir.file("tool-out");
  int fd = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ToolRun run;
  replay::ToolIo io;
  io.out = fd;
  io.error = [&run](const std::string& message) { run.errors += message + "\n"; };
  run.code = replay::runTool(options, io);
  ::close(fd);
  auto bytes = readFile(outPath);
  run.out.assign(bytes.begin(), bytes.end());
  return run;
}

ToolOptions textOf(const std::string& input) {
  ToolOptions options;
  options.input = input;
  options.time = replay::TimeMode::none;
  return options;
}

// Three chunks of events: sid 1..3, then 4..6, then 7..9.
std::string threeChunks(TraceBuilder& trace) {
  for (int chunk = 0; chunk < 3; ++chunk) {
    for (int i = 1; i <= 3; ++i) trace.proc((chunk * 3 + i) * kMs, frames::sid(chunk * 3 + i, chunk * 3 + i));
    trace.flush();
  }
  return trace.close();
}

std::vector<format::ChunkInfo> chunksOf(const std::string& path) {
  auto reader = format::TraceReader::open(path);
  EXPECT_TRUE(reader.ok());
  return reader->chunks();
}

TEST(Tool, IntactTraceReplaysAndVerifies) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto run = runTool(textOf(path), trace.dir());
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  EXPECT_EQ(run.out.substr(0, 16), "sid(): ? (1, 1)\n");
  EXPECT_EQ(run.errors, "");
  auto verify = textOf(path);
  verify.verify = true;
  run = runTool(verify, trace.dir());
  EXPECT_EQ(run.code, replay::kExitOk);
  EXPECT_EQ(run.out, path + ": intact: 10 records (9 frames) in 4 chunks of 1 segment\n");
}

TEST(Tool, CorruptChunkPrintsEveryReadableEventThenTheDamage) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto chunks = chunksOf(path);
  ASSERT_EQ(chunks.size(), 4u);  // meta, then three of events
  auto bytes = readFile(path);
  bytes[chunks[2].offset + 60 + chunks[2].compressedSize / 2] ^= 0x5a;  // inside the second event chunk
  writeFile(path, bytes);
  auto run = runTool(textOf(path), trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_EQ(run.out,
            "sid(): ? (1, 1)\nsid(): ? (2, 2)\nsid(): ? (3, 3)\n"
            "sid(): ? (7, 7)\nsid(): ? (8, 8)\nsid(): ? (9, 9)\n");
  EXPECT_NE(run.errors.find("damage: " + path + ": offset " + std::to_string(chunks[2].offset) + ": corrupt chunk"),
            std::string::npos)
      << run.errors;
  EXPECT_NE(run.errors.find("the trace is damaged"), std::string::npos);
  auto verify = textOf(path);
  verify.verify = true;
  run = runTool(verify, trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_NE(run.out.find(": damaged: 7 records (6 frames) in 3 of the 4 chunks of 1 segment could be read\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("corrupt chunk"), std::string::npos) << run.out;
  auto info = textOf(path);
  info.info = true;
  run = runTool(info, trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_NE(run.out.find("damage       1 problem\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events       sid 6\n"), std::string::npos) << run.out;
}

// The meta chunk lost, the trace has no clock anchor: a wall-clock bound
// matches nothing, and the user is told why rather than shown nothing.
TEST(Tool, WallClockBoundsWithoutAClockAnchorSayWhyNothingMatched) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto chunks = chunksOf(path);
  auto bytes = readFile(path);
  bytes[chunks[0].offset + 60 + chunks[0].compressedSize / 2] ^= 0x5a;  // inside the meta chunk
  writeFile(path, bytes);
  auto options = textOf(path);
  options.filter.since = replay::parseTimeBound("2026-01-01T00:00:00Z").value();
  auto run = runTool(options, trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.errors.find("has no clock anchor"), std::string::npos) << run.errors;
  // Seconds from the start (here the first event's capture, 1 ms) still work.
  options.filter.since = replay::parseTimeBound("0.004").value();
  run = runTool(options, trace.dir());
  EXPECT_EQ(run.out.substr(0, 16), "sid(): ? (5, 5)\n") << run.out;
  EXPECT_EQ(run.errors.find("has no clock anchor"), std::string::npos) << run.errors;
}

// The meta chunk lost, a clocks record later: the events before it have no
// wall-clock time. pcap gives them their capture time since boot, and a
// wall-clock bound cannot place them; both say so.
TEST(Tool, EventsBeforeTheFirstClockAnchorAreNamedForPcapAndWallBounds) {
  TraceBuilder trace;
  trace.proc(1 * kMs, frames::sid(1, 1)).proc(2 * kMs, frames::sid(2, 2)).flush();
  format::ClockAnchor later{3 * kMs, 1'767'225'600'000'000'000 + 3 * kMs, 3 * kMs};
  ASSERT_TRUE(trace.writer().writeClocks(3 * kMs, later).ok());
  trace.proc(4 * kMs, frames::sid(3, 3));
  std::string path = trace.close();
  auto chunks = chunksOf(path);
  auto bytes = readFile(path);
  bytes[chunks[0].offset + 60 + chunks[0].compressedSize / 2] ^= 0x5a;  // inside the meta chunk
  writeFile(path, bytes);

  auto options = textOf(path);
  options.format = replay::Format::pcap;
  options.output = trace.dir().file("out.pcap");
  auto run = runTool(options, trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_NE(run.errors.find("2 events came before the trace's first clock anchor"), std::string::npos) << run.errors;
  EXPECT_NE(run.errors.find("pcap timestamps are capture times since boot"), std::string::npos) << run.errors;

  options = textOf(path);
  options.filter.since = replay::parseTimeBound("2025-01-01T00:00:00Z").value();
  run = runTool(options, trace.dir());
  EXPECT_EQ(run.out, "sid(): ? (3, 3)\n");
  EXPECT_NE(run.errors.find("--since/--until matched none of them"), std::string::npos) << run.errors;
}

// samples/clock-anchors steps its clock during the recording: --info gives
// each end of the span through the anchor in force there, as --time wall
// gives its last event (01:00:00.000999), not through the first anchor.
TEST(Tool, InfoSpanEndsThroughTheAnchorInForceThere) {
  TempDir dir;
  auto options = textOf(std::string(PROCTAPE_SAMPLES) + "/clock-anchors/trace.pt");
  options.info = true;
  auto run = runTool(options, dir);
  EXPECT_NE(run.out.find("2026-01-01T00:00:00.000000Z to 2026-01-01T01:00:00.000999Z\n"), std::string::npos)
      << run.out;
}

// A recorder started again into the same directory: --info says the
// directory holds two recordings, not only the first one it describes.
TEST(Tool, InfoCountsTheRecordingsOfADirectory) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("ring"));
  for (bool second : {false, true}) {
    auto options = deterministicOptions();
    options.deterministic = !second;  // the second gets a uuid of its own
    auto writer = format::TraceWriter::create(
        dir.file(second ? "ring/20260101T000100.000000000Z-000000.pt" : "ring/20260101T000000.000000000Z-000000.pt"),
        testMeta(), options);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->writeFrame(10 * kMs, kProcSource, frames::sid(1, 1)).ok());
    ASSERT_TRUE(writer->close().ok());
  }
  auto options = textOf(dir.file("ring"));
  options.info = true;
  auto run = runTool(options, dir);
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  EXPECT_NE(run.out.find("\nrecordings   2, read one after the other"), std::string::npos) << run.out;
}

TEST(Tool, ASourceTheTraceDoesNotDeclareIsNamed) {
  TraceBuilder trace;
  auto options = textOf(threeChunks(trace));
  options.filter.sources = {5};
  auto run = runTool(options, trace.dir());
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.errors.find("--source 5: the trace declares no such source (it has 0, 1; see --info)"),
            std::string::npos)
      << run.errors;
  options.filter.sources = {0};
  run = runTool(options, trace.dir());
  EXPECT_EQ(run.errors, "");
}

TEST(Tool, SpeedPacesByCaptureTime) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::sid(1, 1)).proc(1 * kSec + 200 * kMs, frames::sid(2, 2)).proc(1 * kSec + 400 * kMs, frames::sid(3, 3));
  auto options = textOf(trace.close());
  options.speed = 2;  // 400 ms of capture in 200 ms
  auto start = std::chrono::steady_clock::now();
  auto run = runTool(options, trace.dir());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.code, replay::kExitOk);
  EXPECT_EQ(run.out, "sid(): ? (1, 1)\nsid(): ? (2, 2)\nsid(): ? (3, 3)\n");
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  options.speed = 0;
  start = std::chrono::steady_clock::now();
  runTool(options, trace.dir());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(190));
}

TEST(Tool, TruncatedTraceIsDamaged) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto chunks = chunksOf(path);
  auto bytes = readFile(path);
  bytes.resize(chunks[3].offset + 70);  // into the last chunk
  writeFile(path, bytes);
  auto run = runTool(textOf(path), trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_EQ(run.out, "sid(): ? (1, 1)\nsid(): ? (2, 2)\nsid(): ? (3, 3)\nsid(): ? (4, 4)\nsid(): ? (5, 5)\nsid(): ? (6, 6)\n");
  EXPECT_NE(run.errors.find("truncated"), std::string::npos) << run.errors;
  auto verify = textOf(path);
  verify.verify = true;
  EXPECT_EQ(runTool(verify, trace.dir()).code, replay::kExitDamaged);
}

TEST(Tool, VerifyFailsOnFramesThatDoNotDecode) {
  TraceBuilder trace;
  auto fork = frames::fork(1, 1, 2, 2);
  trace.proc(1 * kSec, frames::Bytes(fork.begin(), fork.begin() + 30));
  auto verify = textOf(trace.close());
  verify.verify = true;
  auto run = runTool(verify, trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged);
  EXPECT_NE(run.out.find("1 netlink messages did not decode"), std::string::npos) << run.out;
}

TEST(Tool, InputThatIsNoTraceAndOutputThatCannotBeWritten) {
  TempDir dir;
  EXPECT_EQ(runTool(textOf(dir.file("missing.pt")), dir).code, replay::kExitNoInput);
  writeFile(dir.file("text.pt"), {'h', 'e', 'l', 'l', 'o'});
  auto run = runTool(textOf(dir.file("text.pt")), dir);
  EXPECT_EQ(run.code, replay::kExitNoInput);
  EXPECT_NE(run.errors.find("not a proctape trace"), std::string::npos) << run.errors;
  TraceBuilder trace;
  auto options = textOf(threeChunks(trace));
  options.output = dir.file("no/such/dir/out.txt");
  run = runTool(options, dir);
  EXPECT_EQ(run.code, replay::kExitOutput);
  options.output = options.input;
  EXPECT_EQ(runTool(options, dir).code, replay::kExitUsage) << "must not overwrite its input";
}

TEST(Tool, InfoDescribesTheTrace) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 2, 2))
      .proc(2 * kSec, frames::exec(2, 2))
      .gap(3 * kSec, {kProcSource, 4, format::GapReason::kernelOverrun, "ENOBUFS"})
      .route(4 * kSec, frames::link());
  auto options = textOf(trace.close());
  options.info = true;
  auto run = runTool(options, trace.dir());
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  for (const char* expected :
       {"format       1.1\n", "host         testhost, kernel 6.6.0-test", "recorder     proctape-test 0: proctape-test --flag\n",
        "sources      0: connector (family 11), groups 1: proc connector\n",
        "             1: rtnetlink (family 0), groups 1,5,9: rtnetlink\n",
        "time span    4.000000 s, 2026-01-01T00:00:00.000000Z to 2026-01-01T00:00:04.000000Z\n",
        "events       fork 1, exec 1, link 1, gap 1\n", "gaps         1: 4 events lost\n",
        "             at 3.000000 s, source 0: 4 lost (kernel_overrun: ENOBUFS)\n", "damage       none\n"})
    EXPECT_NE(run.out.find(expected), std::string::npos) << expected << "\n---\n" << run.out;
  EXPECT_NE(run.out.find("chunks       " + std::to_string(chunksOf(options.input).size()) + "\n"), std::string::npos);
}

TEST(Tool, DamagedFileHeaderIsReportedAndTheEventsStillRead) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 2, 2)).proc(2 * kSec, frames::exec(2, 2));
  std::string path = trace.close();
  auto bytes = readFile(path);
  bytes[20] ^= 0x01;  // a bit of the trace uuid: the header's CRC fails
  writeFile(path, bytes);
  auto run = runTool(textOf(path), trace.dir());
  EXPECT_EQ(run.code, replay::kExitDamaged) << run.errors;
  EXPECT_NE(run.out.find("fork()"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exec()"), std::string::npos) << run.out;
  EXPECT_NE(run.errors.find("offset 0: unexpected bytes, 48 bytes skipped: the file header"), std::string::npos)
      << run.errors;
  auto options = textOf(path);
  options.info = true;
  auto info = runTool(options, trace.dir());
  EXPECT_NE(info.out.find("file header damaged (format unknown)"), std::string::npos) << info.out;
}

// ---- the executable ----------------------------------------------------------

std::string shell(const std::string& command, int* code) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

TEST(Tool, AnInputThatCannotBeOpenedLeavesTheOutputFileAlone) {
  TempDir dir;
  std::string kept = dir.file("kept.txt");
  writeFile(kept, {'k', 'e', 'p', 't', '\n'});
  auto options = textOf(dir.file("no-such-trace.pt"));
  options.output = kept;
  auto run = runTool(options, dir);
  EXPECT_EQ(run.code, replay::kExitNoInput);
  EXPECT_EQ(readText(kept), "kept\n");
}

TEST(Tool, OutputAmongTheInputDirectorysSegmentsIsRefused) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  TempDir dir;
  std::string segments = dir.file("segments");
  std::filesystem::create_directory(segments);
  std::string segment = segments + "/20260101T000000.000000000Z-000000.pt";
  std::filesystem::copy_file(path, segment);
  for (const std::string& output : {segment, segments + "/out.txt"}) {
    auto options = textOf(segments);
    options.output = output;
    auto run = runTool(options, dir);
    EXPECT_EQ(run.code, replay::kExitUsage) << output;
    EXPECT_NE(run.errors.find("choose"), std::string::npos) << run.errors;
  }
  EXPECT_EQ(readFile(segment), readFile(path));
  EXPECT_FALSE(std::filesystem::exists(segments + "/out.txt"));
}

TEST(Tool, ReportsTakeNoFiltersFormatsOrEachOther) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto refused = [&](auto change) {
    auto options = textOf(path);
    change(options);
    return runTool(options, trace.dir());
  };
  auto both = refused([](ToolOptions& o) { o.info = o.verify = true; });
  EXPECT_EQ(both.code, replay::kExitUsage);
  EXPECT_NE(both.errors.find("give one of them"), std::string::npos) << both.errors;
  auto pcap = refused([](ToolOptions& o) { o.info = true, o.format = replay::Format::pcap; });
  EXPECT_EQ(pcap.code, replay::kExitUsage);
  EXPECT_NE(pcap.errors.find("-f pcap does not apply"), std::string::npos) << pcap.errors;
  auto filtered = refused([](ToolOptions& o) { o.verify = true, o.filter.pid = 5; });
  EXPECT_EQ(filtered.code, replay::kExitUsage);
  EXPECT_NE(filtered.errors.find("do not apply"), std::string::npos) << filtered.errors;
  for (int32_t pid : {0, -1}) {
    auto bad = refused([pid](ToolOptions& o) { o.filter.pid = pid; });
    EXPECT_EQ(bad.code, replay::kExitUsage) << pid;
    EXPECT_NE(bad.errors.find("a pid is a positive number"), std::string::npos) << bad.errors;
  }
  for (double speed : {-1.0, std::nan(""), HUGE_VAL}) {
    auto bad = refused([speed](ToolOptions& o) { o.speed = speed; });
    EXPECT_EQ(bad.code, replay::kExitUsage) << speed;
    EXPECT_NE(bad.errors.find("--speed must be a finite number"), std::string::npos) << bad.errors;
  }
}

// samples/big-endian is the start of samples/every-event as a big-endian
// machine records it: the same events must come out, in text and JSON, so
// the two goldens can never drift apart unnoticed.
TEST(Tool, BigEndianSampleReadsAsTheLittleEndianOne) {
  TempDir dir;
  std::string samples = PROCTAPE_SAMPLES;
  for (auto format : {replay::Format::text, replay::Format::json}) {
    ToolOptions big = textOf(samples + "/big-endian/trace.pt"), little = textOf(samples + "/every-event/trace.pt");
    big.format = little.format = format;
    ToolRun bigRun = runTool(big, dir), littleRun = runTool(little, dir);
    ASSERT_EQ(bigRun.code, 0) << bigRun.errors;
    std::vector<std::string> bigLines, littleLines;
    std::istringstream bigText(bigRun.out), littleText(littleRun.out);
    for (std::string line; std::getline(bigText, line);) bigLines.push_back(line);
    for (std::string line; std::getline(littleText, line) && littleLines.size() < bigLines.size();)
      littleLines.push_back(line);
    ASSERT_GT(bigLines.size(), 20u);
    EXPECT_EQ(bigLines, littleLines);
  }
}

TEST(Executable, ReadsStandardInputLikeAFile) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  int code = -1;
  std::string fromFile = shell(std::string(PROCTAPE_REPLAY_EXE) + " --format json '" + path + "'", &code);
  EXPECT_EQ(code, 0);
  std::string fromStdin = shell(std::string(PROCTAPE_REPLAY_EXE) + " --format json - < '" + path + "'", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(fromStdin, fromFile);
  EXPECT_EQ(std::count(fromFile.begin(), fromFile.end(), '\n'), 9);
}

// A pipe (as from `<(zstd -dc trace.pt.zst)`) is read like standard input.
TEST(Executable, ReadsAPipeLikeAFile) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  std::string fifo = trace.dir().file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int code = -1;
  std::string fromFile = shell(std::string(PROCTAPE_REPLAY_EXE) + " --format json '" + path + "'", &code);
  std::string fromPipe = shell("cat '" + path + "' > '" + fifo + "' & " + PROCTAPE_REPLAY_EXE + " --format json '" +
                                   fifo + "'; wait",
                               &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(fromPipe, fromFile);
}

// The copy of standard input is gone as soon as it is made, so nothing is
// left in TMPDIR even by a killed replay; messages name "standard input".
TEST(Executable, StandardInputLeavesNoFileAndIsNamedInDamage) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  auto bytes = readFile(path);
  bytes.resize(bytes.size() - 40);  // into the index: damage, every event still there
  writeFile(path, bytes);
  TempDir scratch;
  int code = -1;
  std::string errors = shell("TMPDIR='" + scratch.path().string() + "' " + PROCTAPE_REPLAY_EXE + " - < '" + path +
                                 "' 2>&1 >/dev/null",
                             &code);
  EXPECT_EQ(code, replay::kExitDamaged) << errors;
  EXPECT_NE(errors.find("damage: standard input: offset "), std::string::npos) << errors;
  EXPECT_EQ(errors.find("/proc/self/fd"), std::string::npos) << errors;
  EXPECT_TRUE(std::filesystem::is_empty(scratch.path()));
}

TEST(Executable, UsageErrorsExitWithTwo) {
  TraceBuilder trace;
  std::string path = threeChunks(trace);
  std::string exe = PROCTAPE_REPLAY_EXE;
  int code = -1;
  shell(exe + " --type fork,bogus '" + path + "' 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  shell(exe + " --descendants '" + path + "' 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  shell(exe + " --format xml '" + path + "' 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  shell(exe + " --since yesterday '" + path + "' 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  shell(exe + " 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  std::string help = shell(exe + " --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(help.find("Exit codes:"), std::string::npos);
}

// ---- --follow ----------------------------------------------------------------

// Writes `batches` batches of sid events (one per 10 ms of capture time), each
// flushed, `pause` apart in real time, as a live recorder would.
void writeLive(format::TraceWriter& writer, int batches, std::chrono::milliseconds pause) {
  int n = 0;
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < 5; ++i, ++n)
      ASSERT_TRUE(writer.writeFrame((n + 1) * 10 * kMs, kProcSource, frames::sid(1000 + n, 1000 + n)).ok());
    ASSERT_TRUE(writer.flush().ok());
    std::this_thread::sleep_for(pause);
  }
}

std::string expectedSids(int count) {
  std::string text;
  for (int n = 0; n < count; ++n) text += "sid(): ? (" + std::to_string(1000 + n) + ", " + std::to_string(1000 + n) + ")\n";
  return text;
}

TEST(Follow, ReadsAGrowingFileUntilItsRecorderClosesIt) {
  TempDir dir;
  std::string path = dir.file("live.pt");
  auto writer = format::TraceWriter::create(path, testMeta(), deterministicOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->flush().ok());
  auto options = textOf(path);
  options.follow = true;
  options.poll = std::chrono::milliseconds(30);
  auto started = std::chrono::steady_clock::now();
  std::thread recorder([&] {
    writeLive(*writer, 6, std::chrono::milliseconds(120));
    ASSERT_TRUE(writer->close().ok());
  });
  auto run = runTool(options, dir);  // returns once the trace is closed
  recorder.join();
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  EXPECT_EQ(run.out, expectedSids(30));
  EXPECT_EQ(run.errors, "") << "a live file's unfinished tail is no damage";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(Follow, FollowsRotationInADirectoryUntilStopped) {
  TempDir dir;
  std::string path = dir.file("segments");
  auto writerOptions = deterministicOptions();
  writerOptions.rotation = format::RotationOptions{600, 0, 0};  // a new segment every few chunks
  auto writer = format::TraceWriter::create(path, testMeta(), writerOptions);
  ASSERT_TRUE(writer.ok());
  std::atomic<bool> written{false};
  std::thread recorder([&] {
    writeLive(*writer, 8, std::chrono::milliseconds(80));
    ASSERT_TRUE(writer->close().ok());
    written = true;
  });
  auto options = textOf(path);
  options.follow = true;
  options.poll = std::chrono::milliseconds(30);
  std::chrono::steady_clock::time_point writtenAt{};
  options.stop = [&] {
    if (!written) return false;
    if (writtenAt == std::chrono::steady_clock::time_point{}) writtenAt = std::chrono::steady_clock::now();
    return std::chrono::steady_clock::now() - writtenAt > std::chrono::milliseconds(300);
  };
  auto run = runTool(options, dir);
  recorder.join();
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  EXPECT_EQ(run.out, expectedSids(40));
  EXPECT_EQ(run.errors, "");
  auto reader = format::TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_GT(reader->segments().size(), 2u) << "the test must rotate";
}

TEST(Follow, AFlightRecorderDeletingOldSegmentsIsNoDamage) {
  TempDir dir;
  std::string path = dir.file("ring");
  auto writerOptions = deterministicOptions();
  // Keep only the newest three segments: several batches ahead of a follower
  // that polls every 20 ms (one that fell further behind would report a loss).
  writerOptions.rotation = format::RotationOptions{600, 0, 3};
  auto writer = format::TraceWriter::create(path, testMeta(), writerOptions);
  ASSERT_TRUE(writer.ok());
  std::atomic<bool> written{false};
  std::thread recorder([&] {
    writeLive(*writer, 8, std::chrono::milliseconds(60));
    ASSERT_TRUE(writer->close().ok());
    written = true;
  });
  auto options = textOf(path);
  options.follow = true;
  options.poll = std::chrono::milliseconds(20);
  std::chrono::steady_clock::time_point writtenAt{};
  options.stop = [&] {
    if (!written) return false;
    if (writtenAt == std::chrono::steady_clock::time_point{}) writtenAt = std::chrono::steady_clock::now();
    return std::chrono::steady_clock::now() - writtenAt > std::chrono::milliseconds(200);
  };
  auto run = runTool(options, dir);
  recorder.join();
  EXPECT_EQ(run.code, replay::kExitOk) << run.errors;
  EXPECT_EQ(run.errors, "");
  // Whatever was read before its segment went is in order, each event once, and the end is there.
  std::istringstream lines(run.out);
  int last = 999;
  for (std::string line; std::getline(lines, line);) {
    int pid = std::stoi(line.substr(line.find(" (") + 2));
    EXPECT_GT(pid, last) << run.out;
    last = pid;
  }
  EXPECT_EQ(last, 1039) << run.out;
  auto reader = format::TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->segments().size(), 3u) << "the test must prune segments";
}

// Pulls from `source` until it is idle (or ends); the sids it read, in order.
std::vector<int32_t> drainSids(replay::FollowSource& source, replay::Pull* last = nullptr) {
  std::vector<int32_t> sids;
  format::Record record;
  replay::Pull pull;
  while ((pull = source.next(record)) == replay::Pull::record) {
    const auto* frame = std::get_if<format::Frame>(&record.body);
    if (frame && frame->bytes.size() >= 56) sids.push_back(int32_t(frame->bytes[52] | frame->bytes[53] << 8));
  }
  if (last) *last = pull;
  return sids;
}

replay::FollowOptions pollEveryMillisecond() {
  replay::FollowOptions options;
  options.poll = std::chrono::milliseconds(1);
  return options;
}

format::WriterOptions smallRing(size_t keep) {
  auto options = deterministicOptions();
  options.rotation = format::RotationOptions{600, 0, keep};  // a new segment every few batches
  return options;
}

// Stepped by hand, so the timing is the test's: a follower that keeps up
// reports nothing when the recorder prunes what it has read...
TEST(FollowSource, PruningWhatWasReadIsNoLoss) {
  TempDir dir;
  auto writer = format::TraceWriter::create(dir.file("ring"), testMeta(), smallRing(2));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->flush().ok());
  auto source = replay::FollowSource::open(dir.file("ring"), pollEveryMillisecond());
  ASSERT_TRUE(source.ok()) << source.error().message;
  size_t read = 0;
  for (int n = 0; n < 40; ++n) {
    ASSERT_TRUE(writer->writeFrame((n + 1) * 10 * kMs, kProcSource, frames::sid(1000 + n, 1000 + n)).ok());
    ASSERT_TRUE(writer->flush().ok());
    read += drainSids(**source).size();
  }
  EXPECT_GT(writer->stats().segments, 4u) << "the test must rotate";
  EXPECT_EQ(read, 40u);
  EXPECT_TRUE((*source)->damage().empty()) << format::describe((*source)->damage().front());
}

// ...and one that falls behind says which segments it never saw.
TEST(FollowSource, SegmentsPrunedBeforeTheFollowerReadThemAreALoss) {
  TempDir dir;
  auto writer = format::TraceWriter::create(dir.file("ring"), testMeta(), smallRing(2));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->writeFrame(10 * kMs, kProcSource, frames::sid(1000, 1000)).ok());
  ASSERT_TRUE(writer->flush().ok());
  auto source = replay::FollowSource::open(dir.file("ring"), pollEveryMillisecond());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(drainSids(**source), std::vector<int32_t>{1000});
  for (int n = 1; n < 40; ++n) {
    ASSERT_TRUE(writer->writeFrame((n + 1) * 10 * kMs, kProcSource, frames::sid(1000 + n, 1000 + n)).ok());
    ASSERT_TRUE(writer->flush().ok());
  }
  auto later = drainSids(**source);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later.back(), 1039);
  ASSERT_EQ((*source)->damage().size(), 1u);
  const format::Damage& loss = (*source)->damage().front();
  EXPECT_EQ(loss.kind, format::DamageKind::missingSegment);
  EXPECT_NE(loss.detail.find("the end of segment 0 and segments 1 to "), std::string::npos) << loss.detail;
  EXPECT_NE(loss.detail.find(" were deleted (by the recorder's --keep) before --follow read them"), std::string::npos)
      << loss.detail;
}

TEST(FollowSource, EndsWhenTheFileIsDeletedOrReplacedByANewRecording) {
  TempDir dir;
  for (bool replace : {false, true}) {
    std::string path = dir.file(replace ? "replaced.pt" : "deleted.pt");
    // What a recorder killed mid-recording leaves: no index, no trailer.
    {
      auto writer = format::TraceWriter::create(dir.file("killed.pt"), testMeta(), deterministicOptions());
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE(writer->writeFrame(10 * kMs, kProcSource, frames::sid(1000, 1000)).ok());
      ASSERT_TRUE(writer->flush().ok());
      writeFile(path, readFile(dir.file("killed.pt")));
      ASSERT_TRUE(writer->close().ok());
    }
    std::string why;
    replay::FollowOptions options = pollEveryMillisecond();
    options.onEnd = [&](const std::string& text) { why = text; };
    auto source = replay::FollowSource::open(path, options);
    ASSERT_TRUE(source.ok()) << source.error().message;
    replay::Pull pull;
    EXPECT_EQ(drainSids(**source, &pull), std::vector<int32_t>{1000});
    EXPECT_EQ(pull, replay::Pull::idle);
    std::optional<format::TraceWriter> next;
    if (replace) {  // a recorder started again on the same -o: a new uuid
      auto fresh = deterministicOptions();
      fresh.deterministic = false;
      auto writer = format::TraceWriter::create(path, testMeta(), fresh);
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE(writer->writeFrame(20 * kMs, kProcSource, frames::sid(2000, 2000)).ok());
      ASSERT_TRUE(writer->flush().ok());
      next.emplace(std::move(*writer));
    } else {
      std::filesystem::remove(path);
    }
    EXPECT_EQ(drainSids(**source, &pull), std::vector<int32_t>{});
    EXPECT_EQ(pull, replay::Pull::end);
    EXPECT_NE(why.find(replace ? "a new recording replaced" : "the file was deleted"), std::string::npos) << why;
  }
}

TEST(Follow, SeesNewChunksWithinASecond) {
  TempDir dir;
  std::string path = dir.file("live.pt");
  auto writer = format::TraceWriter::create(path, testMeta(), deterministicOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->flush().ok());
  std::string outPath = dir.file("out");
  std::atomic<bool> stop{false};
  std::thread follower([&] {
    auto options = textOf(path);
    options.follow = true;
    options.output = outPath;
    options.stop = [&] { return stop.load(); };
    replay::ToolIo io;
    io.error = [](const std::string&) {};
    replay::runTool(options, io);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(writer->writeFrame(10 * kMs, kProcSource, frames::sid(42, 42)).ok());
  ASSERT_TRUE(writer->flush().ok());
  auto wrote = std::chrono::steady_clock::now();
  std::string seen;
  while (std::chrono::steady_clock::now() - wrote < std::chrono::seconds(3) && seen.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto bytes = readFile(outPath);
    seen.assign(bytes.begin(), bytes.end());
  }
  auto latency = std::chrono::steady_clock::now() - wrote;
  stop = true;
  follower.join();
  EXPECT_EQ(seen, "sid(): ? (42, 42)\n");
  EXPECT_LT(latency, std::chrono::seconds(1));
  ASSERT_TRUE(writer->close().ok());
}

}  // namespace
}  // namespace proctape::test
