// EventStream: a trace's records in, decoded events out, in capture order.
//
// Each frame is decoded with the netlink family of its source (from the
// trace's meta records) in the trace's byte order. Names are resolved from
// process-info and snapshot records: a fork child inherits its parent's name,
// and an exec takes the name of the new image from the process-info record the
// recorder writes shortly after the exec frame. To show that name on the exec
// line itself, the stream holds events back while an exec waits for its
// record: at most StreamOptions::lookaheadNs of capture time and
// lookaheadEvents events, so memory stays bounded whatever the input.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/records.h"
#include "proctape/replay/event.h"

namespace proctape::replay {

// What a record source has to say when asked for the next record.
enum class Pull : uint8_t {
  record,  // a record was returned
  idle,    // nothing yet; a trace being written may grow (see FollowSource)
  end,     // no more records, ever
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record. A returned record (and the bytes it points to) stays
  // valid until the next call.
  virtual Pull next(format::Record& record) = 0;
  // What keeps the last record's data alive beyond the next call, if anything
  // does: events then share a process-info or snapshot record instead of
  // copying it. Null (the default): they copy.
  virtual std::shared_ptr<const void> owner() const { return nullptr; }
};

// A RecordSource over an open TraceReader, read to its end once.
class ReaderSource final : public RecordSource {
 public:
  explicit ReaderSource(format::TraceReader& reader) : reader_(reader) {}
  Pull next(format::Record& record) override { return reader_.next(record) ? Pull::record : Pull::end; }
  std::shared_ptr<const void> owner() const override { return reader_.currentChunk(); }

 private:
  format::TraceReader& reader_;
};

struct StreamOptions {
  int64_t lookaheadNs = 50'000'000;  // hold events up to this much capture time for an exec's process info
  size_t lookaheadEvents = 4096;     // ... and never more events than this
  bool keepFrames = false;           // copy each frame's bytes into its events (Event::frame), for pcap
  // Resolve display names (Event::name). A consumer that shows no names (the
  // analyzer) turns this off and saves a lookup, and often a copy, per event.
  bool names = true;
  // A live trace (FollowSource) that gave nothing new for this long (wall
  // time) gets its held events released: longer than a writer takes to cut a
  // chunk (100 ms), so an exec's process info is normally in by then.
  std::chrono::milliseconds idleFlush{300};
};

// Counts of what went through the stream, for --info.
struct StreamStats {
  uint64_t records = 0;
  uint64_t frames = 0;
  uint64_t clockRecords = 0;
  uint64_t metaRecords = 0;
  std::array<uint64_t, kEventTypeCount> events{};
  uint64_t eventsWithoutAnchor = 0;  // before any clock anchor: no wall-clock time
  std::optional<int64_t> firstTimeNs;  // the earliest capture time of any record
  std::optional<int64_t> lastTimeNs;   // the latest
};

// A growable ring of events, oldest first: held events without an
// allocation per event (std::deque allocates a block for every event or two
// of this size).
class EventRing {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  Event& front() { return slots_[head_]; }
  Event& operator[](size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  // A slot at the back, holding whatever a previous event left there.
  Event& pushBack();
  void popFront() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }

 private:
  std::vector<Event> slots_;  // a power of two in size
  size_t head_ = 0;
  size_t count_ = 0;
};

class EventStream {
 public:
  explicit EventStream(RecordSource& source, StreamOptions options = {});
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The next event. On Pull::record, `event` points to it until the next call.
  // Pull::idle: the source has nothing yet (only for a following source);
  // Pull::end: the trace is over and every held event was released.
  Pull next(const Event*& event);

  // Where relative times count from: the capture time of the trace's first
  // record (its meta), or of the record after it if that is earlier (a
  // recorder may capture frames before it writes its meta record).
  std::optional<int64_t> startNs() const { return startNs_; }
  // The latest meta record seen, if any.
  const std::optional<format::Meta>& meta() const { return meta_; }
  // The netlink family of a source, as the meta record declares it.
  std::optional<uint32_t> familyOf(uint16_t sourceId) const;
  // The latest clock anchor seen (meta clocks or a clocks record), if any.
  const std::optional<format::ClockAnchor>& anchor() const { return anchor_; }
  const StreamStats& stats() const { return stats_; }

 private:
  void ingest(const format::Record& record);
  void ingestFrame(const format::Record& record, const format::Frame& frame);
  void ingestProcessInfo(int64_t timeNs, const format::ProcessInfo& info);
  // The record's value for an event to keep: shared with the source's chunk when it can, else copied.
  template <typename T>
  std::shared_ptr<const T> keep(const T& value) const;
  Event& push(EventType type, int64_t timeNs);
  void matchExecInfo(int64_t timeNs, const ProcessInfoPtr& info);
  bool mayRelease(const Event& front) const;
  const Event& release();
  void resolve(Event& event);
  void resolveProc(Event& event, const netlink::ProcEvent& proc);
  void setName(int32_t tgid, NamePtr name);
  NamePtr nameOf(int32_t tgid) const;

  RecordSource& source_;
  StreamOptions options_;
  StreamStats stats_;
  std::optional<format::Meta> meta_;
  std::optional<format::ClockAnchor> anchor_;
  format::ByteOrder order_ = format::ByteOrder::little;
  bool sourceEnded_ = false;
  std::optional<std::chrono::steady_clock::time_point> idleSince_;
  std::optional<int64_t> startNs_;
  bool startFixed_ = false;
  int64_t newestNs_ = 0;  // the latest capture time ingested
  bool flushAll_ = false;
  uint64_t frameCount_ = 0;

  netlink::MessageHeader scratchHeader_;  // the fast cn_proc decoding's output, swapped into events
  netlink::ProcEvent scratchProc_;
  EventRing pending_;
  uint64_t frontSeq_ = 0;  // sequence number of pending_.front()
  struct WaitingExec {
    uint64_t seq;
    int32_t pid;
    int32_t tgid;
  };
  std::deque<WaitingExec> waiting_;  // execs in pending_ with no process info yet, oldest first
  bool released_ = false;  // pending_.front() was handed out

  std::unordered_map<int32_t, NamePtr> names_;   // by tgid: the live processes' names
  std::unordered_map<int32_t, NamePtr> links_;   // by ifindex: interface names
};

}  // namespace proctape::replay
