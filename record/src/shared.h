// What the recorder's threads share: counters (atomics, read by the status
// line and the summary), the side channel that carries /proc records to the
// writer, and the signal that wakes the writer.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <variant>

#include "proctape/format/records.h"

namespace proctape::record {

// Names the calling thread (at most 15 characters), so that `top -H`, `ps -L`
// and perf tell the recorder's threads apart.
inline void nameThisThread(const char* name) { (void)::pthread_setname_np(::pthread_self(), name); }

struct SharedStats {
  using Counter = std::atomic<uint64_t>;
  // Writer thread.
  Counter events{0};        // frames written
  Counter filtered{0};      // frames left out by --events (user-space filtering)
  Counter overLimit{0};     // frames left out after --max-events
  std::atomic<bool> eventLimitReached{false};  // --max-events: no more frames, so no more process info
  Counter fileBytes{0};
  Counter prunedBytes{0};  // of fileBytes, in segments --keep deleted
  Counter rawBytes{0};
  Counter gaps{0};
  Counter lostKnown{0};
  Counter unknownGaps{0};
  Counter overruns{0};
  Counter truncated{0};
  // Receiver thread.
  Counter received{0};
  Counter rejected{0};      // frames from a sender other than the kernel
  Counter queueFull{0};     // drain rounds cut short by a full hand-off queue
  // Enrichment thread.
  Counter execs{0};
  Counter argvHits{0};
  Counter missGone{0};
  Counter missZombie{0};
  Counter missPermission{0};
  Counter missReused{0};
  Counter missReplaced{0};
  Counter missOther{0};
  Counter enrichSkipped{0};   // over --enrich-max-rate: a miss record, no /proc read
  Counter enrichDropped{0};   // side channel full: no record at all
  Counter enrichOverruns{0};  // ENOBUFS on the exec socket
};

// Wakes the writer thread when there is work; it also wakes on its own
// within the timeout to cut chunks on time.
class WorkSignal {
 public:
  void notify() {
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
    }
    condition_.notify_one();
  }
  void waitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    condition_.wait_for(lock, timeout, [this] { return pending_; });
    pending_ = false;
  }
  // The producer's last round handed nothing over: its next one that does
  // will notify(), so the consumer may sleep long.
  void setProducerQuiet(bool quiet) { producerQuiet_.store(quiet, std::memory_order_relaxed); }
  bool producerQuiet() const { return producerQuiet_.load(std::memory_order_relaxed); }

 private:
  std::mutex mutex_;
  std::condition_variable condition_;
  bool pending_ = false;
  std::atomic<bool> producerQuiet_{false};
};

struct SideRecord {
  int64_t timeNs = 0;
  std::variant<format::ProcessInfo, format::Snapshot> body;
};

// A bounded, mutex-protected queue of side records (enrichment results and
// the start snapshot) from any thread to the writer.
class SideChannel {
 public:
  explicit SideChannel(size_t capacity) : capacity_(capacity) {}
  // False when full (the record is not queued).
  bool push(SideRecord record) {
    std::lock_guard lock(mutex_);
    if (records_.size() >= capacity_) return false;
    records_.push_back(std::move(record));
    return true;
  }
  // Moves everything queued to the end of `out`.
  void takeAll(std::deque<SideRecord>& out) {
    std::lock_guard lock(mutex_);
    for (auto& record : records_) out.push_back(std::move(record));
    records_.clear();
  }

 private:
  std::mutex mutex_;
  std::deque<SideRecord> records_;
  size_t capacity_;
};

}  // namespace proctape::record
