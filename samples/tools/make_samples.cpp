// make_samples: writes the crafted cases of samples/ (every case but
// live-build), byte for byte the same on every run.
//
//   make_samples SAMPLES_DIR [CASE...]    writes SAMPLES_DIR/<case>/trace.pt
//
// Frames are built from the kernel's struct definitions by tests/replay/frames.h
// (little-endian, as on x86_64) and written with TraceWriter in deterministic
// mode: fixed uuid, meta at time 0, wall time 2026-01-01T00:00:00Z + capture
// time. One clock, as in a real recording: each cn_proc event's kernel
// timestamp is a moment (50 us) before its record's capture time, clock
// anchors are taken at their own capture time, and each exec's process-info
// record follows it within a fraction of a millisecond. So proctape-analyze
// sees what it would in a real trace: processes of milliseconds, command lines
// matched to their execs, losses among the events around them.
// The damaged cases (truncated, corrupt-chunk) are intact traces first, then
// cut or bit-flipped at a chunk found through the reader's chunk table.
// scripts/make-samples runs it; scripts/update-goldens then renders the goldens.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proctape/format/container.h"
#include "proctape/format/reader.h"
#include "proctape/format/writer.h"
#include "replay/frames.h"

namespace {

using namespace proctape;
namespace fr = proctape::test::frames;
using fr::Bytes;

constexpr int64_t kMs = 1'000'000;
constexpr uint16_t kProc = 0;   // source 0: the proc connector
constexpr uint16_t kRoute = 1;  // source 1: rtnetlink

format::Meta sampleMeta(const std::string& caseName, const std::string& machine) {
  format::Meta meta;
  meta.hostname = "sample-host";
  meta.kernelRelease = "6.6.0-sample";
  meta.kernelVersion = "#1 SMP PREEMPT_DYNAMIC";
  meta.machine = machine;
  meta.bootId = "00000000-0000-0000-0000-000000000000";
  meta.recorderName = "make_samples";
  meta.recorderVersion = "1";
  meta.commandLine = {"make_samples", caseName};
  meta.sources = {{kProc, 11, {1}, "proc connector (cn_proc): all events"},
                  {kRoute, 0, {1, 5, 9}, "rtnetlink: links and IPv4/IPv6 addresses"}};
  return meta;
}

format::WriterOptions deterministic() {
  format::WriterOptions options;
  options.deterministic = true;
  return options;
}

// A writer for one case; the first failure is remembered and reported once.
class Sample {
 public:
  Sample(const std::string& path, const std::string& caseName, format::WriterOptions options = deterministic(),
         const std::string& machine = "x86_64")
      : path_(path) {
    auto writer = format::TraceWriter::create(path, sampleMeta(caseName, machine), options);
    if (!writer) {
      fail(writer.error().message);
      return;
    }
    writer_.emplace(std::move(*writer));
  }
  Sample& proc(int64_t timeNs, const Bytes& bytes) { return frame(timeNs, kProc, bytes); }
  Sample& route(int64_t timeNs, const Bytes& bytes) { return frame(timeNs, kRoute, bytes); }
  Sample& frame(int64_t timeNs, uint16_t source, const Bytes& bytes) {
    if (writer_) check(writer_->writeFrame(timeNs, source, convert_ ? convert_(bytes) : bytes));
    return *this;
  }
  // Every frame goes through `convert` before it is written.
  void convertFrames(std::function<Bytes(Bytes)> convert) { convert_ = std::move(convert); }
  Sample& info(int64_t timeNs, const format::ProcessInfo& info) {
    if (writer_) check(writer_->writeProcessInfo(timeNs, info));
    return *this;
  }
  Sample& snapshot(int64_t timeNs, const format::Snapshot& snapshot) {
    if (writer_) check(writer_->writeSnapshot(timeNs, snapshot));
    return *this;
  }
  Sample& gap(int64_t timeNs, const format::Gap& gap) {
    if (writer_) check(writer_->writeGap(timeNs, gap));
    return *this;
  }
  Sample& clocks(int64_t timeNs, const format::ClockAnchor& anchor) {
    if (writer_) check(writer_->writeClocks(timeNs, anchor));
    return *this;
  }
  Sample& flush() {
    if (writer_) check(writer_->flush());
    return *this;
  }
  // Closes the trace; false (with a message printed) if anything failed.
  bool close() {
    if (writer_) check(writer_->close());
    return ok_;
  }

 private:
  void check(const Status& status) {
    if (!status) fail(status.error().message);
  }
  void fail(const std::string& message) {
    if (ok_) std::fprintf(stderr, "make_samples: %s: %s\n", path_.c_str(), message.c_str());
    ok_ = false;
  }
  std::string path_;
  std::optional<format::TraceWriter> writer_;
  std::function<Bytes(Bytes)> convert_;
  bool ok_ = true;
};

// The header of a cn_proc event received at capture time `captureNs`. The
// kernel stamps an event (proc_event.timestamp_ns, CLOCK_MONOTONIC, the
// capture time's clock) when it sends it, a moment before the recorder's recv
// returns: `lagNs` earlier, 50 us unless told.
constexpr int64_t kLag = 50'000;
fr::ProcHeader at(int64_t captureNs, uint32_t seq, uint32_t cpu = 0, int64_t lagNs = kLag) {
  fr::ProcHeader h;
  h.seq = seq;
  h.cpu = cpu;
  h.timestampNs = uint64_t(captureNs - lagNs);
  return h;
}

format::ProcessInfo info(int32_t pid, int32_t tgid, int32_t ppid, std::string exe, std::vector<std::string> argv,
                         std::string comm, format::InfoReason reason = format::InfoReason::exec) {
  format::ProcessInfo p;
  p.pid = pid;
  p.tgid = tgid;
  p.ppid = ppid;
  p.exe = std::move(exe);
  p.argv = std::move(argv);
  p.cwd = "/home/user/src";
  p.comm = std::move(comm);
  p.ruid = p.euid = p.rgid = p.egid = 1000;
  p.cgroup = "0::/user.slice";
  p.startTimeTicks = 4200 + uint64_t(pid);
  p.reason = reason;
  return p;
}

format::Miss miss(format::InfoField field, format::MissReason reason, int32_t err) { return {field, reason, err}; }

// ---- every-event -------------------------------------------------------------

format::Snapshot startSnapshot() {
  format::Snapshot s;
  s.processes.push_back(info(1, 1, 0, "/sbin/init", {"/sbin/init"}, "systemd", format::InfoReason::snapshot));
  s.processes.push_back(info(100, 100, 1, "/bin/bash", {"-bash"}, "bash", format::InfoReason::snapshot));
  auto hidden = info(50, 50, 1, "", {}, "kworker/0:1", format::InfoReason::snapshot);
  hidden.misses = {miss(format::InfoField::exe, format::MissReason::permission, 13),
                   miss(format::InfoField::argv, format::MissReason::other, 0)};
  s.processes.push_back(hidden);
  return s;
}

// Current layouts (76-byte frames): every type, names from process info.
void everyEventCurrent(Sample& s) {
  s.snapshot(1 * kMs, startSnapshot());
  s.proc(2 * kMs, fr::ack(0, at(2 * kMs, 0)));
  s.proc(3 * kMs, fr::fork(100, 100, 101, 101, at(3 * kMs, 1)));
  s.proc(4 * kMs, fr::exec(101, 101, at(4 * kMs, 2)));
  s.info(4 * kMs + 200'000, info(101, 101, 100, "/usr/bin/make", {"make", "-j2"}, "make"));
  s.proc(5 * kMs, fr::fork(100, 100, 102, 101, at(5 * kMs, 3, 1)));  // a thread of 101: the group's parent is given
  s.proc(6 * kMs, fr::uid(101, 101, 1000, 0, at(6 * kMs, 4)));
  s.proc(7 * kMs, fr::gid(101, 101, 1000, 0, at(7 * kMs, 5)));
  s.proc(8 * kMs, fr::sid(101, 101, at(8 * kMs, 6)));
  s.proc(9 * kMs, fr::ptrace(101, 101, 100, 100, at(9 * kMs, 7)));
  s.proc(10 * kMs, fr::ptrace(101, 101, 0, 0, at(10 * kMs, 8)));
  s.proc(11 * kMs, fr::comm(101, 101, "make-worker", at(11 * kMs, 9)));
  s.proc(12 * kMs, fr::comm(102, 101, "w\tk\xff\x01", at(12 * kMs, 10, 1)));  // bytes that need escaping
  s.proc(13 * kMs, fr::exit(102, 101, 0, 0xffffffff, 100, 100, at(13 * kMs, 11, 1)));  // a thread: exit_signal -1
}

void everyEventChildren(Sample& s) {
  // 103: execs with no process info (name unknown), dumps core on SIGSEGV.
  s.proc(20 * kMs, fr::fork(101, 101, 103, 103, at(20 * kMs, 12)));
  s.proc(21 * kMs, fr::exec(103, 103, at(21 * kMs, 13)));
  s.proc(22 * kMs, fr::coredump(103, 103, 101, 101, at(22 * kMs, 14)));
  s.proc(23 * kMs, fr::exit(103, 103, 0x8b, 17, 101, 101, at(23 * kMs, 15)));
  // 104: its exe could not be read (name from argv[0]); killed by SIGKILL.
  s.proc(30 * kMs, fr::fork(101, 101, 104, 104, at(30 * kMs, 16)));
  s.proc(31 * kMs, fr::exec(104, 104, at(31 * kMs, 17)));
  auto noExe = info(104, 104, 101, "", {"cc", "-c", "a.c"}, "cc");
  noExe.misses = {miss(format::InfoField::exe, format::MissReason::gone, 2)};
  s.info(31 * kMs + 100'000, noExe);
  s.proc(32 * kMs, fr::exit(104, 104, 9, 17, 101, 101, at(32 * kMs, 18)));
  // 105: a zombie by the time /proc was read (name from comm); exits 2.
  s.proc(40 * kMs, fr::fork(101, 101, 105, 105, at(40 * kMs, 19)));
  s.proc(41 * kMs, fr::exec(105, 105, at(41 * kMs, 20)));
  auto zombie = info(105, 105, 101, "", {}, "ld", format::InfoReason::exec);
  zombie.cwd.clear();
  zombie.misses = {miss(format::InfoField::exe, format::MissReason::zombie, 2),
                   miss(format::InfoField::argv, format::MissReason::zombie, 0),
                   miss(format::InfoField::cwd, format::MissReason::zombie, 2)};
  s.info(41 * kMs + 100'000, zombie);
  s.proc(42 * kMs, fr::exit(105, 105, 2 << 8, 17, 101, 101, at(42 * kMs, 21)));
}

// Old kernels: an exit event without parent fields (a 16-byte union, before
// comm events made it 24), a coredump without parent fields (8 bytes of data),
// and one from a kernel whose 24-byte union has room but zeroes for them.
void everyEventOldLayouts(Sample& s) {
  s.proc(50 * kMs, fr::fork(101, 101, 106, 106, at(50 * kMs, 22)));
  s.proc(51 * kMs, fr::procFrame(fr::kWhatCoredump, fr::ints({106, 106}), at(51 * kMs, 23), 8));
  // SIGABRT, core dumped:
  s.proc(52 * kMs, fr::procFrame(fr::kWhatExit, fr::ints({106, 106, 0x86, 17}), at(52 * kMs, 24), 16));
  s.proc(53 * kMs, fr::fork(101, 101, 107, 107, at(53 * kMs, 25)));
  s.proc(54 * kMs, fr::coredump(107, 107, 0, 0, at(54 * kMs, 26)));
  s.proc(55 * kMs, fr::procFrame(fr::kWhatExit, fr::ints({107, 107, 1 << 8, 17}), at(55 * kMs, 27), 16));
}

// What the decoders do not know, and the rest of the family.
void everyEventOdd(Sample& s) {
  Bytes raw;
  for (uint8_t i = 0; i < 24; ++i) raw.push_back(uint8_t(0xa0 + i));
  s.proc(60 * kMs, fr::procFrame(0x400, raw, at(60 * kMs, 28)));  // an unknown `what`
  s.proc(61 * kMs, fr::ack(22, at(61 * kMs, 29)));                // a refused subscription (EINVAL)
  Bytes otherCn = fr::procFrame(fr::kWhatExec, fr::ints({1, 1}), at(62 * kMs, 30));
  otherCn[16] = 0x0a;  // cb_id.idx of another connector (CN_W1_IDX): not the proc connector
  s.proc(62 * kMs, otherCn);
  // Two in one datagram, the exec stamped 30 us before the sid.
  s.proc(63 * kMs, fr::concat({fr::exec(101, 101, at(63 * kMs, 31, 0, kLag + 30'000)),
                              fr::sid(101, 101, at(63 * kMs, 32))}));
  s.info(63 * kMs + 100'000, info(101, 101, 100, "/usr/bin/ninja", {"ninja"}, "ninja"));
  s.proc(70 * kMs, fr::exit(101, 101, 0, 17, 100, 100, at(70 * kMs, 33)));
  s.proc(71 * kMs, fr::exit(100, 100, 1 << 8, 17, 1, 1, at(71 * kMs, 34)));
}

bool makeEveryEvent(const std::string& path) {
  Sample s(path, "every-event");
  everyEventCurrent(s);
  everyEventChildren(s);
  everyEventOldLayouts(s);
  everyEventOdd(s);
  return s.close();
}

// ---- big-endian ----------------------------------------------------------------

// A cn_proc datagram built little-endian, laid out as a big-endian machine
// (s390x) sends it: every integer field byte-swapped, a comm event's name
// left as it is.
Bytes bigEndian(Bytes frame) {
  auto swap = [&frame](size_t at, size_t width) {
    if (at + width <= frame.size()) std::reverse(frame.begin() + long(at), frame.begin() + long(at + width));
  };
  uint32_t what = frame.size() >= 40 ? uint32_t(frame[36]) | uint32_t(frame[37]) << 8 | uint32_t(frame[38]) << 16 |
                                           uint32_t(frame[39]) << 24
                                     : 0;
  for (size_t at : {0, 8, 12}) swap(at, 4);  // nlmsghdr: len, seq, pid
  swap(4, 2), swap(6, 2);                     // type, flags
  for (size_t at : {16, 20, 24, 28}) swap(at, 4);  // cn_msg: idx, val, seq, ack
  swap(32, 2), swap(34, 2);                         // len, flags
  swap(36, 4), swap(40, 4), swap(44, 8);            // proc_event: what, cpu, timestamp_ns
  size_t numbersEnd = what == fr::kWhatComm ? 60 : frame.size();  // comm: pid, tgid, then the name
  for (size_t at = 52; at + 4 <= numbersEnd; at += 4) swap(at, 4);
  return frame;
}

// The current-layout part of every-event, as a big-endian machine records it:
// replay and analyze must read the same events from it.
bool makeBigEndian(const std::string& path) {
  format::WriterOptions options = deterministic();
  options.frameByteOrder = format::ByteOrder::big;
  Sample s(path, "big-endian", options, "s390x");
  s.convertFrames(bigEndian);
  everyEventCurrent(s);
  everyEventChildren(s);
  return s.close();
}

// ---- rtnetlink ---------------------------------------------------------------

constexpr uint32_t kIffUp = 0x1, kIffBroadcast = 0x2, kIffLoopback = 0x8, kIffPointopoint = 0x10,
                   kIffRunning = 0x40, kIffNoarp = 0x80, kIffPromisc = 0x100, kIffMulticast = 0x1000,
                   kIffLowerUp = 0x10000;

fr::Link loopback(uint32_t seq) {
  fr::Link l;
  l.flags = fr::kNlmFMulti;
  l.seq = seq;
  l.deviceType = 772;  // ARPHRD_LOOPBACK
  l.ifindex = 1;
  l.ifFlags = kIffUp | kIffLoopback | kIffRunning | kIffLowerUp;
  l.name = "lo";
  l.mtu = 65536;
  l.operState = 0;  // IF_OPER_UNKNOWN
  l.mac.assign(6, 0);
  l.broadcast.assign(6, 0);
  return l;
}

fr::Link dummy(uint32_t ifFlags, uint8_t operState, uint16_t type = fr::kRtmNewLink) {
  fr::Link l;
  l.type = type;
  l.ifindex = 3;
  l.ifFlags = ifFlags;
  l.name = "dummy0";
  l.operState = operState;
  l.mac = {0x62, 0x2f, 0x9a, 0x10, 0x00, 0x01};
  return l;
}

fr::Addr v4(uint16_t type, uint32_t ifindex, std::vector<uint8_t> address, uint8_t prefix, std::string label,
            uint16_t flags = 0, uint32_t seq = 0) {
  fr::Addr a;
  a.type = type;
  a.flags = flags;
  a.seq = seq;
  a.ifindex = ifindex;
  a.address = address;
  a.local = address;
  a.prefix = prefix;
  a.label = std::move(label);
  a.broadcast = address;
  uint32_t hostBits = prefix >= 32 ? 0 : (0xffffffffu >> prefix);
  for (int i = 0; i < 4; ++i) a.broadcast[size_t(i)] |= uint8_t(hostBits >> (8 * (3 - i)));
  if (prefix >= 31) a.broadcast.clear();
  return a;
}

// IPv6: only IFA_ADDRESS, no local, broadcast or label, as the kernel sends.
fr::Addr v6(uint16_t type, uint32_t ifindex, std::vector<uint8_t> address, uint8_t prefix, uint8_t scope,
            uint16_t flags = 0, uint32_t seq = 0) {
  fr::Addr a;
  a.type = type;
  a.flags = flags;
  a.seq = seq;
  a.family = 10;  // AF_INET6
  a.ifindex = ifindex;
  a.address = address;
  a.prefix = prefix;
  a.scope = scope;
  a.local.clear();
  a.broadcast.clear();
  a.label.clear();
  return a;
}

std::vector<uint8_t> ip6(std::initializer_list<uint16_t> groups) {
  std::vector<uint8_t> b(16, 0);
  size_t i = 0;
  for (uint16_t g : groups) {
    b[i++] = uint8_t(g >> 8);
    b[i++] = uint8_t(g);
  }
  return b;
}

const std::vector<uint8_t> kLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x60, 0x2f, 0x9a, 0xff, 0xfe, 0x10, 0, 1};

// The dump a recorder starts with: links (two datagrams: the links, then
// NLMSG_DONE alone), then addresses (one datagram ending in NLMSG_DONE).
void rtnetlinkDump(Sample& s) {
  fr::Link eth0;
  eth0.flags = fr::kNlmFMulti;
  eth0.seq = 1;
  s.route(1 * kMs, fr::concat({fr::link(loopback(1)), fr::link(eth0)}));
  s.route(1 * kMs + 10'000, fr::done(1));
  auto lo4 = v4(fr::kRtmNewAddr, 1, {127, 0, 0, 1}, 8, "lo", fr::kNlmFMulti, 2);
  lo4.scope = 254;  // RT_SCOPE_HOST
  lo4.broadcast.clear();
  auto eth4 = v4(fr::kRtmNewAddr, 2, {10, 3, 0, 185}, 24, "eth0", fr::kNlmFMulti, 2);
  auto lo6 = v6(fr::kRtmNewAddr, 1, ip6({0, 0, 0, 0, 0, 0, 0, 1}), 128, 254, fr::kNlmFMulti, 2);
  std::vector<uint8_t> ethLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0x27, 0xff, 0xfe, 0x41, 0xde, 0x23};
  auto eth6 = v6(fr::kRtmNewAddr, 2, ethLinkLocal, 64, 253, fr::kNlmFMulti, 2);
  s.route(2 * kMs, fr::concat({fr::addr(lo4), fr::addr(eth4), fr::addr(lo6), fr::addr(eth6), fr::done(2)}));
}

// Changes: a dummy link comes and goes with its addresses; a point-to-point
// link with a peer; eth0 goes promiscuous; an address on a link never seen.
void rtnetlinkChanges(Sample& s) {
  s.route(10 * kMs, fr::link(dummy(kIffBroadcast | kIffNoarp, 2)));  // IF_OPER_DOWN
  s.route(11 * kMs, fr::link(dummy(kIffUp | kIffBroadcast | kIffRunning | kIffNoarp | kIffLowerUp, 0)));
  s.route(12 * kMs, fr::addr(v4(fr::kRtmNewAddr, 3, {192, 0, 2, 1}, 24, "dummy0")));
  s.route(13 * kMs, fr::addr(v6(fr::kRtmNewAddr, 3, ip6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}), 64, 0)));
  s.route(14 * kMs, fr::addr(v6(fr::kRtmNewAddr, 3, kLinkLocal, 64, 253)));
  fr::Link tun;
  tun.ifindex = 4;
  tun.name = "tun0";
  tun.deviceType = 65534;  // ARPHRD_NONE
  tun.ifFlags = kIffUp | kIffPointopoint | kIffRunning | kIffNoarp | kIffMulticast | kIffLowerUp;
  tun.mac.clear();
  tun.broadcast.clear();
  s.route(20 * kMs, fr::link(tun));
  auto peer = v4(fr::kRtmNewAddr, 4, {198, 51, 100, 2}, 32, "tun0");
  peer.local = {198, 51, 100, 1};
  s.route(21 * kMs, fr::addr(peer));
  fr::Link promisc;
  promisc.ifFlags |= kIffPromisc;
  s.route(30 * kMs, fr::link(promisc));
  s.route(31 * kMs, fr::addr(v4(fr::kRtmNewAddr, 9, {172, 16, 0, 5}, 16, "wlan0")));
  s.route(40 * kMs, fr::addr(v4(fr::kRtmDelAddr, 3, {192, 0, 2, 1}, 24, "dummy0")));
  s.route(41 * kMs, fr::addr(v6(fr::kRtmDelAddr, 3, ip6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}), 64, 0)));
  s.route(42 * kMs, fr::addr(v6(fr::kRtmDelAddr, 3, kLinkLocal, 64, 253)));
  s.route(43 * kMs, fr::link(dummy(kIffBroadcast | kIffNoarp, 2, fr::kRtmDelLink)));
}

// struct nlmsgerr { int error; struct nlmsghdr msg; }: an ack (0) or an errno.
Bytes nlmsgErr(int32_t error, uint16_t requestType, uint32_t seq) {
  Bytes p;
  fr::putI32(p, error);
  fr::putU32(p, 16);
  fr::putU16(p, requestType);
  fr::putU16(p, 0x5);  // NLM_F_REQUEST | NLM_F_ACK
  fr::putU32(p, seq);
  fr::putU32(p, 4242);
  return fr::message(2 /* NLMSG_ERROR */, 0, seq, p);
}

// Control messages and a message type the decoders do not interpret.
void rtnetlinkControl(Sample& s) {
  s.route(50 * kMs, nlmsgErr(0, 20, 7));      // ack of an RTM_NEWADDR request
  s.route(51 * kMs, nlmsgErr(-17, 16, 8));    // EEXIST for an RTM_NEWLINK request
  s.route(52 * kMs, fr::message(1 /* NLMSG_NOOP */, 0, 0, {}));
  s.route(53 * kMs, fr::message(4 /* NLMSG_OVERRUN */, 0, 0, {}));
  Bytes route;  // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags u32
  for (uint8_t b : {2, 24, 0, 0, 254, 4, 0, 1}) fr::putU8(route, b);
  fr::putU32(route, 0);
  fr::attr(route, 1 /* RTA_DST */, {192, 0, 2, 0});
  s.route(54 * kMs, fr::message(24 /* RTM_NEWROUTE */, 0, 0, route));
}

bool makeRtnetlink(const std::string& path) {
  Sample s(path, "rtnetlink");
  rtnetlinkDump(s);
  rtnetlinkChanges(s);
  rtnetlinkControl(s);
  return s.close();
}

// ---- gap -----------------------------------------------------------------------

format::Gap gap(uint16_t source, std::optional<uint64_t> count, format::GapReason reason, std::string detail) {
  format::Gap g;
  g.sourceId = source;
  g.lostCount = count;
  g.reason = reason;
  g.detail = std::move(detail);
  return g;
}

bool makeGap(const std::string& path) {
  Sample s(path, "gap");
  s.proc(1 * kMs, fr::fork(100, 100, 200, 200, at(1 * kMs, 1)));
  s.proc(2 * kMs, fr::exec(200, 200, at(2 * kMs, 2)));
  s.info(2 * kMs + 100'000, info(200, 200, 100, "/usr/bin/cc", {"cc", "-c", "big.c"}, "cc"));
  // The kernel dropped events: recv failed with ENOBUFS; cn_msg.seq jumped by 15.
  s.gap(3 * kMs, gap(kProc, 15, format::GapReason::kernelOverrun, "recv: ENOBUFS; cn_msg.seq 2 -> 18"));
  s.proc(4 * kMs, fr::exit(201, 201, 0, 17, 200, 200, at(4 * kMs, 18)));
  // A process that lives between two gaps: none of them touches it.
  s.proc(4 * kMs + 200'000, fr::fork(100, 100, 203, 203, at(4 * kMs + 200'000, 19)));
  s.proc(4 * kMs + 300'000, fr::exec(203, 203, at(4 * kMs + 300'000, 20)));
  s.info(4 * kMs + 400'000, info(203, 203, 100, "/usr/bin/cc", {"cc", "-c", "small.c"}, "cc"));
  s.proc(4 * kMs + 800'000, fr::exit(203, 203, 0, 17, 100, 100, at(4 * kMs + 800'000, 21)));
  // The recorder's own queue overflowed: how many is not known.
  s.gap(5 * kMs, gap(kProc, std::nullopt, format::GapReason::queueOverflow, "writer queue full (16384 slots)"));
  s.proc(6 * kMs, fr::exit(200, 200, 1 << 8, 17, 100, 100, at(6 * kMs, 40)));
  s.gap(7 * kMs, gap(kProc, 1, format::GapReason::truncatedDatagram, "datagram of 70000 bytes, buffer 65536"));
  s.gap(8 * kMs, gap(kRoute, std::nullopt, format::GapReason::kernelOverrun, "recv: ENOBUFS"));
  s.gap(9 * kMs, gap(kProc, 0, format::GapReason::other, ""));
  s.proc(10 * kMs, fr::fork(100, 100, 202, 202, at(10 * kMs, 41)));
  return s.close();
}

// ---- clock-anchors ---------------------------------------------------------------

format::ClockAnchor anchor(int64_t monotonicNs, int64_t realtimeNs) {
  return {monotonicNs, realtimeNs, monotonicNs + 7 * kMs};
}

// Wall time comes from the latest anchor: the meta's (2026-01-01T00:00:00Z at
// time 0), then clocks records, each taken at its capture time: a step of the
// wall clock back by an hour, one before 1970, and one so late that
// realtime + (t - monotonic) does not fit in 64 bits for an event 2000 s later
// (wall time unknown: no wall_time_ns), then a sane one again.
bool makeClockAnchors(const std::string& path) {
  format::WriterOptions options;
  options.deterministic = true;
  options.clockAnchorEveryNs = int64_t(1) << 62;  // no automatic anchors: only the ones written here
  Sample s(path, "clock-anchors", options);
  constexpr int64_t kEpoch2026 = 1'767'225'600'000'000'000;
  s.proc(1 * kMs, fr::fork(100, 100, 500, 500, at(1 * kMs, 1)));
  s.clocks(2 * kMs, anchor(2 * kMs, kEpoch2026 - 3'600'000'000'000 + 2 * kMs));  // NTP stepped back 1 h
  s.proc(3 * kMs, fr::exec(500, 500, at(3 * kMs, 2)));
  s.info(3 * kMs + 100'000, info(500, 500, 100, "/usr/bin/date", {"date", "+%s"}, "date"));
  s.clocks(4 * kMs, anchor(4 * kMs, -86'400'000'000'000));  // 1969-12-31
  s.proc(5 * kMs, fr::exit(500, 500, 0, 17, 100, 100, at(5 * kMs, 3)));
  s.clocks(6 * kMs, anchor(6 * kMs, INT64_MAX - 1'000'000'000'000));  // realtime 1000 s before the end of int64
  s.proc(7 * kMs, fr::fork(100, 100, 501, 501, at(7 * kMs, 4)));  // 1 ms after that anchor: fits
  s.proc(2'000'000'000'000, fr::exit(501, 501, 0, 17, 100, 100, at(2'000'000'000'000, 5)));  // 2000 s after: overflows
  s.clocks(2'000'000'000'001, anchor(2'000'000'000'001, kEpoch2026 + 3'600'000'000'000));
  s.proc(2'000'000'000'000 + kMs, fr::fork(100, 100, 502, 502, at(2'000'000'000'000 + kMs, 6)));  // after it: sane
  return s.close();
}

// ---- malformed-frame -------------------------------------------------------------

void setU32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}
void setU16(Bytes& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}

// Connector frames whose lengths lie, each between good frames.
void malformedProc(Sample& s) {
  s.proc(1 * kMs, fr::fork(100, 100, 300, 300, at(1 * kMs, 1)));
  auto longer = fr::exec(300, 300, at(2 * kMs, 2));
  setU32(longer, 0, 200);  // nlmsg_len beyond the datagram
  s.proc(2 * kMs, longer);
  auto shorter = fr::exec(300, 300, at(3 * kMs, 3));
  setU32(shorter, 0, 8);  // nlmsg_len below the header's own size
  s.proc(3 * kMs, shorter);
  auto cnLen = fr::exec(300, 300, at(4 * kMs, 4));
  setU16(cnLen, 16 + 16, 400);  // cn_msg.len beyond the payload
  s.proc(4 * kMs, cnLen);
  s.proc(5 * kMs, Bytes{0x4c, 0x00, 0x00});  // 3 bytes: no room for a nlmsghdr
  s.proc(6 * kMs, Bytes{});                   // an empty datagram
  auto noCn = fr::message(3, 0, 5, Bytes{1, 0, 0, 0, 1, 0, 0, 0});  // a payload too short for a cn_msg
  s.proc(7 * kMs, noCn);
  // Exit data cut at 12 bytes, and comm data without its name:
  s.proc(8 * kMs, fr::procFrame(fr::kWhatExit, fr::ints({300, 300, 0}), at(8 * kMs, 6), 12));
  s.proc(9 * kMs, fr::procFrame(fr::kWhatComm, fr::ints({300, 300}), at(9 * kMs, 7), 8));
  auto header = fr::procFrame(fr::kWhatFork, {}, at(10 * kMs, 8), 0);
  header.resize(16 + 20 + 10);  // a proc_event cut inside its header
  setU32(header, 0, uint32_t(header.size()));
  setU16(header, 16 + 16, 10);
  s.proc(10 * kMs, header);
  // A good message, then junk:
  s.proc(11 * kMs, fr::concat({fr::sid(300, 300, at(11 * kMs, 9)), Bytes{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}}));
  s.proc(12 * kMs, fr::exit(300, 300, 0, 17, 100, 100, at(12 * kMs, 10)));
}

// rtnetlink messages whose lengths lie.
void malformedRoute(Sample& s) {
  fr::Link link;
  auto attrLen = fr::link(link);
  setU16(attrLen, 16 + 16, 0x7fff);  // the first attribute's rta_len runs past the message
  s.route(20 * kMs, attrLen);
  auto tinyAttr = fr::link(link);
  setU16(tinyAttr, 16 + 16, 2);  // rta_len below the attribute header
  s.route(21 * kMs, tinyAttr);
  s.route(22 * kMs, fr::message(fr::kRtmNewLink, 0, 0, Bytes{0, 0, 1, 0, 2, 0}));  // ifinfomsg cut at 6 bytes
  s.route(23 * kMs, fr::message(fr::kRtmNewAddr, 0, 0, Bytes{2, 24, 0}));          // ifaddrmsg cut at 3 bytes
  s.route(24 * kMs, fr::message(2 /* NLMSG_ERROR */, 0, 0, Bytes{0xfe, 0xff}));    // nlmsgerr cut short
  auto dump = fr::concat({fr::link(loopback(1)), fr::link(link), fr::done(1)});
  setU32(dump, 0, uint32_t(dump.size() + 4));  // the first message claims more than the datagram
  s.route(25 * kMs, dump);
  fr::Addr addr;
  addr.address = {10, 3, 0};  // an IPv4 address of 3 bytes
  s.route(26 * kMs, fr::addr(addr));
  s.route(27 * kMs, fr::link(link));
}

bool makeMalformed(const std::string& path) {
  Sample s(path, "malformed-frame");
  malformedProc(s);
  malformedRoute(s);
  return s.close();
}

// ---- damaged traces --------------------------------------------------------------

// A trace of four chunks (after the meta chunk), each a fork, an exec with
// its process info, and an exit.
bool makeChunked(const std::string& path, const std::string& caseName) {
  Sample s(path, caseName);
  for (int32_t i = 0; i < 4; ++i) {
    int64_t base = (1 + 10 * i) * kMs;
    int32_t pid = 400 + i;
    uint32_t seq = uint32_t(1 + 3 * i);
    s.proc(base, fr::fork(100, 100, pid, pid, at(base, seq)));
    s.proc(base + kMs, fr::exec(pid, pid, at(base + kMs, seq + 1)));
    std::string step = "step" + std::to_string(i);
    s.info(base + kMs + 100'000, info(pid, pid, 100, "/usr/bin/" + step, {step, "--part", std::to_string(i)}, step));
    s.proc(base + 2 * kMs, fr::exit(pid, pid, uint32_t(i) << 8, 17, 100, 100, at(base + 2 * kMs, seq + 2)));
    s.flush();
  }
  return s.close();
}

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return bool(out);
}

// The chunk table of an intact trace.
std::vector<format::ChunkInfo> chunksOf(const std::string& path) {
  auto reader = format::TraceReader::open(path);
  if (!reader) return {};
  return reader->chunks();
}

// Cut inside the zstd frame of the third chunk of events: the first chunks
// read, the tail (and the index and trailer) is gone.
bool makeTruncated(const std::string& path) {
  if (!makeChunked(path, "truncated")) return false;
  auto chunks = chunksOf(path);
  if (chunks.size() < 4) return false;
  const auto& cut = chunks[3];
  auto bytes = readFile(path);
  bytes.resize(cut.offset + format::container::kChunkHeaderBytes + cut.compressedSize / 2);
  return writeFile(path, bytes);
}

// One bit flipped in the middle of the second chunk of events: its CRC fails,
// the reader skips it and reads the chunks after it.
bool makeCorruptChunk(const std::string& path) {
  if (!makeChunked(path, "corrupt-chunk")) return false;
  auto chunks = chunksOf(path);
  if (chunks.size() < 4) return false;
  const auto& bad = chunks[2];
  auto bytes = readFile(path);
  bytes[bad.offset + format::container::kChunkHeaderBytes + bad.compressedSize / 2] ^= 0x10;
  return writeFile(path, bytes);
}

const std::map<std::string, std::function<bool(const std::string&)>>& cases() {
  static const std::map<std::string, std::function<bool(const std::string&)>> all = {
      {"every-event", makeEveryEvent}, {"big-endian", makeBigEndian}, {"rtnetlink", makeRtnetlink},
      {"gap", makeGap},
      {"malformed-frame", makeMalformed}, {"clock-anchors", makeClockAnchors}, {"truncated", makeTruncated}, {"corrupt-chunk", makeCorruptChunk},
  };
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_samples SAMPLES_DIR [CASE...]\ncases:");
    for (const auto& [name, make] : cases()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::vector<std::string> names(argv + 2, argv + argc);
  if (names.empty())
    for (const auto& [name, make] : cases()) names.push_back(name);
  int failed = 0;
  for (const auto& name : names) {
    auto it = cases().find(name);
    if (it == cases().end()) {
      std::fprintf(stderr, "make_samples: no case '%s'\n", name.c_str());
      return 2;
    }
    std::filesystem::create_directories(dir / name);
    std::string path = (dir / name / "trace.pt").string();
    if (!it->second(path)) {
      std::fprintf(stderr, "make_samples: %s: could not be made\n", path.c_str());
      ++failed;
    } else {
      std::printf("%s\n", path.c_str());
    }
  }
  return failed ? 1 : 0;
}
