// The per-family halves of the netlink walk. Private to the netlink decoders.
#pragma once

#include <cstdint>

#include "netlink_window.h"
#include "proctape/format/netlink.h"

namespace proctape::netlink::detail {

// Decodes one message's payload (the bytes after its nlmsghdr, already bounded
// by nlmsg_len). Each returns a DecodeError, never throws, for a payload whose
// layers do not fit.

// NETLINK_CONNECTOR: a cn_msg and its data; cn_proc events for CN_IDX_PROC.
MessageBody decodeConnectorMessage(const Window& payload);

// The same for a payload that is a well-formed cn_proc event of a known type,
// straight into `event`; false, with `event` untouched, for anything else.
bool decodeKnownProcEvent(const Window& payload, ProcEvent& event);

// NETLINK_ROUTE: link and address messages; other types come back as OtherMessage.
MessageBody decodeRouteMessage(uint16_t type, const Window& payload);

}  // namespace proctape::netlink::detail
