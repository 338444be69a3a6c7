#include "trace_sink.h"

#include <algorithm>
#include <chrono>

#include "native_order.h"
#include "proctape/format/netlink.h"

namespace proctape::record {

namespace nl = proctape::netlink;

namespace {

constexpr size_t kChunkOfSlots = 1024;
constexpr uint32_t kNoCpu = 0xffffffffu;

bool passesFilter(const nl::ProcEvent& event, uint32_t mask) {
  if (mask == kAllProcEvents || event.type == nl::ProcEventType::none || event.type == nl::ProcEventType::unknown) {
    return true;
  }
  if (event.what & mask) return true;
  return event.type == nl::ProcEventType::exit && (mask & nl::kProcEventNonzeroExit) && event.exitCode != 0;
}

}  // namespace

TraceSink::TraceSink(format::TraceWriter writer, FrameQueue& queue, SideChannel& side, WorkSignal& signal,
                     SharedStats& stats, SinkOptions options)
    : writer_(std::move(writer)),
      queue_(queue),
      side_(side),
      signal_(signal),
      stats_(stats),
      options_(std::move(options)),
      loss_(options_.seqValid) {}

TraceSink::~TraceSink() {
  if (thread_.joinable()) finish();
}

void TraceSink::start(std::vector<Datagram> preamble) {
  preamble_ = std::move(preamble);
  thread_ = std::thread([this] {
    nameThisThread("pt-write");
    run();
  });
}

void TraceSink::finish() {
  producersDone_.store(true, std::memory_order_release);
  signal_.notify();
  if (thread_.joinable()) thread_.join();
}

void TraceSink::check(const Status& status) {
  if (status || failed_) return;
  failed_ = true;
  error_ = status.error().message;
  if (!stopRequested_ && options_.requestStop) options_.requestStop();
  stopRequested_ = true;
}

void TraceSink::writeGap(int64_t timeNs, const format::Gap& gap) {
  if (!failed_) check(writer_.writeGap(timeNs, gap));
}

void TraceSink::handleProcFrame(int64_t timeNs, uint16_t sourceId, std::span<const uint8_t> bytes) {
  bool keep = false;
  int32_t execTgid = 0;
  for (const auto& message : nl::decodeDatagram(nl::kFamilyConnector, kNativeOrder, bytes)) {
    const auto* event = std::get_if<nl::ProcEvent>(&message.body);
    if (!event) {
      keep = true;  // kept raw: replay reports what it is
      continue;
    }
    // Acks share the per-CPU numbering on kernels that send them like events
    // (they carry a CPU); older kernels send them with cpu -1, outside it.
    if (event->cpu != kNoCpu) {
      for (const auto& gap : loss_.onProcEvent(sourceId, event->cpu, event->cn.seq, timeNs)) writeGap(timeNs, gap);
    }
    keep = keep || passesFilter(*event, options_.userFilterMask);
    if (event->type == nl::ProcEventType::exec) execTgid = event->processTgid;
  }
  if (!keep) {
    stats_.filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (options_.maxEvents && events_ >= options_.maxEvents) {
    stats_.overLimit.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (failed_) return;
  check(writer_.writeFrame(timeNs, sourceId, bytes));
  if (failed_) return;
  countWritten();
  if (execTgid) releaseHeldFor(execTgid, timeNs);  // this exec's info still goes in
}

void TraceSink::countWritten() {
  ++events_;
  if (!options_.maxEvents || events_ != options_.maxEvents || stopRequested_) return;
  stats_.eventLimitReached.store(true, std::memory_order_relaxed);
  stopRequested_ = true;
  if (options_.requestStop) options_.requestStop();
}

void TraceSink::handle(int64_t timeNs, uint16_t sourceId, SlotKind kind, std::span<const uint8_t> bytes,
                       uint32_t length) {
  bool isProc = int(sourceId) == options_.procSourceId;
  switch (kind) {
    case SlotKind::rejected:
      return;
    case SlotKind::overrun: {
      auto dropped = length == Slot::kUnknownDrops ? std::nullopt : std::optional<uint64_t>(length);
      for (const auto& gap : loss_.onOverrun(sourceId, isProc, dropped, timeNs)) writeGap(timeNs, gap);
      return;
    }
    case SlotKind::truncated:
      writeGap(timeNs, loss_.onTruncated(sourceId, length, isProc ? Slot::kInlineBytes : bytes.size()));
      return;
    case SlotKind::frame:
      break;
  }
  if (isProc) return handleProcFrame(timeNs, sourceId, bytes);
  if (options_.maxEvents && events_ >= options_.maxEvents) {
    stats_.overLimit.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (failed_) return;
  check(writer_.writeFrame(timeNs, sourceId, bytes));
  if (!failed_) countWritten();
}

void TraceSink::writeSide(const SideRecord& record) {
  if (failed_) return;
  if (const auto* info = std::get_if<format::ProcessInfo>(&record.body)) {
    check(writer_.writeProcessInfo(record.timeNs, *info));
  } else {
    check(writer_.writeSnapshot(record.timeNs, std::get<format::Snapshot>(record.body)));
  }
}

void TraceSink::waitForSnapshot() {
  for (;;) {
    takeSide();
    for (const auto& record : pendingSide_) {
      if (std::holds_alternative<format::Snapshot>(record.body)) return;
    }
    if (producersDone_.load(std::memory_order_acquire)) return;
    signal_.waitFor(std::chrono::milliseconds(20));
  }
}

void TraceSink::holdOrWrite(SideRecord record) {
  const auto* info = std::get_if<format::ProcessInfo>(&record.body);
  if (!info || info->reason != format::InfoReason::exec) return pendingSide_.push_back(std::move(record));
  if (auto it = recentExecs_.find(info->pid); it != recentExecs_.end()) {
    recentExecs_.erase(it);  // its frame is written already: the info goes right after it
    return writeSide(record);
  }
  heldByPid_.emplace(info->pid, nextHeld_);
  held_.emplace(nextHeld_++, std::move(record));
}

void TraceSink::releaseHeldFor(int32_t tgid, int64_t timeNs) {
  auto [begin, end] = heldByPid_.equal_range(tgid);
  if (begin == end) {
    recentExecs_[tgid] = timeNs;
    return;
  }
  auto oldest = std::min_element(begin, end, [](const auto& a, const auto& b) { return a.second < b.second; });
  auto record = held_.find(oldest->second);
  writeSide(record->second);
  held_.erase(record);
  heldByPid_.erase(oldest);
}

// Writes held infos older than the hold window (all of them at the end), and
// forgets exec frames too old to be waiting for their info.
void TraceSink::expireHeld(int64_t nowNs, bool all) {
  while (!held_.empty() && (all || held_.begin()->second.timeNs < nowNs - options_.holdInfoNs)) {
    auto first = held_.begin();
    int32_t pid = std::get<format::ProcessInfo>(first->second.body).pid;
    auto [begin, end] = heldByPid_.equal_range(pid);
    for (auto it = begin; it != end; ++it) {
      if (it->second == first->first) {
        heldByPid_.erase(it);
        break;
      }
    }
    // Past --max-events its exec frame was left out (or never came): the
    // info would describe an exec the trace does not hold.
    if (!stats_.eventLimitReached.load(std::memory_order_relaxed)) writeSide(first->second);
    held_.erase(first);
  }
  if (nowNs - lastPruneNs_ < options_.holdInfoNs) return;
  lastPruneNs_ = nowNs;
  std::erase_if(recentExecs_, [&](const auto& entry) { return entry.second < nowNs - options_.holdInfoNs; });
}

void TraceSink::takeSide() {
  std::deque<SideRecord> incoming;
  side_.takeAll(incoming);
  for (auto& record : incoming) holdOrWrite(std::move(record));
}

void TraceSink::processQueue() {
  takeSide();
  // Bounded, so that side records and chunk cuts are not starved by a flood.
  size_t rounds = 0;
  for (size_t available = queue_.readable(); available > 0 && rounds < 64; available = queue_.readable(), ++rounds) {
    size_t count = std::min(available, kChunkOfSlots);
    for (size_t i = 0; i < count; ++i) {
      Slot& slot = queue_.readSlot(i);
      while (!pendingSide_.empty() && pendingSide_.front().timeNs <= slot.timeNs) {
        writeSide(pendingSide_.front());
        pendingSide_.pop_front();
      }
      handle(slot.timeNs, slot.sourceId, slot.kind, slot.bytes(), slot.length);
      if (!slot.heap.empty()) std::vector<uint8_t>().swap(slot.heap);
    }
    queue_.consume(count);
    takeSide();
  }
  for (const auto& record : pendingSide_) writeSide(record);
  pendingSide_.clear();
}

// Nothing to cut, write or release. With the receiver's last round quiet
// too, the writer sleeps up to a second: the receiver wakes it with its next
// round that has anything, so no time is lost, and an idle recorder wakes
// once a second instead of 20 times.
bool TraceSink::idle() const {
  return !writer_.hasUnwritten() && held_.empty() && pendingSide_.empty() && queue_.readable() == 0;
}

void TraceSink::publish() {
  const auto& stats = writer_.stats();
  // After a write failure only what reached the disk counts: the frames of
  // the chunk that failed are lost, and one that went out whole before a
  // failed rotation is kept.
  stats_.events.store(failed_ ? stats.framesWritten : events_, std::memory_order_relaxed);
  stats_.fileBytes.store(stats.fileBytes, std::memory_order_relaxed);
  stats_.prunedBytes.store(stats.prunedBytes, std::memory_order_relaxed);
  stats_.rawBytes.store(stats.rawBytes, std::memory_order_relaxed);
  const auto& loss = loss_.totals();
  stats_.gaps.store(loss.gaps, std::memory_order_relaxed);
  stats_.lostKnown.store(loss.lostKnown, std::memory_order_relaxed);
  stats_.unknownGaps.store(loss.unknownGaps, std::memory_order_relaxed);
  stats_.overruns.store(loss.overruns, std::memory_order_relaxed);
  stats_.truncated.store(loss.truncated, std::memory_order_relaxed);
}

void TraceSink::run() {
  for (const auto& datagram : preamble_) {
    // An overrun during setup is counted by the receiver's first look at the socket's drop counter.
    if (datagram.overrun) continue;
    SlotKind kind = datagram.overrun ? SlotKind::overrun : datagram.truncated ? SlotKind::truncated : SlotKind::frame;
    handle(datagram.timeNs, datagram.sourceId, kind, datagram.bytes, uint32_t(datagram.fullLength));
  }
  preamble_.clear();
  if (options_.waitForSnapshot) waitForSnapshot();
  for (;;) {
    bool last = producersDone_.load(std::memory_order_acquire);
    do {
      processQueue();
    } while (last && queue_.readable() > 0);
    expireHeld(monotonicNs(), last);
    if (!failed_) check(writer_.tick(monotonicNs()));
    publish();
    if (last) break;
    signal_.waitFor(idle() && signal_.producerQuiet() ? kIdleWait : kPeriod);
  }
  for (const auto& gap : loss_.finish()) writeGap(monotonicNs(), gap);
  check(writer_.close());
  writerStats_ = writer_.stats();
  publish();
}

}  // namespace proctape::record
