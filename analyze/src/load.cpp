// The adapter between the trace and the model: replay's EventStream decodes,
// the ProcessTracker builds. The one file that knows both.
#include "proctape/analyze/load.h"

#include <algorithm>

#include "proctape/replay/event_stream.h"

namespace proctape::analyze {
namespace {

using replay::EventType;

// A gap may hide process events when its source is a proc connector, or one
// the trace does not describe.
bool gapOfProcessEvents(const replay::EventStream& stream, uint16_t sourceId) {
  auto family = stream.familyOf(sourceId);
  return !family || *family == netlink::kFamilyConnector;
}

void feed(ProcessTracker& tracker, const replay::EventStream& stream, const replay::Event& event) {
  switch (event.type) {
    case EventType::fork:
    case EventType::exec:
    case EventType::exit:
    case EventType::uid:
    case EventType::gid:
    case EventType::sid:
    case EventType::ptrace:
    case EventType::comm:
    case EventType::coredump:
    case EventType::unknown:
      if (event.family == netlink::kFamilyConnector) tracker.onProcEvent(event.timeNs, *event.proc());
      break;
    case EventType::decodeError:
      if (event.family == netlink::kFamilyConnector) tracker.onDecodeError(event.timeNs);
      break;
    case EventType::gap:
      tracker.onGap(event.timeNs, std::get<format::Gap>(event.body), gapOfProcessEvents(stream, event.sourceId));
      break;
    case EventType::processInfo: tracker.onProcessInfo(event.timeNs, *std::get<replay::ProcessInfoPtr>(event.body)); break;
    case EventType::snapshot: tracker.onSnapshot(event.timeNs, *std::get<replay::SnapshotPtr>(event.body)); break;
    default: break;  // acks, rtnetlink, netlink control messages: nothing about processes
  }
}

// Position of a damaged offset among the chunks: (segment, offset) order.
struct Place {
  size_t segment;
  uint64_t offset;
  bool operator<(const Place& o) const { return segment != o.segment ? segment < o.segment : offset < o.offset; }
};

std::optional<Place> placeOf(const format::Damage& damage, const std::vector<format::SegmentInfo>& segments) {
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i].path == damage.file) return Place{i, damage.offset};
  // A file of a segment directory that could not be read at all: it sorts
  // among the segments by name, as the reader reads them.
  size_t before = size_t(std::count_if(segments.begin(), segments.end(),
                                       [&damage](const format::SegmentInfo& s) { return s.path < damage.file; }));
  if (before == 0 && segments.empty()) return std::nullopt;
  return before == 0 ? Place{0, 0} : Place{before - 1, UINT64_MAX};
}

}  // namespace

std::optional<LossNotice> locateDamage(const format::Damage& damage, const std::vector<format::SegmentInfo>& segments,
                                       const std::vector<format::ChunkInfo>& chunks) {
  if (!format::losesRecords(damage.kind)) return std::nullopt;
  LossNotice notice{LossKind::damage, std::nullopt, std::nullopt, std::nullopt, format::describe(damage)};
  auto place = placeOf(damage, segments);
  if (!place) return notice;
  for (const auto& chunk : chunks) {
    Place at{chunk.segment, chunk.offset};
    if (at < *place) notice.fromNs = std::max(notice.fromNs.value_or(chunk.lastTimeNs), chunk.lastTimeNs);
    if (*place < at) notice.toNs = std::min(notice.toNs.value_or(chunk.firstTimeNs), chunk.firstTimeNs);
  }
  return notice;
}

namespace {

// A meta record of another recording than the last: the processes its
// records make come after those of the one before.
void noteRecording(const replay::EventStream& stream, const ProcessTracker& tracker,
                   std::vector<Recording>& recordings) {
  const auto& meta = stream.meta();
  if (!meta || (!recordings.empty() && recordings.back().uuid == meta->traceUuid)) return;
  recordings.push_back({meta->traceUuid, meta->commandPid, ProcessId(tracker.model().processes.size() + 1)});
}

// Damage that loses no record (format::losesRecords) is counted, by kind.
Counter noticeCounter(format::DamageKind kind) {
  switch (kind) {
    case format::DamageKind::badIndex: return Counter::badIndex;
    case format::DamageKind::notClosed: return Counter::traceNotClosed;
    default: return Counter::damage;
  }
}

}  // namespace

Result<AnalyzedTrace> loadTrace(const std::string& path, const LoadOptions& options) {
  auto reader = format::TraceReader::open(path, {options.threads, true});
  if (!reader) return reader.error();
  AnalyzedTrace trace;
  trace.path = path;
  trace.meta = reader->meta();
  ProcessTracker tracker(options.tracker);
  replay::ReaderSource source(*reader);
  replay::StreamOptions streamOptions;
  streamOptions.lookaheadNs = 0;  // the tracker matches execs to their process info itself
  streamOptions.lookaheadEvents = 0;
  streamOptions.names = false;  // the tracker keeps its own images
  replay::EventStream stream(source, streamOptions);
  const replay::Event* event = nullptr;
  std::optional<format::ClockAnchor> anchor;
  while (stream.next(event) == replay::Pull::record) {
    if (stream.anchor() != anchor) {
      anchor = stream.anchor();
      if (anchor) tracker.onClocks(*anchor);
    }
    noteRecording(stream, tracker, trace.recordings);
    feed(tracker, stream, *event);
  }
  if (stream.stats().firstTimeNs) tracker.setSpan(*stream.stats().firstTimeNs, *stream.stats().lastTimeNs);
  trace.damage = reader->damage();
  for (const auto& damage : trace.damage) {
    if (auto notice = locateDamage(damage, reader->segments(), reader->chunks()))
      tracker.onDamage(std::move(*notice), Counter::damage);
    else
      tracker.onNotice(noticeCounter(damage.kind));
  }
  trace.model = tracker.finish();
  return trace;
}

}  // namespace proctape::analyze
