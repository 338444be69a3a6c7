// The records of a proctape trace, as plain C++ values.
//
// These mirror format/proctape.capnp. The writer takes them, the reader gives
// them back; neither side exposes Cap'n Proto types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace proctape::format {

inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 1;  // 1.1: MissReason replaced

struct ClockAnchor {
  int64_t monotonicNs = 0;
  int64_t realtimeNs = 0;
  int64_t boottimeNs = 0;
  bool operator==(const ClockAnchor&) const = default;
};

struct Source {
  uint16_t id = 0;
  uint32_t netlinkFamily = 0;
  std::vector<uint32_t> groups;
  std::string description;
  bool operator==(const Source&) const = default;
};

enum class ByteOrder : uint8_t { little, big };

using TraceUuid = std::array<uint8_t, 16>;

struct Meta {
  uint16_t formatMajor = kFormatMajor;
  uint16_t formatMinor = kFormatMinor;
  TraceUuid traceUuid{};
  std::string hostname;
  std::string kernelRelease;
  std::string kernelVersion;
  std::string machine;
  std::string bootId;
  ByteOrder byteOrder = ByteOrder::little;
  std::string recorderName;
  std::string recorderVersion;
  std::vector<std::string> commandLine;
  std::vector<Source> sources;
  ClockAnchor clocks;
  uint32_t segmentIndex = 0;
  int32_t commandPid = 0;  // the command run in command mode, 0 if none (system-wide)
  bool operator==(const Meta&) const = default;
};

// One raw netlink datagram. `bytes` points into the reader's decoded chunk and
// stays valid only while the Record that holds it is the current one (or while
// a copy of that Record's `chunk` handle is kept).
struct Frame {
  uint16_t sourceId = 0;
  std::span<const uint8_t> bytes;
};

enum class InfoReason : uint8_t { exec, snapshot, other };
enum class InfoField : uint8_t { argv, exe, cwd, comm, ids, cgroup, startTime, all };
enum class MissReason : uint8_t { gone, zombie, permission, reused, other, replaced };

struct Miss {
  InfoField field = InfoField::all;
  MissReason reason = MissReason::other;
  int32_t err = 0;  // errno seen, 0 if none applied
  bool operator==(const Miss&) const = default;
};

struct ProcessInfo {
  int32_t pid = 0;
  int32_t tgid = 0;
  int32_t ppid = 0;
  std::vector<std::string> argv;
  std::string exe;
  std::string cwd;
  std::string comm;
  uint32_t ruid = 0;
  uint32_t euid = 0;
  uint32_t rgid = 0;
  uint32_t egid = 0;
  std::string cgroup;
  uint64_t startTimeTicks = 0;
  InfoReason reason = InfoReason::other;
  std::vector<Miss> misses;

  // True when `field` was read (it is not listed in `misses`).
  bool has(InfoField field) const;
  bool operator==(const ProcessInfo&) const = default;
};

struct Snapshot {
  std::vector<ProcessInfo> processes;
  bool operator==(const Snapshot&) const = default;
};

enum class GapReason : uint8_t { kernelOverrun, queueOverflow, truncatedDatagram, other };

struct Gap {
  uint16_t sourceId = 0;
  std::optional<uint64_t> lostCount;  // empty: unknown
  GapReason reason = GapReason::other;
  std::string detail;
  bool operator==(const Gap&) const = default;
};

enum class RecordKind : uint8_t { meta, frame, processInfo, snapshot, gap, clocks };

// A record as the reader hands it out. Pointers point into the decoded chunk.
using RecordBody = std::variant<const Meta*, Frame, const ProcessInfo*, const Snapshot*,
                                const Gap*, const ClockAnchor*>;

struct Record {
  int64_t timeNs = 0;  // capture time, CLOCK_MONOTONIC ns
  RecordBody body;

  RecordKind kind() const { return static_cast<RecordKind>(body.index()); }
};

const char* toString(RecordKind kind);
const char* toString(GapReason reason);
const char* toString(InfoField field);
const char* toString(MissReason reason);
const char* toString(InfoReason reason);

}  // namespace proctape::format
