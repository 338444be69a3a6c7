// cn_proc datagrams built byte by byte from the kernel's struct layouts
// (include/uapi/linux/netlink.h, connector.h, cn_proc.h), little-endian:
//   struct nlmsghdr   16 bytes: len u32, type u16, flags u16, seq u32, pid u32
//   struct cn_msg     20 bytes: id.idx u32, id.val u32, seq u32, ack u32, len u16, flags u16
//   struct proc_event 40 bytes: what u32, cpu u32, timestamp_ns u64, then a 24-byte union:
//     fork {parent_pid, parent_tgid, child_pid, child_tgid}
//     exec {process_pid, process_tgid}
//     exit {process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid}
// 76 bytes in all.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace proctape::test::analyze::frames {

using Bytes = std::vector<uint8_t>;

inline void putU16(Bytes& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void putU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void putU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

constexpr uint32_t kWhatFork = 0x00000001;
constexpr uint32_t kWhatExec = 0x00000002;
constexpr uint32_t kWhatExit = 0x80000000;

// One datagram: headers, the event header, and the union's words (zero-padded to 24 bytes).
inline Bytes procEvent(uint32_t what, uint64_t timestampNs, std::initializer_list<uint32_t> words, uint32_t seq = 0) {
  constexpr uint32_t kEventSize = 40, kTotal = 16 + 20 + kEventSize;
  Bytes b;
  putU32(b, kTotal);   // nlmsg_len
  putU16(b, 3);        // nlmsg_type: NLMSG_DONE, as the connector sends
  putU16(b, 0);        // nlmsg_flags
  putU32(b, seq);      // nlmsg_seq
  putU32(b, 0);        // nlmsg_pid: the kernel
  putU32(b, 1);        // cn_msg.id.idx: CN_IDX_PROC
  putU32(b, 1);        // cn_msg.id.val: CN_VAL_PROC
  putU32(b, seq);      // cn_msg.seq
  putU32(b, 0);        // cn_msg.ack
  putU16(b, uint16_t(kEventSize));  // cn_msg.len
  putU16(b, 0);        // cn_msg.flags
  putU32(b, what);
  putU32(b, 0);        // cpu
  putU64(b, timestampNs);
  size_t unionStart = b.size();
  for (uint32_t word : words) putU32(b, word);
  b.resize(unionStart + 24, 0);
  return b;
}

inline Bytes fork(uint64_t ts, int32_t parent, int32_t child) {
  return procEvent(kWhatFork, ts, {uint32_t(parent), uint32_t(parent), uint32_t(child), uint32_t(child)});
}
inline Bytes threadFork(uint64_t ts, int32_t tgid, int32_t tid) {
  return procEvent(kWhatFork, ts, {uint32_t(tgid), uint32_t(tgid), uint32_t(tid), uint32_t(tgid)});
}
inline Bytes exec(uint64_t ts, int32_t pid) { return procEvent(kWhatExec, ts, {uint32_t(pid), uint32_t(pid)}); }
inline Bytes exit(uint64_t ts, int32_t pid, uint32_t waitStatus, int32_t parent, int32_t tgid = 0) {
  uint32_t group = uint32_t(tgid ? tgid : pid);
  return procEvent(kWhatExit, ts, {uint32_t(pid), group, waitStatus, 17, uint32_t(parent), uint32_t(parent)});
}

}  // namespace proctape::test::analyze::frames
