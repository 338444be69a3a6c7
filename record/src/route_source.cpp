#include "proctape/record/route_source.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "native_order.h"
#include "proctape/format/netlink.h"

namespace proctape::record {

namespace nl = proctape::netlink;

std::vector<uint32_t> routeGroupNumbers() { return {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR}; }

Result<NetlinkSocket> openRouteSocket() {
  return NetlinkSocket::open(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, "rtnetlink");
}

namespace {

// A dump request: nlmsghdr + a zeroed family header (ifinfomsg/ifaddrmsg) for AF_UNSPEC.
std::vector<uint8_t> dumpRequest(uint16_t type, size_t familyHeaderBytes, uint32_t seq) {
  std::vector<uint8_t> request(NLMSG_LENGTH(familyHeaderBytes));
  nlmsghdr header{};
  header.nlmsg_len = uint32_t(request.size());
  header.nlmsg_type = type;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header.nlmsg_seq = seq;
  std::memcpy(request.data(), &header, sizeof header);
  return request;
}

// 1: our dump is done; 0: not yet; an error: the kernel refused it.
Result<bool> dumpEnded(std::span<const uint8_t> bytes, uint32_t seq, const char* what) {
  for (const auto& message : nl::decodeDatagram(nl::kFamilyRoute, kNativeOrder, bytes)) {
    if (message.header.seq != seq) continue;
    if (const auto* error = std::get_if<nl::NetlinkError>(&message.body); error && error->error != 0) {
      return Error{std::string("the kernel refused the ") + what + " dump: " + std::strerror(-error->error)};
    }
    if (message.header.type == nl::kNlmsgDone) return true;
  }
  return false;
}

Status dumpOne(NetlinkSocket& socket, uint16_t type, size_t headerBytes, uint32_t seq, const char* what,
               uint16_t sourceId, int timeoutMs, std::vector<Datagram>& captured) {
  if (auto sent = socket.sendToKernel(dumpRequest(type, headerBytes, seq)); !sent) return sent;
  int64_t deadline = monotonicNs() + int64_t(timeoutMs) * 1'000'000;
  for (int64_t now = monotonicNs(); now < deadline; now = monotonicNs()) {
    auto received = socket.receive(int((deadline - now + 999'999) / 1'000'000));
    if (!received) return received.error();
    if (!*received || (!(*received)->overrun && (*received)->senderPort != 0)) continue;
    Datagram& datagram = **received;
    datagram.sourceId = sourceId;
    auto ended = datagram.overrun || datagram.truncated ? Result<bool>(false) : dumpEnded(datagram.bytes, seq, what);
    captured.push_back(std::move(datagram));
    if (!ended) return ended.error();
    if (*ended) return okStatus();
  }
  return Error{std::string("the ") + what + " dump did not end within " + std::to_string(timeoutMs) + " ms"};
}

}  // namespace

Status dumpRoute(NetlinkSocket& socket, uint16_t sourceId, int timeoutMs, std::vector<Datagram>& captured) {
  uint32_t seq = uint32_t(monotonicNs()) | 1;
  if (auto s = dumpOne(socket, RTM_GETLINK, sizeof(ifinfomsg), seq, "link", sourceId, timeoutMs, captured); !s) return s;
  return dumpOne(socket, RTM_GETADDR, sizeof(ifaddrmsg), seq + 1, "address", sourceId, timeoutMs, captured);
}

}  // namespace proctape::record
