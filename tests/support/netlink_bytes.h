// Netlink datagrams built byte by byte for tests, from the kernel's struct
// definitions (include/uapi/linux/netlink.h, connector.h, cn_proc.h,
// rtnetlink.h), in either byte order, the way a machine of that order lays
// them out. The decoder tests (tests/format) and the replay tests' frames
// (tests/replay/frames.h) build on this one copy.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "proctape/format/records.h"

namespace proctape::test {

using ByteVector = std::vector<uint8_t>;

// Appends `value` as `width` bytes in `order`.
inline void putInt(ByteVector& out, uint64_t value, int width, format::ByteOrder order) {
  for (int i = 0; i < width; ++i) {
    int shift = 8 * (order == format::ByteOrder::little ? i : width - 1 - i);
    out.push_back(uint8_t(value >> shift));
  }
}

// Zero bytes up to a multiple of 4 (NLMSG_ALIGN, RTA_ALIGN).
inline void pad4(ByteVector& out) {
  while (out.size() % 4) out.push_back(0);
}

// struct rtattr { unsigned short rta_len; unsigned short rta_type; }, then
// `payload` and padding to 4 bytes; rta_len leaves the padding out.
inline void putAttr(ByteVector& out, uint16_t type, const ByteVector& payload, format::ByteOrder order) {
  putInt(out, 4 + payload.size(), 2, order);
  putInt(out, type, 2, order);
  out.insert(out.end(), payload.begin(), payload.end());
  pad4(out);
}

// Appends fields in a chosen byte order, the way a machine of that order
// lays out kernel structs.
class NetlinkBytes {
 public:
  explicit NetlinkBytes(format::ByteOrder order = format::ByteOrder::little) : order_(order) {}
  NetlinkBytes& u8(uint8_t v) { return put(v, 1); }
  NetlinkBytes& u16(uint16_t v) { return put(v, 2); }
  NetlinkBytes& u32(uint32_t v) { return put(v, 4); }
  NetlinkBytes& u64(uint64_t v) { return put(v, 8); }
  NetlinkBytes& s32(int32_t v) { return put(uint32_t(v), 4); }
  NetlinkBytes& text(const std::string& s) {
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  NetlinkBytes& append(const ByteVector& bytes) {
    data_.insert(data_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  NetlinkBytes& pad4() {
    test::pad4(data_);
    return *this;
  }
  // struct rtattr: len (header + payload, without padding), type, payload, padding.
  NetlinkBytes& attr(uint16_t type, const ByteVector& payload) {
    putAttr(data_, type, payload, order_);
    return *this;
  }
  NetlinkBytes& attrU32(uint16_t type, uint32_t v) { return attr(type, NetlinkBytes(order_).u32(v).data()); }
  NetlinkBytes& attrText(uint16_t type, const std::string& s, bool nul = true) {
    ByteVector payload(s.begin(), s.end());
    if (nul) payload.push_back(0);
    return attr(type, payload);
  }
  const ByteVector& data() const { return data_; }
  size_t size() const { return data_.size(); }

 private:
  NetlinkBytes& put(uint64_t v, int width) {
    putInt(data_, v, width, order_);
    return *this;
  }
  format::ByteOrder order_;
  ByteVector data_;
};

// One netlink message: struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type;
// __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; } with nlmsg_len =
// 16 + the payload, then `payload`, padded to 4 bytes (NLMSG_ALIGN; nlmsg_len
// leaves the padding out) unless `pad` is false.
inline ByteVector nlmsg(format::ByteOrder order, uint16_t type, uint16_t flags, uint32_t seq, uint32_t portId,
                        const ByteVector& payload, bool pad = true) {
  NetlinkBytes bytes(order);
  bytes.u32(uint32_t(16 + payload.size())).u16(type).u16(flags).u32(seq).u32(portId).append(payload);
  if (pad) bytes.pad4();
  return bytes.data();
}

// The parts one after the other: several messages in one datagram.
inline ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

}  // namespace proctape::test
