// JSON Lines output: exact objects, and the exit-status fields that cn_proc
// consumers so often get wrong.
#include <gtest/gtest.h>

#include "proctape/replay/escape.h"
#include "replay_support.h"

namespace proctape::test {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    out.push_back(text.substr(start, end - start));
  EXPECT_EQ(start, text.size()) << "the output must end with a newline";
  return out;
}

TEST(JsonRender, ForkExecExitWithNamesAndProcessInfo) {
  TraceBuilder trace;
  format::Snapshot snapshot;
  snapshot.processes.push_back(processInfo(1451658, 1, "/bin/zsh", {"-zsh"}, format::InfoReason::snapshot));
  trace.snapshot(1 * kMs, snapshot)
      .proc(1 * kSec, frames::fork(1451658, 1451658, 1451730, 1451730, {1, 5'000'000, 41}))
      .proc(1 * kSec + kMs, frames::exec(1451730, 1451730, {1, 6'000'000, 42}))
      .info(1 * kSec + 3 * kMs, processInfo(1451730, 1451658, "/bin/sleep", {"sleep", "1"}))
      .proc(2 * kSec, frames::exit(1451730, 1451730, 0, 17, 1451658, 1451658, {0, 7'000'000, 9}));
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0],
            R"({"type":"snapshot","time_ns":1000000,"wall_time_ns":1767225600001000000,"processes":[)"
            R"({"reason":"snapshot","pid":1451658,"tgid":1451658,"ppid":1,"exe":"/bin/zsh","argv":["-zsh"],)"
            R"("cwd":"/home/user","comm":"zsh","ruid":1000,"euid":1000,"rgid":1000,"egid":1000,"cgroup":"",)"
            R"("start_time_ticks":0}]})");
  EXPECT_EQ(out[1],
            R"({"type":"fork","time_ns":1000000000,"wall_time_ns":1767225601000000000,"source":0,)"
            R"("kernel_time_ns":5000000,"cpu":1,"cn_seq":41,"parent_pid":1451658,"parent_tgid":1451658,)"
            R"("child_pid":1451730,"child_tgid":1451730,"parent_name":"/bin/zsh"})");
  EXPECT_EQ(out[2],
            R"({"type":"exec","time_ns":1001000000,"wall_time_ns":1767225601001000000,"source":0,)"
            R"("kernel_time_ns":6000000,"cpu":1,"cn_seq":42,"pid":1451730,"tgid":1451730,"name":"/bin/sleep",)"
            R"("exe":"/bin/sleep","argv":["sleep","1"],"cwd":"/home/user"})");
  EXPECT_EQ(out[3],
            R"({"type":"process_info","time_ns":1003000000,"wall_time_ns":1767225601003000000,)"
            R"("reason":"exec","pid":1451730,"tgid":1451730,"ppid":1451658,"exe":"/bin/sleep",)"
            R"("argv":["sleep","1"],"cwd":"/home/user","comm":"sleep","ruid":1000,"euid":1000,"rgid":1000,)"
            R"("egid":1000,"cgroup":"","start_time_ticks":0,"name":"/bin/sleep"})");
  EXPECT_EQ(out[4],
            R"({"type":"exit","time_ns":2000000000,"wall_time_ns":1767225602000000000,"source":0,)"
            R"("kernel_time_ns":7000000,"cpu":0,"cn_seq":9,"pid":1451730,"tgid":1451730,"exit_code":0,)"
            R"("exit_signal":17,"parent_pid":1451658,"parent_tgid":1451658,"status":0,"core_dumped":false,)"
            R"("name":"/bin/sleep"})");
}

// exit_code is the wait status and exit_signal the signal the parent gets:
// SIGCHLD (17) here, whatever killed the child. status, term_signal and
// core_dumped are what the wait status means.
TEST(JsonRender, ExitKeepsRawFieldsAndDecodesTheWaitStatus) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::exit(100, 100, 3 << 8, 17, 1, 1))        // exit(3)
      .proc(2 * kSec, frames::exit(101, 101, 9, 17, 1, 1))               // SIGKILL
      .proc(3 * kSec, frames::exit(102, 102, 0x80 | 11, 17, 1, 1))       // SIGSEGV + core
      .proc(4 * kSec, frames::exit(103, 100, 0, uint32_t(-1), 1, 1));    // a thread: exit_signal -1
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 4u);
  auto tail = [](const std::string& line) { return line.substr(line.find(R"("pid":)")); };
  EXPECT_EQ(tail(out[0]),
            R"("pid":100,"tgid":100,"exit_code":768,"exit_signal":17,"parent_pid":1,"parent_tgid":1,)"
            R"("status":3,"core_dumped":false})");
  EXPECT_EQ(tail(out[1]),
            R"("pid":101,"tgid":101,"exit_code":9,"exit_signal":17,"parent_pid":1,"parent_tgid":1,)"
            R"("term_signal":9,"core_dumped":false})");
  EXPECT_EQ(tail(out[2]),
            R"("pid":102,"tgid":102,"exit_code":139,"exit_signal":17,"parent_pid":1,"parent_tgid":1,)"
            R"("term_signal":11,"core_dumped":true})");
  EXPECT_EQ(tail(out[3]),
            R"("pid":103,"tgid":100,"exit_code":0,"exit_signal":-1,"parent_pid":1,"parent_tgid":1,)"
            R"("status":0,"core_dumped":false})");
  for (const auto& line : out) {
    // Never both, never the parent's signal taken for the killing one.
    EXPECT_FALSE(line.find(R"("status")") != std::string::npos && line.find("term_signal") != std::string::npos);
    EXPECT_EQ(line.find(R"("term_signal":17)"), std::string::npos);
  }
}

TEST(JsonRender, OldExitLayoutWithoutParentFields) {
  // Kernels before the parent fields: the union carries pid, tgid, exit_code, exit_signal only.
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::procFrame(frames::kWhatExit, frames::ints({50, 50, 2 << 8, 17}), {}, 16));
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("pid":50,"tgid":50,"exit_code":512,"exit_signal":17,"status":2,"core_dumped":false})"),
            std::string::npos)
      << out[0];
}

TEST(JsonRender, OtherProcEventTypes) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::ack(0))
      .proc(2 * kSec, frames::uid(5, 5, 0, 1000))
      .proc(3 * kSec, frames::gid(5, 5, 0, 100))
      .proc(4 * kSec, frames::ptrace(5, 5, 9, 9))
      .proc(5 * kSec, frames::comm(5, 6, "a\"b"))
      .proc(6 * kSec, frames::coredump(5, 5, 1, 1))
      .proc(7 * kSec, frames::procFrame(0x400, frames::ints({1})))
      .proc(8 * kSec, frames::sid(5, 5));
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 8u);
  auto tail = [](const std::string& line) { return line.substr(line.find(R"("cn_seq":7)") + 10); };
  EXPECT_EQ(tail(out[0]), R"(,"err":0})");
  EXPECT_EQ(tail(out[1]), R"(,"pid":5,"tgid":5,"ruid":0,"euid":1000})");
  EXPECT_EQ(tail(out[2]), R"(,"pid":5,"tgid":5,"rgid":0,"egid":100})");
  EXPECT_EQ(tail(out[3]), R"(,"pid":5,"tgid":5,"tracer_pid":9,"tracer_tgid":9})");
  EXPECT_EQ(tail(out[4]), R"(,"pid":5,"tgid":6,"comm":"a\"b"})");
  EXPECT_EQ(tail(out[5]), R"(,"pid":5,"tgid":5,"parent_pid":1,"parent_tgid":1})");
  EXPECT_EQ(tail(out[6]), R"(,"what":1024,"raw":"010000000000000000000000000000000000000000000000"})");
  EXPECT_EQ(tail(out[7]), R"(,"pid":5,"tgid":5})");
  EXPECT_EQ(out[0].substr(0, 16), R"({"type":"ack","t)");
}

TEST(JsonRender, LinkAddrGapAndDecodeError) {
  TraceBuilder trace;
  auto fork = frames::fork(1, 1, 2, 2);
  trace.route(1 * kSec, frames::link())
      .route(2 * kSec, frames::addr())
      .gap(3 * kSec, {kProcSource, std::nullopt, format::GapReason::kernelOverrun, "ENOBUFS"})
      .gap(4 * kSec, {kProcSource, 3, format::GapReason::other, ""})
      .proc(5 * kSec, frames::Bytes(fork.begin(), fork.begin() + 20));
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0],
            R"({"type":"link","time_ns":1000000000,"wall_time_ns":1767225601000000000,"source":1,"msg":"NEWLINK",)"
            R"("ifindex":2,"ifname":"eth0","family":0,"device_type":1,"flags":69699,)"
            R"("flag_names":["up","broadcast","running","multicast","lower_up"],"change":0,"mtu":1500,)"
            R"("operstate":"up","address":"08:00:27:41:de:23","broadcast":"ff:ff:ff:ff:ff:ff"})");
  EXPECT_EQ(out[1],
            R"({"type":"addr","time_ns":2000000000,"wall_time_ns":1767225602000000000,"source":1,"msg":"NEWADDR",)"
            R"("family":"inet","ifindex":2,"ifname":"eth0","prefixlen":24,"scope":"global","flags":128,)"
            R"("address":"10.3.0.185","local":"10.3.0.185","broadcast":"10.3.0.255","label":"eth0"})");
  EXPECT_EQ(out[2],
            R"({"type":"gap","time_ns":3000000000,"wall_time_ns":1767225603000000000,"source":0,)"
            R"("lost_count":null,"reason":"kernel_overrun","detail":"ENOBUFS"})");
  EXPECT_EQ(out[3],
            R"({"type":"gap","time_ns":4000000000,"wall_time_ns":1767225604000000000,"source":0,)"
            R"("lost_count":3,"reason":"other","detail":""})");
  EXPECT_EQ(out[4].rfind(R"({"type":"decode_error","time_ns":5000000000,"wall_time_ns":1767225605000000000,)"
                         R"("source":0,"reason":")",
                         0),
            0u)
      << out[4];
  EXPECT_NE(out[4].find(R"(,"offset":0,"raw":"4c00000003000000070000000000000001000000"})"),
            std::string::npos)
      << out[4];
}

std::string json(std::string_view text) {
  replay::Buffer buffer;
  replay::appendJsonString(buffer, text);
  return std::string(buffer.view());
}

TEST(JsonEscape, QuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json("plain"), R"("plain")");
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(json(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST(JsonEscape, ValidUtf8StaysInvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(json("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(json("\xff"), R"("\ufffd")");                 // never valid
  EXPECT_EQ(json("a\xc3"), R"("a\ufffd")");               // cut short
  EXPECT_EQ(json("\xc0\xaf"), R"("\ufffd\ufffd")");       // overlong '/'
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(json("\xe2\x82"), R"("\ufffd\ufffd")");
  EXPECT_EQ(json("latin1 caf\xe9!"), R"("latin1 caf\ufffd!")");
}

// Valid JSON either way, but a raw U+0085, U+2028 or U+2029 is a line break
// to str.splitlines() and old JavaScript: one JSON Lines record must stay one line.
TEST(JsonEscape, C1ControlsAndUnicodeLineSeparatorsAreEscaped) {
  EXPECT_EQ(json("a\xc2\x85" "b\xc2\x80\xc2\x9f"), R"("a\u0085b\u0080\u009f")");
  EXPECT_EQ(json("\xe2\x80\xa8|\xe2\x80\xa9"), R"("\u2028|\u2029")");
  EXPECT_EQ(json("\xc2\xa0\xe2\x80\xa7\xe2\x80\xaa"), "\"\xc2\xa0\xe2\x80\xa7\xe2\x80\xaa\"");  // neighbours stay
}

TEST(JsonRender, ArgvWithAnyBytesIsValidJson) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::exec(5, 5))
      .info(1 * kSec, processInfo(5, 1, "/bin/x", {"x", "new\nline", "tab\there", "\xff\xfe", std::string("nul\0in", 6)}));
  auto out = lines(renderJson(trace.close()));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].find(R"("argv":["x","new\nline","tab\there","\ufffd\ufffd","nul\u0000in"])"), std::string::npos)
      << out[0];
}

// A record that read nothing knows no ppid: JSON leaves it out, text says ?.
TEST(ProcessInfoRender, NothingReadMeansNoPpid) {
  format::ProcessInfo gone;
  gone.pid = gone.tgid = 5;
  gone.reason = format::InfoReason::exec;
  gone.misses = {{format::InfoField::all, format::MissReason::gone, 3}};
  TraceBuilder trace;
  trace.info(1 * kSec, gone);
  std::string path = trace.close();
  auto json = renderJson(path);
  EXPECT_EQ(json.find("\"ppid\""), std::string::npos) << json;
  EXPECT_NE(json.find(R"("misses":[{"field":"all","reason":"gone","errno":3}])"), std::string::npos) << json;
  auto o = options(replay::Format::text);
  o.filter.types = replay::EventTypeSet::all();
  EXPECT_EQ(render(path, o), "info(): ? (5, 5) ppid=? missing=all(gone)\n");
}

}  // namespace
}  // namespace proctape::test
