#include "receiver.h"

#include <linux/sock_diag.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proctape/record/netlink_socket.h"

namespace proctape::record {

Receiver::Receiver(FrameQueue& queue, WorkSignal& signal, SharedStats& stats, std::vector<ReceiverSource> sources,
                   ReceiverOptions options)
    : queue_(queue), signal_(signal), stats_(stats), sources_(std::move(sources)), options_(options) {
  options_.batch = std::max<size_t>(1, std::min(options_.batch, queue_.capacity()));
  wakeWriterAt_ = std::max<size_t>(1, queue_.capacity() / 4);
  messages_.resize(options_.batch);
  vectors_.resize(options_.batch);
  senders_.resize(options_.batch);
}

Receiver::~Receiver() {
  if (thread_.joinable()) stopAndJoin();
}

void Receiver::start() {
  thread_ = std::thread([this] {
    nameThisThread("pt-receive");
    run();
  });
}

void Receiver::stopAndJoin() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

std::string Receiver::error() const { return failed_.load(std::memory_order_acquire) ? error_ : std::string(); }

void Receiver::fail(const std::string& message) {
  if (failed_.load(std::memory_order_relaxed)) return;
  error_ = message;
  failed_.store(true, std::memory_order_release);
  if (options_.onFailure) options_.onFailure();
}

bool Receiver::buffersAllowBackOff() const {
  for (const auto& source : sources_) {
    int bytes = 0;
    socklen_t length = sizeof bytes;
    if (::getsockopt(source.fd, SOL_SOCKET, SO_RCVBUF, &bytes, &length) != 0 || bytes < kBackOffMinBufferBytes) {
      return false;
    }
  }
  return true;
}

void Receiver::run() {
  int64_t idleNs = buffersAllowBackOff() ? options_.idleIntervalNs : options_.drainIntervalNs;
  int64_t interval = options_.drainIntervalNs;
  timespec next{};
  ::clock_gettime(CLOCK_MONOTONIC, &next);
  while (!stop_.load(std::memory_order_relaxed) && !failed_.load(std::memory_order_relaxed)) {
    uint64_t before = stats_.received.load(std::memory_order_relaxed);
    drainAll();
    uint64_t received = stats_.received.load(std::memory_order_relaxed) - before;
    interval = nextDrainInterval(interval, received, options_.drainIntervalNs, idleNs);
    int64_t ns = next.tv_nsec + interval;
    next.tv_sec += ns / 1'000'000'000;
    next.tv_nsec = ns % 1'000'000'000;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    // Fell behind (a long drain, or the process was stopped): restart the period from now.
    if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec)) next = now;
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
  }
  // The final drain: everything the kernel queued before we were told to stop.
  int64_t giveUp = monotonicNs() + 2'000'000'000;
  while (!failed_.load(std::memory_order_relaxed) && !drainAll() && monotonicNs() < giveUp) {
    timespec pause{0, 1'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

std::optional<uint32_t> socketDrops(int fd) {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 || length <= SK_MEMINFO_DROPS * 4) {
    return std::nullopt;
  }
  return meminfo[SK_MEMINFO_DROPS];
}

bool Receiver::reportDrops(ReceiverSource& source, bool enobufs) {
  auto drops = socketDrops(source.fd);
  if (!drops) return enobufs ? pushMarker(source, SlotKind::overrun, Slot::kUnknownDrops) : true;
  uint32_t delta = *drops - source.drops;
  if (delta == 0) return true;  // already reported (ENOBUFS comes once per congestion)
  if (delta == Slot::kUnknownDrops) delta -= 1;
  if (!pushMarker(source, SlotKind::overrun, delta)) return false;
  source.drops = *drops;
  return true;
}

// One drain round: every socket until it is empty (or the queue is full).
// The writer is woken only when enough waits for it (or the queue filled):
// a wakeup per round doubled the recorder's context switches, and the
// writer's own 50 ms period picks up the rest.
bool Receiver::drainAll() {
  bool drained = true;
  for (auto& source : sources_) {
    bool done = source.wholeDatagrams ? drainWhole(source) : drainBatched(source);
    // Drops while the socket stayed congested raise no new ENOBUFS: the counter tells.
    if (done) done = reportDrops(source, false);
    drained = drained && done;
  }
  // Also the first round with anything after a quiet one: the writer may be
  // in its long idle sleep, which it only takes after a quiet round.
  size_t waiting = queue_.capacity() - queue_.writable();
  if (published_ && (!drained || waiting >= wakeWriterAt_ || !publishedBefore_)) signal_.notify();
  publishedBefore_ = published_;
  signal_.setProducerQuiet(!published_);
  published_ = false;
  return drained;
}

bool Receiver::pushMarker(const ReceiverSource& source, SlotKind kind, uint32_t length) {
  if (queue_.writable() == 0) return false;
  Slot& slot = queue_.writeSlot(0);
  slot.timeNs = monotonicNs();
  slot.sourceId = source.sourceId;
  slot.kind = kind;
  slot.length = length;
  slot.heap.clear();
  queue_.publish(1);
  published_ = true;
  return true;
}

bool Receiver::drainBatched(ReceiverSource& source) {
  for (;;) {
    size_t room = std::min(queue_.writable(), options_.batch);
    if (room == 0) return stats_.queueFull.fetch_add(1, std::memory_order_relaxed), false;
    for (size_t i = 0; i < room; ++i) {
      Slot& slot = queue_.writeSlot(i);
      vectors_[i] = {slot.inlineBytes, Slot::kInlineBytes};
      messages_[i] = {};
      messages_[i].msg_hdr.msg_name = &senders_[i];
      messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_nl);
      messages_[i].msg_hdr.msg_iov = &vectors_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
    int got = ::recvmmsg(source.fd, messages_.data(), unsigned(room), MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        if (!reportDrops(source, true)) return false;
        continue;
      }
      fail(std::string("receiving process events failed: ") + std::strerror(errno));
      return true;
    }
    int64_t now = monotonicNs();
    for (int i = 0; i < got; ++i) {
      Slot& slot = queue_.writeSlot(size_t(i));
      slot.timeNs = now;
      slot.sourceId = source.sourceId;
      slot.length = messages_[i].msg_len;
      slot.heap.clear();
      bool truncated = (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) || slot.length > Slot::kInlineBytes;
      slot.kind = senders_[i].nl_pid != 0 ? SlotKind::rejected : truncated ? SlotKind::truncated : SlotKind::frame;
      if (slot.kind == SlotKind::rejected) stats_.rejected.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.publish(size_t(got));
    published_ = true;
    stats_.received.fetch_add(uint64_t(got), std::memory_order_relaxed);
    if (size_t(got) < room) return true;
  }
}

bool Receiver::drainWhole(ReceiverSource& source) {
  for (;;) {
    if (queue_.writable() == 0) return stats_.queueFull.fetch_add(1, std::memory_order_relaxed), false;
    ssize_t length = ::recv(source.fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (length < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        if (!reportDrops(source, true)) return false;
        continue;
      }
      fail(std::string("receiving rtnetlink events failed: ") + std::strerror(errno));
      return true;
    }
    Slot& slot = queue_.writeSlot(0);
    slot.heap.resize(std::max<size_t>(1, std::min(size_t(length), options_.maxDatagramBytes)));
    sockaddr_nl sender{};
    iovec io{slot.heap.data(), slot.heap.size()};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof sender;
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    ssize_t got = ::recvmsg(source.fd, &message, MSG_DONTWAIT | MSG_TRUNC);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == ENOBUFS) {
        if (!reportDrops(source, true)) return false;
        continue;
      }
      fail(std::string("receiving rtnetlink events failed: ") + std::strerror(errno));
      return true;
    }
    slot.timeNs = monotonicNs();
    slot.sourceId = source.sourceId;
    slot.length = uint32_t(got);
    bool truncated = (message.msg_flags & MSG_TRUNC) || size_t(got) > slot.heap.size();
    slot.kind = sender.nl_pid != 0 ? SlotKind::rejected : truncated ? SlotKind::truncated : SlotKind::frame;
    if (slot.kind == SlotKind::rejected) stats_.rejected.fetch_add(1, std::memory_order_relaxed);
    // A truncated datagram keeps its buffer: the gap names the buffer's size.
    if (slot.kind == SlotKind::rejected) slot.heap.clear();
    else if (slot.kind == SlotKind::frame) slot.heap.resize(size_t(got));
    queue_.publish(1);
    published_ = true;
    stats_.received.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace proctape::record
