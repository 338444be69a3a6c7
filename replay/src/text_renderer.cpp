#include <ctime>

#include "netlink_text.h"
#include "proctape/replay/escape.h"
#include "proctape/replay/render.h"
#include "time_math.h"

namespace proctape::replay {
namespace {

using netlink::ProcEvent;

constexpr size_t kTimeWidth = 10;      // "  0.000123"
constexpr size_t kHexShown = 64;       // bytes of raw data shown on one text line

void appendName(Buffer& out, const NamePtr& name) {
  if (name)
    appendTextString(out, *name);
  else
    out.append('?');
}

void appendPair(Buffer& out, int32_t a, int32_t b) {
  out.append('(');
  out.appendInt(a);
  out.append(", ");
  out.appendInt(b);
  out.append(')');
}

// "exec(): NAME (pid, tgid)", the start of most proc connector lines.
void appendSubject(Buffer& out, const char* what, const Event& event, const ProcEvent& proc) {
  out.append(what);
  out.append("(): ");
  appendName(out, event.name);
  out.append(' ');
  appendPair(out, proc.processPid, proc.processTgid);
}

void appendRaw(Buffer& out, std::span<const uint8_t> bytes) {
  out.appendInt(bytes.size());
  out.append(bytes.size() == 1 ? " byte" : " bytes");
  if (bytes.empty()) return;
  out.append(": ");
  out.appendHexBytes(bytes.first(std::min(bytes.size(), kHexShown)));
  if (bytes.size() > kHexShown) out.append("...");
}

void renderExit(Buffer& out, const ProcEvent& proc) {
  out.append("exit(): ");
  appendPair(out, proc.processPid, proc.processTgid);
  out.append(" -> ");
  if (auto status = proc.status()) {
    out.append("rc=");
    out.appendInt(*status);
  } else if (auto signal = proc.termSignal()) {
    out.append("sig=");
    out.appendInt(*signal);
    if (proc.coreDumped()) out.append(" (core dumped)");
  }
}

void renderProc(Buffer& out, const Event& event, const ProcEvent& proc) {
  switch (event.type) {
    case EventType::fork:
      out.append("fork(): ");
      appendName(out, event.name);
      out.append(' ');
      appendPair(out, proc.parentPid, proc.parentTgid);
      out.append(" -> ");
      appendPair(out, proc.childPid, proc.childTgid);
      return;
    case EventType::exec: appendSubject(out, "exec", event, proc); return;
    case EventType::exit: renderExit(out, proc); return;
    case EventType::uid:
      appendSubject(out, "uid", event, proc);
      out.append(" ruid="), out.appendInt(proc.ruid), out.append(" euid="), out.appendInt(proc.euid);
      return;
    case EventType::gid:
      appendSubject(out, "gid", event, proc);
      out.append(" rgid="), out.appendInt(proc.rgid), out.append(" egid="), out.appendInt(proc.egid);
      return;
    case EventType::sid: appendSubject(out, "sid", event, proc); return;
    case EventType::ptrace:
      appendSubject(out, "ptrace", event, proc);
      if (proc.tracerPid == 0 && proc.tracerTgid == 0) {
        out.append(" detached");
      } else {
        out.append(" tracer ");
        appendPair(out, proc.tracerPid, proc.tracerTgid);
      }
      return;
    case EventType::comm:
      appendSubject(out, "comm", event, proc);
      out.append(" comm=");
      appendTextString(out, proc.comm);
      return;
    case EventType::coredump: appendSubject(out, "coredump", event, proc); return;
    case EventType::ack:
      out.append("ack(): err=");
      out.appendInt(proc.err);
      return;
    default:
      out.append("unknown(): what=0x");
      out.appendHex(proc.what);
      out.append(' ');
      appendRaw(out, proc.raw);
      return;
  }
}

void renderLink(Buffer& out, const Event& event, const netlink::LinkEvent& link) {
  out.append("link ");
  appendName(out, event.name);
  out.append('(');
  out.appendInt(link.ifindex);
  out.append(") ");
  const char* rtm = detail::rtmName(link.messageType);
  out.append(rtm ? rtm : "?");
  out.append(link.flags & detail::kIffUp ? " up" : " down");
  if (link.flags & detail::kIffRunning) out.append(" running");
  if (link.flags & detail::kIffLoopback) out.append(" loopback");
  if (link.flags & detail::kIffPromisc) out.append(" promisc");
  if (link.mtu) out.append(" mtu "), out.appendInt(*link.mtu);
  if (!link.address.empty()) out.append(" mac "), detail::appendMac(out, link.address);
}

void renderAddr(Buffer& out, const Event& event, const netlink::AddrEvent& addr) {
  out.append("addr ");
  appendName(out, event.name);
  out.append('(');
  out.appendInt(addr.ifindex);
  out.append(") ");
  const char* rtm = detail::rtmName(addr.messageType);
  out.append(rtm ? rtm : "?");
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a
  // point-to-point link, and the only one IPv6 gives.
  const auto& own = addr.local.empty() ? addr.address : addr.local;
  out.append(' ');
  detail::appendIp(out, addr.family, own);
  out.append('/');
  out.appendInt(addr.prefixLength);
  if (!addr.local.empty() && !addr.address.empty() && addr.local != addr.address)
    out.append(" peer "), detail::appendIp(out, addr.family, addr.address);
  if (!addr.broadcast.empty()) out.append(" brd "), detail::appendIp(out, addr.family, addr.broadcast);
  if (addr.scope != 0) {
    out.append(" scope ");
    if (const char* scope = detail::scopeName(addr.scope))
      out.append(scope);
    else
      out.appendInt(addr.scope);
  }
  if (!addr.label.empty() && (!event.name || *event.name != addr.label))
    out.append(" label "), appendTextString(out, addr.label);
}

void renderGap(Buffer& out, const format::Gap& gap) {
  out.append("gap: ");
  if (gap.lostCount) {
    out.appendInt(*gap.lostCount);
    out.append(*gap.lostCount == 1 ? " event lost" : " events lost");
  } else {
    out.append("an unknown number of events lost");
  }
  out.append(" on source ");
  out.appendInt(gap.sourceId);
  out.append(" (");
  switch (gap.reason) {
    case format::GapReason::kernelOverrun: out.append("kernel overrun"); break;
    case format::GapReason::queueOverflow: out.append("queue overflow"); break;
    case format::GapReason::truncatedDatagram: out.append("truncated datagram"); break;
    case format::GapReason::other: out.append("other"); break;
  }
  if (!gap.detail.empty()) out.append(": "), appendTextString(out, gap.detail);
  out.append(')');
}

void appendProcessFields(Buffer& out, const format::ProcessInfo& info) {
  using format::InfoField;
  out.append(' ');
  appendPair(out, info.pid, info.tgid);
  out.append(" ppid=");
  if (info.has(InfoField::startTime))  // read with the start time, from /proc/PID/stat
    out.appendInt(info.ppid);
  else
    out.append('?');
  if (info.has(InfoField::argv)) {
    out.append(" argv=[");
    for (size_t i = 0; i < info.argv.size(); ++i) {
      if (i) out.append(' ');
      if (info.argv[i].empty())
        out.append("''");  // as proctape-analyze shows it: an empty argument is one too
      else
        appendTextString(out, info.argv[i], true);
    }
    out.append(']');
  }
  if (info.has(InfoField::cwd)) out.append(" cwd="), appendTextString(out, info.cwd, true);
  if (info.has(InfoField::ids)) out.append(" uid="), out.appendInt(info.ruid);
  for (size_t i = 0; i < info.misses.size(); ++i) {
    out.append(i ? "," : " missing=");
    out.append(format::toString(info.misses[i].field));
    out.append('(');
    out.append(format::toString(info.misses[i].reason));
    out.append(')');
  }
}

void renderProcessInfo(Buffer& out, const Event& event, const format::ProcessInfo& info) {
  out.append("info(): ");
  appendName(out, event.name);
  appendProcessFields(out, info);
}

void renderSnapshot(Buffer& out, const format::Snapshot& snapshot) {
  out.append("snapshot(): ");
  out.appendInt(snapshot.processes.size());
  out.append(snapshot.processes.size() == 1 ? " process" : " processes");
  for (const auto& process : snapshot.processes) {
    out.append("\n    ");
    std::string name = displayName(process);
    if (name.empty())
      out.append('?');
    else
      appendTextString(out, name);
    appendProcessFields(out, process);
  }
}

void renderNetlink(Buffer& out, const Event& event) {
  if (const auto* error = std::get_if<netlink::NetlinkError>(&event.body)) {
    if (error->error == 0) {
      out.append("netlink ack");
    } else {
      out.append("netlink error=");
      out.appendInt(error->error);
    }
    if (error->original) out.append(" for type="), out.appendInt(error->original->type);
  } else if (const auto* control = std::get_if<netlink::Control>(&event.body)) {
    out.append(control->type == netlink::ControlType::done   ? "netlink done"
               : control->type == netlink::ControlType::noop ? "netlink noop"
                                                              : "netlink overrun");
  } else if (const auto* other = std::get_if<netlink::OtherMessage>(&event.body)) {
    out.append("netlink type="), out.appendInt(event.header.type);
    out.append(" flags=0x"), out.appendHex(event.header.flags);
    out.append(' ');
    appendRaw(out, other->payload);
  }
}

void renderDecodeError(Buffer& out, const Event& event, const netlink::DecodeError& error) {
  out.append("decode error: source ");
  out.appendInt(event.sourceId);
  out.append(" byte ");
  out.appendInt(error.offset);
  out.append(": ");
  appendTextString(out, error.reason);
  out.append(" (");
  appendRaw(out, error.raw);
  out.append(')');
}

}  // namespace

void TextRenderer::appendTime(const Event& event, const EventStream& stream, Buffer& out) {
  if (time_ == TimeMode::none) return;
  if (time_ == TimeMode::wall) {
    std::optional<int64_t> wall = event.wallWhenNs();
    if (!wall) {  // as wide as a wall time and its space
      out.append(stream.anchor() ? "(wall time out of range)    " : "(no clock anchor)           ");
      return;
    }
    auto [second, micros] = detail::splitWall(*wall);
    if (second != cachedSecond_) {
      detail::formatDate(second, cachedDate_);
      cachedSecond_ = second;
    }
    out.append(std::string_view(cachedDate_, detail::kDateChars));
    char* at = out.reserve(9);
    at[0] = '.';
    for (int i = 6; i >= 1; --i, micros /= 10) at[i] = char('0' + micros % 10);
    at[7] = 'Z', at[8] = ' ';
    out.commit(9);
    return;
  }
  size_t before = out.size();
  out.appendSeconds(detail::subClamped(event.whenNs(), stream.startNs().value_or(event.timeNs)));
  size_t width = out.size() - before;
  if (width < kTimeWidth) {
    char* at = out.reserve(kTimeWidth - width) - width;  // the text just written
    std::memmove(at + (kTimeWidth - width), at, width);
    std::memset(at, ' ', kTimeWidth - width);
    out.commit(kTimeWidth - width);
  }
  out.append(' ');
}

void TextRenderer::render(const Event& event, const EventStream& stream, Buffer& out) {
  appendTime(event, stream, out);
  switch (event.type) {
    case EventType::link: renderLink(out, event, std::get<netlink::LinkEvent>(event.body)); break;
    case EventType::addr: renderAddr(out, event, std::get<netlink::AddrEvent>(event.body)); break;
    case EventType::netlinkError:
    case EventType::netlinkControl:
    case EventType::netlinkOther: renderNetlink(out, event); break;
    case EventType::decodeError:
      renderDecodeError(out, event, std::get<netlink::DecodeError>(event.body));
      break;
    case EventType::gap: renderGap(out, std::get<format::Gap>(event.body)); break;
    case EventType::processInfo:
      renderProcessInfo(out, event, *std::get<ProcessInfoPtr>(event.body));
      break;
    case EventType::snapshot: renderSnapshot(out, *std::get<SnapshotPtr>(event.body)); break;
    default:
      if (const auto* proc = event.proc()) renderProc(out, event, *proc);
      break;
  }
  out.append('\n');
}

}  // namespace proctape::replay
