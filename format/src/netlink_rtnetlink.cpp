// rtnetlink link and address messages: a family header, then attributes
// (struct rtattr: len u16, type u16, payload, padded to 4 bytes).
//
// Layouts (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h), in the
// recording machine's byte order:
//   ifinfomsg  family u8, pad u8, type u16, index s32, flags u32, change u32
//   ifaddrmsg  family u8, prefixlen u8, flags u8, scope u8, index u32
#include <optional>
#include <string>

#include "netlink_decoders.h"
#include "netlink_window.h"
#include "proctape/format/netlink.h"

namespace proctape::netlink::detail {
namespace {

constexpr size_t kIfinfomsgSize = 16;
constexpr size_t kIfaddrmsgSize = 8;
constexpr size_t kAttrHeaderSize = 4;
// NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the top bits of the type.
constexpr uint16_t kAttrTypeMask = 0x3fff;

constexpr uint16_t kIflaAddress = 1;
constexpr uint16_t kIflaBroadcast = 2;
constexpr uint16_t kIflaIfname = 3;
constexpr uint16_t kIflaMtu = 4;
constexpr uint16_t kIflaOperstate = 16;

constexpr uint16_t kIfaAddress = 1;
constexpr uint16_t kIfaLocal = 2;
constexpr uint16_t kIfaLabel = 3;
constexpr uint16_t kIfaBroadcast = 4;

using AttrResult = std::optional<DecodeError>;

// Walks the attributes in `area`, calling visit(type, payload) for each; the
// payload window is bounded by rta_len. Stops at the first malformed
// attribute, or at the first error visit returns. Attributes these decoders
// do not know, nested ones included, are stepped over by their length.
template <typename Visit>
AttrResult walkAttributes(const Window& area, Visit&& visit) {
  for (Window rest = area; !rest.empty();) {
    if (!rest.holds(0, kAttrHeaderSize))
      return rest.error(0, std::to_string(rest.size()) + " bytes left, too few for an attribute header (4)");
    uint16_t length = rest.get<uint16_t>(0);
    if (length < kAttrHeaderSize || length > rest.size())
      return rest.error(0, "attribute length " + std::to_string(length) + " is outside 4.." +
                               std::to_string(rest.size()) + " (the bytes left in the message)");
    uint16_t type = rest.get<uint16_t>(2) & kAttrTypeMask;
    if (auto problem = visit(type, rest.sub(kAttrHeaderSize, length - kAttrHeaderSize))) return problem;
    rest = rest.sub(align4(length));  // the last attribute's padding may be absent
  }
  return std::nullopt;
}

// A fixed-size unsigned attribute; any other length is malformed.
template <typename T>
AttrResult readFixed(const Window& payload, const char* name, std::optional<T>& out) {
  if (payload.size() != sizeof(T))
    return payload.error(0, std::string(name) + " payload is " + std::to_string(payload.size()) +
                                " bytes, expected " + std::to_string(sizeof(T)));
  out = payload.get<T>(0);
  return std::nullopt;
}

AttrResult readLinkAttribute(LinkEvent& link, uint16_t type, const Window& payload) {
  switch (type) {
    case kIflaAddress: link.address = payload.copy(); break;
    case kIflaBroadcast: link.broadcast = payload.copy(); break;
    case kIflaIfname: link.name = payload.cString(); break;
    case kIflaMtu: return readFixed(payload, "IFLA_MTU", link.mtu);
    case kIflaOperstate: return readFixed(payload, "IFLA_OPERSTATE", link.operState);
    default: break;
  }
  return std::nullopt;
}

AttrResult readAddrAttribute(AddrEvent& addr, uint16_t type, const Window& payload) {
  switch (type) {
    case kIfaAddress: addr.address = payload.copy(); break;
    case kIfaLocal: addr.local = payload.copy(); break;
    case kIfaLabel: addr.label = payload.cString(); break;
    case kIfaBroadcast: addr.broadcast = payload.copy(); break;
    default: break;
  }
  return std::nullopt;
}

DecodeError shortFamilyHeader(const Window& payload, const char* name, size_t size) {
  return payload.error(0, std::string(name) + " payload is " + std::to_string(payload.size()) + " bytes, too short for " +
                              "its family header (" + std::to_string(size) + ")");
}

MessageBody decodeLink(uint16_t type, const Window& payload) {
  if (!payload.holds(0, kIfinfomsgSize)) return shortFamilyHeader(payload, "link message", kIfinfomsgSize);
  LinkEvent link;
  link.messageType = type;
  link.family = payload.get<uint8_t>(0);
  link.deviceType = payload.get<uint16_t>(2);
  link.ifindex = payload.getS32(4);
  link.flags = payload.get<uint32_t>(8);
  link.change = payload.get<uint32_t>(12);
  auto visit = [&link](uint16_t attr, const Window& value) { return readLinkAttribute(link, attr, value); };
  if (auto problem = walkAttributes(payload.sub(align4(kIfinfomsgSize)), visit)) return std::move(*problem);
  return link;
}

MessageBody decodeAddr(uint16_t type, const Window& payload) {
  if (!payload.holds(0, kIfaddrmsgSize)) return shortFamilyHeader(payload, "address message", kIfaddrmsgSize);
  AddrEvent addr;
  addr.messageType = type;
  addr.family = payload.get<uint8_t>(0);
  addr.prefixLength = payload.get<uint8_t>(1);
  addr.flags = payload.get<uint8_t>(2);
  addr.scope = payload.get<uint8_t>(3);
  addr.ifindex = payload.get<uint32_t>(4);
  auto visit = [&addr](uint16_t attr, const Window& value) { return readAddrAttribute(addr, attr, value); };
  if (auto problem = walkAttributes(payload.sub(align4(kIfaddrmsgSize)), visit)) return std::move(*problem);
  return addr;
}

}  // namespace

MessageBody decodeRouteMessage(uint16_t type, const Window& payload) {
  switch (type) {
    case kRtmNewLink:
    case kRtmDelLink: return decodeLink(type, payload);
    case kRtmNewAddr:
    case kRtmDelAddr: return decodeAddr(type, payload);
    default: return OtherMessage{payload.copy()};
  }
}

}  // namespace proctape::netlink::detail
