// The rtnetlink source (--source route): a NETLINK_ROUTE socket that joins
// the link and IPv4/IPv6 address groups, then dumps the current links and
// addresses, so a trace starts with the state and follows every change.
#pragma once

#include <cstdint>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/record/netlink_socket.h"

namespace proctape::record {

// RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR: group numbers, as
// the trace's Source.groups lists them.
std::vector<uint32_t> routeGroupNumbers();

// Opens the socket bound to those groups (no privilege needed).
Result<NetlinkSocket> openRouteSocket();

// Dumps links (RTM_GETLINK) then addresses (RTM_GETADDR), reading multipart
// replies until NLMSG_DONE; every datagram read (dump parts and multicast
// events alike, each sized by MSG_PEEK|MSG_TRUNC) is appended to `captured`
// with `sourceId`. Errors: an NLMSG_ERROR answer, or no NLMSG_DONE in `timeoutMs`.
Status dumpRoute(NetlinkSocket& socket, uint16_t sourceId, int timeoutMs, std::vector<Datagram>& captured);

}  // namespace proctape::record
