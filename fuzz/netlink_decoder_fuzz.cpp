// libFuzzer target: arbitrary bytes as one netlink datagram, through the
// whole decoder (message walk, cn_msg and proc_event, rtnetlink attributes).
// The first byte picks the family (bit 0: connector or route) and the
// recorded byte order (bit 1: little or big); the rest is the datagram.
// Every decoded field is read, so a value built from bytes outside the
// input would show up under ASan.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "proctape/format/netlink.h"

using namespace proctape::netlink;

namespace {

volatile uint64_t sink = 0;

void touch(uint64_t value) { sink = sink + value; }
void touch(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) touch(byte);
}
void touch(const std::string& text) { touch(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())); }

void touch(const MessageHeader& h) {
  touch(h.length);
  touch(h.type);
  touch(h.flags);
  touch(h.seq);
  touch(h.portId);
}

void touch(const ProcEvent& e) {
  touch(e.cn.idx + e.cn.val + e.cn.seq + e.cn.ack + e.cn.len + e.cn.flags);
  touch(toString(e.type)[0]);
  touch(e.what + e.cpu + e.timestampNs + e.err);
  touch(uint64_t(e.parentPid) + uint64_t(e.parentTgid) + uint64_t(e.childPid) + uint64_t(e.childTgid));
  touch(uint64_t(e.processPid) + uint64_t(e.processTgid) + uint64_t(e.pid()) + uint64_t(e.tgid()));
  touch(e.ruid + e.euid + e.rgid + e.egid + uint64_t(e.tracerPid) + uint64_t(e.tracerTgid));
  touch(e.comm);
  touch(e.exitCode + e.exitSignal + e.hasParent + e.coreDumped());
  touch(uint64_t(e.status().value_or(-1)) + uint64_t(e.termSignal().value_or(-1)));
  touch(e.raw);
}

void touch(const LinkEvent& l) {
  touch(l.messageType + l.family + l.deviceType + uint64_t(l.ifindex) + l.flags + l.change);
  touch(l.name);
  touch(l.mtu.value_or(0) + l.operState.value_or(0));
  touch(l.address);
  touch(l.broadcast);
}

void touch(const AddrEvent& a) {
  touch(a.messageType + a.family + a.prefixLength + a.flags + a.scope + a.ifindex);
  touch(a.address);
  touch(a.local);
  touch(a.broadcast);
  touch(a.label);
}

void touch(const NetlinkError& e) {
  touch(uint64_t(e.error));
  if (e.original) touch(*e.original);
}

void touch(const Control& c) { touch(uint64_t(c.type)); }
void touch(const OtherMessage& o) { touch(o.payload); }

void touch(const DecodeError& e, std::span<const uint8_t> datagram) {
  touch(e.reason);
  touch(e.raw);
  // The error keeps the datagram's bytes from its offset on, exactly.
  if (e.offset > datagram.size() || e.raw.size() != datagram.size() - e.offset) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t family = (data[0] & 1) ? kFamilyConnector : kFamilyRoute;
  auto order = (data[0] & 2) ? proctape::format::ByteOrder::big : proctape::format::ByteOrder::little;
  std::span<const uint8_t> datagram(data + 1, size - 1);
  auto messages = decodeDatagram(family, order, datagram);
  for (size_t i = 0; i < messages.size(); ++i) {
    touch(messages[i].header);
    std::visit(
        [&](const auto& body) {
          if constexpr (std::is_same_v<std::decay_t<decltype(body)>, DecodeError>) {
            touch(body, datagram);
            if (i + 1 != messages.size()) __builtin_trap();  // the walk stops at an error
          } else {
            touch(body);
          }
        },
        messages[i].body);
  }
  // The single-event path answers exactly as the connector walk, or declines.
  if (family != kFamilyConnector) messages = decodeDatagram(kFamilyConnector, order, datagram);
  MessageHeader header;
  ProcEvent event;
  bool taken = decodeSingleProcEvent(order, datagram, header, event);
  const auto* only = messages.size() == 1 ? std::get_if<ProcEvent>(&messages[0].body) : nullptr;
  bool expected = only && only->type != ProcEventType::unknown;
  if (taken != expected || (taken && !(header == messages[0].header && event == *only))) __builtin_trap();
  return 0;
}
