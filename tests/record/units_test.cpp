// Sizes, durations and event lists as the recorder's options take them.
#include <gtest/gtest.h>

#include <cstring>

#include "proctape/format/netlink.h"
#include "proctape/record/proc_connector.h"
#include "proctape/record/units.h"
#include "report.h"
#include "shared.h"

namespace proctape::record {
namespace {

TEST(ParseSize, PlainNumbersAndBinaryUnits) {
  EXPECT_EQ(parseSize("65536").value(), 65536u);
  EXPECT_EQ(parseSize("64K").value(), 65536u);
  EXPECT_EQ(parseSize("64KiB").value(), 65536u);
  EXPECT_EQ(parseSize("100m").value(), 100u << 20);
  EXPECT_EQ(parseSize("1.5G").value(), 3u << 29);
}

TEST(ParseSize, RejectsGarbageWithTheText) {
  auto bad = parseSize("lots");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("lots"), std::string::npos);
  EXPECT_FALSE(parseSize("10Q"));
  EXPECT_FALSE(parseSize("-5M"));
  EXPECT_FALSE(parseSize("1e30"));
}

TEST(ParseDuration, UnitsAndBareSeconds) {
  EXPECT_EQ(parseDuration("10").value(), 10'000'000'000);
  EXPECT_EQ(parseDuration("250ms").value(), 250'000'000);
  EXPECT_EQ(parseDuration("1.5s").value(), 1'500'000'000);
  EXPECT_EQ(parseDuration("5m").value(), 300'000'000'000);
  EXPECT_EQ(parseDuration("2h").value(), 7'200'000'000'000);
  EXPECT_FALSE(parseDuration("soon"));
  EXPECT_FALSE(parseDuration("3 weeks"));
}

TEST(FormatBytes, PicksAReadableUnit) {
  EXPECT_EQ(formatBytes(830), "830 B");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(64u << 20), "64.0 MiB");
}

TEST(ParseEventMask, NamesMapToKernelBits) {
  EXPECT_EQ(parseEventMask("fork,exec,exit").value(),
            netlink::kProcEventFork | netlink::kProcEventExec | netlink::kProcEventExit);
  EXPECT_EQ(parseEventMask("all").value(), kAllProcEvents);
  EXPECT_EQ(parseEventMask("nonzero-exit").value(), netlink::kProcEventNonzeroExit);
  auto bad = parseEventMask("fork,spawn");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("spawn"), std::string::npos);
  EXPECT_FALSE(parseEventMask(","));
}

TEST(KernelHasProcInput, FromSixSixOn) {
  EXPECT_FALSE(kernelHasProcInput("5.15.0-91-generic"));
  EXPECT_FALSE(kernelHasProcInput("6.5.13"));
  EXPECT_TRUE(kernelHasProcInput("6.6.0"));
  EXPECT_TRUE(kernelHasProcInput("6.18.44-fc-v669"));
  EXPECT_TRUE(kernelHasProcInput("7.0"));
  EXPECT_FALSE(kernelHasProcInput("garbage"));
}

TEST(BuildMcastMessage, ClassicAndProcInputLayouts) {
  auto classic = buildMcastMessage(McastOp::listen, false, 0, 1234, 7, 9);
  ASSERT_EQ(classic.size(), 16u + 20u + 4u);
  auto decoded = netlink::decodeDatagram(netlink::kFamilyConnector, format::ByteOrder::little, classic);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].header.length, classic.size());
  EXPECT_EQ(decoded[0].header.portId, 1234u);
  uint32_t op = 0;
  std::memcpy(&op, classic.data() + 36, 4);
  EXPECT_EQ(op, 1u);

  auto input = buildMcastMessage(McastOp::ignore, true, netlink::kProcEventExec, 1234, 8, 10);
  ASSERT_EQ(input.size(), 16u + 20u + 8u);
  uint32_t fields[2];
  std::memcpy(fields, input.data() + 36, 8);
  EXPECT_EQ(fields[0], 2u);
  EXPECT_EQ(fields[1], netlink::kProcEventExec);
  uint16_t cnLength = 0;
  std::memcpy(&cnLength, input.data() + 16 + 16, 2);
  EXPECT_EQ(cnLength, 8u);
}

// A flight recorder's ring holds only its newest segments: what --keep
// deleted is no longer on disk, though it was written.
TEST(StatusLine, OnDiskLeavesOutThePrunedSegments) {
  SharedStats stats;
  stats.events = 1234;
  stats.fileBytes = 40960;
  stats.prunedBytes = 36864;
  stats.rawBytes = 409600;
  std::string line = statusLine(stats, 3'000'000'000, 400);
  EXPECT_NE(line.find("4.0 KiB on disk"), std::string::npos) << line;
  EXPECT_NE(line.find("ratio 10.0x"), std::string::npos) << line;  // of everything written
  EXPECT_NE(line.find("1,234 events"), std::string::npos) << line;
}

}  // namespace
}  // namespace proctape::record
