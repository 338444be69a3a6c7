// Pure, bounds-checked decoders of netlink datagrams: the proc connector
// (cn_proc) and rtnetlink link/address messages.
//
// A decoder takes bytes and returns values; it never touches the live system
// and never reads outside the span it is given, whatever the lengths inside
// claim. Layouts are decoded by the lengths in the frame, never by sizeof of
// this machine's kernel headers, and in the byte order the trace recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::netlink {

// Netlink families (the protocol argument of socket(AF_NETLINK, ...)).
inline constexpr uint32_t kFamilyRoute = 0;
inline constexpr uint32_t kFamilyConnector = 11;

// Netlink control message types.
inline constexpr uint16_t kNlmsgNoop = 1;
inline constexpr uint16_t kNlmsgError = 2;
inline constexpr uint16_t kNlmsgDone = 3;
inline constexpr uint16_t kNlmsgOverrun = 4;
inline constexpr uint16_t kNlmFMulti = 0x2;

// rtnetlink message types.
inline constexpr uint16_t kRtmNewLink = 16;
inline constexpr uint16_t kRtmDelLink = 17;
inline constexpr uint16_t kRtmNewAddr = 20;
inline constexpr uint16_t kRtmDelAddr = 21;

// proc_event.what values.
inline constexpr uint32_t kProcEventNone = 0x00000000;
inline constexpr uint32_t kProcEventFork = 0x00000001;
inline constexpr uint32_t kProcEventExec = 0x00000002;
inline constexpr uint32_t kProcEventUid = 0x00000004;
inline constexpr uint32_t kProcEventGid = 0x00000040;
inline constexpr uint32_t kProcEventSid = 0x00000080;
inline constexpr uint32_t kProcEventPtrace = 0x00000100;
inline constexpr uint32_t kProcEventComm = 0x00000200;
inline constexpr uint32_t kProcEventNonzeroExit = 0x20000000;  // filter bit only (6.6+), never sent
inline constexpr uint32_t kProcEventCoredump = 0x40000000;
inline constexpr uint32_t kProcEventExit = 0x80000000;

// The connector id of the process events connector.
inline constexpr uint32_t kCnIdxProc = 1;
inline constexpr uint32_t kCnValProc = 1;

struct MessageHeader {  // struct nlmsghdr
  uint32_t length = 0;
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t portId = 0;  // nlmsg_pid: 0 when the kernel sent it
  bool operator==(const MessageHeader&) const = default;
};

struct CnHeader {  // struct cn_msg, without its data
  uint32_t idx = 0;
  uint32_t val = 0;
  uint32_t seq = 0;   // per-CPU event counter for cn_proc
  uint32_t ack = 0;
  uint16_t len = 0;   // bytes of data after the cn_msg header
  uint16_t flags = 0;
  bool operator==(const CnHeader&) const = default;
};

enum class ProcEventType : uint8_t { none, fork, exec, uid, gid, sid, ptrace, comm, coredump, exit, unknown };

// One proc_event. Field names follow the kernel's; a field not carried by
// the event's type stays 0 (or empty).
struct ProcEvent {
  CnHeader cn;
  ProcEventType type = ProcEventType::unknown;
  uint32_t what = 0;
  uint32_t cpu = 0;
  uint64_t timestampNs = 0;  // kernel time of the event, CLOCK_MONOTONIC

  uint32_t err = 0;                         // none: the subscribe ack's result
  int32_t parentPid = 0, parentTgid = 0;    // fork; exit and coredump when hasParent
  int32_t childPid = 0, childTgid = 0;      // fork
  int32_t processPid = 0, processTgid = 0;  // every type but none and fork
  uint32_t ruid = 0, euid = 0;              // uid
  uint32_t rgid = 0, egid = 0;              // gid
  int32_t tracerPid = 0, tracerTgid = 0;    // ptrace (0 on detach)
  std::string comm;                         // comm, up to 16 bytes, cut at the first NUL
  uint32_t exitCode = 0;                    // exit: the wait status (see below)
  uint32_t exitSignal = 0;                  // exit: signal sent to the parent (SIGCHLD), NOT the killing signal
  bool hasParent = false;                   // exit/coredump: the frame's layout carried parent fields
  std::vector<uint8_t> raw;                 // unknown: the event data bytes as they were

  // The pid the event is about: the child for fork, else processPid.
  int32_t pid() const { return type == ProcEventType::fork ? childPid : processPid; }
  int32_t tgid() const { return type == ProcEventType::fork ? childTgid : processTgid; }
  // Exit status 0-255, present only when the process exited normally.
  std::optional<int> status() const;
  // The signal that killed the process, present only when one did.
  std::optional<int> termSignal() const;
  // The process dumped core (bit 0x80 of the wait status).
  bool coreDumped() const;
  bool operator==(const ProcEvent&) const = default;
};

// RTM_NEWLINK / RTM_DELLINK: struct ifinfomsg and its attributes.
struct LinkEvent {
  uint16_t messageType = 0;
  uint8_t family = 0;
  uint16_t deviceType = 0;       // ARPHRD_*
  int32_t ifindex = 0;
  uint32_t flags = 0;            // IFF_*
  uint32_t change = 0;
  std::string name;              // IFLA_IFNAME
  std::optional<uint32_t> mtu;   // IFLA_MTU
  std::optional<uint8_t> operState;  // IFLA_OPERSTATE (IF_OPER_*)
  std::vector<uint8_t> address;      // IFLA_ADDRESS
  std::vector<uint8_t> broadcast;    // IFLA_BROADCAST
};

// RTM_NEWADDR / RTM_DELADDR: struct ifaddrmsg and its attributes.
struct AddrEvent {
  uint16_t messageType = 0;
  uint8_t family = 0;            // AF_INET, AF_INET6
  uint8_t prefixLength = 0;
  uint8_t flags = 0;             // IFA_F_* (low 8 bits)
  uint8_t scope = 0;             // RT_SCOPE_*
  uint32_t ifindex = 0;
  std::vector<uint8_t> address;    // IFA_ADDRESS
  std::vector<uint8_t> local;      // IFA_LOCAL
  std::vector<uint8_t> broadcast;  // IFA_BROADCAST
  std::string label;               // IFA_LABEL
};

// NLMSG_ERROR: error is 0 for an ack, else a negative errno.
struct NetlinkError {
  int32_t error = 0;
  std::optional<MessageHeader> original;  // the header of the request it answers
};

enum class ControlType : uint8_t { noop, done, overrun };
struct Control {
  ControlType type = ControlType::done;
};

// A well-formed message of a kind these decoders do not interpret.
struct OtherMessage {
  std::vector<uint8_t> payload;
};

// Bytes that could not be decoded: why, where (offset in the datagram), and
// the bytes themselves, so nothing is lost.
struct DecodeError {
  std::string reason;
  size_t offset = 0;
  std::vector<uint8_t> raw;
};

using MessageBody = std::variant<ProcEvent, LinkEvent, AddrEvent, NetlinkError, Control, OtherMessage, DecodeError>;

struct Message {
  MessageHeader header;  // all zero for a DecodeError before any header could be read
  MessageBody body;
};

// Decodes every netlink message in one datagram received on a socket of
// `family`, in `order`. Several messages, multipart dumps and control
// messages are handled; a malformed part becomes a DecodeError and the walk
// stops there (lengths after a bad one cannot be trusted). Never throws.
std::vector<Message> decodeDatagram(uint32_t family, format::ByteOrder order, std::span<const uint8_t> bytes);

// Nearly every datagram of the proc connector is one well-formed proc_event
// of a known type. For that shape this fills `header` and `event` with what
// decodeDatagram would give, without its vector of variants (most of the
// time an analysis spends on a frame), reusing `event`'s buffers, and
// returns true. Anything else (several messages, a short or malformed part,
// another connector, an unknown event type) returns false and leaves both
// untouched: decode it with decodeDatagram.
bool decodeSingleProcEvent(format::ByteOrder order, std::span<const uint8_t> bytes, MessageHeader& header,
                           ProcEvent& event);

const char* toString(ProcEventType type);

}  // namespace proctape::netlink
