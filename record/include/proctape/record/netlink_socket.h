// NetlinkSocket: one bound AF_NETLINK socket (any protocol), with the few
// operations the recorder needs during setup. The hot receive path uses the
// file descriptor directly (recvmmsg), see receiver.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/record/unique_fd.h"

namespace proctape::record {

// CLOCK_MONOTONIC in nanoseconds: the clock of capture times and of the
// kernel's proc_event.timestamp_ns.
int64_t monotonicNs();

// One datagram as received, stamped with its capture time; or, with
// `overrun` set and no bytes, the moment recv reported ENOBUFS (the kernel
// dropped datagrams for this socket).
struct Datagram {
  int64_t timeNs = 0;
  bool overrun = false;
  uint16_t sourceId = 0;
  uint32_t senderPort = 0;     // nl_pid of the sender: 0 is the kernel
  bool truncated = false;      // larger than any buffer we would give it
  size_t fullLength = 0;       // its length on the wire, even when truncated
  std::vector<uint8_t> bytes;
};

struct ReceiveBuffer {
  int requested = 0;
  int effective = 0;           // what SO_RCVBUF reads back (the kernel doubles requests)
  bool forced = false;         // SO_RCVBUFFORCE was allowed (CAP_NET_ADMIN)
};

class NetlinkSocket {
 public:
  // Opens a SOCK_RAW, close-on-exec socket of `protocol` and binds it to the
  // multicast `groups` (a bit mask; the kernel chooses the port id). `what`
  // names the socket in errors. Errors: EPERM says which capability is
  // missing and how to grant it; other errnos are reported as they are.
  // `openErrno`, when given, receives the errno of a failure.
  static Result<NetlinkSocket> open(int protocol, uint32_t groups, const std::string& what, int* openErrno = nullptr);

  int fd() const { return fd_.get(); }
  uint32_t portId() const { return portId_; }
  const std::string& what() const { return what_; }

  // Tries SO_RCVBUFFORCE (needs CAP_NET_ADMIN), then SO_RCVBUF (capped by
  // net.core.rmem_max). Never fails: the result says what the kernel gave.
  ReceiveBuffer setReceiveBuffer(int bytes);

  // Sends one netlink message to the kernel (port id 0).
  Status sendToKernel(std::span<const uint8_t> message);

  // Waits up to `timeoutMs` for one datagram and receives it whole, sized
  // first with MSG_PEEK|MSG_TRUNC (up to `maxBytes`; a longer one is consumed
  // and returned with `truncated` set). nullopt when nothing came in time.
  // ENOBUFS is returned as an `overrun` Datagram, not as an error.
  Result<std::optional<Datagram>> receive(int timeoutMs, size_t maxBytes = 1u << 20);

 private:
  NetlinkSocket(UniqueFd fd, uint32_t portId, std::string what)
      : fd_(std::move(fd)), portId_(portId), what_(std::move(what)) {}
  UniqueFd fd_;
  uint32_t portId_ = 0;
  std::string what_;
};

// "PERMISSION" message for an EPERM on the connector (names CAP_NET_ADMIN,
// setcap and sudo).
std::string capNetAdminAdvice();

}  // namespace proctape::record
