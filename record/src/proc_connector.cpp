#include "proctape/record/proc_connector.h"

#include <arpa/inet.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "native_order.h"
#include "proctape/format/netlink.h"

namespace proctape::record {

namespace nl = proctape::netlink;

std::vector<uint8_t> buildMcastMessage(McastOp op, bool procInput, uint32_t eventMask, uint32_t portId, uint32_t seq,
                                       uint32_t ack) {
  uint32_t payload[2] = {uint32_t(op), eventMask};
  size_t payloadBytes = procInput ? sizeof payload : sizeof payload[0];
  std::vector<uint8_t> message(NLMSG_LENGTH(sizeof(cn_msg) + payloadBytes));
  nlmsghdr header{};
  header.nlmsg_len = uint32_t(message.size());
  header.nlmsg_type = NLMSG_DONE;
  header.nlmsg_pid = portId;
  header.nlmsg_seq = seq;
  cn_msg cn{};
  cn.id.idx = CN_IDX_PROC;
  cn.id.val = CN_VAL_PROC;
  cn.seq = seq;
  cn.ack = ack;
  cn.len = uint16_t(payloadBytes);
  std::memcpy(message.data(), &header, sizeof header);
  std::memcpy(message.data() + NLMSG_HDRLEN, &cn, sizeof cn);
  std::memcpy(message.data() + NLMSG_HDRLEN + sizeof cn, payload, payloadBytes);
  return message;
}

bool kernelHasProcInput(const std::string& release) {
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 6);
}

Result<uint32_t> parseEventMask(const std::string& list) {
  static const std::pair<const char*, uint32_t> kNames[] = {
      {"fork", nl::kProcEventFork},         {"exec", nl::kProcEventExec},     {"uid", nl::kProcEventUid},
      {"gid", nl::kProcEventGid},           {"sid", nl::kProcEventSid},       {"ptrace", nl::kProcEventPtrace},
      {"comm", nl::kProcEventComm},         {"coredump", nl::kProcEventCoredump}, {"exit", nl::kProcEventExit},
      {"nonzero-exit", nl::kProcEventNonzeroExit}, {"all", kAllProcEvents}};
  uint32_t mask = 0;
  std::stringstream in(list);
  std::string word;
  while (std::getline(in, word, ',')) {
    if (word.empty()) continue;
    bool known = false;
    for (auto [name, bit] : kNames) {
      if (word == name) mask |= bit, known = true;
    }
    if (!known) {
      return Error{"unknown event type '" + word +
                   "' in --events: use fork, exec, exit, nonzero-exit, uid, gid, sid, ptrace, comm, coredump or all"};
    }
  }
  if (mask == 0) return Error{"--events names no event type"};
  return mask;
}

Result<ProcConnector> ProcConnector::open(const std::string& what, int* openErrno) {
  auto socket = NetlinkSocket::open(NETLINK_CONNECTOR, CN_IDX_PROC, what, openErrno);
  if (!socket) return socket.error();
  ProcConnector connector(std::move(*socket));
  uint32_t seed = 0;
  if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) seed = uint32_t(monotonicNs());
  connector.nextSeq_ = seed | 1;
  return connector;
}

ProcConnector::ProcConnector(ProcConnector&& other) noexcept
    : socket_(std::move(other.socket_)),
      acked_(std::exchange(other.acked_, false)),
      ignored_(other.ignored_),
      procInput_(other.procInput_),
      failure_(other.failure_),
      rejected_(other.rejected_),
      nextSeq_(other.nextSeq_) {}

ProcConnector::~ProcConnector() { ignore(); }

void ProcConnector::ignore() {
  if (!acked_ || ignored_ || socket_.fd() < 0) return;
  ignored_ = true;
  auto message = buildMcastMessage(McastOp::ignore, procInput_, 0, socket_.portId(), nextSeq_++, 0);
  (void)socket_.sendToKernel(message);
}

namespace {

// The ack that answers our request: a NONE event with cn_msg.ack == ack + 1.
// (cn_msg.seq is no help: recent kernels renumber acks with the per-CPU event
// counter.) Returns its err, or -1 if `bytes` is no such ack.
int64_t ackOf(std::span<const uint8_t> bytes, uint32_t ack) {
  for (const auto& message : nl::decodeDatagram(nl::kFamilyConnector, kNativeOrder, bytes)) {
    const auto* event = std::get_if<nl::ProcEvent>(&message.body);
    if (event && event->type == nl::ProcEventType::none && event->cn.ack == ack + 1) {
      return event->err;
    }
  }
  return -1;
}

}  // namespace

// One LISTEN and its ack: true when acknowledged with err 0, false on timeout.
Result<bool> ProcConnector::attempt(bool procInput, uint32_t eventMask, int ackTimeoutMs,
                                    std::vector<Datagram>& captured) {
  uint32_t seq = nextSeq_++;
  uint32_t ack = seq ^ 0x5a5a5a5a;
  auto message = buildMcastMessage(McastOp::listen, procInput, eventMask, socket_.portId(), seq, ack);
  if (auto sent = socket_.sendToKernel(message); !sent) {
    failure_ = ListenFailure::io;
    return sent.error();
  }
  int64_t deadline = monotonicNs() + int64_t(ackTimeoutMs) * 1'000'000;
  for (int64_t now = monotonicNs(); now < deadline; now = monotonicNs()) {
    auto received = socket_.receive(int((deadline - now + 999'999) / 1'000'000), 1u << 16);
    if (!received) return failure_ = ListenFailure::io, received.error();
    if (!*received) continue;
    Datagram& datagram = **received;
    if (!datagram.overrun && datagram.senderPort != 0) {
      ++rejected_;
      continue;
    }
    int64_t err = datagram.overrun ? -1 : ackOf(datagram.bytes, ack);
    captured.push_back(std::move(datagram));
    if (err < 0) continue;
    if (err == 0) return true;
    failure_ = err == EPERM ? ListenFailure::permission : ListenFailure::refused;
    if (err == EPERM) return Error{"the kernel refused the process-events subscription: " + capNetAdminAdvice()};
    return Error{"the kernel refused the process-events subscription on the " + socket_.what() + " socket: " +
                 std::strerror(int(err)) + " (err " + std::to_string(err) + " in its ack)"};
  }
  return false;
}

Result<Subscription> ProcConnector::listen(uint32_t eventMask, bool tryProcInput, int ackTimeoutMs,
                                           std::vector<Datagram>& captured) {
  failure_ = ListenFailure::none;
  if (!acked_) {
    // Every event type first: only then does the kernel let our ack through
    // (it filters acks like events, and NONE is in no mask but "all").
    for (bool procInput : {tryProcInput, false}) {
      auto acked = attempt(procInput, kAllProcEvents, ackTimeoutMs, captured);
      if (!acked) return acked.error();
      if (*acked) {
        acked_ = true;
        procInput_ = procInput;
        break;
      }
      if (!procInput) break;
    }
    if (!acked_) {
      failure_ = ListenFailure::noAck;
      return Error{"the kernel did not acknowledge the process-events subscription on the " + socket_.what() +
                   " socket within " + std::to_string(ackTimeoutMs) + " ms"};
    }
  }
  if (eventMask == kAllProcEvents || !procInput_) return Subscription{procInput_, eventMask, false};
  // Narrowing the mask: the kernel handles the request before sendto
  // returns, and sends its ack through the new filter, which drops it.
  auto message = buildMcastMessage(McastOp::listen, true, eventMask, socket_.portId(), nextSeq_++, 0);
  if (auto sent = socket_.sendToKernel(message); !sent) return failure_ = ListenFailure::io, sent.error();
  return Subscription{true, eventMask, true};
}

}  // namespace proctape::record

namespace proctape::record {

Status ProcConnector::attachExecOnlyFilter() {
  // proc_event.what sits after nlmsghdr (16 bytes) and cn_msg (20 bytes).
  // BPF loads words big-endian, so compare with the loaded form of the
  // native-endian value.
  constexpr uint32_t kWhatOffset = NLMSG_HDRLEN + sizeof(cn_msg);
  uint32_t exec = ntohl(nl::kProcEventExec);
  uint32_t none = ntohl(nl::kProcEventNone);
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kWhatOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, exec, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, none, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  sock_fprog fprog{uint16_t(std::size(program)), program};
  if (::setsockopt(socket_.fd(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    return Error{std::string("cannot filter the exec socket: ") + std::strerror(errno)};
  }
  return okStatus();
}

}  // namespace proctape::record
