// The netlink message walk: several messages per datagram, alignment,
// multipart dumps, control and error messages, and lengths that lie.
//
// Datagrams are built field by field from the kernel's struct nlmsghdr
// (len u32, type u16, flags u16, seq u32, pid u32), in the byte order under test.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "proctape/format/netlink.h"
#include "support/netlink_bytes.h"

namespace proctape::netlink {
namespace {

using format::ByteOrder;

using Bytes = test::NetlinkBytes;

struct Header {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t portId = 0;
};

// One message: nlmsghdr with nlmsg_len = 16 + payload, then the payload,
// padded to 4 bytes unless `pad` is false.
std::vector<uint8_t> message(ByteOrder order, Header h, const std::vector<uint8_t>& payload, bool pad = true) {
  return test::nlmsg(order, h.type, h.flags, h.seq, h.portId, payload, pad);
}

using test::concat;

// A minimal exec event from the proc connector: cn_msg + proc_event.
std::vector<uint8_t> execPayload(ByteOrder order, int32_t pid) {
  Bytes bytes(order);
  bytes.u32(kCnIdxProc).u32(kCnValProc).u32(0).u32(0).u16(24).u16(0);
  bytes.u32(kProcEventExec).u32(0).u32(0).u32(0).s32(pid).s32(pid);
  return bytes.data();
}

// RTM_NEWLINK: ifinfomsg with only an ifindex, no attributes.
std::vector<uint8_t> linkPayload(ByteOrder order, int32_t ifindex) {
  Bytes bytes(order);
  return bytes.u8(0).u8(0).u16(1).s32(ifindex).u32(0).u32(0).data();
}

std::vector<uint8_t> intPayload(ByteOrder order, int32_t value) { return Bytes(order).s32(value).data(); }

class WalkTest : public ::testing::TestWithParam<ByteOrder> {
 protected:
  ByteOrder order() const { return GetParam(); }
  std::vector<Message> decode(uint32_t family, const std::vector<uint8_t>& datagram) const {
    return decodeDatagram(family, order(), datagram);
  }
};

INSTANTIATE_TEST_SUITE_P(ByteOrders, WalkTest, ::testing::Values(ByteOrder::little, ByteOrder::big),
                         [](const auto& param) { return param.param == ByteOrder::little ? "Little" : "Big"; });

TEST_P(WalkTest, EmptyDatagramHasNoMessages) { EXPECT_TRUE(decode(kFamilyConnector, {}).empty()); }

TEST_P(WalkTest, HeaderFieldsAreKept) {
  auto datagram = message(order(), {kRtmNewLink, 0x0102, 0xa0b0c0d0, 0}, linkPayload(order(), 1));
  auto messages = decode(kFamilyRoute, datagram);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].header.length, 32u);
  EXPECT_EQ(messages[0].header.type, kRtmNewLink);
  EXPECT_EQ(messages[0].header.flags, 0x0102);
  EXPECT_EQ(messages[0].header.seq, 0xa0b0c0d0u);
  EXPECT_EQ(messages[0].header.portId, 0u);
}

TEST_P(WalkTest, SenderPortIdIsReported) {
  auto messages = decode(kFamilyConnector, message(order(), {kNlmsgDone, 0, 0, 4242}, execPayload(order(), 7)));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].header.portId, 4242u);
}

TEST_P(WalkTest, SeveralConnectorMessagesInOneDatagram) {
  auto datagram = concat({message(order(), {kNlmsgDone}, execPayload(order(), 10)),
                        message(order(), {kNlmsgDone}, execPayload(order(), 11)),
                        message(order(), {kNlmsgDone}, execPayload(order(), 12))});
  auto messages = decode(kFamilyConnector, datagram);
  ASSERT_EQ(messages.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    auto* event = std::get_if<ProcEvent>(&messages[size_t(i)].body);
    ASSERT_NE(event, nullptr) << i;
    EXPECT_EQ(event->type, ProcEventType::exec);
    EXPECT_EQ(event->processPid, 10 + i);
  }
}

TEST_P(WalkTest, UnalignedLengthIsFollowedByPadding) {
  // A 5-byte payload: nlmsg_len 21, then 3 bytes of padding before the next message.
  auto datagram = concat({message(order(), {0x20}, {1, 2, 3, 4, 5}), message(order(), {kNlmsgNoop}, {})});
  ASSERT_EQ(datagram.size(), 24u + 16u);
  auto messages = decode(kFamilyConnector, datagram);
  ASSERT_EQ(messages.size(), 2u);
  auto* other = std::get_if<OtherMessage>(&messages[0].body);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->payload, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(std::holds_alternative<Control>(messages[1].body));
}

TEST_P(WalkTest, LastMessageMayLackItsPadding) {
  auto messages = decode(kFamilyConnector, message(order(), {0x20}, {1, 2, 3, 4, 5}, false));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<OtherMessage>(messages[0].body));
}

TEST_P(WalkTest, RouteDumpIsMultipartAndEndsWithDone) {
  uint16_t multi = kNlmFMulti;
  auto datagram = concat({message(order(), {kRtmNewLink, multi, 9}, linkPayload(order(), 1)),
                        message(order(), {kRtmNewLink, multi, 9}, linkPayload(order(), 2)),
                        message(order(), {kNlmsgDone, multi, 9}, intPayload(order(), 0))});
  auto messages = decode(kFamilyRoute, datagram);
  ASSERT_EQ(messages.size(), 3u);
  for (const auto& m : messages) {
    EXPECT_EQ(m.header.flags & kNlmFMulti, kNlmFMulti);
    EXPECT_EQ(m.header.seq, 9u);
  }
  EXPECT_EQ(std::get<LinkEvent>(messages[0].body).ifindex, 1);
  EXPECT_EQ(std::get<LinkEvent>(messages[1].body).ifindex, 2);
  ASSERT_TRUE(std::holds_alternative<Control>(messages[2].body));
  EXPECT_EQ(std::get<Control>(messages[2].body).type, ControlType::done);
}

TEST_P(WalkTest, ConnectorDoneWithEmptyPayloadIsControl) {
  auto messages = decode(kFamilyConnector, message(order(), {kNlmsgDone}, {}));
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Control>(messages[0].body));
  EXPECT_EQ(std::get<Control>(messages[0].body).type, ControlType::done);
}

TEST_P(WalkTest, RouteDoneIsNeverReadAsCnMsg) {
  // The same bytes as a cn_proc frame mean end-of-dump on NETLINK_ROUTE.
  auto messages = decode(kFamilyRoute, message(order(), {kNlmsgDone}, execPayload(order(), 7)));
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Control>(messages[0].body));
}

TEST_P(WalkTest, ErrorCarriesErrnoAndOriginalHeader) {
  Bytes payload(order());
  payload.s32(-19).u32(36).u16(kRtmNewLink).u16(0x0301).u32(77).u32(1234);  // -ENODEV for a request
  auto messages = decode(kFamilyRoute, message(order(), {kNlmsgError}, payload.data()));
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<NetlinkError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->error, -19);
  ASSERT_TRUE(error->original.has_value());
  EXPECT_EQ(error->original->length, 36u);
  EXPECT_EQ(error->original->type, kRtmNewLink);
  EXPECT_EQ(error->original->flags, 0x0301);
  EXPECT_EQ(error->original->seq, 77u);
  EXPECT_EQ(error->original->portId, 1234u);
}

TEST_P(WalkTest, AckIsErrorZero) {
  Bytes payload(order());
  payload.s32(0).u32(40).u16(3).u16(5).u32(1).u32(99);
  auto messages = decode(kFamilyConnector, message(order(), {kNlmsgError}, payload.data()));
  ASSERT_EQ(messages.size(), 1u);
  auto* ack = std::get_if<NetlinkError>(&messages[0].body);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->error, 0);
  ASSERT_TRUE(ack->original.has_value());
  EXPECT_EQ(ack->original->seq, 1u);
}

TEST_P(WalkTest, ErrorWithoutOriginalHeader) {
  auto messages = decode(kFamilyRoute, message(order(), {kNlmsgError}, intPayload(order(), -1)));
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<NetlinkError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->error, -1);
  EXPECT_FALSE(error->original.has_value());
}

TEST_P(WalkTest, ErrorTooShortForErrnoIsDecodeError) {
  auto messages = decode(kFamilyRoute, message(order(), {kNlmsgError}, {0xff, 0xff}));
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<DecodeError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->offset, 16u);
}

TEST_P(WalkTest, NoopAndOverrunOnBothFamilies) {
  for (uint32_t family : {kFamilyRoute, kFamilyConnector}) {
    auto datagram = concat({message(order(), {kNlmsgNoop}, {}), message(order(), {kNlmsgOverrun}, {})});
    auto messages = decode(family, datagram);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(std::get<Control>(messages[0].body).type, ControlType::noop);
    EXPECT_EQ(std::get<Control>(messages[1].body).type, ControlType::overrun);
  }
}

TEST_P(WalkTest, OtherFamilyIsOtherMessage) {
  auto messages = decode(16, message(order(), {0x1c}, {1, 2, 3, 4}));  // a generic netlink reply
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(std::get<OtherMessage>(messages[0].body).payload, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_P(WalkTest, LengthPastDatagramIsDecodeErrorWithHeaderKept) {
  auto datagram = message(order(), {kNlmsgDone}, execPayload(order(), 7));
  datagram.resize(50);  // nlmsg_len still says 60
  auto messages = decode(kFamilyConnector, datagram);
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<DecodeError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->offset, 0u);
  EXPECT_EQ(error->raw, datagram);
  EXPECT_NE(error->reason.find("nlmsg_len 60"), std::string::npos) << error->reason;
  EXPECT_EQ(messages[0].header.length, 60u);
}

TEST_P(WalkTest, LengthShorterThanHeaderIsDecodeError) {
  for (uint32_t lie : {0u, 1u, 15u}) {
    auto datagram = message(order(), {kNlmsgNoop}, {});
    auto lying = Bytes(order()).u32(lie).data();
    std::memcpy(datagram.data(), lying.data(), 4);
    auto messages = decode(kFamilyRoute, datagram);  // must not loop on a zero length
    ASSERT_EQ(messages.size(), 1u) << lie;
    EXPECT_TRUE(std::holds_alternative<DecodeError>(messages[0].body)) << lie;
  }
}

TEST_P(WalkTest, BadSecondMessageStopsTheWalkAfterTheFirst) {
  auto second = message(order(), {kNlmsgNoop}, {});
  second[order() == ByteOrder::little ? 0 : 3] = 200;  // nlmsg_len 200
  auto datagram = concat({message(order(), {kNlmsgDone}, execPayload(order(), 7)), second,
                        message(order(), {kNlmsgNoop}, {})});
  auto messages = decode(kFamilyConnector, datagram);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ProcEvent>(messages[0].body));
  auto* error = std::get_if<DecodeError>(&messages[1].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->offset, 60u);
  EXPECT_EQ(error->raw.size(), datagram.size() - 60);
}

TEST_P(WalkTest, TrailingBytesTooFewForHeaderAreDecodeError) {
  auto datagram = concat({message(order(), {kNlmsgNoop}, {}), {0, 0, 0, 0, 0, 0, 0, 0}});
  auto messages = decode(kFamilyRoute, datagram);
  ASSERT_EQ(messages.size(), 2u);
  auto* error = std::get_if<DecodeError>(&messages[1].body);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->offset, 16u);
  EXPECT_EQ(error->raw.size(), 8u);
  EXPECT_EQ(messages[1].header.length, 0u);  // no header could be read
}

// A mixed datagram cut at every length, in both families: never a crash or
// an overread (the cut is an exact-size allocation, so ASan would see one),
// and the messages before the cut still decode.
TEST_P(WalkTest, TruncatedDatagramAtEveryLength) {
  auto datagram = concat({message(order(), {kNlmsgDone}, execPayload(order(), 7)),
                        message(order(), {kRtmNewLink}, linkPayload(order(), 3)),
                        message(order(), {kNlmsgError}, intPayload(order(), -1)),
                        message(order(), {kNlmsgDone}, {})});
  for (uint32_t family : {kFamilyRoute, kFamilyConnector, 16u}) {
    for (size_t n = 0; n <= datagram.size(); ++n) {
      std::vector<uint8_t> cut(datagram.begin(), datagram.begin() + ptrdiff_t(n));
      auto messages = decode(family, cut);
      bool whole = n == 0 || n == 60 || n == 92 || n == 112 || n == 128;
      ASSERT_FALSE(messages.empty() && n != 0) << family << " cut at " << n;
      if (n == 0) continue;
      EXPECT_EQ(std::holds_alternative<DecodeError>(messages.back().body), !whole) << family << " cut at " << n;
    }
  }
}

}  // namespace
}  // namespace proctape::netlink
