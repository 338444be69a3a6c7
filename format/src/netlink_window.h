// A bounds-checked view of part of a netlink datagram, read in the byte order
// the trace recorded. Private to the netlink decoders.
//
// Every layer of a datagram (message, cn_msg, proc_event, family header,
// attribute) is a Window on the same datagram, so an error found at any depth
// can name its offset in the datagram and keep the bytes from there on.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "le_bytes.h"
#include "proctape/format/netlink.h"

namespace proctape::netlink::detail {

// NLMSG_ALIGN and NLA_ALIGN: messages and attributes start on 4-byte boundaries.
// Callers pass lengths read from 16- or 32-bit fields, so this cannot overflow.
constexpr size_t align4(size_t n) { return (n + 3) & ~size_t(3); }

class Window {
 public:
  Window(std::span<const uint8_t> datagram, format::ByteOrder order)
      : datagram_(datagram), begin_(0), size_(datagram.size()), order_(order) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t offset() const { return begin_; }  // of this window's first byte in the datagram

  // True when [at, at + count) lies inside the window; written so it cannot overflow.
  bool holds(size_t at, size_t count) const { return at <= size_ && count <= size_ - at; }

  // The part of this window from `at`, at most `count` bytes: clamped to what
  // is there, so a sub-window never reaches past its parent.
  Window sub(size_t at, size_t count = SIZE_MAX) const {
    Window part = *this;
    part.begin_ = begin_ + std::min(at, size_);
    part.size_ = std::min(count, size_ - std::min(at, size_));
    return part;
  }

  // An unsigned field at `at`, copied out and put in host order. Callers check
  // holds() first and report a short layer as an error; reading past the end
  // here gives 0 rather than touching memory outside the span.
  template <typename T>
  T get(size_t at) const {
    static_assert(std::is_unsigned_v<T>);
    T value{};
    if (!holds(at, sizeof value)) return value;
    std::memcpy(&value, datagram_.data() + begin_ + at, sizeof value);
    if constexpr (sizeof(T) > 1)
      if (order_ != hostOrder()) value = format::byteSwap(value);
    return value;
  }

  // A pid_t (or other s32) field: the same bits as the u32, reinterpreted.
  int32_t getS32(size_t at) const { return std::bit_cast<int32_t>(get<uint32_t>(at)); }

  std::span<const uint8_t> bytes() const { return datagram_.subspan(begin_, size_); }
  std::vector<uint8_t> copy() const { return {bytes().begin(), bytes().end()}; }

  // A C string bounded by the window: the kernel NUL-terminates names, but a
  // recorded frame may not, so stop at the first NUL or at the end.
  std::string cString() const {
    auto view = bytes();
    auto nul = std::find(view.begin(), view.end(), uint8_t{0});
    return {view.begin(), nul};
  }

  // A DecodeError for the part at `at` in this window. The walk stops at an
  // error, so it keeps every byte from the fault to the end of the datagram.
  DecodeError error(size_t at, std::string reason) const {
    size_t where = begin_ + std::min(at, size_);
    auto rest = datagram_.subspan(where);
    return DecodeError{std::move(reason), where, {rest.begin(), rest.end()}};
  }

 private:
  static constexpr format::ByteOrder hostOrder() {
    return std::endian::native == std::endian::big ? format::ByteOrder::big : format::ByteOrder::little;
  }

  std::span<const uint8_t> datagram_;
  size_t begin_;
  size_t size_;
  format::ByteOrder order_;
};

}  // namespace proctape::netlink::detail
