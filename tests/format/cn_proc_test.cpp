// The proc connector decoder: every event type and field, both layouts of
// exit and coredump, wait-status decoding, unknown types, both byte orders,
// and frames that are short or lie about their lengths.
//
// Frames are built field by field from the kernel's struct definitions
// (connector.h, cn_proc.h), in the byte order under test; this machine's
// headers are used only to cross-check that builder.
#include <gtest/gtest.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>

#include <bit>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "proctape/format/netlink.h"
#include "support/netlink_bytes.h"

namespace proctape::netlink {
namespace {

using format::ByteOrder;

using Bytes = test::NetlinkBytes;

constexpr uint32_t kCpu = 3;
constexpr uint64_t kTimestamp = 0x0102030405060708;  // every byte differs: catches a half-swapped u64
constexpr uint32_t kSeq = 42;

struct CnFields {
  uint32_t idx = kCnIdxProc;
  uint32_t val = kCnValProc;
  uint32_t seq = kSeq;
  uint32_t ack = 0;
  uint16_t flags = 0;
};

// nlmsghdr (type NLMSG_DONE, as the connector sends) + cn_msg + `cnData`.
std::vector<uint8_t> connectorFrame(ByteOrder order, const std::vector<uint8_t>& cnData, CnFields cn = {}) {
  Bytes payload(order);
  payload.u32(cn.idx).u32(cn.val).u32(cn.seq).u32(cn.ack).u16(uint16_t(cnData.size())).u16(cn.flags).append(cnData);
  return test::nlmsg(order, kNlmsgDone, 0, kSeq, 0, payload.data());
}

// proc_event header (what, cpu, timestamp_ns) + event data.
std::vector<uint8_t> eventBytes(ByteOrder order, uint32_t what, const Bytes& data) {
  Bytes event(order);
  return event.u32(what).u32(kCpu).u64(kTimestamp).append(data.data()).data();
}

std::vector<uint8_t> procFrame(ByteOrder order, uint32_t what, const Bytes& data, CnFields cn = {}) {
  return connectorFrame(order, eventBytes(order, what, data), cn);
}

// decodeSingleProcEvent must give exactly decodeDatagram's answer for one
// proc event of a known type, and decline anything else touching nothing.
void expectSingleEventPathAgrees(ByteOrder order, const std::vector<uint8_t>& frame,
                                 const std::vector<Message>& messages) {
  const MessageHeader before{1, 2, 3, 4, 5};
  MessageHeader header = before;
  // One event reused for every frame of these tests, as EventStream reuses
  // its own: a field the single-event path fails to clear shows up here.
  static ProcEvent reused;
  const ProcEvent untouched = reused;
  bool taken = decodeSingleProcEvent(order, frame, header, reused);
  const auto* only = messages.size() == 1 ? std::get_if<ProcEvent>(&messages[0].body) : nullptr;
  if (only && only->type != ProcEventType::unknown) {
    ASSERT_TRUE(taken);
    EXPECT_TRUE(header == messages[0].header);
    EXPECT_TRUE(reused == *only);
  } else {
    EXPECT_FALSE(taken);
    EXPECT_TRUE(header == before);
    EXPECT_TRUE(reused == untouched);
  }
}

// Every frame of these tests also goes through the single-event path.
std::vector<Message> decodeFrame(ByteOrder order, const std::vector<uint8_t>& frame) {
  auto messages = decodeDatagram(kFamilyConnector, order, frame);
  expectSingleEventPathAgrees(order, frame, messages);
  return messages;
}

// The one ProcEvent a frame must hold; anything else fails the test.
ProcEvent decodeEvent(ByteOrder order, const std::vector<uint8_t>& frame) {
  auto messages = decodeFrame(order, frame);
  if (messages.size() != 1) throw std::runtime_error("expected 1 message, got " + std::to_string(messages.size()));
  if (auto* error = std::get_if<DecodeError>(&messages[0].body)) throw std::runtime_error("DecodeError: " + error->reason);
  return std::get<ProcEvent>(messages[0].body);
}

DecodeError decodeError(ByteOrder order, const std::vector<uint8_t>& frame) {
  auto messages = decodeFrame(order, frame);
  if (messages.size() != 1) throw std::runtime_error("expected 1 message, got " + std::to_string(messages.size()));
  return std::get<DecodeError>(messages[0].body);
}

// Every event test runs in both byte orders: a trace recorded on a
// big-endian machine decodes the same here.
class ProcEventTest : public ::testing::TestWithParam<ByteOrder> {
 protected:
  ByteOrder order() const { return GetParam(); }
  Bytes fields() const { return Bytes(order()); }
  ProcEvent decode(uint32_t what, const Bytes& data, CnFields cn = {}) const {
    return decodeEvent(order(), procFrame(order(), what, data, cn));
  }
};

INSTANTIATE_TEST_SUITE_P(ByteOrders, ProcEventTest, ::testing::Values(ByteOrder::little, ByteOrder::big),
                         [](const auto& param) { return param.param == ByteOrder::little ? "Little" : "Big"; });

void expectCommonHeader(const ProcEvent& event, uint32_t what, size_t dataSize) {
  EXPECT_EQ(event.what, what);
  EXPECT_EQ(event.cpu, kCpu);
  EXPECT_EQ(event.timestampNs, kTimestamp);
  EXPECT_EQ(event.cn.idx, kCnIdxProc);
  EXPECT_EQ(event.cn.val, kCnValProc);
  EXPECT_EQ(event.cn.seq, kSeq);
  EXPECT_EQ(event.cn.len, 16 + dataSize);
}

TEST_P(ProcEventTest, SubscribeAckCarriesErrAndAck) {
  auto event = decode(kProcEventNone, fields().u32(22), {.seq = 0, .ack = 1});
  EXPECT_EQ(event.type, ProcEventType::none);
  EXPECT_EQ(event.what, kProcEventNone);
  EXPECT_EQ(event.err, 22u);
  EXPECT_EQ(event.cn.ack, 1u);
  EXPECT_EQ(event.cn.seq, 0u);
  EXPECT_EQ(event.cn.len, 20u);
  EXPECT_EQ(event.processPid, 0);
}

TEST_P(ProcEventTest, ForkOfThreadKeepsChildPidAndTgidApart) {
  auto event = decode(kProcEventFork, fields().s32(100).s32(101).s32(205).s32(200));
  expectCommonHeader(event, kProcEventFork, 16);
  EXPECT_EQ(event.type, ProcEventType::fork);
  EXPECT_EQ(event.parentPid, 100);
  EXPECT_EQ(event.parentTgid, 101);
  EXPECT_EQ(event.childPid, 205);
  EXPECT_EQ(event.childTgid, 200);
  EXPECT_EQ(event.pid(), 205);
  EXPECT_EQ(event.tgid(), 200);
  EXPECT_EQ(event.processPid, 0);
}

TEST_P(ProcEventTest, ExecNamesTheProcess) {
  auto event = decode(kProcEventExec, fields().s32(1451730).s32(1451729));
  expectCommonHeader(event, kProcEventExec, 8);
  EXPECT_EQ(event.type, ProcEventType::exec);
  EXPECT_EQ(event.processPid, 1451730);
  EXPECT_EQ(event.processTgid, 1451729);
  EXPECT_EQ(event.pid(), 1451730);
  EXPECT_EQ(event.tgid(), 1451729);
}

TEST_P(ProcEventTest, UidChangeFillsRealAndEffectiveUidOnly) {
  auto event = decode(kProcEventUid, fields().s32(7).s32(8).u32(1000).u32(0));
  expectCommonHeader(event, kProcEventUid, 16);
  EXPECT_EQ(event.type, ProcEventType::uid);
  EXPECT_EQ(event.processPid, 7);
  EXPECT_EQ(event.processTgid, 8);
  EXPECT_EQ(event.ruid, 1000u);
  EXPECT_EQ(event.euid, 0u);
  EXPECT_EQ(event.rgid, 0u);
  EXPECT_EQ(event.egid, 0u);
}

TEST_P(ProcEventTest, GidChangeFillsRealAndEffectiveGidOnly) {
  auto event = decode(kProcEventGid, fields().s32(7).s32(8).u32(100).u32(4294967294u));
  expectCommonHeader(event, kProcEventGid, 16);
  EXPECT_EQ(event.type, ProcEventType::gid);
  EXPECT_EQ(event.processPid, 7);
  EXPECT_EQ(event.processTgid, 8);
  EXPECT_EQ(event.rgid, 100u);
  EXPECT_EQ(event.egid, 4294967294u);
  EXPECT_EQ(event.ruid, 0u);
  EXPECT_EQ(event.euid, 0u);
}

TEST_P(ProcEventTest, SetsidNamesTheProcess) {
  auto event = decode(kProcEventSid, fields().s32(31).s32(30));
  expectCommonHeader(event, kProcEventSid, 8);
  EXPECT_EQ(event.type, ProcEventType::sid);
  EXPECT_EQ(event.processPid, 31);
  EXPECT_EQ(event.processTgid, 30);
}

TEST_P(ProcEventTest, PtraceAttachNamesTracer) {
  auto event = decode(kProcEventPtrace, fields().s32(50).s32(51).s32(60).s32(61));
  expectCommonHeader(event, kProcEventPtrace, 16);
  EXPECT_EQ(event.type, ProcEventType::ptrace);
  EXPECT_EQ(event.processPid, 50);
  EXPECT_EQ(event.processTgid, 51);
  EXPECT_EQ(event.tracerPid, 60);
  EXPECT_EQ(event.tracerTgid, 61);
}

TEST_P(ProcEventTest, PtraceDetachHasZeroTracer) {
  auto event = decode(kProcEventPtrace, fields().s32(50).s32(51).s32(0).s32(0));
  EXPECT_EQ(event.processPid, 50);
  EXPECT_EQ(event.tracerPid, 0);
  EXPECT_EQ(event.tracerTgid, 0);
}

TEST_P(ProcEventTest, CommStopsAtFirstNul) {
  auto event = decode(kProcEventComm, fields().s32(9).s32(10).text(std::string("cc1plus\0garbage!", 16)));
  expectCommonHeader(event, kProcEventComm, 24);
  EXPECT_EQ(event.type, ProcEventType::comm);
  EXPECT_EQ(event.processPid, 9);
  EXPECT_EQ(event.processTgid, 10);
  EXPECT_EQ(event.comm, "cc1plus");
}

TEST_P(ProcEventTest, CommWithoutNulIsBoundedBySixteenBytes) {
  // Bytes after comm[16] must not leak into the name even when no NUL ends it.
  auto event = decode(kProcEventComm, fields().s32(9).s32(10).text("0123456789abcdefXYZ!"));
  EXPECT_EQ(event.comm, "0123456789abcdef");
}

TEST_P(ProcEventTest, CoredumpOfOldKernelHasNoParent) {
  auto event = decode(kProcEventCoredump, fields().s32(70).s32(71));
  expectCommonHeader(event, kProcEventCoredump, 8);
  EXPECT_EQ(event.type, ProcEventType::coredump);
  EXPECT_EQ(event.processPid, 70);
  EXPECT_EQ(event.processTgid, 71);
  EXPECT_FALSE(event.hasParent);
  EXPECT_EQ(event.parentPid, 0);
  EXPECT_EQ(event.parentTgid, 0);
}

TEST_P(ProcEventTest, CoredumpOfNewKernelNamesParent) {
  auto event = decode(kProcEventCoredump, fields().s32(70).s32(71).s32(1).s32(2));
  expectCommonHeader(event, kProcEventCoredump, 16);
  EXPECT_EQ(event.processPid, 70);
  EXPECT_EQ(event.processTgid, 71);
  EXPECT_TRUE(event.hasParent);
  EXPECT_EQ(event.parentPid, 1);
  EXPECT_EQ(event.parentTgid, 2);
}

TEST_P(ProcEventTest, ExitOfOldKernelHasNoParent) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(81).u32(0).u32(17));
  expectCommonHeader(event, kProcEventExit, 16);
  EXPECT_EQ(event.type, ProcEventType::exit);
  EXPECT_EQ(event.processPid, 80);
  EXPECT_EQ(event.processTgid, 81);
  EXPECT_EQ(event.exitCode, 0u);
  EXPECT_EQ(event.exitSignal, 17u);
  EXPECT_FALSE(event.hasParent);
  EXPECT_EQ(event.parentPid, 0);
}

TEST_P(ProcEventTest, ExitOfNewKernelNamesParent) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(81).u32(0x300).u32(17).s32(79).s32(78));
  expectCommonHeader(event, kProcEventExit, 24);
  EXPECT_EQ(event.processPid, 80);
  EXPECT_EQ(event.processTgid, 81);
  EXPECT_EQ(event.exitCode, 0x300u);
  EXPECT_EQ(event.exitSignal, 17u);
  EXPECT_TRUE(event.hasParent);
  EXPECT_EQ(event.parentPid, 79);
  EXPECT_EQ(event.parentTgid, 78);
}

TEST_P(ProcEventTest, ExitedNormallyWithStatus3) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(80).u32(3 << 8).u32(17).s32(1).s32(1));
  EXPECT_EQ(event.status(), 3);
  EXPECT_EQ(event.termSignal(), std::nullopt);
  EXPECT_FALSE(event.coreDumped());
}

TEST_P(ProcEventTest, ExitedNormallyWithStatus0) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(80).u32(0).u32(17).s32(1).s32(1));
  EXPECT_EQ(event.status(), 0);
  EXPECT_EQ(event.termSignal(), std::nullopt);
}

TEST_P(ProcEventTest, KilledBySigkill) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(80).u32(9).u32(17).s32(1).s32(1));
  EXPECT_EQ(event.status(), std::nullopt);
  EXPECT_EQ(event.termSignal(), 9);
  EXPECT_FALSE(event.coreDumped());
}

TEST_P(ProcEventTest, SegfaultWithCoreDumpKeepsExitSignalRaw) {
  auto event = decode(kProcEventExit, fields().s32(80).s32(80).u32(11 | 0x80).u32(17).s32(1).s32(1));
  EXPECT_EQ(event.status(), std::nullopt);
  EXPECT_EQ(event.termSignal(), 11);
  EXPECT_TRUE(event.coreDumped());
  // exit_signal is what the parent is sent (SIGCHLD), not what killed the process.
  EXPECT_EQ(event.exitSignal, 17u);
}

TEST_P(ProcEventTest, ThreadExitKeepsMinusOneExitSignal) {
  auto event = decode(kProcEventExit, fields().s32(81).s32(80).u32(0).s32(-1).s32(1).s32(1));
  EXPECT_EQ(event.exitSignal, 0xffffffffu);
  EXPECT_EQ(event.pid(), 81);
  EXPECT_EQ(event.tgid(), 80);
  EXPECT_EQ(event.status(), 0);
}

TEST_P(ProcEventTest, WaitStatusHelpersAnswerOnlyForExit) {
  // A fork's zero exitCode is not "exited with status 0".
  auto event = decode(kProcEventFork, fields().s32(1).s32(1).s32(2).s32(2));
  EXPECT_EQ(event.status(), std::nullopt);
  EXPECT_EQ(event.termSignal(), std::nullopt);
  EXPECT_FALSE(event.coreDumped());
}

TEST_P(ProcEventTest, KernelSizedUnionLeavesShortTypesIntact) {
  // Current kernels always send the whole 24-byte union; the bytes past a
  // type's fields are zero and must not change the decoding.
  auto event = decode(kProcEventExec, fields().s32(5).s32(6).u32(0).u32(0).u32(0).u32(0));
  EXPECT_EQ(event.type, ProcEventType::exec);
  EXPECT_EQ(event.processPid, 5);
  EXPECT_EQ(event.processTgid, 6);
  EXPECT_EQ(event.cn.len, 40u);
}

TEST_P(ProcEventTest, UnknownWhatKeepsRawDataBytes) {
  Bytes data = fields();
  for (uint8_t i = 1; i <= 12; ++i) data.u8(i);
  auto event = decode(0x00001000, data);
  EXPECT_EQ(event.type, ProcEventType::unknown);
  EXPECT_EQ(event.what, 0x00001000u);
  EXPECT_EQ(event.cpu, kCpu);
  EXPECT_EQ(event.timestampNs, kTimestamp);
  EXPECT_EQ(event.raw, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(event.pid(), 0);
}

TEST_P(ProcEventTest, NonzeroExitFilterBitIsNotAnEventType) {
  auto event = decode(kProcEventNonzeroExit, fields().u32(1));
  EXPECT_EQ(event.type, ProcEventType::unknown);
  EXPECT_EQ(event.raw.size(), 4u);
}

TEST_P(ProcEventTest, UnknownWhatWithNoDataHasEmptyRaw) {
  auto event = decode(0x00000800, fields());
  EXPECT_EQ(event.type, ProcEventType::unknown);
  EXPECT_TRUE(event.raw.empty());
}

TEST_P(ProcEventTest, CnLenBoundsTheEventNotTheMessage) {
  // A cn_msg.len of 16 + 16 over 24 bytes of union: the exit is decoded by
  // cn_msg.len, so the trailing 8 bytes are not parent fields.
  auto event = eventBytes(order(), kProcEventExit, fields().s32(80).s32(81).u32(0).u32(17).s32(79).s32(78));
  auto frame = connectorFrame(order(), event);
  Bytes len(order());
  len.u16(32);
  std::memcpy(frame.data() + 16 + 16, len.data().data(), 2);
  auto decoded = decodeEvent(order(), frame);
  EXPECT_EQ(decoded.type, ProcEventType::exit);
  EXPECT_FALSE(decoded.hasParent);
  EXPECT_EQ(decoded.cn.len, 32u);
}

TEST_P(ProcEventTest, LyingCnLenIsAnError) {
  auto frame = procFrame(order(), kProcEventExec, fields().s32(5).s32(6));
  Bytes len(order());
  len.u16(200);
  std::memcpy(frame.data() + 32, len.data().data(), 2);
  auto messages = decodeFrame(order(), frame);
  ASSERT_EQ(messages.size(), 1u);
  auto* error = std::get_if<DecodeError>(&messages[0].body);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->reason.find("cn_msg.len 200"), std::string::npos) << error->reason;
  EXPECT_EQ(error->offset, 32u);  // the len field itself
  EXPECT_EQ(error->raw, std::vector<uint8_t>(frame.begin() + 32, frame.end()));
  EXPECT_EQ(messages[0].header.length, frame.size());  // the header was sound and is kept
}

TEST_P(ProcEventTest, TooShortForTypeFieldsIsAnError) {
  // An exit with 12 bytes of data cannot hold exit_code and exit_signal.
  auto frame = procFrame(order(), kProcEventExit, fields().s32(80).s32(81).u32(0));
  auto error = decodeError(order(), frame);
  EXPECT_EQ(error.offset, 52u);  // where the event data starts
  EXPECT_NE(error.reason.find("exit"), std::string::npos) << error.reason;
  EXPECT_EQ(error.raw.size(), 12u);
}

TEST_P(ProcEventTest, CommWithoutFullNameIsAnError) {
  auto error = decodeError(order(), procFrame(order(), kProcEventComm, fields().s32(9).s32(10).text("short")));
  EXPECT_NE(error.reason.find("comm"), std::string::npos) << error.reason;
}

TEST_P(ProcEventTest, ShortProcEventHeaderIsAnError) {
  Bytes partial = fields();
  partial.u32(kProcEventExit).u32(0);  // what and cpu, no timestamp
  auto error = decodeError(order(), connectorFrame(order(), partial.data()));
  EXPECT_EQ(error.offset, 36u);
  EXPECT_EQ(error.raw.size(), 8u);
}

// An exit frame (76 bytes) cut at every length, nlmsg_len and cn_msg.len
// left as they were: every prefix but the empty one is one DecodeError.
TEST_P(ProcEventTest, TruncatedFrameAtEveryLengthIsAnError) {
  auto frame = procFrame(order(), kProcEventExit, fields().s32(80).s32(81).u32(0).u32(17).s32(79).s32(78));
  ASSERT_EQ(frame.size(), 76u);
  for (size_t n = 0; n < frame.size(); ++n) {
    std::vector<uint8_t> cut(frame.begin(), frame.begin() + ptrdiff_t(n));  // exact size: ASan sees any overread
    auto messages = decodeFrame(order(), cut);
    if (n == 0) {
      EXPECT_TRUE(messages.empty());
      continue;
    }
    ASSERT_EQ(messages.size(), 1u) << "cut at " << n;
    EXPECT_TRUE(std::holds_alternative<DecodeError>(messages[0].body)) << "cut at " << n;
  }
}

// The same frame cut at every length with nlmsg_len and cn_msg.len telling
// the truth about the cut: each layer must notice it is short on its own.
TEST_P(ProcEventTest, ConsistentlyShortFrameAtEveryLength) {
  auto event = eventBytes(order(), kProcEventExit, fields().s32(80).s32(81).u32(0).u32(17).s32(79).s32(78));
  for (size_t n = 16; n <= 76; ++n) {
    std::vector<uint8_t> cut;
    if (n >= 36) {
      cut = connectorFrame(order(), std::vector<uint8_t>(event.begin(), event.begin() + ptrdiff_t(n - 36)));
    } else {
      cut = connectorFrame(order(), {});
      cut.resize(n);
      Bytes len(order());
      len.u32(uint32_t(n));
      std::memcpy(cut.data(), len.data().data(), 4);
    }
    auto messages = decodeFrame(order(), cut);
    ASSERT_EQ(messages.size(), 1u) << "cut at " << n;
    const auto& body = messages[0].body;
    if (n == 16) {  // an empty NLMSG_DONE: the control message, not a cn_msg
      ASSERT_TRUE(std::holds_alternative<Control>(body));
      EXPECT_EQ(std::get<Control>(body).type, ControlType::done);
    } else if (n < 36 + 16 + 16) {  // no cn_msg, no event header, or no exit fields
      EXPECT_TRUE(std::holds_alternative<DecodeError>(body)) << "cut at " << n;
    } else {
      ASSERT_TRUE(std::holds_alternative<ProcEvent>(body)) << "cut at " << n;
      EXPECT_EQ(std::get<ProcEvent>(body).hasParent, n >= 76) << "cut at " << n;
    }
  }
}

TEST_P(ProcEventTest, OtherConnectorIdIsOtherMessage) {
  auto frame = connectorFrame(order(), {9, 8, 7, 6}, {.idx = 4, .val = 1});
  auto messages = decodeFrame(order(), frame);
  ASSERT_EQ(messages.size(), 1u);
  auto* other = std::get_if<OtherMessage>(&messages[0].body);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->payload, std::vector<uint8_t>(frame.begin() + 16, frame.end()));
}

TEST_P(ProcEventTest, ProcIdxWithOtherValIsOtherMessage) {
  auto frame = connectorFrame(order(), eventBytes(order(), kProcEventExec, fields().s32(1).s32(1)),
                              {.idx = kCnIdxProc, .val = 2});
  auto messages = decodeFrame(order(), frame);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<OtherMessage>(messages[0].body));
}

TEST_P(ProcEventTest, DonePayloadTooShortForCnMsgIsAnError) {
  Bytes frame(order());
  frame.u32(26).u16(kNlmsgDone).u16(0).u32(0).u32(0).u32(1).u32(1).u16(0).pad4();
  auto error = decodeError(order(), frame.data());
  EXPECT_EQ(error.offset, 16u);
  EXPECT_NE(error.reason.find("cn_msg"), std::string::npos) << error.reason;
}

TEST_P(ProcEventTest, TwoEventsInOneDatagramTakeTheFullWalk) {
  auto exec = procFrame(order(), kProcEventExec, Bytes(order()).s32(7).s32(7));
  auto twice = exec;
  twice.insert(twice.end(), exec.begin(), exec.end());
  ASSERT_EQ(decodeFrame(order(), twice).size(), 2u);  // and the single-event path declined it
}

TEST(ProcEventTypeTest, NamesEveryType) {
  EXPECT_STREQ(toString(ProcEventType::none), "none");
  EXPECT_STREQ(toString(ProcEventType::fork), "fork");
  EXPECT_STREQ(toString(ProcEventType::exec), "exec");
  EXPECT_STREQ(toString(ProcEventType::uid), "uid");
  EXPECT_STREQ(toString(ProcEventType::gid), "gid");
  EXPECT_STREQ(toString(ProcEventType::sid), "sid");
  EXPECT_STREQ(toString(ProcEventType::ptrace), "ptrace");
  EXPECT_STREQ(toString(ProcEventType::comm), "comm");
  EXPECT_STREQ(toString(ProcEventType::coredump), "coredump");
  EXPECT_STREQ(toString(ProcEventType::exit), "exit");
  EXPECT_STREQ(toString(ProcEventType::unknown), "unknown");
}

// The builder above follows the kernel's struct definitions; this machine's
// headers must agree, or the tests would prove nothing.
TEST(KernelLayoutTest, BuilderMatchesThisMachinesHeaders) {
  static_assert(sizeof(struct cn_msg) == 20);
  static_assert(sizeof(struct proc_event) == 40);
  static_assert(offsetof(struct proc_event, timestamp_ns) == 8);
  static_assert(offsetof(struct proc_event, event_data) == 16);

  struct proc_event host {};
  host.what = proc_event::PROC_EVENT_EXIT;
  host.cpu = kCpu;
  host.timestamp_ns = kTimestamp;
  host.event_data.exit.process_pid = 80;
  host.event_data.exit.process_tgid = 81;
  host.event_data.exit.exit_code = 11 | 0x80;
  host.event_data.exit.exit_signal = 17;
  host.event_data.exit.parent_pid = 79;
  host.event_data.exit.parent_tgid = 78;
  std::vector<uint8_t> hostBytes(sizeof host);
  std::memcpy(hostBytes.data(), &host, sizeof host);

  constexpr auto native = std::endian::native == std::endian::big ? ByteOrder::big : ByteOrder::little;
  Bytes built(native);
  built.u32(80).u32(81).u32(11 | 0x80).u32(17).u32(79).u32(78);
  EXPECT_EQ(eventBytes(native, kProcEventExit, built), hostBytes);
  auto event = decodeEvent(native, connectorFrame(native, hostBytes));
  EXPECT_EQ(event.termSignal(), 11);
  EXPECT_EQ(event.parentTgid, 78);
}

}  // namespace
}  // namespace proctape::netlink
