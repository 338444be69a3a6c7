#include <cstring>

#include "decimal.h"
#include "netlink_text.h"
#include "proctape/replay/escape.h"
#include "proctape/replay/render.h"

namespace proctape::replay {
namespace {

using netlink::ProcEvent;

// `,"key":` (a string literal, so its length is known when compiling and
// the copy needs no call to memcpy) then the value.
template <size_t N>
void appendKey(Buffer& out, const char (&keyWithPunctuation)[N]) {
  std::memcpy(out.reserve(N - 1), keyWithPunctuation, N - 1);
  out.commit(N - 1);
}

template <size_t N, typename Int>
void field(Buffer& out, const char (&keyWithPunctuation)[N], Int value) {
  appendKey(out, keyWithPunctuation);
  detail::appendDecimal(out, value);
}

template <size_t N>
void stringField(Buffer& out, const char (&keyWithPunctuation)[N], std::string_view value) {
  appendKey(out, keyWithPunctuation);
  appendJsonString(out, value);
}

template <size_t N>
void boolField(Buffer& out, const char (&keyWithPunctuation)[N], bool value) {
  appendKey(out, keyWithPunctuation);
  out.append(value ? "true" : "false");
}

template <size_t N>
void hexField(Buffer& out, const char (&keyWithPunctuation)[N], std::span<const uint8_t> bytes) {
  appendKey(out, keyWithPunctuation);
  out.append('"');
  out.appendHexBytes(bytes);
  out.append('"');
}

template <size_t N>
void nameField(Buffer& out, const char (&keyWithPunctuation)[N], const NamePtr& name) {
  if (name) stringField(out, keyWithPunctuation, *name);
}

// ProcessInfo::has, without the call when /proc gave every field, as it
// usually does.
bool has(const format::ProcessInfo& info, format::InfoField field) {
  return info.misses.empty() || info.has(field);
}

void stringArray(Buffer& out, const std::vector<std::string>& items) {
  out.append('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.append(',');
    appendJsonString(out, items[i]);
  }
  out.append(']');
}

void pidFields(Buffer& out, const ProcEvent& proc) {
  field(out, ",\"pid\":", proc.processPid);
  field(out, ",\"tgid\":", proc.processTgid);
}

void parentFields(Buffer& out, const ProcEvent& proc) {
  if (!proc.hasParent) return;
  field(out, ",\"parent_pid\":", proc.parentPid);
  field(out, ",\"parent_tgid\":", proc.parentTgid);
}

void execFields(Buffer& out, const Event& event) {
  if (!event.info) return;
  const auto& info = *event.info;
  if (has(info, format::InfoField::exe)) stringField(out, ",\"exe\":", info.exe);
  if (has(info, format::InfoField::argv)) {
    appendKey(out, ",\"argv\":");
    stringArray(out, info.argv);
  }
  if (has(info, format::InfoField::cwd)) stringField(out, ",\"cwd\":", info.cwd);
}

// The raw exit_code (wait status) and exit_signal (the signal the parent
// gets, usually SIGCHLD, -1 for a thread) as the kernel gave them, then what
// the wait status means.
void exitFields(Buffer& out, const ProcEvent& proc) {
  field(out, ",\"exit_code\":", proc.exitCode);
  field(out, ",\"exit_signal\":", int32_t(proc.exitSignal));
  parentFields(out, proc);
  if (auto status = proc.status()) field(out, ",\"status\":", *status);
  if (auto signal = proc.termSignal()) field(out, ",\"term_signal\":", *signal);
  boolField(out, ",\"core_dumped\":", proc.coreDumped());
}

void renderProc(Buffer& out, const Event& event, const ProcEvent& proc) {
  field(out, ",\"kernel_time_ns\":", proc.timestampNs);
  field(out, ",\"cpu\":", proc.cpu);
  field(out, ",\"cn_seq\":", proc.cn.seq);
  switch (event.type) {
    case EventType::fork:
      field(out, ",\"parent_pid\":", proc.parentPid);
      field(out, ",\"parent_tgid\":", proc.parentTgid);
      field(out, ",\"child_pid\":", proc.childPid);
      field(out, ",\"child_tgid\":", proc.childTgid);
      nameField(out, ",\"parent_name\":", event.name);
      return;
    case EventType::exec:
      pidFields(out, proc);
      nameField(out, ",\"name\":", event.name);
      execFields(out, event);
      return;
    case EventType::exit: pidFields(out, proc), exitFields(out, proc); break;
    case EventType::uid:
      pidFields(out, proc);
      field(out, ",\"ruid\":", proc.ruid), field(out, ",\"euid\":", proc.euid);
      break;
    case EventType::gid:
      pidFields(out, proc);
      field(out, ",\"rgid\":", proc.rgid), field(out, ",\"egid\":", proc.egid);
      break;
    case EventType::ptrace:
      pidFields(out, proc);
      field(out, ",\"tracer_pid\":", proc.tracerPid), field(out, ",\"tracer_tgid\":", proc.tracerTgid);
      break;
    case EventType::comm: pidFields(out, proc), stringField(out, ",\"comm\":", proc.comm); break;
    case EventType::coredump: pidFields(out, proc), parentFields(out, proc); break;
    case EventType::ack: field(out, ",\"err\":", proc.err); return;
    case EventType::unknown:
      field(out, ",\"what\":", proc.what);
      hexField(out, ",\"raw\":", proc.raw);
      return;
    default: pidFields(out, proc); break;  // sid
  }
  nameField(out, ",\"name\":", event.name);
}

void renderLink(Buffer& out, const Event& event, const netlink::LinkEvent& link) {
  const char* rtm = detail::rtmName(link.messageType);
  stringField(out, ",\"msg\":", rtm ? rtm : "?");
  field(out, ",\"ifindex\":", link.ifindex);
  stringField(out, ",\"ifname\":", link.name);
  field(out, ",\"family\":", link.family);
  field(out, ",\"device_type\":", link.deviceType);
  field(out, ",\"flags\":", link.flags);
  out.append(",\"flag_names\":[");
  bool first = true;
  for (const auto& flag : detail::linkFlagNames()) {
    if (!(link.flags & flag.bit)) continue;
    out.append(first ? "\"" : ",\""), out.append(flag.name), out.append('"');
    first = false;
  }
  out.append(']');
  field(out, ",\"change\":", link.change);
  if (link.mtu) field(out, ",\"mtu\":", *link.mtu);
  if (link.operState) {
    const char* state = detail::operStateName(*link.operState);
    if (state)
      stringField(out, ",\"operstate\":", state);
    else
      field(out, ",\"operstate\":", *link.operState);
  }
  if (!link.address.empty()) out.append(",\"address\":\""), detail::appendMac(out, link.address), out.append('"');
  if (!link.broadcast.empty())
    out.append(",\"broadcast\":\""), detail::appendMac(out, link.broadcast), out.append('"');
  (void)event;
}

template <size_t N>
void ipField(Buffer& out, const char (&keyWithPunctuation)[N], uint8_t family, const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return;
  appendKey(out, keyWithPunctuation);
  out.append('"');
  detail::appendIp(out, family, bytes);
  out.append('"');
}

void renderAddr(Buffer& out, const Event& event, const netlink::AddrEvent& addr) {
  const char* rtm = detail::rtmName(addr.messageType);
  stringField(out, ",\"msg\":", rtm ? rtm : "?");
  if (const char* family = detail::addressFamilyName(addr.family))
    stringField(out, ",\"family\":", family);
  else
    field(out, ",\"family\":", addr.family);
  field(out, ",\"ifindex\":", addr.ifindex);
  nameField(out, ",\"ifname\":", event.name);
  field(out, ",\"prefixlen\":", addr.prefixLength);
  if (const char* scope = detail::scopeName(addr.scope))
    stringField(out, ",\"scope\":", scope);
  else
    field(out, ",\"scope\":", addr.scope);
  field(out, ",\"flags\":", addr.flags);
  ipField(out, ",\"address\":", addr.family, addr.address);
  ipField(out, ",\"local\":", addr.family, addr.local);
  ipField(out, ",\"broadcast\":", addr.family, addr.broadcast);
  if (!addr.label.empty()) stringField(out, ",\"label\":", addr.label);
}

void processFields(Buffer& out, const format::ProcessInfo& info) {
  using format::InfoField;
  stringField(out, "\"reason\":", format::toString(info.reason));
  field(out, ",\"pid\":", info.pid);
  field(out, ",\"tgid\":", info.tgid);
  // ppid comes with the start time from /proc/PID/stat: unknown (absent)
  // when that was not read, not 0.
  if (has(info, InfoField::startTime)) field(out, ",\"ppid\":", info.ppid);
  if (has(info, InfoField::exe)) stringField(out, ",\"exe\":", info.exe);
  if (has(info, InfoField::argv)) appendKey(out, ",\"argv\":"), stringArray(out, info.argv);
  if (has(info, InfoField::cwd)) stringField(out, ",\"cwd\":", info.cwd);
  if (has(info, InfoField::comm)) stringField(out, ",\"comm\":", info.comm);
  if (has(info, InfoField::ids)) {
    field(out, ",\"ruid\":", info.ruid), field(out, ",\"euid\":", info.euid);
    field(out, ",\"rgid\":", info.rgid), field(out, ",\"egid\":", info.egid);
  }
  if (has(info, InfoField::cgroup)) stringField(out, ",\"cgroup\":", info.cgroup);
  if (has(info, InfoField::startTime)) field(out, ",\"start_time_ticks\":", info.startTimeTicks);
  if (info.misses.empty()) return;
  out.append(",\"misses\":[");
  for (size_t i = 0; i < info.misses.size(); ++i) {
    const auto& miss = info.misses[i];
    out.append(i ? ",{" : "{");
    stringField(out, "\"field\":", format::toString(miss.field));
    stringField(out, ",\"reason\":", format::toString(miss.reason));
    field(out, ",\"errno\":", miss.err);
    out.append('}');
  }
  out.append(']');
}

void renderNetlink(Buffer& out, const Event& event) {
  if (const auto* error = std::get_if<netlink::NetlinkError>(&event.body)) {
    field(out, ",\"error\":", error->error);
    if (error->original) {
      field(out, ",\"request_type\":", error->original->type);
      field(out, ",\"request_seq\":", error->original->seq);
    }
  } else if (const auto* control = std::get_if<netlink::Control>(&event.body)) {
    stringField(out, ",\"control\":",
                control->type == netlink::ControlType::done   ? "done"
                : control->type == netlink::ControlType::noop ? "noop"
                                                               : "overrun");
  } else if (const auto* other = std::get_if<netlink::OtherMessage>(&event.body)) {
    field(out, ",\"nlmsg_type\":", event.header.type);
    field(out, ",\"nlmsg_flags\":", event.header.flags);
    hexField(out, ",\"payload\":", other->payload);
  }
}

void renderBody(Buffer& out, const Event& event) {
  switch (event.type) {
    case EventType::link: renderLink(out, event, std::get<netlink::LinkEvent>(event.body)); return;
    case EventType::addr: renderAddr(out, event, std::get<netlink::AddrEvent>(event.body)); return;
    case EventType::netlinkError:
    case EventType::netlinkControl:
    case EventType::netlinkOther: renderNetlink(out, event); return;
    case EventType::decodeError: {
      const auto& error = std::get<netlink::DecodeError>(event.body);
      stringField(out, ",\"reason\":", error.reason);
      field(out, ",\"offset\":", error.offset);
      hexField(out, ",\"raw\":", error.raw);
      return;
    }
    case EventType::gap: {
      const auto& gap = std::get<format::Gap>(event.body);
      if (gap.lostCount)
        field(out, ",\"lost_count\":", *gap.lostCount);
      else
        out.append(",\"lost_count\":null");
      stringField(out, ",\"reason\":", format::toString(gap.reason));
      stringField(out, ",\"detail\":", gap.detail);
      return;
    }
    case EventType::processInfo:
      out.append(',');
      processFields(out, *std::get<ProcessInfoPtr>(event.body));
      nameField(out, ",\"name\":", event.name);
      return;
    case EventType::snapshot: {
      out.append(",\"processes\":[");
      const auto& processes = std::get<SnapshotPtr>(event.body)->processes;
      for (size_t i = 0; i < processes.size(); ++i) {
        out.append(i ? ",{" : "{");
        processFields(out, processes[i]);
        out.append('}');
      }
      out.append(']');
      return;
    }
    default:
      if (const auto* proc = event.proc()) renderProc(out, event, *proc);
      return;
  }
}

}  // namespace

void JsonRenderer::render(const Event& event, const EventStream& stream, Buffer& out) {
  (void)stream;
  appendKey(out, "{\"type\":\"");
  out.append(toString(event.type));
  field(out, "\",\"time_ns\":", event.timeNs);
  if (event.wallNs) field(out, ",\"wall_time_ns\":", *event.wallNs);
  if (event.frameNumber != 0 || event.type == EventType::gap) field(out, ",\"source\":", event.sourceId);
  renderBody(out, event);
  out.append("}\n");
}

}  // namespace proctape::replay
