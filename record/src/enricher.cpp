#include "enricher.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "native_order.h"
#include "proctape/format/netlink.h"

namespace proctape::record {

namespace nl = proctape::netlink;

namespace {

constexpr size_t kBatch = 32;
constexpr size_t kBufferBytes = 512;

// CLOCK_BOOTTIME - CLOCK_MONOTONIC: time spent suspended. /proc start times
// count from boot including suspend; exec timestamps are monotonic.
int64_t suspendedNs() {
  timespec boot{}, mono{};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return (int64_t(boot.tv_sec) - mono.tv_sec) * 1'000'000'000 + (boot.tv_nsec - mono.tv_nsec);
}

// An exec's record that says why nothing of /proc is in it.
format::ProcessInfo missRecord(pid_t pid, format::MissReason reason) {
  format::ProcessInfo info;
  info.pid = info.tgid = pid;
  info.reason = format::InfoReason::exec;
  info.misses = {{format::InfoField::all, reason, 0}};
  return info;
}

}  // namespace

Enricher::Enricher(int socketFd, SideChannel& side, SharedStats& stats, const Redactor& redactor,
                   EnricherOptions options)
    : socketFd_(socketFd),
      side_(side),
      stats_(stats),
      redactor_(redactor),
      options_(std::move(options)),
      stopFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      buffers_(kBatch, std::vector<uint8_t>(kBufferBytes)) {
  long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks > 0) nsPerTick_ = 1'000'000'000 / ticks;
  tokens_ = options_.maxPerSecond;
  lastRefillNs_ = monotonicNs();
}

Enricher::~Enricher() {
  if (thread_.joinable()) stopAndJoin();
}

void Enricher::start(std::vector<Datagram> initial) {
  initial_ = std::move(initial);
  thread_ = std::thread([this] {
    nameThisThread("pt-enrich");
    // On Linux a nice value belongs to one thread: PRIO_PROCESS 0 is this one.
    if (options_.lowerNice) (void)::setpriority(PRIO_PROCESS, 0, *options_.lowerNice);
    run();
  });
}

void Enricher::stopAndJoin() {
  uint64_t one = 1;
  if (::write(stopFd_.get(), &one, sizeof one) < 0) {
    // The counter cannot overflow from one write; nothing else can fail here.
  }
  if (thread_.joinable()) thread_.join();
}

bool Enricher::admit() {
  if (options_.maxPerSecond == 0) return true;
  int64_t now = monotonicNs();
  tokens_ = std::min<double>(options_.maxPerSecond, tokens_ + double(now - lastRefillNs_) * 1e-9 * options_.maxPerSecond);
  lastRefillNs_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void Enricher::countOutcome(const format::ProcessInfo& info) {
  stats_.execs.fetch_add(1, std::memory_order_relaxed);
  if (info.has(format::InfoField::argv)) {
    stats_.argvHits.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto reason = format::MissReason::other;
  for (const auto& miss : info.misses) {
    if (miss.field == format::InfoField::argv || miss.field == format::InfoField::all) reason = miss.reason;
  }
  switch (reason) {
    case format::MissReason::gone: stats_.missGone.fetch_add(1, std::memory_order_relaxed); break;
    case format::MissReason::zombie: stats_.missZombie.fetch_add(1, std::memory_order_relaxed); break;
    case format::MissReason::permission: stats_.missPermission.fetch_add(1, std::memory_order_relaxed); break;
    case format::MissReason::reused: stats_.missReused.fetch_add(1, std::memory_order_relaxed); break;
    case format::MissReason::other: stats_.missOther.fetch_add(1, std::memory_order_relaxed); break;
    case format::MissReason::replaced: stats_.missReplaced.fetch_add(1, std::memory_order_relaxed); break;
  }
}

format::ProcessInfo Enricher::finishRead(ProcessRead& read, pid_t pid, uint64_t execTimestampNs) {
  format::ProcessInfo info = read.finish();
  // A process that started after the exec is not the one that exec'd: the pid was reused.
  int64_t startNs = int64_t(info.startTimeTicks) * nsPerTick_;
  if (info.startTimeTicks != 0 && startNs > int64_t(execTimestampNs) + suspendedNs())
    info = missRecord(pid, format::MissReason::reused);
  if (info.tgid == 0) info.tgid = pid;
  return info;
}

bool Enricher::execsAgain(size_t i, pid_t pid, uint64_t byNs) const {
  if (auto it = queuedPerPid_.find(pid); it == queuedPerPid_.end() || it->second < 2) return false;
  for (size_t j = i + 1; j < queue_.size(); ++j)
    if (queue_[j].pid == pid && queue_[j].timestampNs <= byNs) return true;
  return false;
}

// /proc shows a process's image now, not at its exec: one that exec'd again
// (env, a shell's exec, a wrapper script), or whose pid a new process took
// and exec'd with, before the read ended would give this exec the later
// image's argv and exe. The kernel queues an exec event on the socket as the
// exec happens, so what the socket holds once a read has ended tells.
void Enricher::enrichRound() {
  if (stats_.eventLimitReached.load(std::memory_order_relaxed)) {
    queue_.clear();  // --max-events: the trace takes no more execs, so no more reads
    queuedPerPid_.clear();
    return;
  }
  size_t n = std::min(queue_.size(), kBatch);
  std::vector<std::optional<ProcessRead>> reads(n);
  std::vector<format::ProcessInfo> infos(n);
  std::vector<uint64_t> readEndNs(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (execsAgain(i, queue_[i].pid, UINT64_MAX))  // already known: no read can see this exec's image
      infos[i] = missRecord(queue_[i].pid, format::MissReason::replaced);
    else if (admit())
      reads[i].emplace(queue_[i].pid, format::InfoReason::exec, options_.procRoot);
    else {
      infos[i] = missRecord(queue_[i].pid, format::MissReason::other);  // over --enrich-max-rate
      stats_.enrichSkipped.fetch_add(1, std::memory_order_relaxed);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!reads[i]) continue;
    infos[i] = finishRead(*reads[i], queue_[i].pid, queue_[i].timestampNs);
    readEndNs[i] = uint64_t(monotonicNs());
  }
  receiveAll();
  for (size_t i = 0; i < n; ++i) {
    if (reads[i] && execsAgain(i, queue_[i].pid, readEndNs[i]))
      infos[i] = missRecord(queue_[i].pid, format::MissReason::replaced);
    redactor_.apply(infos[i]);
    countOutcome(infos[i]);
    if (!side_.push(SideRecord{monotonicNs(), std::move(infos[i])}))
      stats_.enrichDropped.fetch_add(1, std::memory_order_relaxed);
  }
  // The writer takes side records when frames wake it (every drain round) or
  // on its own timeout: waking it per exec would double the context switches.
  for (size_t i = 0; i < n; ++i)
    if (auto it = queuedPerPid_.find(queue_[i].pid); it != queuedPerPid_.end() && --it->second == 0)
      queuedPerPid_.erase(it);
  queue_.erase(queue_.begin(), queue_.begin() + long(n));
}

void Enricher::collect(std::span<const uint8_t> bytes) {
  for (const auto& message : nl::decodeDatagram(nl::kFamilyConnector, kNativeOrder, bytes)) {
    const auto* event = std::get_if<nl::ProcEvent>(&message.body);
    if (!event || event->type != nl::ProcEventType::exec) continue;
    queue_.push_back({event->processTgid, event->timestampNs});
    ++queuedPerPid_[event->processTgid];
  }
}

void Enricher::receiveAll() {
  mmsghdr messages[kBatch]{};
  iovec vectors[kBatch];
  sockaddr_nl senders[kBatch];
  for (size_t i = 0; i < kBatch; ++i) {
    vectors[i] = {buffers_[i].data(), buffers_[i].size()};
    messages[i].msg_hdr.msg_name = &senders[i];
    messages[i].msg_hdr.msg_namelen = sizeof senders[i];
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    int got = ::recvmmsg(socketFd_, messages, kBatch, MSG_DONTWAIT, nullptr);
    if (got < 0) {
      if (errno == ENOBUFS) {
        stats_.enrichOverruns.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    for (int i = 0; i < got; ++i) {
      if (senders[i].nl_pid != 0) {
        stats_.rejected.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      collect({buffers_[size_t(i)].data(), std::min<size_t>(messages[i].msg_len, kBufferBytes)});
    }
    if (size_t(got) < kBatch) return;
  }
}

void Enricher::run() {
  for (const auto& datagram : initial_) {
    if (!datagram.overrun && datagram.senderPort == 0) collect(datagram.bytes);
  }
  initial_.clear();
  pollfd waits[2] = {{socketFd_, POLLIN, 0}, {stopFd_.get(), POLLIN, 0}};
  for (;;) {
    while (!queue_.empty()) enrichRound();
    if (::poll(waits, 2, -1) < 0 && errno != EINTR) return;
    if (waits[1].revents) return;
    if (waits[0].revents) receiveAll();
  }
}

}  // namespace proctape::record
