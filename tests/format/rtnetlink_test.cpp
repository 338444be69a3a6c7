// rtnetlink link and address messages: family headers, the attributes we
// read, the ones we step over, and attribute lengths that lie.
//
// Messages are built field by field from the kernel's structs (rtnetlink.h:
// ifinfomsg, ifaddrmsg, rtattr), in the byte order under test; this
// machine's headers are used only to cross-check the sizes.
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "proctape/format/netlink.h"
#include "support/netlink_bytes.h"

namespace proctape::netlink {
namespace {

using format::ByteOrder;

using Bytes = test::NetlinkBytes;

constexpr uint16_t kIflaAddress = 1, kIflaBroadcast = 2, kIflaIfname = 3, kIflaMtu = 4, kIflaTxqlen = 13,
                   kIflaOperstate = 16, kIflaLinkinfo = 18, kIflaInfoKind = 1, kIflaAfSpec = 26;
constexpr uint16_t kIfaAddress = 1, kIfaLocal = 2, kIfaLabel = 3, kIfaBroadcast = 4, kIfaCacheinfo = 6,
                   kIfaFlags = 8;
constexpr uint16_t kNested = 0x8000, kNetByteOrder = 0x4000;
constexpr uint16_t kRtmNewRoute = 24;

const std::vector<uint8_t> kMac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
const std::vector<uint8_t> kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::vector<uint8_t> routeMessage(ByteOrder order, uint16_t type, const Bytes& payload) {
  return test::nlmsg(order, type, 0, 1, 0, payload.data());
}

// struct ifinfomsg: family, pad, type (ARPHRD_ETHER), index, flags, change.
Bytes ifinfomsg(ByteOrder order, int32_t index) {
  Bytes bytes(order);
  bytes.u8(0).u8(0).u16(1).s32(index).u32(0x11043).u32(0xffffffff);  // UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
  return bytes;
}

// struct ifaddrmsg: family, prefixlen, flags, scope, index.
Bytes ifaddrmsg(ByteOrder order, uint8_t family, uint8_t prefix, uint8_t scope, uint32_t index) {
  Bytes bytes(order);
  bytes.u8(family).u8(prefix).u8(0x80).u8(scope).u32(index);  // IFA_F_PERMANENT
  return bytes;
}

// A nested attribute the decoder must step over whole: IFLA_LINKINFO { IFLA_INFO_KIND "veth" }.
std::vector<uint8_t> nestedLinkinfo(ByteOrder order) { return Bytes(order).attrText(kIflaInfoKind, "veth").data(); }

class RtnetlinkTest : public ::testing::TestWithParam<ByteOrder> {
 protected:
  ByteOrder order() const { return GetParam(); }
  std::vector<Message> decode(const std::vector<uint8_t>& datagram) const {
    return decodeDatagram(kFamilyRoute, order(), datagram);
  }
  template <typename T>
  T decodeOne(const std::vector<uint8_t>& datagram) const {
    auto messages = decode(datagram);
    if (messages.size() != 1) throw std::runtime_error("expected 1 message, got " + std::to_string(messages.size()));
    if (auto* error = std::get_if<DecodeError>(&messages[0].body))
      throw std::runtime_error("DecodeError: " + error->reason);
    return std::get<T>(messages[0].body);
  }
  DecodeError decodeError(const std::vector<uint8_t>& datagram) const {
    auto messages = decode(datagram);
    if (messages.size() != 1) throw std::runtime_error("expected 1 message, got " + std::to_string(messages.size()));
    return std::get<DecodeError>(messages[0].body);
  }
};

INSTANTIATE_TEST_SUITE_P(ByteOrders, RtnetlinkTest, ::testing::Values(ByteOrder::little, ByteOrder::big),
                         [](const auto& param) { return param.param == ByteOrder::little ? "Little" : "Big"; });

TEST_P(RtnetlinkTest, NewLinkWithNameMtuOperstateMacAndBroadcast) {
  Bytes payload = ifinfomsg(order(), 2);
  payload.attrText(kIflaIfname, "eth0").attrU32(kIflaTxqlen, 1000).attrU32(kIflaMtu, 1500);
  payload.attr(kIflaOperstate, {6}).attr(kIflaLinkinfo | kNested, nestedLinkinfo(order()));
  payload.attr(kIflaAddress, kMac).attr(kIflaBroadcast, kBroadcastMac);
  auto link = decodeOne<LinkEvent>(routeMessage(order(), kRtmNewLink, payload));
  EXPECT_EQ(link.messageType, kRtmNewLink);
  EXPECT_EQ(link.family, 0);
  EXPECT_EQ(link.deviceType, 1);
  EXPECT_EQ(link.ifindex, 2);
  EXPECT_EQ(link.flags, 0x11043u);
  EXPECT_EQ(link.change, 0xffffffffu);
  EXPECT_EQ(link.name, "eth0");
  EXPECT_EQ(link.mtu, 1500u);
  EXPECT_EQ(link.operState, 6);  // IF_OPER_UP
  EXPECT_EQ(link.address, kMac);
  EXPECT_EQ(link.broadcast, kBroadcastMac);
}

TEST_P(RtnetlinkTest, DelLinkWithNameOnly) {
  Bytes payload = ifinfomsg(order(), 7);
  payload.attrText(kIflaIfname, "veth1a2b3c");
  auto link = decodeOne<LinkEvent>(routeMessage(order(), kRtmDelLink, payload));
  EXPECT_EQ(link.messageType, kRtmDelLink);
  EXPECT_EQ(link.ifindex, 7);
  EXPECT_EQ(link.name, "veth1a2b3c");
  EXPECT_FALSE(link.mtu.has_value());
  EXPECT_FALSE(link.operState.has_value());
  EXPECT_TRUE(link.address.empty());
  EXPECT_TRUE(link.broadcast.empty());
}

TEST_P(RtnetlinkTest, LinkWithoutAttributes) {
  auto link = decodeOne<LinkEvent>(routeMessage(order(), kRtmNewLink, ifinfomsg(order(), -1)));
  EXPECT_EQ(link.ifindex, -1);
  EXPECT_TRUE(link.name.empty());
}

TEST_P(RtnetlinkTest, IfnameWithoutNulIsBoundedByAttributeLength) {
  // "wlan0" with no NUL, then an attribute whose bytes would read as text.
  Bytes payload = ifinfomsg(order(), 3);
  payload.attrText(kIflaIfname, "wlan0", false).attrText(kIflaAfSpec | kNested, "XYZW");
  EXPECT_EQ(decodeOne<LinkEvent>(routeMessage(order(), kRtmNewLink, payload)).name, "wlan0");
}

TEST_P(RtnetlinkTest, AttributeFlagBitsAreMaskedOffTheType) {
  Bytes payload = ifinfomsg(order(), 3);
  payload.attrText(kIflaIfname | kNetByteOrder, "lo").attrU32(kIflaMtu | kNested, 65536);
  auto link = decodeOne<LinkEvent>(routeMessage(order(), kRtmNewLink, payload));
  EXPECT_EQ(link.name, "lo");
  EXPECT_EQ(link.mtu, 65536u);
}

TEST_P(RtnetlinkTest, NewAddrIpv4WithLocalBroadcastAndLabel) {
  Bytes payload = ifaddrmsg(order(), 2, 24, 0, 2);  // AF_INET, RT_SCOPE_UNIVERSE
  payload.attr(kIfaAddress, {192, 168, 1, 20}).attr(kIfaLocal, {192, 168, 1, 21});
  payload.attr(kIfaBroadcast, {192, 168, 1, 255}).attrText(kIfaLabel, "eth0:1");
  payload.attrU32(kIfaFlags, 0x280).attr(kIfaCacheinfo, std::vector<uint8_t>(16, 0xee));
  auto addr = decodeOne<AddrEvent>(routeMessage(order(), kRtmNewAddr, payload));
  EXPECT_EQ(addr.messageType, kRtmNewAddr);
  EXPECT_EQ(addr.family, 2);
  EXPECT_EQ(addr.prefixLength, 24);
  EXPECT_EQ(addr.flags, 0x80);
  EXPECT_EQ(addr.scope, 0);
  EXPECT_EQ(addr.ifindex, 2u);
  EXPECT_EQ(addr.address, (std::vector<uint8_t>{192, 168, 1, 20}));
  EXPECT_EQ(addr.local, (std::vector<uint8_t>{192, 168, 1, 21}));
  EXPECT_EQ(addr.broadcast, (std::vector<uint8_t>{192, 168, 1, 255}));
  EXPECT_EQ(addr.label, "eth0:1");
}

TEST_P(RtnetlinkTest, NewAddrIpv6LinkLocal) {
  std::vector<uint8_t> v6 = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x42, 0xac, 0xff, 0xfe, 0x11, 0x00, 0x02};
  Bytes payload = ifaddrmsg(order(), 10, 64, 253, 0x10002);  // AF_INET6, RT_SCOPE_LINK
  payload.attr(kIfaCacheinfo, std::vector<uint8_t>(16, 1)).attr(kIfaAddress, v6).attrU32(kIfaFlags, 0x80);
  auto addr = decodeOne<AddrEvent>(routeMessage(order(), kRtmNewAddr, payload));
  EXPECT_EQ(addr.family, 10);
  EXPECT_EQ(addr.prefixLength, 64);
  EXPECT_EQ(addr.scope, 253);
  EXPECT_EQ(addr.ifindex, 0x10002u);
  EXPECT_EQ(addr.address, v6);
  EXPECT_TRUE(addr.local.empty());
  EXPECT_TRUE(addr.broadcast.empty());
  EXPECT_TRUE(addr.label.empty());
}

TEST_P(RtnetlinkTest, DelAddr) {
  Bytes payload = ifaddrmsg(order(), 2, 8, 254, 1);  // RT_SCOPE_HOST
  payload.attr(kIfaAddress, {127, 0, 0, 1}).attrText(kIfaLabel, "lo");
  auto addr = decodeOne<AddrEvent>(routeMessage(order(), kRtmDelAddr, payload));
  EXPECT_EQ(addr.messageType, kRtmDelAddr);
  EXPECT_EQ(addr.label, "lo");
  EXPECT_EQ(addr.scope, 254);
}

TEST_P(RtnetlinkTest, OtherRouteMessageTypeKeepsPayload) {
  Bytes payload(order());
  payload.u8(2).u8(24).u8(0).u8(0).u8(254).u8(4).u8(0).u8(1).u32(0);  // struct rtmsg
  auto datagram = routeMessage(order(), kRtmNewRoute, payload);
  auto other = decodeOne<OtherMessage>(datagram);
  EXPECT_EQ(other.payload, payload.data());
}

TEST_P(RtnetlinkTest, AttributeLengthPastMessageIsDecodeError) {
  Bytes payload = ifinfomsg(order(), 2);
  payload.attrText(kIflaIfname, "eth0").u16(64).u16(kIflaMtu).u32(1500);  // rta_len 64, 8 bytes left
  auto datagram = routeMessage(order(), kRtmNewLink, payload);
  auto messages = decode(datagram);
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<DecodeError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->offset, 16u + 16u + 12u);
  EXPECT_EQ(error->raw, std::vector<uint8_t>(datagram.begin() + 44, datagram.end()));
  EXPECT_NE(error->reason.find("attribute length 64"), std::string::npos) << error->reason;
  EXPECT_EQ(messages[0].header.type, kRtmNewLink);
}

TEST_P(RtnetlinkTest, AttributeLengthBelowHeaderIsDecodeError) {
  for (uint16_t lie : {0, 1, 3}) {  // 0 would loop forever if the walk trusted it
    Bytes payload = ifinfomsg(order(), 2);
    payload.u16(lie).u16(kIflaIfname).u32(0);
    auto error = decodeError(routeMessage(order(), kRtmNewLink, payload));
    EXPECT_EQ(error.offset, 32u) << lie;
  }
}

TEST_P(RtnetlinkTest, AttributeBoundedByNlmsgLenNotDatagram) {
  // nlmsg_len ends the message inside an attribute that the datagram holds whole.
  Bytes payload = ifinfomsg(order(), 2);
  payload.attrU32(kIflaMtu, 1500);
  auto datagram = routeMessage(order(), kRtmNewLink, payload);
  auto shorter = Bytes(order()).u32(uint32_t(datagram.size() - 4)).data();
  std::memcpy(datagram.data(), shorter.data(), 4);
  auto messages = decode(datagram);
  ASSERT_FALSE(messages.empty());
  EXPECT_TRUE(std::holds_alternative<DecodeError>(messages[0].body));
}

TEST_P(RtnetlinkTest, WrongSizeMtuIsDecodeError) {
  Bytes payload = ifinfomsg(order(), 2);
  payload.attr(kIflaMtu, {0xdc, 0x05});
  auto error = decodeError(routeMessage(order(), kRtmNewLink, payload));
  EXPECT_NE(error.reason.find("IFLA_MTU"), std::string::npos) << error.reason;
  EXPECT_EQ(error.offset, 36u);  // the attribute's payload
}

TEST_P(RtnetlinkTest, WrongSizeOperstateIsDecodeError) {
  Bytes payload = ifinfomsg(order(), 2);
  payload.attrU32(kIflaOperstate, 6);
  EXPECT_NE(decodeError(routeMessage(order(), kRtmNewLink, payload)).reason.find("IFLA_OPERSTATE"), std::string::npos);
}

TEST_P(RtnetlinkTest, ShortFamilyHeadersAreDecodeErrors) {
  Bytes shortLink(order());
  shortLink.u8(0).u8(0).u16(1).s32(2).u16(0);  // 10 of ifinfomsg's 16 bytes
  EXPECT_EQ(decodeError(routeMessage(order(), kRtmNewLink, shortLink)).offset, 16u);
  Bytes shortAddr(order());
  shortAddr.u8(2).u8(24).u8(0).u8(0);  // 4 of ifaddrmsg's 8 bytes
  EXPECT_EQ(decodeError(routeMessage(order(), kRtmDelAddr, shortAddr)).offset, 16u);
}

// A link message cut at every length, nlmsg_len telling the truth about the
// cut: it decodes exactly when the cut falls between an attribute's end and
// its padded end, and is a DecodeError everywhere else.
TEST_P(RtnetlinkTest, ConsistentlyTruncatedLinkAtEveryLength) {
  Bytes payload = ifinfomsg(order(), 2);
  std::vector<std::pair<size_t, size_t>> ends = {{16, 16}};  // [exact end, padded end] of each part
  auto add = [&](uint16_t type, const std::vector<uint8_t>& value) {
    size_t start = payload.size();
    payload.attr(type, value);
    ends.emplace_back(start + 4 + value.size(), payload.size());
  };
  add(kIflaIfname, {'e', 't', 'h', '0', 0});
  add(kIflaOperstate, {6});
  add(kIflaLinkinfo | kNested, nestedLinkinfo(order()));
  add(kIflaAddress, kMac);
  add(kIflaMtu, Bytes(order()).u32(1500).data());
  for (size_t n = 0; n <= payload.size(); ++n) {
    Bytes cut(order());
    cut.append(std::vector<uint8_t>(payload.data().begin(), payload.data().begin() + ptrdiff_t(n)));
    auto messages = decode(routeMessage(order(), kRtmNewLink, cut));
    ASSERT_EQ(messages.size(), 1u) << "cut at " << n;
    bool fits = false;
    for (auto [exact, padded] : ends) fits = fits || (n >= exact && n <= padded);
    EXPECT_EQ(std::holds_alternative<LinkEvent>(messages[0].body), fits) << "cut at " << n;
    EXPECT_EQ(std::holds_alternative<DecodeError>(messages[0].body), !fits) << "cut at " << n;
  }
}

TEST(RtnetlinkLayoutTest, BuilderMatchesThisMachinesHeaders) {
  static_assert(sizeof(struct ifinfomsg) == 16);
  static_assert(sizeof(struct ifaddrmsg) == 8);
  static_assert(sizeof(struct rtattr) == 4);
  static_assert(IFLA_IFNAME == kIflaIfname && IFLA_MTU == kIflaMtu && IFLA_OPERSTATE == kIflaOperstate);
  static_assert(IFLA_ADDRESS == kIflaAddress && IFLA_BROADCAST == kIflaBroadcast);
  static_assert(IFA_ADDRESS == kIfaAddress && IFA_LOCAL == kIfaLocal && IFA_LABEL == kIfaLabel &&
                IFA_BROADCAST == kIfaBroadcast);
  static_assert(RTM_NEWLINK == kRtmNewLink && RTM_DELLINK == kRtmDelLink && RTM_NEWADDR == kRtmNewAddr &&
                RTM_DELADDR == kRtmDelAddr);
  EXPECT_EQ(Bytes(ByteOrder::little).u8(0).u8(0).u16(1).s32(2).u32(3).u32(4).size(), sizeof(struct ifinfomsg));
}

}  // namespace
}  // namespace proctape::netlink
