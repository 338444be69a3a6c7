// The connector layer (struct cn_msg) and the process events connector
// (struct proc_event), decoded by the lengths in the frame.
//
// Layouts (include/uapi/linux/connector.h and cn_proc.h), all fields in the
// recording machine's byte order:
//   cn_msg      idx u32, val u32, seq u32, ack u32, len u16, flags u16, then `len` bytes
//   proc_event  what u32, cpu u32, timestamp_ns u64, then the event_data union
// The union has grown over the years (exit and coredump gained parent fields),
// so each type's fields are read only as far as the frame carries them.
#include <optional>
#include <string>

#include "netlink_decoders.h"
#include "netlink_window.h"
#include "proctape/format/netlink.h"

namespace proctape::netlink {
namespace detail {
namespace {

constexpr size_t kCnMsgSize = 20;
constexpr size_t kCnLenOffset = 16;
constexpr size_t kEventHeaderSize = 16;  // what, cpu, timestamp_ns

// struct cn_msg without its data; the caller has checked the 20 bytes.
CnHeader readCnHeader(const Window& at) {
  CnHeader cn;
  cn.idx = at.get<uint32_t>(0);
  cn.val = at.get<uint32_t>(4);
  cn.seq = at.get<uint32_t>(8);
  cn.ack = at.get<uint32_t>(12);
  cn.len = at.get<uint16_t>(16);
  cn.flags = at.get<uint16_t>(18);
  return cn;
}

ProcEventType typeOf(uint32_t what) {
  switch (what) {
    case kProcEventNone: return ProcEventType::none;
    case kProcEventFork: return ProcEventType::fork;
    case kProcEventExec: return ProcEventType::exec;
    case kProcEventUid: return ProcEventType::uid;
    case kProcEventGid: return ProcEventType::gid;
    case kProcEventSid: return ProcEventType::sid;
    case kProcEventPtrace: return ProcEventType::ptrace;
    case kProcEventComm: return ProcEventType::comm;
    case kProcEventCoredump: return ProcEventType::coredump;
    case kProcEventExit: return ProcEventType::exit;
    default: return ProcEventType::unknown;
  }
}

// Bytes of event data a type needs for the fields every kernel sends. Exit
// and coredump may carry 8 more (parent pid and tgid, newer kernels).
size_t requiredDataSize(ProcEventType type) {
  switch (type) {
    case ProcEventType::none: return 4;       // err
    case ProcEventType::exec:
    case ProcEventType::sid:
    case ProcEventType::coredump: return 8;   // process pid, tgid
    case ProcEventType::fork:
    case ProcEventType::uid:
    case ProcEventType::gid:
    case ProcEventType::ptrace:
    case ProcEventType::exit: return 16;      // four 32-bit fields
    case ProcEventType::comm: return 24;      // pid, tgid, comm[16]
    case ProcEventType::unknown: return 0;
  }
  return 0;
}

void readProcess(ProcEvent& event, const Window& data) {
  event.processPid = data.getS32(0);
  event.processTgid = data.getS32(4);
}

// Parent fields at `at`, if the frame's layout goes that far. Note that every
// kernel sets cn_msg.len to its sizeof(struct proc_event), and the union has
// been 24 bytes since comm events: an exit or coredump from a kernel older than
// the parent fields arrives with room for them, zeroed. So hasParent says what
// the layout carried; a parent pid of 0 still means "not known".
void readOptionalParent(ProcEvent& event, const Window& data, size_t at) {
  if (!data.holds(at, 8)) return;
  event.hasParent = true;
  event.parentPid = data.getS32(at);
  event.parentTgid = data.getS32(at + 4);
}

void readFork(ProcEvent& event, const Window& data) {
  event.parentPid = data.getS32(0);
  event.parentTgid = data.getS32(4);
  event.childPid = data.getS32(8);
  event.childTgid = data.getS32(12);
}

// uid and gid share struct id_proc_event; r and e are unions of the two.
void readIds(ProcEvent& event, const Window& data) {
  readProcess(event, data);
  uint32_t real = data.get<uint32_t>(8);
  uint32_t effective = data.get<uint32_t>(12);
  if (event.type == ProcEventType::uid) {
    event.ruid = real;
    event.euid = effective;
  } else {
    event.rgid = real;
    event.egid = effective;
  }
}

void readPtrace(ProcEvent& event, const Window& data) {
  readProcess(event, data);
  event.tracerPid = data.getS32(8);
  event.tracerTgid = data.getS32(12);
}

void readExit(ProcEvent& event, const Window& data) {
  readProcess(event, data);
  event.exitCode = data.get<uint32_t>(8);
  event.exitSignal = data.get<uint32_t>(12);
  readOptionalParent(event, data, 16);
}

// The event data union, by type; the caller has checked requiredDataSize.
void readEventData(ProcEvent& event, const Window& data) {
  switch (event.type) {
    case ProcEventType::none: event.err = data.get<uint32_t>(0); break;
    case ProcEventType::fork: readFork(event, data); break;
    case ProcEventType::exec:
    case ProcEventType::sid: readProcess(event, data); break;
    case ProcEventType::uid:
    case ProcEventType::gid: readIds(event, data); break;
    case ProcEventType::ptrace: readPtrace(event, data); break;
    case ProcEventType::comm:
      readProcess(event, data);
      event.comm = data.sub(8, 16).cString();
      break;
    case ProcEventType::coredump:
      readProcess(event, data);
      readOptionalParent(event, data, 8);
      break;
    case ProcEventType::exit: readExit(event, data); break;
    case ProcEventType::unknown: event.raw = data.copy(); break;
  }
}

// `data` is the cn_msg's data, already bounded by cn_msg.len.
MessageBody decodeProcEvent(const CnHeader& cn, const Window& data) {
  if (!data.holds(0, kEventHeaderSize))
    return data.error(0, "proc_event is " + std::to_string(data.size()) + " bytes, too short for its header (16)");
  ProcEvent event;
  event.cn = cn;
  event.what = data.get<uint32_t>(0);
  event.cpu = data.get<uint32_t>(4);
  event.timestampNs = data.get<uint64_t>(8);
  event.type = typeOf(event.what);
  Window eventData = data.sub(kEventHeaderSize);
  if (size_t required = requiredDataSize(event.type); !eventData.holds(0, required))
    return eventData.error(0, std::string(toString(event.type)) + " event data is " +
                                  std::to_string(eventData.size()) + " bytes, too short for its fields (" +
                                  std::to_string(required) + ")");
  readEventData(event, eventData);
  return event;
}

// Every field back to zero, keeping the buffers of comm and raw: this runs
// for every frame an analysis reads, and building a new ProcEvent costs more
// than the decoding.
void clearFields(ProcEvent& event) {
  event.err = 0;
  event.parentPid = event.parentTgid = event.childPid = event.childTgid = 0;
  event.processPid = event.processTgid = 0;
  event.ruid = event.euid = event.rgid = event.egid = 0;
  event.tracerPid = event.tracerTgid = 0;
  event.comm.clear();
  event.exitCode = event.exitSignal = 0;
  event.hasParent = false;
  event.raw.clear();
}

}  // namespace

bool decodeKnownProcEvent(const Window& payload, ProcEvent& event) {
  if (!payload.holds(0, kCnMsgSize)) return false;
  CnHeader cn = readCnHeader(payload);
  Window data = payload.sub(kCnMsgSize);
  if (cn.idx != kCnIdxProc || cn.val != kCnValProc || cn.len > data.size() || cn.len < kEventHeaderSize) return false;
  ProcEventType type = typeOf(data.get<uint32_t>(0));
  Window eventData = data.sub(kEventHeaderSize, cn.len - kEventHeaderSize);
  if (type == ProcEventType::unknown || !eventData.holds(0, requiredDataSize(type))) return false;
  clearFields(event);
  event.cn = cn;
  event.type = type;
  event.what = data.get<uint32_t>(0);
  event.cpu = data.get<uint32_t>(4);
  event.timestampNs = data.get<uint64_t>(8);
  readEventData(event, eventData);
  return true;
}

MessageBody decodeConnectorMessage(const Window& payload) {
  if (!payload.holds(0, kCnMsgSize))
    return payload.error(0, "connector payload is " + std::to_string(payload.size()) +
                                " bytes, too short for a cn_msg header (20)");
  CnHeader cn = readCnHeader(payload);
  Window data = payload.sub(kCnMsgSize);
  if (cn.len > data.size())
    return payload.error(kCnLenOffset, "cn_msg.len " + std::to_string(cn.len) + " exceeds the " +
                                           std::to_string(data.size()) + " bytes after the cn_msg header");
  if (cn.idx == kCnIdxProc && cn.val == kCnValProc) return decodeProcEvent(cn, data.sub(0, cn.len));
  return OtherMessage{payload.copy()};
}

}  // namespace detail

namespace {
constexpr uint32_t kSignalMask = 0x7f;  // low 7 bits of a wait status: the terminating signal
constexpr uint32_t kCoreFlag = 0x80;    // WCOREFLAG
}  // namespace

// exit_code is the kernel's wait status (what waitpid would report):
// (status << 8) for a normal exit, else the signal, with 0x80 for a core dump.
std::optional<int> ProcEvent::status() const {
  if (type != ProcEventType::exit || (exitCode & kSignalMask) != 0) return std::nullopt;
  return int((exitCode >> 8) & 0xff);
}

std::optional<int> ProcEvent::termSignal() const {
  if (type != ProcEventType::exit || (exitCode & kSignalMask) == 0) return std::nullopt;
  return int(exitCode & kSignalMask);
}

bool ProcEvent::coreDumped() const { return termSignal().has_value() && (exitCode & kCoreFlag) != 0; }

const char* toString(ProcEventType type) {
  switch (type) {
    case ProcEventType::none: return "none";
    case ProcEventType::fork: return "fork";
    case ProcEventType::exec: return "exec";
    case ProcEventType::uid: return "uid";
    case ProcEventType::gid: return "gid";
    case ProcEventType::sid: return "sid";
    case ProcEventType::ptrace: return "ptrace";
    case ProcEventType::comm: return "comm";
    case ProcEventType::coredump: return "coredump";
    case ProcEventType::exit: return "exit";
    case ProcEventType::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace proctape::netlink
