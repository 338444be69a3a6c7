// Receiver: the thread that only receives. It sleeps on a fixed period and
// then drains every socket without blocking, with recvmmsg straight into the
// hand-off queue's preallocated slots, stamping each batch with
// CLOCK_MONOTONIC. No decoding, no /proc, no disk: that is the writer's and
// the enricher's work.
//
// Why a timer instead of blocking per event: what a cn_proc listener costs
// the machine is mostly one wakeup per event (see docs/recorder.md). With a
// large receive buffer, draining every 10 ms loses nothing and wakes at most
// 100 times a second whatever the event rate. Each wakeup still costs tens
// of microseconds of CPU on a VM, so when few events come the period grows
// (up to idleIntervalNs, drain_period.h), and the writer is woken only when
// work piles up or after an idle spell.
//
// When the queue is full the receiver stops reading for that round, so the
// socket's own buffer absorbs the burst; if that overflows too the kernel
// reports ENOBUFS, which becomes a gap record.
#pragma once

#include <sys/socket.h>
#include <linux/netlink.h>

#include <atomic>
#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proctape/record/drain_period.h"
#include "proctape/record/frame_queue.h"
#include "shared.h"

namespace proctape::record {

struct ReceiverSource {
  int fd = -1;
  uint16_t sourceId = 0;
  bool wholeDatagrams = false;  // rtnetlink: size each datagram first (MSG_PEEK|MSG_TRUNC)
  uint32_t drops = 0;           // the socket's drop counter (sk_drops) as last reported
};

// The kernel's count of datagrams it dropped for `fd` (SO_MEMINFO), if readable.
std::optional<uint32_t> socketDrops(int fd);

struct ReceiverOptions {
  int64_t drainIntervalNs = 10'000'000;
  // After quiet rounds the period grows, up to this (drain_period.h), when
  // every socket's buffer allows it.
  int64_t idleIntervalNs = kLongestDrainIntervalNs;
  size_t batch = 256;                   // datagrams per recvmmsg call
  size_t maxDatagramBytes = 1u << 20;   // for wholeDatagrams sources
  // Called once, on the receiving thread, after a fatal receive error, so
  // that the main thread stops without polling for it.
  std::function<void()> onFailure;
};

class Receiver {
 public:
  Receiver(FrameQueue& queue, WorkSignal& signal, SharedStats& stats, std::vector<ReceiverSource> sources,
           ReceiverOptions options);
  ~Receiver();

  void start();
  // Stops the periodic loop after one last drain of every socket, and joins.
  void stopAndJoin();
  // A fatal receive error (not ENOBUFS, EAGAIN or EINTR), if one happened.
  std::string error() const;

 private:
  void run();
  // Drains one source; false when the queue filled up before the socket emptied.
  bool drainBatched(ReceiverSource& source);
  bool drainWhole(ReceiverSource& source);
  // One round over every socket; false when the queue filled up first.
  bool drainAll();
  // Whether every socket's buffer is large enough to sleep longer when idle.
  bool buffersAllowBackOff() const;
  bool pushMarker(const ReceiverSource& source, SlotKind kind, uint32_t length);
  // Reports datagrams the kernel dropped since the last report; `enobufs`:
  // recv said so (an unreadable counter then still gives an unknown gap).
  bool reportDrops(ReceiverSource& source, bool enobufs);
  void fail(const std::string& message);

  FrameQueue& queue_;
  WorkSignal& signal_;
  SharedStats& stats_;
  std::vector<ReceiverSource> sources_;
  ReceiverOptions options_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> vectors_;
  std::vector<sockaddr_nl> senders_;
  std::vector<uint8_t> scratch_;
  // The writer is woken at once when a quarter of the queue waits (or it
  // filled up); fewer slots are found on its own period (TraceSink::kPeriod).
  size_t wakeWriterAt_ = 1;
  bool published_ = false;  // this drain round handed something to the writer
  bool publishedBefore_ = false;  // and the round before
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::string error_;  // written once before failed_ is set
  std::thread thread_;
};

}  // namespace proctape::record
