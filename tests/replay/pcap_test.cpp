// pcap export: the file header, the packet records and the cooked header
// byte by byte, and tshark reading the file back.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "replay_support.h"

namespace proctape::test {
namespace {

uint32_t le32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
         uint32_t(uint8_t(b[at + 3])) << 24;
}
uint16_t le16(const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8); }
uint16_t be16(const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) << 8 | uint8_t(b[at + 1])); }

std::string pcapOf(const std::string& path, replay::FilterOptions filter = {}) {
  auto o = options(replay::Format::pcap);
  o.filter = filter;
  return render(path, o);
}

TEST(Pcap, FileHeaderIsNanosecondPcapOfLinktypeNetlink) {
  TraceBuilder trace;
  auto bytes = pcapOf(trace.close());
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_EQ(le32(bytes, 0), 0xa1b23c4du);
  EXPECT_EQ(le16(bytes, 4), 2);
  EXPECT_EQ(le16(bytes, 6), 4);
  EXPECT_EQ(le32(bytes, 8), 0u);
  EXPECT_EQ(le32(bytes, 12), 0u);
  EXPECT_EQ(le32(bytes, 16), 262144u);
  EXPECT_EQ(le32(bytes, 20), 253u);
}

TEST(Pcap, EachFrameIsOnePacketBehindTheCookedHeader) {
  auto fork = frames::fork(1, 1, 2, 2);
  auto dump = frames::concat({frames::link(), frames::addr(), frames::done()});
  TraceBuilder trace;
  trace.proc(1 * kSec + 123456789, fork).route(2 * kSec, dump).gap(3 * kSec, {0, 1, format::GapReason::other, ""});
  auto bytes = pcapOf(trace.close());
  size_t at = 24;
  auto expectPacket = [&](int64_t wallNs, uint16_t family, const frames::Bytes& frame) {
    ASSERT_GE(bytes.size(), at + 16 + 16 + frame.size());
    EXPECT_EQ(le32(bytes, at), uint32_t(wallNs / kSec));
    EXPECT_EQ(le32(bytes, at + 4), uint32_t(wallNs % kSec));
    EXPECT_EQ(le32(bytes, at + 8), 16 + frame.size());
    EXPECT_EQ(le32(bytes, at + 12), 16 + frame.size());
    at += 16;
    EXPECT_EQ(be16(bytes, at), 0);        // packet type
    EXPECT_EQ(be16(bytes, at + 2), 824);  // ARPHRD_NETLINK
    EXPECT_EQ(be16(bytes, at + 4), 0);    // address length
    EXPECT_EQ(bytes.substr(at + 6, 8), std::string(8, '\0'));
    EXPECT_EQ(be16(bytes, at + 14), family);
    at += 16;
    EXPECT_EQ(bytes.substr(at, frame.size()), std::string(frame.begin(), frame.end()));
    at += frame.size();
  };
  constexpr int64_t kEpoch = 1'767'225'600 * kSec;  // the deterministic writer's wall clock at time 0
  expectPacket(kEpoch + 1 * kSec + 123456789, 11, fork);
  expectPacket(kEpoch + 2 * kSec, 0, dump);  // three messages, one packet
  EXPECT_EQ(at, bytes.size()) << "the gap is no packet";
}

// samples/clock-anchors holds wall times from 1969 to 2262. pcap's 32-bit
// seconds end in 2106: a later time is written as that end, an earlier one as
// 1970, never wrapped into a plausible date (2262 used to read as 1990).
TEST(Pcap, WallTimesOutsidePcapsRangeGoToItsEnds) {
  auto bytes = pcapOf(std::string(PROCTAPE_SAMPLES) + "/clock-anchors/trace.pt");
  std::vector<std::pair<uint32_t, uint32_t>> times;
  for (size_t at = 24; at + 16 <= bytes.size(); at += 16 + le32(bytes, at + 8))
    times.emplace_back(le32(bytes, at), le32(bytes, at + 4));
  ASSERT_GE(times.size(), 4u);
  EXPECT_EQ(times[2], std::make_pair(0u, 0u));                       // 1969-12-31
  EXPECT_EQ(times[3], std::make_pair(UINT32_MAX, 999'999'999u));     // 2262-04-11
}

TEST(Pcap, FiltersChooseFrames) {
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::sid(5, 5)).proc(2 * kSec, frames::sid(6, 6));
  replay::FilterOptions filter;
  filter.pid = 6;
  auto bytes = pcapOf(trace.close(), filter);
  ASSERT_EQ(bytes.size(), 24u + 16 + 16 + 76);
  EXPECT_EQ(le32(bytes, 24), 1'767'225'602u);
}

std::string runCommand(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  *status = ::pclose(pipe);
  return output;
}

bool haveTshark() {
  int status = -1;
  runCommand("command -v tshark >/dev/null 2>&1", &status);
  return status == 0;
}

// tshark, an independent reader, opens the export, reads every packet and
// dissects the rtnetlink frames (the RTM_NEWLINK's interface name).
TEST(Pcap, TsharkReadsEveryPacketAndDissectsRtnetlink) {
  ASSERT_TRUE(haveTshark()) << "tshark is not installed: this test needs the Debian package tshark "
                               "(scripts/setup installs it; or: apt-get install tshark)";
  frames::Link link;
  link.name = "ptdummy7";
  link.ifindex = 7;
  TraceBuilder trace;
  trace.proc(1 * kSec, frames::fork(1, 1, 2, 2))
      .proc(1 * kSec + kMs, frames::exec(2, 2))
      .route(2 * kSec, frames::link(link))
      .route(3 * kSec, frames::addr())
      .route(4 * kSec, frames::concat({frames::link(), frames::done()}))
      .proc(5 * kSec, frames::exit(2, 2, 0, 17, 1, 1));
  std::string path = trace.close();
  std::string pcap = trace.dir().file("out.pcap");
  writeFile(pcap, [&] {
    auto bytes = pcapOf(path);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  }());
  int status = -1;
  std::string out = runCommand("tshark -r '" + pcap + "' -V 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  size_t frames = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("Frame ", 0) == 0 && line.find(" bytes on wire") != std::string::npos) ++frames;
  EXPECT_EQ(frames, 6u) << out;
  EXPECT_NE(out.find("Linux netlink (cooked header)"), std::string::npos) << out;
  EXPECT_NE(out.find("Link-layer address type: Netlink (824)"), std::string::npos) << out;
  // IFLA_IFNAME, as Wireshark 4.0 labels it.
  EXPECT_NE(out.find("Attribute: Device name: ptdummy7"), std::string::npos) << out;
  EXPECT_EQ(out.find("Malformed"), std::string::npos) << out;
}

}  // namespace
}  // namespace proctape::test
