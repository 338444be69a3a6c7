// End to end for the exports: `timeline` (Chrome Trace Event JSON) and
// `sqlite` (a database queried back with the sqlite3 C API, and with the
// sqlite3 shell when it is installed), over the small synthetic build.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "trace_builder.h"

namespace proctape::test::analyze {
namespace {

// Runs proctape-analyze with `args` (stdout and stderr to files); its exit code.
int runAnalyze(const TempDir& dir, const std::string& args) {
  std::string command = std::string(PROCTAPE_ANALYZE_EXE) + " " + args + " >" + dir.file("stdout") + " 2>" +
                        dir.file("stderr");
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool haveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

size_t countOf(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

class AnalyzeExport : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = dir_.file("build.pt");
    TraceBuilder builder(trace_, 1000);
    writeSmallBuild(builder);
  }
  TempDir dir_;
  std::string trace_;
};

TEST_F(AnalyzeExport, TimelineHasOneCompleteEventPerProcessInTreeOrder) {
  ASSERT_EQ(runAnalyze(dir_, "timeline -o " + dir_.file("t.json") + " " + trace_), 0) << readText(dir_.file("stderr"));
  std::string json = readText(dir_.file("t.json"));
  EXPECT_EQ(json.rfind(R"({"traceEvents":[)", 0), 0u);
  EXPECT_NE(json.find(R"(],"displayTimeUnit":"ms"})"), std::string::npos);
  EXPECT_EQ(countOf(json, R"("ph":"X")"), 4u);  // make and its three children
  EXPECT_EQ(countOf(json, R"("name":"process_name")"), 4u);
  EXPECT_EQ(countOf(json, R"("name":"thread_name")"), 4u);
  EXPECT_EQ(countOf(json, R"("name":"process_sort_index")"), 4u);
  // make: forked at 9.999 ms from the trace start, 90 ms long, on track 1.
  EXPECT_NE(json.find(R"("name":"make -j2","pid":1,"tid":1,"ts":9999.0000,"dur":90000.0000)"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("args":{"name":"make -j2 [pid 1000]"})"), std::string::npos);
  // Children follow their parent: tracks 2-4 in start order.
  EXPECT_NE(json.find(R"("name":"cc -c a.c","pid":2,"tid":2)"), std::string::npos);
  EXPECT_NE(json.find(R"("name":"ld -o app a.o b.o","pid":4,"tid":4)"), std::string::npos);
  EXPECT_NE(json.find(R"("argv":["cc","-c","b c.c"],"exe":"/usr/bin/cc","cwd":"/src","exit_status":1)"),
            std::string::npos);
  EXPECT_NE(json.find(R"("exit_status":null,"term_signal":11,"core_dumped":true)"), std::string::npos);
}

TEST_F(AnalyzeExport, TimelineMarksOpenProcessesAndSeparatesPidReuse) {
  ASSERT_EQ(runAnalyze(dir_, "timeline --all " + trace_), 0);
  std::string json = readText(dir_.file("stdout"));
  EXPECT_EQ(countOf(json, R"("ph":"X")"), 8u);
  EXPECT_NE(json.find(R"j("end":"open (still running at the trace end)")j"), std::string::npos);
  EXPECT_NE(json.find(R"("start":"before the trace")"), std::string::npos);
  // Each incarnation has its own track: track ids 1..8, never a pid.
  EXPECT_NE(json.find(R"("pid":8,"tid":8)"), std::string::npos);
  EXPECT_EQ(json.find(R"("pid":1000,"tid":1000)"), std::string::npos);
}

TEST_F(AnalyzeExport, TimelineIsValidJsonForPython) {
  if (!haveCommand("python3")) GTEST_SKIP() << "python3 is not installed: json.load check skipped";
  ASSERT_EQ(runAnalyze(dir_, "timeline --all -o " + dir_.file("t.json") + " " + trace_), 0);
  std::string check = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                      "x=[e for e in d[\"traceEvents\"] if e[\"ph\"]==\"X\"]; "
                      "assert d[\"displayTimeUnit\"]==\"ms\" and len(x)==8; "
                      "assert all(e[\"ts\"]>=0 and e[\"dur\"]>=0 and e[\"pid\"]==e[\"tid\"] for e in x)' " +
                      dir_.file("t.json");
  EXPECT_EQ(std::system(check.c_str()), 0);
}

class Database {
 public:
  explicit Database(const std::string& path) { EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK); }
  ~Database() { sqlite3_close(db_); }
  // The first column of the first row as text ("NULL" for a null, "" for no row).
  std::string one(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    std::string value;
    if (statement && sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      value = text ? reinterpret_cast<const char*>(text) : "NULL";
    }
    sqlite3_finalize(statement);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST_F(AnalyzeExport, SqliteHoldsProcessesExecsEventsAndIndexes) {
  std::string path = dir_.file("build.db");
  ASSERT_EQ(runAnalyze(dir_, "sqlite --all -o " + path + " " + trace_), 0) << readText(dir_.file("stderr"));
  Database db(path);
  EXPECT_EQ(db.one("SELECT count(*) FROM processes"), "8");
  EXPECT_EQ(db.one("SELECT exit_status FROM processes WHERE pid = 1000"), "2");
  EXPECT_EQ(db.one("SELECT term_signal || ',' || core_dumped FROM processes WHERE pid = 1003"), "11,1");
  EXPECT_EQ(db.one("SELECT execs.argv FROM execs JOIN processes p ON p.id = execs.process_id WHERE p.pid = 1002"),
            "cc -c b\\x20c.c");
  EXPECT_EQ(db.one("SELECT count(*) FROM execs WHERE time_ns IS NOT NULL"), "5");
  EXPECT_EQ(db.one("SELECT count(*) FROM events WHERE kind = 'fork'"), "5");
  EXPECT_EQ(db.one("SELECT count(*) FROM events WHERE kind = 'exit'"), "4");
  EXPECT_EQ(db.one("SELECT detail FROM events e JOIN processes p ON p.id = e.process_id "
                   "WHERE p.pid = 1003 AND kind = 'exit'"),
            "sig=11 (SIGSEGV), core");
  EXPECT_EQ(db.one("SELECT count(*) FROM gaps"), "0");
  EXPECT_EQ(db.one("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'processes_exe'"), "1");
  EXPECT_EQ(db.one("SELECT p.pid FROM processes c JOIN processes p ON p.id = c.parent_id WHERE c.pid = 1001"),
            "1000");
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST_F(AnalyzeExport, SqliteRecordsGaps) {
  TraceBuilder builder(dir_.file("gap.pt"), 1000);
  writeSmallBuild(builder, true);
  std::string path = dir_.file("gap.db");
  ASSERT_EQ(runAnalyze(dir_, "sqlite -o " + path + " " + dir_.file("gap.pt")), 0);
  Database db(path);
  EXPECT_EQ(db.one("SELECT kind || ',' || lost_count FROM gaps"), "gap,3");
}

// Exports NAME.pt in `dir` to NAME.db; the database's path.
std::string exportToSqlite(const TempDir& dir, const std::string& name) {
  std::string path = dir.file(name + ".db");
  EXPECT_EQ(runAnalyze(dir, "sqlite -o " + path + " " + dir.file(name + ".pt")), 0) << readText(dir.file("stderr"));
  return path;
}

// An exec names a process without a comm event; only a rename is an event row.
TEST_F(AnalyzeExport, SqliteCommRowsAreRenamesNotTheNamesExecsGive) {
  TraceBuilder builder(dir_.file("comm.pt"), 1000);
  builder.fork(1 * kMs, 950, 1000);
  builder.frame(2 * kMs, frames::exec(1000, 1000));
  format::ProcessInfo info = execInfo(1000, {"python3", "server.py"});
  info.comm = "python3";
  builder.info(2 * kMs + 100 * kUs, info);
  builder.fork(3 * kMs, 1000, 1001);
  builder.frame(4 * kMs, frames::comm(1001, 1001, "worker-1"));
  builder.exit(5 * kMs, 1001, 0, 1000);
  builder.exit(6 * kMs, 1000, 0, 950);
  builder.close();
  Database db(exportToSqlite(dir_, "comm"));
  EXPECT_EQ(db.one("SELECT comm FROM processes WHERE pid = 1000"), "python3");
  EXPECT_EQ(db.one("SELECT count(*) FROM events WHERE kind = 'comm'"), "1");
  EXPECT_EQ(db.one("SELECT p.pid || ',' || e.detail FROM events e JOIN processes p ON p.id = e.process_id "
                   "WHERE kind = 'comm'"),
            "1001,worker-1");
}

// SQLite stores TEXT bytes unchecked; Python's sqlite3 module then refuses a
// whole query. Every text cell is valid UTF-8, escaped as the CSV escapes it.
TEST_F(AnalyzeExport, SqliteTextIsValidUtf8EscapedAsInCsv) {
  TraceBuilder builder(dir_.file("bytes.pt"), 1000);
  builder.fork(1 * kMs, 950, 1000);
  builder.frame(2 * kMs, frames::exec(1000, 1000));
  format::ProcessInfo info = execInfo(1000, {"tool", "arg\xff"});
  info.exe = "/opt/bad\xff" "dir/tool";
  info.cwd = "/tmp/new\nline\xfe";
  builder.info(2 * kMs + 100 * kUs, info);
  builder.frame(3 * kMs, frames::comm(1000, 1000, "k\xff" "d"));
  builder.exit(5 * kMs, 1000, 0, 950);
  builder.close();
  Database db(exportToSqlite(dir_, "bytes"));
  EXPECT_EQ(db.one("SELECT exe FROM processes WHERE pid = 1000"), "/opt/bad\\xffdir/tool");
  EXPECT_EQ(db.one("SELECT cwd FROM processes WHERE pid = 1000"), "/tmp/new\\nline\\xfe");
  EXPECT_EQ(db.one("SELECT argv FROM processes WHERE pid = 1000"), "tool arg\\xff");
  EXPECT_EQ(db.one("SELECT comm FROM processes WHERE pid = 1000"), "k\\xffd");
  EXPECT_EQ(db.one("SELECT exe || ',' || cwd FROM execs"), "/opt/bad\\xffdir/tool,/tmp/new\\nline\\xfe");
  EXPECT_EQ(db.one("SELECT detail FROM events WHERE kind = 'exec'"), "/opt/bad\\xffdir/tool");
  EXPECT_EQ(db.one("SELECT detail FROM events WHERE kind = 'comm'"), "k\\xffd");
}

TEST_F(AnalyzeExport, SqliteIsReadableWithTheShell) {
  if (!haveCommand("sqlite3")) GTEST_SKIP() << "the sqlite3 shell is not installed: CLI check skipped";
  std::string path = dir_.file("build.db");
  ASSERT_EQ(runAnalyze(dir_, "sqlite -o " + path + " " + trace_), 0);
  std::string command = "sqlite3 " + path + " 'select count(*) from processes' >" + dir_.file("cli") + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(readText(dir_.file("cli")), "4\n");
}

TEST_F(AnalyzeExport, SqliteErrorsExitWithOutputOrUsageCodes) {
  EXPECT_EQ(runAnalyze(dir_, "sqlite -o " + dir_.file("missing/dir/x.db") + " " + trace_), 4);
  EXPECT_NE(readText(dir_.file("stderr")).find("cannot write the database"), std::string::npos);
  EXPECT_EQ(runAnalyze(dir_, "sqlite " + trace_), 2);
  EXPECT_NE(readText(dir_.file("stderr")).find("needs -o FILE"), std::string::npos);
}

}  // namespace
}  // namespace proctape::test::analyze
