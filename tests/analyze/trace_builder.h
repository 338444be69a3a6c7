// Writes small, deterministic traces of a synthetic build for the end-to-end
// tests: cn_proc frames built byte by byte (by tests/replay/frames.h, the
// builder the replay tests and the samples use), process-info records, a
// snapshot.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events.h"
#include "proctape/format/writer.h"
#include "replay/frames.h"
#include "test_support.h"

namespace proctape::test::analyze {

constexpr int64_t kUs = 1000;

class TraceBuilder {
 public:
  TraceBuilder(const std::string& path, int32_t commandPid, format::WriterOptions options = deterministicOptions(),
               const std::string& hostname = "testhost") {
    format::Meta meta = testMeta();
    meta.hostname = hostname;
    meta.commandPid = commandPid;
    auto writer = format::TraceWriter::create(path, meta, options);
    EXPECT_TRUE(writer.ok()) << (writer.ok() ? "" : writer.error().message);
    if (writer.ok()) writer_.emplace(std::move(*writer));
  }

  // A frame captured at `captureNs`.
  void frame(int64_t captureNs, const frames::Bytes& bytes) { check(writer_->writeFrame(captureNs, 0, bytes)); }
  // cn_proc events captured at `t`; the kernel stamped them 1 us earlier.
  void fork(int64_t t, int32_t parent, int32_t child) { frame(t, frames::fork(parent, parent, child, child, stamp(t))); }
  void threadFork(int64_t t, int32_t tgid, int32_t tid) { frame(t, frames::fork(tgid, tgid, tid, tgid, stamp(t))); }
  // `status` is the wait status; exit_signal is SIGCHLD.
  void exit(int64_t t, int32_t pid, uint32_t status, int32_t parent, int32_t tgid = 0) {
    frame(t, frames::exit(pid, tgid ? tgid : pid, status, 17, parent, parent, stamp(t)));
  }
  // An exec and, 100 us later, what the recorder read from /proc.
  void exec(int64_t t, int32_t pid, std::vector<std::string> argv, std::string cwd = "/src") {
    frame(t, frames::exec(pid, pid, stamp(t)));
    check(writer_->writeProcessInfo(t + 100 * kUs, execInfo(pid, std::move(argv), std::move(cwd))));
  }
  void info(int64_t t, const format::ProcessInfo& info) { check(writer_->writeProcessInfo(t, info)); }
  void snapshot(int64_t t, std::vector<format::ProcessInfo> processes) {
    format::Snapshot snapshot;
    snapshot.processes = std::move(processes);
    check(writer_->writeSnapshot(t, snapshot));
  }
  // A gap on source `source` (testMeta: 0 the proc connector, 1 rtnetlink).
  void gap(int64_t t, std::optional<uint64_t> lost, uint16_t source = 0) {
    check(writer_->writeGap(t, format::Gap{source, lost, format::GapReason::kernelOverrun, "recv: ENOBUFS"}));
  }
  void flush() { check(writer_->flush()); }
  void close() { check(writer_->close()); }

 private:
  // The proc_event header of an event captured at `t`: cpu 0, seq 0.
  static frames::ProcHeader stamp(int64_t t) {
    frames::ProcHeader header;
    header.cpu = 0;
    header.timestampNs = uint64_t(t - kUs);
    header.seq = 0;
    return header;
  }
  static void check(const Status& status) { EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().message); }
  std::optional<format::TraceWriter> writer_;
};

// `make -j2` as pid 1000 (forked by the recorder, pid 950): two compiles in
// parallel (one fails, one has a thread), then a link that crashes with a
// core dump; make exits 2. Outside the command, cron (pid 2000) starts and
// is still running at the end. Times in ms from 0; chunks cut every 20 ms.
inline void writeSmallBuild(TraceBuilder& t, bool withGap = false) {
  constexpr int64_t ms = kMs;
  t.snapshot(1 * ms, {snapshotEntry(1, 0, {"init"}), snapshotEntry(900, 1, {"bash"}),
                      snapshotEntry(950, 900, {"proctape-record", "-o", "build.pt", "--", "make", "-j2"})});
  t.fork(10 * ms, 950, 1000);
  t.exec(10 * ms + 200 * kUs, 1000, {"make", "-j2"});
  t.fork(20 * ms, 1000, 1001);
  t.exec(20 * ms + 200 * kUs, 1001, {"cc", "-c", "a.c"});
  t.fork(22 * ms, 1000, 1002);
  t.exec(22 * ms + 200 * kUs, 1002, {"cc", "-c", "b c.c"});
  t.threadFork(25 * ms, 1002, 1005);
  t.exit(30 * ms, 1005, 0, 1000, 1002);
  t.fork(50 * ms, 1, 2000);
  t.exec(50 * ms + 200 * kUs, 2000, {"cron", "-f"}, "/");
  if (withGap) t.gap(55 * ms, 3);
  t.exit(60 * ms, 1001, exitedWith(0), 1000);
  t.exit(80 * ms, 1002, exitedWith(1), 1000);
  t.fork(81 * ms, 1000, 1003);
  t.exec(81 * ms + 200 * kUs, 1003, {"ld", "-o", "app", "a.o", "b.o"});
  t.exit(90 * ms, 1003, 11 | 0x80, 1000);
  t.exit(100 * ms, 1000, exitedWith(2), 950);
  t.close();
}

}  // namespace proctape::test::analyze
