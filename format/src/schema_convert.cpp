#include "schema_convert.h"

#include <algorithm>
#include <cstring>

namespace proctape::format {
namespace {

kj::StringPtr textOf(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

std::string stringOf(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

// A C++ enum from a capnp enum read off disk: unknown values become `fallback`.
template <typename To, typename From>
To enumOf(From value, To last, To fallback) {
  auto raw = static_cast<uint16_t>(value);
  return raw <= static_cast<uint16_t>(last) ? static_cast<To>(raw) : fallback;
}

template <typename To, typename From>
To capnpEnum(From value) {
  return static_cast<To>(static_cast<uint16_t>(value));
}

void fillTextList(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& in) {
  for (size_t i = 0; i < in.size(); ++i) out.set(i, textOf(in[i]));
}

std::vector<std::string> readTextList(capnp::List<capnp::Text>::Reader in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (auto text : in) out.push_back(stringOf(text));
  return out;
}

void fillSource(schema::Source::Builder out, const Source& source) {
  out.setId(source.id);
  out.setNetlinkFamily(source.netlinkFamily);
  auto groups = out.initGroups(unsigned(source.groups.size()));
  for (size_t i = 0; i < source.groups.size(); ++i) groups.set(i, source.groups[i]);
  out.setDescription(textOf(source.description));
}

Source readSource(schema::Source::Reader in) {
  Source source{in.getId(), in.getNetlinkFamily(), {}, stringOf(in.getDescription())};
  for (auto group : in.getGroups()) source.groups.push_back(group);
  return source;
}

}  // namespace

void fillClockAnchor(schema::ClockAnchor::Builder out, const ClockAnchor& anchor) {
  out.setMonotonicNs(anchor.monotonicNs);
  out.setRealtimeNs(anchor.realtimeNs);
  out.setBoottimeNs(anchor.boottimeNs);
}

ClockAnchor readClockAnchor(schema::ClockAnchor::Reader in) {
  return {in.getMonotonicNs(), in.getRealtimeNs(), in.getBoottimeNs()};
}

void fillMeta(schema::Meta::Builder out, const Meta& meta) {
  out.setFormatMajor(meta.formatMajor);
  out.setFormatMinor(meta.formatMinor);
  out.setTraceUuid(kj::arrayPtr(meta.traceUuid.data(), meta.traceUuid.size()));
  out.setHostname(textOf(meta.hostname));
  out.setKernelRelease(textOf(meta.kernelRelease));
  out.setKernelVersion(textOf(meta.kernelVersion));
  out.setMachine(textOf(meta.machine));
  out.setBootId(textOf(meta.bootId));
  out.setByteOrder(meta.byteOrder == ByteOrder::big ? schema::ByteOrder::BIG : schema::ByteOrder::LITTLE);
  auto recorder = out.initRecorder();
  recorder.setName(textOf(meta.recorderName));
  recorder.setVersion(textOf(meta.recorderVersion));
  fillTextList(recorder.initCommandLine(unsigned(meta.commandLine.size())), meta.commandLine);
  auto sources = out.initSources(unsigned(meta.sources.size()));
  for (size_t i = 0; i < meta.sources.size(); ++i) fillSource(sources[i], meta.sources[i]);
  fillClockAnchor(out.initClocks(), meta.clocks);
  out.setSegmentIndex(meta.segmentIndex);
  out.setCommandPid(meta.commandPid);
}

Meta readMeta(schema::Meta::Reader in) {
  Meta meta;
  meta.formatMajor = in.getFormatMajor();
  meta.formatMinor = in.getFormatMinor();
  auto uuid = in.getTraceUuid();
  std::copy_n(uuid.begin(), std::min(uuid.size(), meta.traceUuid.size()), meta.traceUuid.begin());
  meta.hostname = stringOf(in.getHostname());
  meta.kernelRelease = stringOf(in.getKernelRelease());
  meta.kernelVersion = stringOf(in.getKernelVersion());
  meta.machine = stringOf(in.getMachine());
  meta.bootId = stringOf(in.getBootId());
  meta.byteOrder = in.getByteOrder() == schema::ByteOrder::BIG ? ByteOrder::big : ByteOrder::little;
  auto recorder = in.getRecorder();
  meta.recorderName = stringOf(recorder.getName());
  meta.recorderVersion = stringOf(recorder.getVersion());
  meta.commandLine = readTextList(recorder.getCommandLine());
  for (auto source : in.getSources()) meta.sources.push_back(readSource(source));
  meta.clocks = readClockAnchor(in.getClocks());
  meta.segmentIndex = in.getSegmentIndex();
  meta.commandPid = in.getCommandPid();
  return meta;
}

void fillProcessInfo(schema::ProcessInfo::Builder out, const ProcessInfo& info) {
  out.setPid(info.pid);
  out.setTgid(info.tgid);
  out.setPpid(info.ppid);
  fillTextList(out.initArgv(unsigned(info.argv.size())), info.argv);
  out.setExe(textOf(info.exe));
  out.setCwd(textOf(info.cwd));
  out.setComm(textOf(info.comm));
  out.setRuid(info.ruid);
  out.setEuid(info.euid);
  out.setRgid(info.rgid);
  out.setEgid(info.egid);
  out.setCgroup(textOf(info.cgroup));
  out.setStartTimeTicks(info.startTimeTicks);
  out.setReason(capnpEnum<schema::InfoReason>(info.reason));
  auto misses = out.initMisses(unsigned(info.misses.size()));
  for (size_t i = 0; i < info.misses.size(); ++i) {
    misses[i].setField(capnpEnum<schema::InfoField>(info.misses[i].field));
    misses[i].setReason(capnpEnum<schema::MissReason>(info.misses[i].reason));
    misses[i].setErrno(info.misses[i].err);
  }
}

ProcessInfo readProcessInfo(schema::ProcessInfo::Reader in) {
  ProcessInfo info;
  readProcessInfoInto(in, info);
  return info;
}

namespace {

void assignText(std::string& out, capnp::Text::Reader text) { out.assign(text.cStr(), text.size()); }

}  // namespace

void readProcessInfoInto(schema::ProcessInfo::Reader in, ProcessInfo& info) {
  info.pid = in.getPid();
  info.tgid = in.getTgid();
  info.ppid = in.getPpid();
  auto argv = in.getArgv();
  info.argv.resize(argv.size());
  for (unsigned i = 0; i < argv.size(); ++i) assignText(info.argv[i], argv[i]);
  assignText(info.exe, in.getExe());
  assignText(info.cwd, in.getCwd());
  assignText(info.comm, in.getComm());
  info.ruid = in.getRuid();
  info.euid = in.getEuid();
  info.rgid = in.getRgid();
  info.egid = in.getEgid();
  assignText(info.cgroup, in.getCgroup());
  info.startTimeTicks = in.getStartTimeTicks();
  info.reason = enumOf(in.getReason(), InfoReason::other, InfoReason::other);
  info.misses.clear();
  for (auto miss : in.getMisses()) {
    info.misses.push_back({enumOf(miss.getField(), InfoField::all, InfoField::all),
                           enumOf(miss.getReason(), MissReason::replaced, MissReason::other),
                           miss.getErrno()});
  }
}

void fillSnapshot(schema::Snapshot::Builder out, const Snapshot& snapshot) {
  auto list = out.initProcesses(unsigned(snapshot.processes.size()));
  for (size_t i = 0; i < snapshot.processes.size(); ++i) fillProcessInfo(list[i], snapshot.processes[i]);
}

Snapshot readSnapshot(schema::Snapshot::Reader in) {
  Snapshot snapshot;
  snapshot.processes.reserve(in.getProcesses().size());
  for (auto info : in.getProcesses()) snapshot.processes.push_back(readProcessInfo(info));
  return snapshot;
}

void fillGap(schema::Gap::Builder out, const Gap& gap) {
  out.setSourceId(gap.sourceId);
  out.setCountKnown(gap.lostCount.has_value());
  out.setLostCount(gap.lostCount.value_or(0));
  out.setReason(capnpEnum<schema::GapReason>(gap.reason));
  out.setDetail(textOf(gap.detail));
}

Gap readGap(schema::Gap::Reader in) {
  Gap gap;
  gap.sourceId = in.getSourceId();
  if (in.getCountKnown()) gap.lostCount = in.getLostCount();
  gap.reason = enumOf(in.getReason(), GapReason::other, GapReason::other);
  gap.detail = stringOf(in.getDetail());
  return gap;
}

}  // namespace proctape::format
