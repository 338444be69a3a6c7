// Helpers for replay tests: build a trace with TraceWriter (deterministic
// mode: its meta is stamped at time 0, so relative times are capture times,
// and wall time is 2026-01-01T00:00:00Z + capture time), then render it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "frames.h"
#include "proctape/replay/replay.h"
#include "test_support.h"

namespace proctape::test {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;
inline constexpr uint16_t kProcSource = 0;   // testMeta(): source 0 is the proc connector
inline constexpr uint16_t kRouteSource = 1;  // ... and source 1 rtnetlink

class TraceBuilder {
 public:
  explicit TraceBuilder(const std::string& name = "trace.pt", format::WriterOptions options = deterministicOptions())
      : path_(dir_.file(name)) {
    auto writer = format::TraceWriter::create(path_, testMeta(), options);
    EXPECT_TRUE(writer.ok()) << (writer.ok() ? "" : writer.error().message);
    writer_.emplace(std::move(*writer));
  }
  TraceBuilder& frame(int64_t timeNs, uint16_t source, const frames::Bytes& bytes) {
    check(writer_->writeFrame(timeNs, source, bytes));
    return *this;
  }
  TraceBuilder& proc(int64_t timeNs, const frames::Bytes& bytes) { return frame(timeNs, kProcSource, bytes); }
  TraceBuilder& route(int64_t timeNs, const frames::Bytes& bytes) { return frame(timeNs, kRouteSource, bytes); }
  TraceBuilder& info(int64_t timeNs, const format::ProcessInfo& info) {
    check(writer_->writeProcessInfo(timeNs, info));
    return *this;
  }
  TraceBuilder& snapshot(int64_t timeNs, const format::Snapshot& snapshot) {
    check(writer_->writeSnapshot(timeNs, snapshot));
    return *this;
  }
  TraceBuilder& gap(int64_t timeNs, const format::Gap& gap) {
    check(writer_->writeGap(timeNs, gap));
    return *this;
  }
  TraceBuilder& flush() {
    check(writer_->flush());
    return *this;
  }
  format::TraceWriter& writer() { return *writer_; }
  // Closes the trace and returns its path.
  const std::string& close() {
    check(writer_->close());
    return path_;
  }
  const TempDir& dir() const { return dir_; }

 private:
  static void check(const Status& status) { EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().message); }
  TempDir dir_;
  std::string path_;
  std::optional<format::TraceWriter> writer_;
};

inline format::ProcessInfo processInfo(int32_t pid, int32_t ppid, const std::string& exe,
                                       std::vector<std::string> argv,
                                       format::InfoReason reason = format::InfoReason::exec) {
  format::ProcessInfo info;
  info.pid = pid;
  info.tgid = pid;
  info.ppid = ppid;
  info.exe = exe;
  info.argv = std::move(argv);
  info.cwd = "/home/user";
  info.comm = exe.substr(exe.rfind('/') + 1).substr(0, 15);
  info.ruid = info.euid = 1000;
  info.rgid = info.egid = 1000;
  info.reason = reason;
  return info;
}

inline replay::ReplayOptions options(replay::Format format, replay::TimeMode time = replay::TimeMode::none) {
  return replay::defaultOptions(format, time);
}

// The trace rendered with `o`; fails the test if it cannot be opened.
inline std::string render(const std::string& path, const replay::ReplayOptions& o) {
  auto rendered = replay::renderTrace(path, o);
  EXPECT_TRUE(rendered.ok()) << (rendered.ok() ? "" : rendered.error().message);
  return rendered.ok() ? rendered->output : std::string();
}

inline std::string renderText(const std::string& path, replay::TimeMode time = replay::TimeMode::none) {
  return render(path, options(replay::Format::text, time));
}

inline std::string renderJson(const std::string& path) { return render(path, options(replay::Format::json)); }

}  // namespace proctape::test
