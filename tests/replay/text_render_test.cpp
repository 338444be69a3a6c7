// Text output, line by line, from traces of hand-built frames.
#include <gtest/gtest.h>

#include "replay_support.h"

namespace proctape::test {
namespace {

using replay::TimeMode;

format::Snapshot zshSnapshot() {
  format::Snapshot snapshot;
  snapshot.processes.push_back(processInfo(1451658, 1, "/bin/zsh", {"-zsh"}, format::InfoReason::snapshot));
  return snapshot;
}

// The classic cn_proc example: a shell forks, the child execs sleep, exits.
std::string classicTrace(TraceBuilder& trace) {
  trace.snapshot(1 * kMs, zshSnapshot())
      .proc(1 * kSec, frames::fork(1451658, 1451658, 1451730, 1451730))
      .proc(1 * kSec + 1 * kMs, frames::exec(1451730, 1451730))
      .info(1 * kSec + 3 * kMs, processInfo(1451730, 1451658, "/bin/sleep", {"sleep", "1"}))
      .proc(2 * kSec, frames::exit(1451730, 1451730, 0, 17, 1451658, 1451658));
  return trace.close();
}

TEST(TextRender, ClassicForkExecExit) {
  TraceBuilder trace;
  EXPECT_EQ(renderText(classicTrace(trace)),
            "fork(): /bin/zsh (1451658, 1451658) -> (1451730, 1451730)\n"
            "exec(): /bin/sleep (1451730, 1451730)\n"
            "exit(): (1451730, 1451730) -> rc=0\n");
}

TEST(TextRender, RelativeTimeColumn) {
  TraceBuilder trace;
  EXPECT_EQ(renderText(classicTrace(trace), TimeMode::relative),
            "  1.000000 fork(): /bin/zsh (1451658, 1451658) -> (1451730, 1451730)\n"
            "  1.001000 exec(): /bin/sleep (1451730, 1451730)\n"
            "  2.000000 exit(): (1451730, 1451730) -> rc=0\n");
}

TEST(TextRender, WallTimeColumnFromClockAnchors) {
  TraceBuilder trace;
  // The deterministic writer's clocks: realtime = 2026-01-01T00:00:00Z + monotonic.
  EXPECT_EQ(renderText(classicTrace(trace), TimeMode::wall),
            "2026-01-01T00:00:01.000000Z fork(): /bin/zsh (1451658, 1451658) -> (1451730, 1451730)\n"
            "2026-01-01T00:00:01.001000Z exec(): /bin/sleep (1451730, 1451730)\n"
            "2026-01-01T00:00:02.000000Z exit(): (1451730, 1451730) -> rc=0\n");
}

TEST(TextRender, RelativeTimeStartsAtFramesCapturedBeforeTheMetaRecord) {
  // A recorder may capture its subscription's ack before it writes the meta record.
  TraceBuilder trace;
  trace.proc(-2 * kMs, frames::ack(0)).proc(1 * kMs, frames::sid(1, 1));
  EXPECT_EQ(renderText(trace.close(), TimeMode::relative),
            "  0.000000 ack(): err=0\n"
            "  0.003000 sid(): ? (1, 1)\n");
}

// The recorder drains its socket in batches, so the frames of one batch share
// a capture time; a cn_proc event shows when the kernel made it.
std::string oneBatch(TraceBuilder& trace) {
  trace.proc(50 * kMs, frames::fork(1, 1, 2, 2, {.timestampNs = 10 * kMs + 250'000}))
      .proc(50 * kMs, frames::exec(2, 2, {.timestampNs = 10 * kMs + 400'000}))
      .proc(50 * kMs, frames::exit(2, 2, 0, 17, 1, 1, {.timestampNs = 0}))  // no kernel time: its capture's
      .proc(60 * kMs, frames::sid(1, 1, {.timestampNs = 55 * kMs}));
  return trace.close();
}

TEST(TextRender, ProcessEventsShowTheKernelsTimeNotTheirBatchsCaptureTime) {
  TraceBuilder relative;
  EXPECT_EQ(renderText(oneBatch(relative), TimeMode::relative),
            "  0.010250 fork(): ? (1, 1) -> (2, 2)\n"
            "  0.010400 exec(): ? (2, 2)\n"
            "  0.050000 exit(): (2, 2) -> rc=0\n"
            "  0.055000 sid(): ? (1, 1)\n");
  TraceBuilder wall;
  EXPECT_EQ(renderText(oneBatch(wall), TimeMode::wall),
            "2026-01-01T00:00:00.010250Z fork(): ? (1, 1) -> (2, 2)\n"
            "2026-01-01T00:00:00.010400Z exec(): ? (2, 2)\n"
            "2026-01-01T00:00:00.050000Z exit(): (2, 2) -> rc=0\n"
            "2026-01-01T00:00:00.055000Z sid(): ? (1, 1)\n");
}

TEST(TextRender, TheStartIncludesTheKernelTimeOfTheFirstBatch) {
  // The recorder writes its meta record (here at 10 ms) after subscribing, so
  // the first frames it captured may hold events from before it.
  format::WriterOptions options = deterministicOptions();
  options.clock = [] { return format::ClockAnchor{10 * kMs, 1'767'225'600'000'000'000 + 10 * kMs, 10 * kMs}; };
  TraceBuilder trace("trace.pt", options);
  trace.proc(12 * kMs, frames::ack(0, {.timestampNs = 9 * kMs}))
      .proc(12 * kMs, frames::sid(1, 1, {.timestampNs = 11 * kMs}));
  EXPECT_EQ(renderText(trace.close(), TimeMode::relative),
            "  0.000000 ack(): err=0\n"
            "  0.002000 sid(): ? (1, 1)\n");
}

TEST(TextRender, WallTimeFollowsTheLatestClockAnchor) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::sid(10, 10));
  // The wall clock was stepped back by an hour at 1.5 s.
  format::ClockAnchor stepped{1'500'000'000, 1'767'225'600'000'000'000 - 3600 * kSec + 1'500'000'000, 0};
  ASSERT_TRUE(trace.writer().writeClocks(1'500'000'000, stepped).ok());
  trace.proc(2 * kSec, frames::sid(11, 11));
  EXPECT_EQ(renderText(trace.close(), TimeMode::wall),
            "2026-01-01T00:00:01.000000Z sid(): ? (10, 10)\n"
            "2025-12-31T23:00:02.000000Z sid(): ? (11, 11)\n");
}

TEST(TextRender, ExitStatusRcSignalAndCore) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::exit(100, 100, 3 << 8, 17, 1, 1))   // exit(3)
      .proc(2 * kSec, frames::exit(101, 101, 9, 17, 1, 1))          // killed by SIGKILL
      .proc(3 * kSec, frames::exit(102, 102, 0x80 | 11, 17, 1, 1))  // SIGSEGV, core dumped
      .proc(4 * kSec, frames::exit(103, 100, 0, uint32_t(-1), 1, 1));  // a thread
  EXPECT_EQ(renderText(trace.close()),
            "exit(): (100, 100) -> rc=3\n"
            "exit(): (101, 101) -> sig=9\n"
            "exit(): (102, 102) -> sig=11 (core dumped)\n"
            "exit(): (103, 100) -> rc=0\n");
}

TEST(TextRender, EveryProcConnectorEventType) {
  TraceBuilder trace;
  trace.snapshot(1 * kMs, zshSnapshot())
      .proc(1 * kSec, frames::ack(0))
      .proc(2 * kSec, frames::uid(1451658, 1451658, 0, 1000))
      .proc(3 * kSec, frames::gid(1451658, 1451658, 0, 1000))
      .proc(4 * kSec, frames::sid(1451658, 1451658))
      .proc(5 * kSec, frames::ptrace(1451658, 1451658, 2000, 2000))
      .proc(6 * kSec, frames::ptrace(1451658, 1451658, 0, 0))
      .proc(7 * kSec, frames::comm(1451658, 1451658, "worker"))
      .proc(8 * kSec, frames::coredump(1451658, 1451658, 1, 1))
      .proc(9 * kSec, frames::procFrame(0x400, frames::ints({1, 2})));
  EXPECT_EQ(renderText(trace.close()),
            "ack(): err=0\n"
            "uid(): /bin/zsh (1451658, 1451658) ruid=0 euid=1000\n"
            "gid(): /bin/zsh (1451658, 1451658) rgid=0 egid=1000\n"
            "sid(): /bin/zsh (1451658, 1451658)\n"
            "ptrace(): /bin/zsh (1451658, 1451658) tracer (2000, 2000)\n"
            "ptrace(): /bin/zsh (1451658, 1451658) detached\n"
            "comm(): /bin/zsh (1451658, 1451658) comm=worker\n"
            "coredump(): /bin/zsh (1451658, 1451658)\n"
            "unknown(): what=0x400 24 bytes: 010000000200000000000000000000000000000000000000\n");
}

TEST(TextRender, LinkAndAddressMessages) {
  TraceBuilder trace;
  frames::Addr v6;
  v6.family = 10;  // AF_INET6
  v6.prefix = 64;
  v6.scope = 253;  // RT_SCOPE_LINK
  v6.address = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x0a, 0x00, 0x27, 0xff, 0xfe, 0x41, 0xde, 0x23};
  v6.local = {};
  v6.broadcast = {};
  v6.label = "";
  frames::Link down;
  down.type = frames::kRtmDelLink;
  down.ifFlags = 0x1002;  // broadcast, multicast: not up
  trace.route(1 * kSec, frames::link())
      .route(2 * kSec, frames::addr())
      .route(3 * kSec, frames::addr(v6))
      .route(4 * kSec, frames::link(down));
  EXPECT_EQ(renderText(trace.close()),
            "link eth0(2) NEWLINK up running mtu 1500 mac 08:00:27:41:de:23\n"
            "addr eth0(2) NEWADDR 10.3.0.185/24 brd 10.3.0.255\n"
            "addr eth0(2) NEWADDR fe80::a00:27ff:fe41:de23/64 scope link\n"
            "link eth0(2) DELLINK down mtu 1500 mac 08:00:27:41:de:23\n");
}

TEST(TextRender, MultipartDumpInOneDatagram) {
  frames::Link lo;
  lo.flags = frames::kNlmFMulti;
  lo.ifindex = 1;
  lo.name = "lo";
  lo.deviceType = 772;  // ARPHRD_LOOPBACK
  lo.ifFlags = 0x10049;  // up, loopback, running, lower_up
  lo.mtu = 65536;
  lo.operState = 0;
  lo.mac = {0, 0, 0, 0, 0, 0};
  lo.broadcast = {0, 0, 0, 0, 0, 0};
  frames::Link eth0;
  eth0.flags = frames::kNlmFMulti;
  TraceBuilder trace;
  trace.route(1 * kSec, frames::concat({frames::link(lo), frames::link(eth0), frames::done()}));
  EXPECT_EQ(renderText(trace.close()),
            "link lo(1) NEWLINK up running loopback mtu 65536 mac 00:00:00:00:00:00\n"
            "link eth0(2) NEWLINK up running mtu 1500 mac 08:00:27:41:de:23\n"
            "netlink done\n");
}

TEST(TextRender, GapsNameTheirCountAndReason) {
  TraceBuilder trace;
  trace.gap(1 * kSec, {kProcSource, 15, format::GapReason::kernelOverrun, "recv: ENOBUFS"})
      .gap(2 * kSec, {kProcSource, std::nullopt, format::GapReason::queueOverflow, ""})
      .gap(3 * kSec, {kRouteSource, 1, format::GapReason::truncatedDatagram, ""});
  EXPECT_EQ(renderText(trace.close()),
            "gap: 15 events lost on source 0 (kernel overrun: recv: ENOBUFS)\n"
            "gap: an unknown number of events lost on source 0 (queue overflow)\n"
            "gap: 1 event lost on source 1 (truncated datagram)\n");
}

TEST(TextRender, MalformedFrameBecomesADecodeErrorAndReplayGoesOn) {
  auto fork = frames::fork(1, 1, 2, 2);
  frames::Bytes cut(fork.begin(), fork.begin() + 50);  // nlmsg_len still says 76
  TraceBuilder trace;
  trace.proc(1 * kSec, cut).proc(2 * kSec, frames::sid(2, 2));
  std::string text = renderText(trace.close());
  auto lines = text.substr(0, text.find('\n'));
  EXPECT_EQ(lines.rfind("decode error: source 0 byte 0: ", 0), 0u) << text;
  EXPECT_NE(lines.find(" (50 bytes: 4c000000030000000700000000000000"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.find('\n') + 1), "sid(): ? (2, 2)\n");
}

TEST(TextRender, StringsFromTheTraceCannotBreakTheLine) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 5, 5))
      .proc(1 * kSec, frames::exec(5, 5))
      .info(1 * kSec, processInfo(5, 1, "/tmp/evil\nexec(): x\x01\xff", {"a"}));
  EXPECT_EQ(renderText(trace.close()),
            "fork(): ? (1, 1) -> (5, 5)\n"
            "exec(): /tmp/evil\\nexec(): x\\x01\\xff (5, 5)\n");
}

// C1 controls (U+009B starts an escape sequence on some terminals) and the
// line and paragraph separators are well-formed UTF-8 that still acts: shown
// byte by byte. Other UTF-8 stays as it is. In argv lists an apostrophe is
// escaped, so that an argument '' differs from the empty one, shown as ''.
TEST(TextRender, CharactersThatActLikeControlsAreEscaped) {
  TraceBuilder trace;
  trace.info(1 * kMs, processInfo(7, 1, "/bin/a\xc2\x9b" "2J\xe2\x80\xa8x\xe2\x80\xa9\xc2\xa0\xc3\xa9",
                                  {"it's", "''", ""}));
  auto o = options(replay::Format::text);
  o.filter.types = replay::EventTypeSet::all();
  EXPECT_EQ(render(trace.close(), o),
            "info(): /bin/a\\xc2\\x9b2J\\xe2\\x80\\xa8x\\xe2\\x80\\xa9\xc2\xa0\xc3\xa9 (7, 7) ppid=1 "
            "argv=[it\\x27s \\x27\\x27 ''] cwd=/home/user uid=1000\n");
}

TEST(TextRender, ProcessInfoAndSnapshotLinesWhenAskedFor) {
  TraceBuilder trace;
  trace.snapshot(1 * kMs, zshSnapshot()).info(2 * kMs, processInfo(7, 1451658, "/bin/a b", {"a b", "c"}));
  auto o = options(replay::Format::text);
  o.filter.types = replay::EventTypeSet::all();
  EXPECT_EQ(render(trace.close(), o),
            "snapshot(): 1 process\n"
            "    /bin/zsh (1451658, 1451658) ppid=1 argv=[-zsh] cwd=/home/user uid=1000\n"
            "info(): /bin/a b (7, 7) ppid=1451658 argv=[a\\x20b c] cwd=/home/user uid=1000\n");
}

}  // namespace
}  // namespace proctape::test
