// FrameQueue: the bounded, lock-free, single-producer/single-consumer hand-off
// between the receiving thread and the writing thread.
//
// Slots are preallocated, so the receiver hands their buffers straight to
// recvmmsg: it asks for the free slots, receives into them, and publishes how
// many it filled. Datagrams larger than a slot's inline buffer (rtnetlink)
// travel in the slot's `heap` vector instead.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <vector>

namespace proctape::record {

enum class SlotKind : uint8_t {
  frame,      // a datagram from the kernel
  overrun,    // the kernel dropped `length` datagrams (kUnknownDrops: unknown) before timeNs
  truncated,  // a datagram longer than the buffer: `length` is its full length, no bytes kept
  rejected,   // not from the kernel (sender port id != 0): skip it
};

struct Slot {
  static constexpr size_t kInlineBytes = 192;  // a cn_proc frame is 76 bytes today
  static constexpr uint32_t kUnknownDrops = 0xffffffffu;

  int64_t timeNs = 0;
  uint32_t length = 0;  // bytes in inlineBytes (or heap when it is not empty)
  uint16_t sourceId = 0;
  SlotKind kind = SlotKind::frame;
  std::vector<uint8_t> heap;
  alignas(8) uint8_t inlineBytes[kInlineBytes];

  // The bytes held: for a truncated datagram, `length` is its full size, more
  // than the buffer that holds its start.
  std::span<const uint8_t> bytes() const {
    return heap.empty() ? std::span<const uint8_t>(inlineBytes, std::min<size_t>(length, kInlineBytes))
                        : std::span<const uint8_t>(heap);
  }
};

class FrameQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit FrameQueue(size_t capacity);

  size_t capacity() const { return mask_ + 1; }

  // Producer side. writable() slots starting at writeSlot(0) may be filled;
  // publish(n) hands the first n of them to the consumer, in order.
  size_t writable() const;
  Slot& writeSlot(size_t i) { return slots_[(head_.load(std::memory_order_relaxed) + i) & mask_]; }
  void publish(size_t n) { head_.store(head_.load(std::memory_order_relaxed) + n, std::memory_order_release); }

  // Consumer side. readable() slots starting at readSlot(0) hold published
  // data; consume(n) returns the first n to the producer.
  size_t readable() const;
  Slot& readSlot(size_t i) { return slots_[(tail_.load(std::memory_order_relaxed) + i) & mask_]; }
  void consume(size_t n) { tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release); }

 private:
  static constexpr size_t kLine = 64;
  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  alignas(kLine) std::atomic<size_t> head_{0};  // written by the producer
  alignas(kLine) std::atomic<size_t> tail_{0};  // written by the consumer
};

}  // namespace proctape::record
