#include "proctape/record/netlink_socket.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace proctape::record {

int64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::string capNetAdminAdvice() {
  return "this kernel only lets processes with CAP_NET_ADMIN listen to process events. Run it with sudo, "
         "or grant the capability once: sudo setcap cap_net_admin+ep \"$(command -v proctape-record)\"";
}

namespace {

std::string errnoText(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

Result<uint32_t> boundPortId(int fd, const std::string& what) {
  sockaddr_nl local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    return Error{"cannot read the port id of the " + what + " socket: " + errnoText(errno)};
  }
  return local.nl_pid;
}

}  // namespace

Result<NetlinkSocket> NetlinkSocket::open(int protocol, uint32_t groups, const std::string& what, int* openErrno) {
  int ignored = 0;
  int& failedWith = openErrno ? *openErrno : ignored;
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd) {
    int err = failedWith = errno;
    if (err == EPROTONOSUPPORT) {
      return Error{"cannot open the " + what + " socket: this kernel has no such netlink family (" + errnoText(err) +
                   "); for process events it needs CONFIG_CONNECTOR and CONFIG_PROC_EVENTS"};
    }
    return Error{"cannot open the " + what + " socket: " + errnoText(err)};
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = groups;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int err = failedWith = errno;
    if (err == EPERM) return Error{"cannot bind the " + what + " socket: permission denied: " + capNetAdminAdvice()};
    return Error{"cannot bind the " + what + " socket: " + errnoText(err)};
  }
  auto port = boundPortId(fd.get(), what);
  if (!port) return port.error();
  return NetlinkSocket(std::move(fd), *port, what);
}

ReceiveBuffer NetlinkSocket::setReceiveBuffer(int bytes) {
  ReceiveBuffer result;
  result.requested = bytes;
  result.forced = ::setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0;
  if (!result.forced) (void)::setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  socklen_t length = sizeof result.effective;
  (void)::getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &result.effective, &length);
  return result;
}

Status NetlinkSocket::sendToKernel(std::span<const uint8_t> message) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t sent = ::sendto(fd(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (sent == ssize_t(message.size())) return okStatus();
    if (sent < 0 && errno == EINTR) continue;
    int err = sent < 0 ? errno : EMSGSIZE;
    if (err == EPERM) return Error{"the kernel refused a request on the " + what_ + " socket: " + capNetAdminAdvice()};
    // The connector is registered in the initial network namespace only:
    // elsewhere nothing in the kernel listens at its port.
    if (err == ECONNREFUSED)
      return Error{"the kernel does not answer on the " + what_ + " socket (" + errnoText(err) +
                   "): this is a network namespace other than the initial one, where the kernel's proc connector "
                   "does not exist. Run proctape-record in the host's network namespace (not under `ip netns exec`, "
                   "nor in a container with its own network: e.g. docker --network host)"};
    return Error{"cannot send to the kernel on the " + what_ + " socket: " + errnoText(err)};
  }
}

namespace {

// Length of the next datagram (MSG_PEEK|MSG_TRUNC), -1 with errno set.
ssize_t peekLength(int fd) {
  for (;;) {
    ssize_t n = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace

Result<std::optional<Datagram>> NetlinkSocket::receive(int timeoutMs, size_t maxBytes) {
  pollfd waiting{fd(), POLLIN, 0};
  int ready = ::poll(&waiting, 1, timeoutMs);
  if (ready < 0 && errno != EINTR) return Error{"cannot wait on the " + what_ + " socket: " + errnoText(errno)};
  if (ready <= 0) return std::optional<Datagram>{};
  Datagram datagram;
  ssize_t length = peekLength(fd());
  datagram.timeNs = monotonicNs();
  if (length < 0) {
    if (errno == ENOBUFS) {
      datagram.overrun = true;
      return std::optional<Datagram>(std::move(datagram));
    }
    if (errno == EAGAIN) return std::optional<Datagram>{};
    return Error{"cannot receive on the " + what_ + " socket: " + errnoText(errno)};
  }
  datagram.bytes.resize(std::min(size_t(length), maxBytes));
  sockaddr_nl sender{};
  iovec io{datagram.bytes.data(), datagram.bytes.size()};
  msghdr message{};
  message.msg_name = &sender;
  message.msg_namelen = sizeof sender;
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  ssize_t got = ::recvmsg(fd(), &message, MSG_DONTWAIT | MSG_TRUNC);
  if (got < 0) {
    if (errno == ENOBUFS) return std::optional<Datagram>(Datagram{datagram.timeNs, true, 0, 0, false, 0, {}});
    return Error{"cannot receive on the " + what_ + " socket: " + errnoText(errno)};
  }
  datagram.fullLength = size_t(got);
  datagram.truncated = (message.msg_flags & MSG_TRUNC) != 0 || size_t(got) > datagram.bytes.size();
  datagram.bytes.resize(std::min(size_t(got), datagram.bytes.size()));
  datagram.senderPort = sender.nl_pid;
  return std::optional<Datagram>(std::move(datagram));
}

}  // namespace proctape::record
