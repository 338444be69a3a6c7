// Event: one thing replay shows, decoded from a trace record.
//
// A frame record gives one event per netlink message in it (a malformed frame
// gives a decode_error event carrying its bytes); gap, process-info and
// snapshot records give one event each. Events own their data, so they can be
// held back for a moment (see EventStream) after the record they came from is
// gone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proctape/format/netlink.h"
#include "proctape/format/records.h"

namespace proctape::replay {

enum class EventType : uint8_t {
  // proc connector (cn_proc); ack is PROC_EVENT_NONE, the subscribe answer
  fork, exec, exit, uid, gid, sid, ptrace, comm, coredump, ack, unknown,
  // rtnetlink
  link, addr,
  // other netlink messages: NLMSG_ERROR, NLMSG_DONE/NOOP/OVERRUN, anything else
  netlinkError, netlinkControl, netlinkOther,
  // a frame that did not decode
  decodeError,
  // side records
  gap, processInfo, snapshot,
};
inline constexpr size_t kEventTypeCount = size_t(EventType::snapshot) + 1;

// The stable name of a type, as JSON's "type" and --type use it:
// "fork", ..., "netlink_error", "netlink_control", "netlink_other",
// "decode_error", "gap", "process_info", "snapshot".
const char* toString(EventType type);
// The type with that name; also accepts "info" for process_info and
// "error" for decode_error. Empty when there is none.
std::optional<EventType> parseEventType(std::string_view name);

// A set of event types, as a bit mask.
class EventTypeSet {
 public:
  static EventTypeSet all() { return EventTypeSet((uint32_t(1) << kEventTypeCount) - 1); }
  static EventTypeSet none() { return EventTypeSet(0); }
  bool contains(EventType type) const { return (bits_ >> unsigned(type)) & 1u; }
  EventTypeSet& add(EventType type) { bits_ |= uint32_t(1) << unsigned(type); return *this; }
  EventTypeSet& remove(EventType type) { bits_ &= ~(uint32_t(1) << unsigned(type)); return *this; }
  bool operator==(const EventTypeSet&) const = default;

 private:
  explicit EventTypeSet(uint32_t bits) : bits_(bits) {}
  uint32_t bits_;
};

using ProcessInfoPtr = std::shared_ptr<const format::ProcessInfo>;
using SnapshotPtr = std::shared_ptr<const format::Snapshot>;
using NamePtr = std::shared_ptr<const std::string>;

using EventBody = std::variant<netlink::ProcEvent, netlink::LinkEvent, netlink::AddrEvent, netlink::NetlinkError,
                               netlink::Control, netlink::OtherMessage, netlink::DecodeError, format::Gap,
                               ProcessInfoPtr, SnapshotPtr>;

struct Event {
  EventType type = EventType::unknown;
  int64_t timeNs = 0;              // capture time, CLOCK_MONOTONIC
  std::optional<int64_t> wallNs;   // capture time on CLOCK_REALTIME, from the latest clock anchor
  uint16_t sourceId = 0;           // frames and gaps: the source it came from
  uint32_t family = 0;             // frames: the netlink family the frame was decoded as
  uint64_t frameNumber = 0;        // frames: 1 for the trace's first frame record, 2 for the next...; 0 otherwise
  std::vector<uint8_t> frame;      // frames, when StreamOptions::keepFrames: the whole datagram
  netlink::MessageHeader header;   // frames: the message's nlmsghdr
  EventBody body;

  // Filled in as the event leaves the stream, in capture order:
  // the process's display name (fork: the parent's; addr: the interface's),
  // null when unknown;
  NamePtr name;
  // exec: what /proc said about the new image (from the process-info record
  // that followed the exec frame), null when none arrived in time.
  ProcessInfoPtr info;

  const netlink::ProcEvent* proc() const { return std::get_if<netlink::ProcEvent>(&body); }

  // When it happened, as text shows it and --since/--until count it: a
  // cn_proc event's kernel timestamp (CLOCK_MONOTONIC, as timeNs is, and
  // exact where timeNs is its batch's capture time), else timeNs. The same
  // rule times processes in proctape-analyze.
  int64_t whenNs() const;
  // whenNs() on CLOCK_REALTIME, by the clock anchor that gave wallNs; empty
  // when there is none or the sum does not fit.
  std::optional<int64_t> wallWhenNs() const;
};

// The name replay shows for a process: its exe, else argv[0], else comm;
// empty when /proc gave none of them.
std::string displayName(const format::ProcessInfo& info);

}  // namespace proctape::replay
