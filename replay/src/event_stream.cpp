#include "proctape/replay/event_stream.h"

#include <algorithm>

#include "time_math.h"

namespace proctape::replay {
namespace {

using netlink::ProcEventType;

EventType typeOfProc(ProcEventType type) {
  switch (type) {
    case ProcEventType::none: return EventType::ack;
    case ProcEventType::fork: return EventType::fork;
    case ProcEventType::exec: return EventType::exec;
    case ProcEventType::uid: return EventType::uid;
    case ProcEventType::gid: return EventType::gid;
    case ProcEventType::sid: return EventType::sid;
    case ProcEventType::ptrace: return EventType::ptrace;
    case ProcEventType::comm: return EventType::comm;
    case ProcEventType::coredump: return EventType::coredump;
    case ProcEventType::exit: return EventType::exit;
    case ProcEventType::unknown: return EventType::unknown;
  }
  return EventType::unknown;
}

struct TypeOf {
  EventType operator()(const netlink::ProcEvent& e) const { return typeOfProc(e.type); }
  EventType operator()(const netlink::LinkEvent&) const { return EventType::link; }
  EventType operator()(const netlink::AddrEvent&) const { return EventType::addr; }
  EventType operator()(const netlink::NetlinkError&) const { return EventType::netlinkError; }
  EventType operator()(const netlink::Control&) const { return EventType::netlinkControl; }
  EventType operator()(const netlink::OtherMessage&) const { return EventType::netlinkOther; }
  EventType operator()(const netlink::DecodeError&) const { return EventType::decodeError; }
};

uint32_t readU32(std::span<const uint8_t> bytes, size_t offset, format::ByteOrder order) {
  const uint8_t* p = bytes.data() + offset;
  if (order == format::ByteOrder::little) return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return uint32_t(p[3]) | uint32_t(p[2]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[0]) << 24;
}

// With no meta record to say what a source is: a frame whose cn_msg id is the
// proc connector's is taken for a connector frame, anything else for rtnetlink.
uint32_t guessFamily(std::span<const uint8_t> bytes, format::ByteOrder order) {
  constexpr size_t kCnIdOffset = 16;  // right after the nlmsghdr
  if (bytes.size() >= kCnIdOffset + 8 && readU32(bytes, kCnIdOffset, order) == netlink::kCnIdxProc &&
      readU32(bytes, kCnIdOffset + 4, order) == netlink::kCnValProc)
    return netlink::kFamilyConnector;
  return netlink::kFamilyRoute;
}

}  // namespace

EventStream::EventStream(RecordSource& source, StreamOptions options) : source_(source), options_(options) {}

Pull EventStream::next(const Event*& event) {
  if (released_) {  // the caller is done with the event it was given last
    pending_.popFront();
    ++frontSeq_;
    released_ = false;
  }
  format::Record record;
  for (;;) {
    if (!pending_.empty() && (flushAll_ || sourceEnded_ || mayRelease(pending_.front()))) {
      event = &release();
      return Pull::record;
    }
    flushAll_ = false;
    if (sourceEnded_) return Pull::end;
    switch (source_.next(record)) {
      case Pull::record:
        idleSince_.reset();
        ingest(record);
        break;
      case Pull::idle: {
        // A live trace gave nothing for a while: what is held waits for
        // records that may not come, so let it go.
        auto now = std::chrono::steady_clock::now();
        if (!idleSince_) idleSince_ = now;
        if (!pending_.empty() && now - *idleSince_ >= options_.idleFlush) {
          flushAll_ = true;
          break;
        }
        return Pull::idle;
      }
      case Pull::end:
        sourceEnded_ = true;
        break;
    }
  }
}

std::optional<uint32_t> EventStream::familyOf(uint16_t sourceId) const {
  if (!meta_) return std::nullopt;
  for (const auto& source : meta_->sources)
    if (source.id == sourceId) return source.netlinkFamily;
  return std::nullopt;
}

void EventStream::ingest(const format::Record& record) {
  ++stats_.records;
  stats_.firstTimeNs = std::min(stats_.firstTimeNs.value_or(record.timeNs), record.timeNs);
  stats_.lastTimeNs = std::max(stats_.lastTimeNs.value_or(record.timeNs), record.timeNs);
  newestNs_ = std::max(newestNs_, record.timeNs);
  // The start is the earliest time of the first record and the one after it
  // (the meta record itself gives no event), event times included: a frame
  // captured just after the subscription holds an event from before it.
  bool fixesStart = !startFixed_ && record.kind() != format::RecordKind::meta;
  if (!startFixed_) startNs_ = std::min(startNs_.value_or(record.timeNs), record.timeNs);
  switch (record.kind()) {
    case format::RecordKind::meta: {
      const format::Meta& meta = *std::get<const format::Meta*>(record.body);
      ++stats_.metaRecords;
      meta_ = meta;
      order_ = meta.byteOrder;
      if (meta.clocks.realtimeNs != 0) anchor_ = meta.clocks;
      break;
    }
    case format::RecordKind::frame: {
      size_t before = pending_.size();
      ingestFrame(record, std::get<format::Frame>(record.body));
      if (fixesStart)
        for (size_t i = before; i < pending_.size(); ++i) startNs_ = std::min(*startNs_, pending_[i].whenNs());
      break;
    }
    case format::RecordKind::processInfo:
      ingestProcessInfo(record.timeNs, *std::get<const format::ProcessInfo*>(record.body));
      break;
    case format::RecordKind::snapshot:
      push(EventType::snapshot, record.timeNs).body = keep(*std::get<const format::Snapshot*>(record.body));
      break;
    case format::RecordKind::gap: {
      const format::Gap& gap = *std::get<const format::Gap*>(record.body);
      Event& event = push(EventType::gap, record.timeNs);
      event.sourceId = gap.sourceId;
      event.body = gap;
      break;
    }
    case format::RecordKind::clocks:
      ++stats_.clockRecords;
      anchor_ = *std::get<const format::ClockAnchor*>(record.body);
      break;
  }
  startFixed_ = startFixed_ || fixesStart;
}

void EventStream::ingestFrame(const format::Record& record, const format::Frame& frame) {
  ++stats_.frames;
  ++frameCount_;
  uint32_t family = familyOf(frame.sourceId).value_or(guessFamily(frame.bytes, order_));
  if (family == netlink::kFamilyConnector && netlink::decodeSingleProcEvent(order_, frame.bytes, scratchHeader_, scratchProc_)) {
    Event& event = push(typeOfProc(scratchProc_.type), record.timeNs);
    event.sourceId = frame.sourceId;
    event.family = family;
    event.frameNumber = frameCount_;
    event.header = scratchHeader_;
    if (options_.keepFrames) event.frame.assign(frame.bytes.begin(), frame.bytes.end());
    if (event.type == EventType::exec)
      waiting_.push_back({frontSeq_ + pending_.size() - 1, scratchProc_.processPid, scratchProc_.processTgid});
    if (auto* proc = std::get_if<netlink::ProcEvent>(&event.body))
      std::swap(*proc, scratchProc_);  // both keep their buffers for the next frames
    else
      event.body = scratchProc_;
    return;
  }
  auto messages = netlink::decodeDatagram(family, order_, frame.bytes);
  if (messages.empty())
    messages.push_back({{}, netlink::DecodeError{"the datagram holds no netlink message", 0,
                                                 std::vector<uint8_t>(frame.bytes.begin(), frame.bytes.end())}});
  for (auto& message : messages) {
    Event& event = push(std::visit(TypeOf{}, message.body), record.timeNs);
    event.sourceId = frame.sourceId;
    event.family = family;
    event.frameNumber = frameCount_;
    event.header = message.header;
    if (options_.keepFrames) event.frame.assign(frame.bytes.begin(), frame.bytes.end());
    std::visit([&event](auto&& body) { event.body = std::move(body); }, std::move(message.body));
    if (event.type == EventType::exec) {
      const auto& proc = std::get<netlink::ProcEvent>(event.body);
      waiting_.push_back({frontSeq_ + pending_.size() - 1, proc.processPid, proc.processTgid});
    }
  }
}

template <typename T>
std::shared_ptr<const T> EventStream::keep(const T& value) const {
  // The aliasing constructor: points at `value`, owns (a share of) its chunk.
  if (auto owner = source_.owner()) return std::shared_ptr<const T>(std::move(owner), &value);
  return std::make_shared<const T>(value);
}

void EventStream::ingestProcessInfo(int64_t timeNs, const format::ProcessInfo& record) {
  ProcessInfoPtr info = keep(record);
  if (info->reason != format::InfoReason::snapshot) matchExecInfo(timeNs, info);
  push(EventType::processInfo, timeNs).body = std::move(info);
}

// Gives a process-info record to the oldest held exec of the same process
// that has none yet.
void EventStream::matchExecInfo(int64_t timeNs, const ProcessInfoPtr& info) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->pid != info->pid && (info->tgid == 0 || it->tgid != info->tgid)) continue;
    Event& exec = pending_[size_t(it->seq - frontSeq_)];
    // Too late: the exec is due out without it.
    if (detail::subClamped(timeNs, exec.timeNs) > options_.lookaheadNs) continue;
    exec.info = info;
    waiting_.erase(it);
    return;
  }
}

Event& EventRing::pushBack() {
  if (count_ == slots_.size()) {
    std::vector<Event> grown(std::max<size_t>(16, slots_.size() * 2));
    for (size_t i = 0; i < count_; ++i) grown[i] = std::move((*this)[i]);
    slots_ = std::move(grown);
    head_ = 0;
  }
  ++count_;
  return (*this)[count_ - 1];
}

Event& EventStream::push(EventType type, int64_t timeNs) {
  // Reset the reused slot field by field: its frame buffer keeps its capacity.
  Event& event = pending_.pushBack();
  event.type = type;
  event.timeNs = timeNs;
  event.wallNs.reset();
  if (anchor_)
    event.wallNs = detail::wallOf(*anchor_, timeNs);  // empty if it does not fit
  else
    ++stats_.eventsWithoutAnchor;
  event.sourceId = 0;
  event.family = 0;
  event.frameNumber = 0;
  event.frame.clear();
  event.header = {};
  event.name.reset();
  event.info.reset();
  ++stats_.events[size_t(type)];
  return event;
}

bool EventStream::mayRelease(const Event& front) const {
  if (front.type != EventType::exec || front.info) return true;
  if (waiting_.empty() || waiting_.front().seq != frontSeq_) return true;
  if (pending_.size() > options_.lookaheadEvents) return true;
  return detail::subClamped(newestNs_, front.timeNs) > options_.lookaheadNs;
}

// Resolves the oldest held event and hands it out where it is: it leaves the
// ring at the next call.
const Event& EventStream::release() {
  if (!waiting_.empty() && waiting_.front().seq == frontSeq_) waiting_.pop_front();
  Event& event = pending_.front();
  if (options_.names) resolve(event);
  released_ = true;
  return event;
}

void EventStream::setName(int32_t tgid, NamePtr name) {
  if (name)
    names_[tgid] = std::move(name);
  else
    names_.erase(tgid);
}

NamePtr EventStream::nameOf(int32_t tgid) const {
  auto it = names_.find(tgid);
  return it == names_.end() ? nullptr : it->second;
}

namespace {

// A shared name for `text`, reusing `known` when it says the same.
NamePtr internName(std::string text, const NamePtr& known) {
  if (text.empty()) return nullptr;
  if (known && *known == text) return known;
  return std::make_shared<const std::string>(std::move(text));
}

}  // namespace

void EventStream::resolve(Event& event) {
  switch (event.type) {
    case EventType::processInfo: {
      const auto& info = *std::get<ProcessInfoPtr>(event.body);
      int32_t key = info.tgid ? info.tgid : info.pid;
      event.name = internName(displayName(info), nameOf(key));
      if (event.name) setName(key, event.name);
      break;
    }
    case EventType::snapshot:
      for (const auto& process : std::get<SnapshotPtr>(event.body)->processes) {
        int32_t key = process.tgid ? process.tgid : process.pid;
        if (auto name = internName(displayName(process), nameOf(key))) setName(key, std::move(name));
      }
      break;
    case EventType::link: {
      const auto& link = std::get<netlink::LinkEvent>(event.body);
      auto known = links_.find(link.ifindex);
      event.name = internName(link.name, known == links_.end() ? nullptr : known->second);
      if (link.messageType == netlink::kRtmDelLink)
        links_.erase(link.ifindex);
      else if (event.name)
        links_[link.ifindex] = event.name;
      break;
    }
    case EventType::addr: {
      const auto& addr = std::get<netlink::AddrEvent>(event.body);
      auto known = links_.find(int32_t(addr.ifindex));
      event.name = known != links_.end() ? known->second : internName(addr.label, nullptr);
      break;
    }
    default:
      if (const auto* proc = event.proc()) resolveProc(event, *proc);
      break;
  }
}

void EventStream::resolveProc(Event& event, const netlink::ProcEvent& proc) {
  switch (event.type) {
    case EventType::fork:
      event.name = nameOf(proc.parentTgid);
      if (proc.childPid == proc.childTgid) setName(proc.childTgid, event.name);  // a new process, not a thread
      break;
    case EventType::exec:
      // The old image is gone: the name is the new one's, or unknown.
      event.name = event.info ? internName(displayName(*event.info), nameOf(proc.processTgid)) : nullptr;
      setName(proc.processTgid, event.name);
      break;
    case EventType::exit:
      event.name = nameOf(proc.processTgid);
      if (proc.processPid == proc.processTgid) names_.erase(proc.processTgid);
      break;
    case EventType::ack:
    case EventType::unknown: break;
    default: event.name = nameOf(proc.processTgid); break;
  }
}

}  // namespace proctape::replay
