// The receiver-to-writer hand-off: bounded, in order, nothing lost or
// duplicated, also with the two sides on two threads (run under tsan).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "proctape/record/frame_queue.h"

namespace proctape::record {
namespace {

TEST(FrameQueue, RoundsCapacityToAPowerOfTwo) {
  EXPECT_EQ(FrameQueue(1000).capacity(), 1024u);
  EXPECT_EQ(FrameQueue(0).capacity(), 2u);
}

TEST(FrameQueue, BoundedAndInOrder) {
  FrameQueue queue(4);
  EXPECT_EQ(queue.writable(), 4u);
  for (size_t i = 0; i < 4; ++i) queue.writeSlot(i).length = uint32_t(i);
  queue.publish(4);
  EXPECT_EQ(queue.writable(), 0u);
  EXPECT_EQ(queue.readable(), 4u);
  EXPECT_EQ(queue.readSlot(0).length, 0u);
  EXPECT_EQ(queue.readSlot(3).length, 3u);
  queue.consume(3);
  EXPECT_EQ(queue.writable(), 3u);
  EXPECT_EQ(queue.readSlot(0).length, 3u);
}

TEST(FrameQueue, HeapBytesWinOverInline) {
  Slot slot;
  slot.length = 3;
  std::memcpy(slot.inlineBytes, "abc", 3);
  EXPECT_EQ(slot.bytes().size(), 3u);
  slot.heap = {1, 2, 3, 4, 5};
  slot.length = 5;
  EXPECT_EQ(slot.bytes().size(), 5u);
  EXPECT_EQ(slot.bytes()[4], 5);
}

// A truncated datagram's slot holds its full length, more than the inline
// buffer: the view of its bytes stays inside the buffer.
TEST(FrameQueue, ATruncatedSlotsBytesStayInsideItsBuffer) {
  Slot slot;
  slot.length = 5000;
  EXPECT_EQ(slot.bytes().size(), Slot::kInlineBytes);
  slot.length = 76;
  EXPECT_EQ(slot.bytes().size(), 76u);
}

TEST(FrameQueue, TwoThreadsPassEveryItemOnce) {
  constexpr uint32_t kItems = 200000;
  FrameQueue queue(256);
  std::thread producer([&] {
    uint32_t next = 0;
    while (next < kItems) {
      size_t room = std::min<size_t>(queue.writable(), kItems - next);
      for (size_t i = 0; i < room; ++i) {
        Slot& slot = queue.writeSlot(i);
        slot.length = 4;
        uint32_t value = next + uint32_t(i);
        std::memcpy(slot.inlineBytes, &value, 4);
        if (value % 1000 == 0) slot.heap.assign(8, uint8_t(value));
      }
      queue.publish(room);
      next += uint32_t(room);
      if (room == 0) std::this_thread::yield();
    }
  });
  uint32_t expected = 0;
  while (expected < kItems) {
    size_t available = queue.readable();
    for (size_t i = 0; i < available; ++i) {
      Slot& slot = queue.readSlot(i);
      if (expected % 1000 == 0) {
        ASSERT_EQ(slot.heap.size(), 8u);
        slot.heap.clear();
      } else {
        uint32_t value = 0;
        std::memcpy(&value, slot.bytes().data(), 4);
        ASSERT_EQ(value, expected);
      }
      ++expected;
    }
    queue.consume(available);
    if (available == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(queue.readable(), 0u);
}

}  // namespace
}  // namespace proctape::record
