// ProcConnector: a NETLINK_CONNECTOR socket subscribed to the kernel's
// process events (cn_proc), and the subscription's safety rules:
//
// - LISTEN carries `struct proc_input {mcast_op, event_type}` on kernels that
//   filter by event type (Linux >= 6.6), else the classic 4-byte op, and the
//   ack (a NONE event whose cn_msg seq/ack answer ours) is awaited.
// - IGNORE is sent only if this socket's LISTEN was acknowledged, and at most
//   once: before 6.6 the listener count is one global counter, and an IGNORE
//   without its LISTEN would drive it negative and silence every listener.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/record/netlink_socket.h"

namespace proctape::record {

// The kernel's PROC_EVENT_ALL (every event bit, NONZERO_EXIT included): the
// mask that disables kernel filtering.
inline constexpr uint32_t kAllProcEvents = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000040 | 0x00000080 |
                                           0x00000100 | 0x00000200 | 0x20000000 | 0x40000000 | 0x80000000;

enum class McastOp : uint32_t { listen = 1, ignore = 2 };

// One connector control message: nlmsghdr + cn_msg{CN_IDX_PROC, CN_VAL_PROC}
// + either the 4-byte op (classic) or proc_input{op, eventMask}.
std::vector<uint8_t> buildMcastMessage(McastOp op, bool procInput, uint32_t eventMask, uint32_t portId, uint32_t seq,
                                       uint32_t ack);

// True when `release` (uname -r) is Linux 6.6 or later: proc_input exists.
bool kernelHasProcInput(const std::string& release);

// Parses "fork,exec,exit" (also uid, gid, sid, ptrace, comm, coredump,
// nonzero-exit, all) into an event mask. Errors name the unknown word.
Result<uint32_t> parseEventMask(const std::string& list);

struct Subscription {
  bool procInput = false;       // proc_input was used (else the classic op)
  uint32_t eventMask = kAllProcEvents;
  bool kernelFiltering = false; // the kernel drops event types we did not ask for
};

enum class ListenFailure { none, permission, noAck, refused, io };

class ProcConnector {
 public:
  // Opens a connector socket bound to CN_IDX_PROC. `what` names it in
  // messages; `openErrno` receives the errno of a failure (EPERM: privilege).
  static Result<ProcConnector> open(const std::string& what, int* openErrno = nullptr);

  ProcConnector(ProcConnector&& other) noexcept;
  ProcConnector& operator=(ProcConnector&&) = delete;
  ProcConnector(const ProcConnector&) = delete;
  ~ProcConnector();  // sends the IGNORE if it is owed

  NetlinkSocket& socket() { return socket_; }

  // Subscribes to `eventMask` (kAllProcEvents: everything, no kernel
  // filtering). The first call subscribes to every type and waits up to
  // `ackTimeoutMs` for the ack, with proc_input when `tryProcInput`, falling
  // back to the classic op when that gets no ack. A narrower mask is then
  // set with a second proc_input LISTEN, which gets no ack: the kernel
  // filters acks through the socket's mask. With the classic op the mask is
  // left to user space (kernelFiltering false).
  // Every kernel datagram read meanwhile (the ack included) is appended to
  // `captured`, so nothing read during setup is lost; frames from other
  // senders are counted in rejected() and dropped. May be called again to
  // change the mask (the kernel keeps one state per socket since 6.6, and a
  // second LISTEN does not count as another listener).
  Result<Subscription> listen(uint32_t eventMask, bool tryProcInput, int ackTimeoutMs, std::vector<Datagram>& captured);

  // Sends IGNORE if a LISTEN was acknowledged and no IGNORE was sent yet.
  void ignore();

  // Keeps only exec events (and acks) with a classic BPF socket filter: the
  // exec socket's filter on kernels without proc_input.
  Status attachExecOnlyFilter();

  ListenFailure failure() const { return failure_; }
  void countRejected() { ++rejected_; }
  uint64_t rejected() const { return rejected_; }
  bool acknowledged() const { return acked_; }

 private:
  explicit ProcConnector(NetlinkSocket socket) : socket_(std::move(socket)) {}
  Result<bool> attempt(bool procInput, uint32_t eventMask, int ackTimeoutMs, std::vector<Datagram>& captured);

  NetlinkSocket socket_;
  bool acked_ = false;
  bool ignored_ = false;
  bool procInput_ = false;
  ListenFailure failure_ = ListenFailure::none;
  uint64_t rejected_ = 0;
  uint32_t nextSeq_ = 0;
};

}  // namespace proctape::record
