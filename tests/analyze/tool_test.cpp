// End to end: write a trace with TraceWriter from hand-built cn_proc frames,
// run the proctape-analyze binary on it, check what it prints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "trace_builder.h"

namespace proctape::test::analyze {
namespace {

struct ToolRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string lineOf(const std::string& text, size_t n) {
  std::istringstream in(text);
  std::string line;
  for (size_t i = 0; i <= n && std::getline(in, line); ++i) {
  }
  return line;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs proctape-analyze with `args`; paths under the test's directory show as DIR.
ToolRun analyze(const TempDir& dir, const std::string& args) {
  std::string out = dir.file("stdout"), err = dir.file("stderr");
  std::string command = std::string(PROCTAPE_ANALYZE_EXE) + " " + args + " >" + out + " 2>" + err;
  int status = std::system(command.c_str());
  ToolRun run;
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = replaceAll(readText(out), dir.path().string(), "DIR");
  run.err = replaceAll(readText(err), dir.path().string(), "DIR");
  return run;
}

class AnalyzeTool : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = dir_.file("build.pt");
    TraceBuilder builder(trace_, 1000);
    writeSmallBuild(builder);
  }
  // The same build in 20 ms chunks, so that damage hits part of it.
  std::string chunkedTrace(const std::string& name) {
    auto options = deterministicOptions();
    options.chunkMaxAgeNs = 20 * kMs;
    TraceBuilder builder(dir_.file(name), 1000, options);
    writeSmallBuild(builder);
    return dir_.file(name);
  }
  TempDir dir_;
  std::string trace_;
};

constexpr const char* kTreeGolden = R"(# DIR/build.pt (host testhost): command pid 1000, 4 processes
!  make -j2  [pid 1000, 90.0ms, rc=2]
     cc -c a.c  [pid 1001, 40.0ms, rc=0]
!    cc -c b\x20c.c  [pid 1002, 58.0ms, rc=1]
!    ld -o app a.o b.o  [pid 1003, 9.0ms, sig=11 (SIGSEGV), core]

! failed (nonzero exit status or killed by a signal)   ? incomplete (open, start or end unknown, exec info missing, or alive during lost events)
)";

TEST_F(AnalyzeTool, TreeShowsTheRecordedCommandsSubtree) {
  ToolRun run = analyze(dir_, "tree " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, kTreeGolden);
  EXPECT_EQ(run.err, "");
}

constexpr const char* kTreeAllGolden = R"(# DIR/build.pt (host testhost): all processes, 8 processes
 ? init  [pid 1, started before the trace, open]
 ?   bash  [pid 900, started before the trace, open]
 ?     proctape-record -o build.pt -- make -j2  [pid 950, started before the trace, open]
!        make -j2  [pid 1000, 90.0ms, rc=2]
           cc -c a.c  [pid 1001, 40.0ms, rc=0]
!          cc -c b\x20c.c  [pid 1002, 58.0ms, rc=1]
!          ld -o app a.o b.o  [pid 1003, 9.0ms, sig=11 (SIGSEGV), core]
 ?   cron -f  [pid 2000, open]
)";

// A recorder started again into the same directory: two recordings, each
// with its command (the second reuses the first's pid for something else).
TEST_F(AnalyzeTool, ADirectoryOfTwoRecordingsScopesToBothCommands) {
  std::filesystem::create_directory(dir_.file("ring"));
  {
    TraceBuilder first(dir_.file("ring/20260101T000000.000000000Z-000000.pt"), 1000);
    first.fork(10 * kMs, 950, 1000);
    first.exec(11 * kMs, 1000, {"make", "-j2"});
    first.exit(20 * kMs, 1000, 0, 950);
    first.close();
  }
  {
    auto random = deterministicOptions();
    random.deterministic = false;  // another uuid: another recording
    TraceBuilder second(dir_.file("ring/20260101T000100.000000000Z-000000.pt"), 2000, random);
    second.fork(30 * kMs, 1, 1000);  // pid 1000 again, outside the second command
    second.exit(31 * kMs, 1000, 0, 1);
    second.fork(40 * kMs, 951, 2000);
    second.exec(41 * kMs, 2000, {"ninja"});
    second.exit(50 * kMs, 2000, 0, 951);
    second.close();
  }
  ToolRun run = analyze(dir_, "tree " + dir_.file("ring"));
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(lineOf(run.out, 0), "# DIR/ring (host testhost): command pids 1000, 2000 (2 recordings), 2 processes");
  EXPECT_TRUE(contains(run.out, "make -j2  [pid 1000, ")) << run.out;
  EXPECT_TRUE(contains(run.out, "ninja  [pid 2000, ")) << run.out;
}

TEST_F(AnalyzeTool, TreeAllShowsSnapshotParentsAndOpenProcesses) {
  ToolRun run = analyze(dir_, "tree --all " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.substr(0, run.out.find("\n\n") + 1), kTreeAllGolden);
}

TEST_F(AnalyzeTool, TreeByRootPid) {
  ToolRun run = analyze(dir_, "tree --root 1002 " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(lineOf(run.out, 0), "# DIR/build.pt (host testhost): pid 1002 (--root), 1 processes");
  EXPECT_EQ(lineOf(run.out, 1), "!  cc -c b\\x20c.c  [pid 1002, 58.0ms, rc=1]");
}

constexpr const char* kCsvGolden =
    R"(host,trace,id,pid,parent_id,parent_pid,start_ns,end_ns,duration_ns,start_time,end_time,exit_status,term_signal,core_dumped,exe,argv,cwd,comm,uid,euid,gid,egid,exec_count,thread_count,flags
testhost,0,4,1000,3,950,9999000,99999000,90000000,2026-01-01T00:00:00.009999Z,2026-01-01T00:00:00.099999Z,2,,false,/usr/bin/make,make -j2,/src,,1000,1000,1000,1000,1,0,failed
testhost,0,5,1001,4,1000,19999000,59999000,40000000,2026-01-01T00:00:00.019999Z,2026-01-01T00:00:00.059999Z,0,,false,/usr/bin/cc,cc -c a.c,/src,,1000,1000,1000,1000,1,0,
testhost,0,6,1002,4,1000,21999000,79999000,58000000,2026-01-01T00:00:00.021999Z,2026-01-01T00:00:00.079999Z,1,,false,/usr/bin/cc,cc -c b\x20c.c,/src,,1000,1000,1000,1000,1,1,failed
testhost,0,8,1003,4,1000,80999000,89999000,9000000,2026-01-01T00:00:00.080999Z,2026-01-01T00:00:00.089999Z,,11,true,/usr/bin/ld,ld -o app a.o b.o,/src,,1000,1000,1000,1000,1,0,failed
)";

TEST_F(AnalyzeTool, ProcessesCsvDecodesStatusSignalAndCore) {
  ToolRun run = analyze(dir_, "processes " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, kCsvGolden);
}

TEST_F(AnalyzeTool, ProcessesJsonLinesHoldTheExecChain) {
  ToolRun run = analyze(dir_, "processes --format json --all " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(lineOf(run.out, 0),
            R"({"host":"testhost","trace":0,"id":1,"pid":1,"parent_id":null,"parent_pid":null,"start_ns":null,)"
            R"("end_ns":null,"duration_ns":null,"start_time":null,"end_time":null,"exit_status":null,)"
            R"("term_signal":null,"core_dumped":null,"exe":"/usr/bin/init","argv":["init"],"cwd":"/","comm":null,)"
            R"("uid":1000,"euid":1000,"gid":1000,"egid":1000,"exec_count":0,"thread_count":0,)"
            R"("flags":["start_before_trace","open"],"execs":[{"time_ns":null,"exe":"/usr/bin/init",)"
            R"("argv":["init"],"cwd":"/"}]})");
  EXPECT_EQ(lineOf(run.out, 7),
            R"({"host":"testhost","trace":0,"id":8,"pid":1003,"parent_id":4,"parent_pid":1000,"start_ns":80999000,)"
            R"("end_ns":89999000,"duration_ns":9000000,"start_time":"2026-01-01T00:00:00.080999Z",)"
            R"("end_time":"2026-01-01T00:00:00.089999Z","exit_status":null,"term_signal":11,"core_dumped":true,)"
            R"("exe":"/usr/bin/ld","argv":["ld","-o","app","a.o","b.o"],"cwd":"/src","comm":null,"uid":1000,)"
            R"("euid":1000,"gid":1000,"egid":1000,"exec_count":1,"thread_count":0,"flags":["failed"],)"
            R"("execs":[{"time_ns":81199000,"exe":"/usr/bin/ld","argv":["ld","-o","app","a.o","b.o"],"cwd":"/src"}]})");
  EXPECT_EQ(lineOf(run.out, 8), "");
}

constexpr const char* kSummaryGolden = R"(Trace         DIR/build.pt (host testhost)
Scope         command pid 1000
Wall time     90.0ms  from 2026-01-01T00:00:00.009999Z
Processes     4
Execs         4
Failures      3
  rc=1  cc -c b\x20c.c  (pid 1002, 58.0ms)
  sig=11 (SIGSEGV), core  ld -o app a.o b.o  (pid 1003, 9.0ms)
  rc=2  make -j2  (pid 1000, 90.0ms)
Parallelism   peak 2, average 1.42 (processes running at once, waiting parents excluded)
Top commands by total time
  total       runs  longest     executable
  97.6ms         2  57.8ms      /usr/bin/cc
  89.8ms         1  89.8ms      /usr/bin/make
  8.8ms          1  8.8ms       /usr/bin/ld
Top commands by longest run
  total       runs  longest     executable
  89.8ms         1  89.8ms      /usr/bin/make
  97.6ms         2  57.8ms      /usr/bin/cc
  8.8ms          1  8.8ms       /usr/bin/ld
Critical path (90.0ms, 5 steps)
   13.3%  12.0ms     make -j2
   64.4%  58.0ms       cc -c b\x20c.c
    1.1%  1.0ms      make -j2
   10.0%  9.0ms        ld -o app a.o b.o
   11.1%  10.0ms     make -j2
)";

TEST_F(AnalyzeTool, SummaryTextOfASmallBuild) {
  ToolRun run = analyze(dir_, "summary " + trace_);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, kSummaryGolden);
}

TEST_F(AnalyzeTool, SummaryJsonAndMarkdown) {
  ToolRun json = analyze(dir_, "summary --format json --top 2 " + trace_);
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out.substr(0, 12), R"({"traces":[{)");
  EXPECT_TRUE(contains(json.out, R"("wall_time_ns":90000000,"processes":4,"execs":4,"open":0,"start_unknown":0,)"));
  EXPECT_TRUE(contains(json.out, R"("parallelism":{"peak":2,"peak_at_ns":21999000,"average":1.4222})"));
  EXPECT_TRUE(contains(json.out, R"("top_by_total":[{"exe":"/usr/bin/cc","runs":2,"open_runs":0,)"
                                 R"("total_ns":97600000,"max_ns":57800000,"max_id":6},{"exe":"/usr/bin/make",)"));
  EXPECT_TRUE(contains(json.out, R"({"id":6,"pid":1002,"command":"cc -c b\\x20c.c","exe":"/usr/bin/cc",)"
                                 R"("argv":["cc","-c","b c.c"],"depth":1,"from_ns":21999000,"to_ns":79999000,)"
                                 R"("duration_ns":58000000,"share":0.6444,"start_unknown":false})"));
  EXPECT_TRUE(contains(json.out, R"("total":{"traces":1,"processes":4,"execs":4,"failures":3,)"));
  EXPECT_EQ(json.out.back(), '\n');
  ToolRun markdown = analyze(dir_, "summary --format markdown " + trace_);
  EXPECT_EQ(markdown.code, 0) << markdown.err;
  EXPECT_TRUE(contains(markdown.out, "## proctape build summary\n\n### testhost: `DIR/build.pt`\n"));
  EXPECT_TRUE(contains(markdown.out, "| 90.0ms | 4 | 4 | 3 | 2 / 1.42 |\n"));
  EXPECT_TRUE(contains(markdown.out, "| sig=11 (SIGSEGV), core | `ld -o app a.o b.o` | 1003 | 9.0ms |\n"));
  EXPECT_TRUE(contains(markdown.out, "| 64.4% | 58.0ms | &nbsp;&nbsp;`cc -c b\\x20c.c` |\n"));
}

// A command line with backticks and a pipe stays readable, exactly, in the
// Markdown table: a longer fence around backticks, \| for the pipe.
TEST_F(AnalyzeTool, MarkdownShowsBackticksAndPipesOfACommandExactly) {
  std::string path = dir_.file("ticks.pt");
  {
    TraceBuilder t(path, 1000);
    t.fork(10 * kMs, 950, 1000);
    t.exec(10 * kMs + 200 * kUs, 1000, {"sh", "-c", "echo `date` | wc"});
    t.exit(20 * kMs, 1000, exitedWith(1), 950);
    t.close();
  }
  ToolRun markdown = analyze(dir_, "summary --format markdown " + path);
  EXPECT_EQ(markdown.code, 0) << markdown.err;
  EXPECT_TRUE(contains(markdown.out, "| rc=1 | ``sh -c echo\\x20`date`\\x20\\|\\x20wc`` | 1000 |")) << markdown.out;
}

TEST_F(AnalyzeTool, GapMarksTheProcessesItMayHaveTouched) {
  std::string gapped = dir_.file("gap.pt");
  {
    TraceBuilder builder(gapped, 1000);
    writeSmallBuild(builder, true);
  }
  ToolRun tree = analyze(dir_, "tree " + gapped);
  EXPECT_EQ(tree.code, 0) << tree.err;  // a gap is data, not damage
  EXPECT_EQ(lineOf(tree.out, 1), "!? make -j2  [pid 1000, 90.0ms, rc=2, possibly incomplete]");
  EXPECT_EQ(lineOf(tree.out, 4), "!    ld -o app a.o b.o  [pid 1003, 9.0ms, sig=11 (SIGSEGV), core]");
  EXPECT_EQ(tree.err, "proctape-analyze: DIR/gap.pt: gap records: 1 (3 events lost); 3 processes in scope may be "
                      "incomplete (flag possibly_incomplete; `summary` lists them)\n");
  ToolRun rows = analyze(dir_, "processes " + gapped);
  EXPECT_TRUE(lineOf(rows.out, 2).ends_with(",1,0,possibly_incomplete")) << rows.out;
  ToolRun summary = analyze(dir_, "summary " + gapped);
  EXPECT_TRUE(contains(summary.out, "  data_loss  events_lost = 3: events lost, as the gap records count them\n"));
  EXPECT_TRUE(contains(summary.out, "  loss: gap on source 0 (kernel_overrun): 3 events lost: recv: ENOBUFS\n"));
  EXPECT_TRUE(contains(summary.out, "    pid 1001 (id 5): cc -c a.c\n"));
}

TEST_F(AnalyzeTool, TruncatedTraceIsAnalyzedAsFarAsItGoesAndReported) {
  std::string whole = chunkedTrace("chunked.pt");
  auto bytes = readFile(whole);
  bytes.resize(bytes.size() * 2 / 3);
  std::string cut = dir_.file("cut.pt");
  writeFile(cut, bytes);
  ToolRun tree = analyze(dir_, "tree " + cut);
  EXPECT_EQ(tree.code, 1);
  EXPECT_TRUE(contains(tree.err, "truncated")) << tree.err;
  EXPECT_TRUE(contains(tree.err, "processes in scope may be incomplete")) << tree.err;
  EXPECT_TRUE(contains(lineOf(tree.out, 1), "make -j2  [pid 1000, open, possibly incomplete]")) << tree.out;
  ToolRun summary = analyze(dir_, "summary --format json " + cut);
  EXPECT_EQ(summary.code, 1);
  EXPECT_TRUE(contains(summary.out, R"("counters":{"damage":{"value":1,"severity":"data_loss"})")) << summary.out;
  EXPECT_TRUE(contains(summary.out, R"("kind":"damage")"));
}

TEST_F(AnalyzeTool, CorruptChunkIsSkippedAndTheRestAnalyzed) {
  std::string whole = chunkedTrace("chunked.pt");
  auto bytes = readFile(whole);
  bytes[bytes.size() / 2] ^= 0xff;
  std::string bad = dir_.file("bad.pt");
  writeFile(bad, bytes);
  ToolRun rows = analyze(dir_, "processes " + bad);
  EXPECT_EQ(rows.code, 1);
  EXPECT_TRUE(contains(rows.err, "corrupt chunk")) << rows.err;
  EXPECT_TRUE(contains(rows.out, "possibly_incomplete")) << rows.out;
  EXPECT_TRUE(contains(rows.out, ",/usr/bin/ld,")) << rows.out;  // after the damage: still there
}

TEST_F(AnalyzeTool, SeveralTracesKeepTheirHosts) {
  std::string other = dir_.file("other.pt");
  {
    TraceBuilder builder(other, 1000, deterministicOptions(), "otherhost");
    writeSmallBuild(builder);
  }
  ToolRun rows = analyze(dir_, "processes " + trace_ + " " + other);
  EXPECT_EQ(rows.code, 0) << rows.err;
  EXPECT_TRUE(lineOf(rows.out, 1).starts_with("testhost,0,4,1000,"));
  EXPECT_TRUE(lineOf(rows.out, 5).starts_with("otherhost,1,4,1000,"));
  ToolRun summary = analyze(dir_, "summary " + trace_ + " " + other);
  EXPECT_TRUE(contains(summary.out, "Trace         DIR/other.pt (host otherhost)\n"));
  EXPECT_TRUE(contains(summary.out, "All 2 traces: 8 processes, 8 execs, 6 failures\n"));
}

TEST_F(AnalyzeTool, ExitCodesForBadInputScopeAndFormat) {
  EXPECT_EQ(analyze(dir_, "tree " + dir_.file("missing.pt")).code, 3);
  ToolRun root = analyze(dir_, "tree --root 4242 " + trace_);
  EXPECT_EQ(root.code, 5);
  EXPECT_TRUE(contains(root.err, "pid 4242 does not appear in the trace")) << root.err;
  EXPECT_EQ(analyze(dir_, "processes --format text " + trace_).code, 2);
  EXPECT_EQ(analyze(dir_, "tree --all --root 1 " + trace_).code, 2);
  EXPECT_EQ(analyze(dir_, "").code, 2);
  EXPECT_EQ(analyze(dir_, "tree -o " + dir_.file("no/such/dir/out") + " " + trace_).code, 4);
  writeFile(dir_.file("junk.pt"), {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(analyze(dir_, "summary " + dir_.file("junk.pt")).code, 3);
  for (const char* bad : {"--root 0", "--root -5", "--threads 100000", "--threads -1"})
    EXPECT_EQ(analyze(dir_, std::string("tree ") + bad + " " + trace_).code, 2) << bad;
  EXPECT_EQ(analyze(dir_, "summary --top -1 " + trace_).code, 2);
  ToolRun bogus = analyze(dir_, "bogus " + trace_);
  EXPECT_EQ(bogus.code, 2);
  EXPECT_TRUE(contains(bogus.err, "'bogus' is no subcommand")) << bogus.err;
}

// The output may not overwrite a trace being read, nor land in its segment
// directory (where it would overwrite a segment, or be read as one).
TEST_F(AnalyzeTool, OutputThatWouldOverwriteAnInputIsRefused) {
  auto before = readFile(trace_);
  for (const char* command : {"tree", "sqlite"}) {
    ToolRun run = analyze(dir_, std::string(command) + " -o " + trace_ + " " + trace_);
    EXPECT_EQ(run.code, 2) << command;
    EXPECT_TRUE(contains(run.err, "the output file is the input trace")) << run.err;
  }
  EXPECT_EQ(readFile(trace_), before);
  std::string segments = dir_.file("segments");
  std::filesystem::create_directory(segments);
  std::filesystem::copy_file(trace_, segments + "/20260101T000000.000000000Z-000000.pt");
  ToolRun run = analyze(dir_, "tree -o " + segments + "/tree.txt " + dir_.file("other.pt") + " " + segments);
  EXPECT_EQ(run.code, 2);
  EXPECT_TRUE(contains(run.err, "would land among the segments")) << run.err;
  EXPECT_FALSE(std::filesystem::exists(segments + "/tree.txt"));
}

TEST_F(AnalyzeTool, OutputFileOption) {
  ToolRun run = analyze(dir_, "tree -o " + dir_.file("tree.txt") + " " + trace_);
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(replaceAll(readText(dir_.file("tree.txt")), dir_.path().string(), "DIR"), kTreeGolden);
  // Private, as the trace is: both hold command lines.
  EXPECT_EQ(std::filesystem::status(dir_.file("tree.txt")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_EQ(analyze(dir_, "sqlite -o " + dir_.file("build.db") + " " + trace_).code, 0);
  EXPECT_EQ(std::filesystem::status(dir_.file("build.db")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace
}  // namespace proctape::test::analyze
