// TraceSink: the writing thread. It owns the TraceWriter; takes frames from
// the hand-off queue and /proc records from the side channel, decodes cn_proc
// frames (format's pure decoders) to follow the per-CPU sequence numbers and
// apply --events in user space where the kernel cannot, turns losses into gap
// records, and cuts chunks on time when idle.
//
// Order in the file: frames in capture order; the snapshot and other side
// records merged in by time; and each exec's process-info record right after
// its exec frame. The enricher reads /proc within microseconds of the exec,
// while the batched main socket captures the exec frame up to a drain
// interval later, so the info is held until its frame is written (or for
// holdInfoNs at most): readers find the name after the exec that it names.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "proctape/format/writer.h"
#include "proctape/record/frame_queue.h"
#include "proctape/record/loss_accounting.h"
#include "proctape/record/netlink_socket.h"
#include "proctape/record/proc_connector.h"
#include "shared.h"

namespace proctape::record {

struct SinkOptions {
  int procSourceId = -1;              // -1: no proc source
  bool seqValid = false;              // see LossAccounting
  uint32_t userFilterMask = kAllProcEvents;
  uint64_t maxEvents = 0;             // 0: no limit
  bool waitForSnapshot = false;       // write the snapshot before any queued frame
  int64_t holdInfoNs = 200'000'000;   // how long an exec's process info waits for its exec frame (recorder.cpp derives it)
  std::function<void()> requestStop;  // called once: --max-events reached, or the trace cannot be written
};

class TraceSink {
 public:
  // The writer's period, and its sleep when idle() (woken early by work).
  static constexpr std::chrono::milliseconds kPeriod{50};
  static constexpr std::chrono::milliseconds kIdleWait{1000};
  TraceSink(format::TraceWriter writer, FrameQueue& queue, SideChannel& side, WorkSignal& signal, SharedStats& stats,
            SinkOptions options);
  ~TraceSink();

  // Starts the thread; `preamble` (datagrams read during setup) is written first.
  void start(std::vector<Datagram> preamble);
  // Call once every producer has stopped: writes what is left, closes the
  // trace (index and trailer) and joins.
  void finish();

  // After finish(): the first write or close error, empty if none.
  const std::string& error() const { return error_; }
  const format::WriterStats& writerStats() const { return writerStats_; }
  const LossTotals& lossTotals() const { return loss_.totals(); }

 private:
  void run();
  void waitForSnapshot();
  void processQueue();
  void writeSide(const SideRecord& record);
  void takeSide();
  void holdOrWrite(SideRecord record);
  void releaseHeldFor(int32_t tgid, int64_t timeNs);
  void expireHeld(int64_t nowNs, bool all);
  void handle(int64_t timeNs, uint16_t sourceId, SlotKind kind, std::span<const uint8_t> bytes, uint32_t length);
  void handleProcFrame(int64_t timeNs, uint16_t sourceId, std::span<const uint8_t> bytes);
  void writeGap(int64_t timeNs, const format::Gap& gap);
  // Counts a frame written; at --max-events, asks for the stop.
  void countWritten();
  void check(const Status& status);
  void publish();
  bool idle() const;

  format::TraceWriter writer_;
  FrameQueue& queue_;
  SideChannel& side_;
  WorkSignal& signal_;
  SharedStats& stats_;
  SinkOptions options_;
  LossAccounting loss_;
  std::deque<SideRecord> pendingSide_;        // snapshot and other side records, by time
  std::map<uint64_t, SideRecord> held_;        // exec infos waiting for their frame, by arrival
  std::unordered_multimap<int32_t, uint64_t> heldByPid_;
  std::unordered_map<int32_t, int64_t> recentExecs_;  // exec frames written recently: tgid -> capture time
  uint64_t nextHeld_ = 0;
  int64_t lastPruneNs_ = 0;
  std::vector<Datagram> preamble_;
  uint64_t events_ = 0;
  bool stopRequested_ = false;
  bool failed_ = false;
  std::string error_;
  format::WriterStats writerStats_;
  std::atomic<bool> producersDone_{false};
  std::thread thread_;
};

}  // namespace proctape::record
