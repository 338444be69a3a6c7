#include "proctape/replay/render.h"

#include <algorithm>
#include <cstdint>

namespace proctape::replay {

// The file header of a nanosecond pcap file, in this machine's byte order as
// the format allows (readers tell the order from the magic); see
// https://www.tcpdump.org/manpages/pcap-savefile.5.html.
void PcapRenderer::begin(Buffer& out) {
  out.appendLe(kMagicNs, 4);
  out.appendLe(2, 2);  // version 2.4
  out.appendLe(4, 2);
  out.appendLe(0, 4);  // thiszone: timestamps are UTC
  out.appendLe(0, 4);  // sigfigs
  out.appendLe(kSnapLength, 4);
  out.appendLe(kLinkTypeNetlink, 4);
}

// One packet per frame: a record header, then LINKTYPE_NETLINK's cooked
// header (all fields big-endian: packet type, ARPHRD_NETLINK, address length,
// 8 address bytes, the netlink family as protocol), then the datagram as
// recorded. Wireshark reads the ARPHRD type and the family, and tells the
// datagram's byte order from its first nlmsg_len.
void PcapRenderer::render(const Event& event, const EventStream& stream, Buffer& out) {
  (void)stream;
  if (event.frameNumber == 0 || event.frameNumber == lastFrame_) return;
  lastFrame_ = event.frameNumber;
  // pcap's seconds are 32 bits without sign: 1970 to 2106. A time outside
  // (a clamped or nonsense clock anchor) goes to the nearest end, never
  // wrapped around to a plausible-looking date.
  constexpr int64_t kLastNs = int64_t(UINT32_MAX) * 1'000'000'000 + 999'999'999;
  int64_t ns = std::clamp<int64_t>(event.wallNs.value_or(event.timeNs), 0, kLastNs);
  size_t length = kCookedHeaderBytes + event.frame.size();
  size_t captured = std::min<size_t>(length, kSnapLength);
  out.appendLe(uint64_t(ns / 1'000'000'000), 4);
  out.appendLe(uint64_t(ns % 1'000'000'000), 4);
  out.appendLe(captured, 4);
  out.appendLe(length, 4);
  out.appendBe(0, 2);  // packet type: LINUX_SLL_HOST, to us (the recorder received it)
  out.appendBe(kArphrdNetlink, 2);
  out.appendBe(0, 2);  // no link-layer address
  out.appendBe(0, 8);
  out.appendBe(event.family & 0xffff, 2);
  // An empty datagram is a packet of the cooked header alone; its vector's
  // data() may be null, which memcpy must not be given even for 0 bytes.
  if (!event.frame.empty())
    out.appendBytes(std::span<const uint8_t>(event.frame).first(captured - kCookedHeaderBytes));
}

std::optional<Format> parseFormat(std::string_view name) {
  if (name == "text") return Format::text;
  if (name == "json" || name == "jsonl") return Format::json;
  if (name == "pcap") return Format::pcap;
  return std::nullopt;
}

std::optional<TimeMode> parseTimeMode(std::string_view name) {
  if (name == "relative") return TimeMode::relative;
  if (name == "wall") return TimeMode::wall;
  if (name == "none") return TimeMode::none;
  return std::nullopt;
}

std::unique_ptr<Renderer> makeRenderer(Format format, TimeMode time) {
  switch (format) {
    case Format::json: return std::make_unique<JsonRenderer>();
    case Format::pcap: return std::make_unique<PcapRenderer>();
    case Format::text: break;
  }
  return std::make_unique<TextRenderer>(time);
}

}  // namespace proctape::replay
