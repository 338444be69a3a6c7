// Netlink datagrams built byte by byte from the kernel's struct definitions
// (include/uapi/linux/netlink.h, connector.h, cn_proc.h, rtnetlink.h,
// if_link.h, if_addr.h), little-endian as on x86_64, for replay tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

// Relative, so that code outside tests/ that includes this file finds it too.
#include "../support/netlink_bytes.h"

namespace proctape::test::frames {

using Bytes = ByteVector;  // std::vector<uint8_t>

inline void putU8(Bytes& b, uint8_t v) { putInt(b, v, 1, format::ByteOrder::little); }
inline void putU16(Bytes& b, uint16_t v) { putInt(b, v, 2, format::ByteOrder::little); }
inline void putU32(Bytes& b, uint32_t v) { putInt(b, v, 4, format::ByteOrder::little); }
inline void putU64(Bytes& b, uint64_t v) { putInt(b, v, 8, format::ByteOrder::little); }
inline void putI32(Bytes& b, int32_t v) { putU32(b, uint32_t(v)); }
using test::concat;
using test::pad4;

// struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; }
// around `payload` (padded to 4 bytes, as NLMSG_ALIGN does; nlmsg_len excludes the padding).
inline Bytes message(uint16_t type, uint16_t flags, uint32_t seq, const Bytes& payload, uint32_t portId = 0) {
  return nlmsg(format::ByteOrder::little, type, flags, seq, portId, payload);
}

// ---- proc connector --------------------------------------------------------

inline constexpr uint32_t kWhatNone = 0, kWhatFork = 1, kWhatExec = 2, kWhatUid = 4, kWhatGid = 0x40,
                          kWhatSid = 0x80, kWhatPtrace = 0x100, kWhatComm = 0x200, kWhatCoredump = 0x40000000,
                          kWhatExit = 0x80000000;

struct ProcHeader {
  uint32_t cpu = 0;
  uint64_t timestampNs = 0;  // 0: the kernel gave none, so readers time the event by its capture
  uint32_t seq = 7;
};

// nlmsghdr (type NLMSG_DONE, as the kernel sends) + struct cn_msg { struct cb_id
// { __u32 idx; __u32 val; } id; __u32 seq; __u32 ack; __u16 len; __u16 flags; }
// + struct proc_event { what; cpu; __u64 timestamp_ns; union event_data }. The
// union is 24 bytes (its largest members, exit and comm); `data` is zero-padded
// to `unionBytes`.
inline Bytes procFrame(uint32_t what, Bytes data, ProcHeader h = {}, size_t unionBytes = 24) {
  data.resize(std::max(data.size(), unionBytes), 0);
  NetlinkBytes event;
  event.u32(what).u32(h.cpu).u64(h.timestampNs).append(data);
  NetlinkBytes cn;
  cn.u32(1).u32(1).u32(h.seq).u32(0);  // CN_IDX_PROC, CN_VAL_PROC, seq, ack
  cn.u16(uint16_t(event.size())).u16(0).append(event.data());
  return message(3 /* NLMSG_DONE */, 0, h.seq, cn.data());
}

inline Bytes ints(std::initializer_list<int64_t> values) {
  Bytes b;
  for (auto v : values) putU32(b, uint32_t(v));
  return b;
}

inline Bytes ack(uint32_t err, ProcHeader h = {}) { return procFrame(kWhatNone, ints({err}), h); }
inline Bytes fork(int32_t ppid, int32_t ptgid, int32_t cpid, int32_t ctgid, ProcHeader h = {}) {
  return procFrame(kWhatFork, ints({ppid, ptgid, cpid, ctgid}), h);
}
inline Bytes exec(int32_t pid, int32_t tgid, ProcHeader h = {}) { return procFrame(kWhatExec, ints({pid, tgid}), h); }
inline Bytes uid(int32_t pid, int32_t tgid, uint32_t ruid, uint32_t euid, ProcHeader h = {}) {
  return procFrame(kWhatUid, ints({pid, tgid, ruid, euid}), h);
}
inline Bytes gid(int32_t pid, int32_t tgid, uint32_t rgid, uint32_t egid, ProcHeader h = {}) {
  return procFrame(kWhatGid, ints({pid, tgid, rgid, egid}), h);
}
inline Bytes sid(int32_t pid, int32_t tgid, ProcHeader h = {}) { return procFrame(kWhatSid, ints({pid, tgid}), h); }
inline Bytes ptrace(int32_t pid, int32_t tgid, int32_t tracerPid, int32_t tracerTgid, ProcHeader h = {}) {
  return procFrame(kWhatPtrace, ints({pid, tgid, tracerPid, tracerTgid}), h);
}
inline Bytes comm(int32_t pid, int32_t tgid, const std::string& name, ProcHeader h = {}) {
  Bytes data = ints({pid, tgid});
  Bytes text(16, 0);
  for (size_t i = 0; i < name.size() && i < 16; ++i) text[i] = uint8_t(name[i]);
  data.insert(data.end(), text.begin(), text.end());
  return procFrame(kWhatComm, data, h);
}
inline Bytes coredump(int32_t pid, int32_t tgid, int32_t ppid, int32_t ptgid, ProcHeader h = {}) {
  return procFrame(kWhatCoredump, ints({pid, tgid, ppid, ptgid}), h);
}
// exit_code is the wait status: (status << 8), or the signal | 0x80 for a core.
inline Bytes exit(int32_t pid, int32_t tgid, uint32_t exitCode, uint32_t exitSignal, int32_t ppid, int32_t ptgid,
                  ProcHeader h = {}) {
  return procFrame(kWhatExit, ints({pid, tgid, exitCode, exitSignal, ppid, ptgid}), h);
}

// ---- rtnetlink ---------------------------------------------------------------

inline constexpr uint16_t kRtmNewLink = 16, kRtmDelLink = 17, kRtmNewAddr = 20, kRtmDelAddr = 21;
inline constexpr uint16_t kNlmFMulti = 2;

// struct rtattr { unsigned short rta_len; unsigned short rta_type; } + data, padded to 4.
inline void attr(Bytes& b, uint16_t type, const Bytes& data) { putAttr(b, type, data, format::ByteOrder::little); }
inline Bytes cstring(const std::string& s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}

struct Link {
  uint16_t type = kRtmNewLink;
  uint16_t flags = 0;  // nlmsg_flags
  uint16_t deviceType = 1;  // ARPHRD_ETHER
  int32_t ifindex = 2;
  uint32_t ifFlags = 0x11043;  // IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP
  std::string name = "eth0";
  uint32_t mtu = 1500;
  uint8_t operState = 6;  // IF_OPER_UP
  Bytes mac = {0x08, 0x00, 0x27, 0x41, 0xde, 0x23};
  Bytes broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uint32_t seq = 0;
};

// nlmsghdr + struct ifinfomsg { u8 family; u8 pad; u16 type; int index; unsigned flags; unsigned change; }
// + IFLA_ADDRESS (1), IFLA_BROADCAST (2), IFLA_IFNAME (3), IFLA_MTU (4), IFLA_OPERSTATE (16),
// and an attribute the decoders do not know (IFLA_TXQLEN, 13), to be skipped.
inline Bytes link(const Link& l = {}) {
  Bytes p;
  putU8(p, 0);  // AF_UNSPEC
  putU8(p, 0);
  putU16(p, l.deviceType);
  putI32(p, l.ifindex);
  putU32(p, l.ifFlags);
  putU32(p, 0);
  if (!l.mac.empty()) attr(p, 1, l.mac);
  if (!l.broadcast.empty()) attr(p, 2, l.broadcast);
  attr(p, 3, cstring(l.name));
  Bytes mtu;
  putU32(mtu, l.mtu);
  attr(p, 4, mtu);
  Bytes txqlen;
  putU32(txqlen, 1000);
  attr(p, 13, txqlen);
  attr(p, 16, Bytes{l.operState});
  return message(l.type, l.flags, l.seq, p);
}

struct Addr {
  uint16_t type = kRtmNewAddr;
  uint16_t flags = 0;
  uint8_t family = 2;  // AF_INET
  uint8_t prefix = 24;
  uint8_t scope = 0;   // RT_SCOPE_UNIVERSE
  uint32_t ifindex = 2;
  Bytes address = {10, 3, 0, 185};
  Bytes local = {10, 3, 0, 185};
  Bytes broadcast = {10, 3, 0, 255};
  std::string label = "eth0";
  uint32_t seq = 0;
};

// nlmsghdr + struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
// + IFA_ADDRESS (1), IFA_LOCAL (2), IFA_LABEL (3), IFA_BROADCAST (4).
inline Bytes addr(const Addr& a = {}) {
  Bytes p;
  putU8(p, a.family);
  putU8(p, a.prefix);
  putU8(p, 0x80);  // IFA_F_PERMANENT
  putU8(p, a.scope);
  putU32(p, a.ifindex);
  if (!a.address.empty()) attr(p, 1, a.address);
  if (!a.local.empty()) attr(p, 2, a.local);
  if (!a.label.empty()) attr(p, 3, cstring(a.label));
  if (!a.broadcast.empty()) attr(p, 4, a.broadcast);
  return message(a.type, a.flags, a.seq, p);
}

// NLMSG_DONE ending a dump: its payload is an int, the dump's status (0).
inline Bytes done(uint32_t seq = 0) { return message(3, kNlmFMulti, seq, ints({0})); }

}  // namespace proctape::test::frames
