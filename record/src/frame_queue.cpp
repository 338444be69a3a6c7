#include "proctape/record/frame_queue.h"

#include <bit>

namespace proctape::record {

FrameQueue::FrameQueue(size_t capacity) {
  size_t size = std::bit_ceil(capacity < 2 ? size_t(2) : capacity);
  slots_ = std::make_unique<Slot[]>(size);
  mask_ = size - 1;
}

size_t FrameQueue::writable() const {
  size_t head = head_.load(std::memory_order_relaxed);
  size_t tail = tail_.load(std::memory_order_acquire);
  return capacity() - (head - tail);
}

size_t FrameQueue::readable() const {
  size_t tail = tail_.load(std::memory_order_relaxed);
  size_t head = head_.load(std::memory_order_acquire);
  return head - tail;
}

}  // namespace proctape::record
