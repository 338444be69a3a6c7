#include "frame_batch.h"

namespace proctape::format {

void shuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out) {
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* row = in + i * width;
    for (size_t j = 0; j < width; ++j) out[j * count + i] = row[j];
  }
}

void unshuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out) {
  // Walk the output in blocks of rows so both sides stay in cache.
  constexpr size_t kBlock = 256;
  for (size_t start = 0; start < count; start += kBlock) {
    size_t end = start + kBlock < count ? start + kBlock : count;
    for (size_t j = 0; j < width; ++j) {
      const uint8_t* column = in + j * count;
      for (size_t i = start; i < end; ++i) out[i * width + j] = column[i];
    }
  }
}

void FrameRun::reset(uint16_t sourceId, int64_t firstTimeNs) {
  sourceId_ = sourceId;
  firstTimeNs_ = lastTimeNs_ = firstTimeNs;
  frameSize_ = 0;
  uniform_ = true;
  bytes_.clear();
  ends_.clear();
  deltas_.clear();
}

bool FrameRun::accepts(uint16_t sourceId, int64_t timeNs) const {
  if (sourceId != sourceId_) return false;
  int64_t step = 0;
  if (__builtin_sub_overflow(timeNs, lastTimeNs_, &step)) return false;
  return step >= std::numeric_limits<int32_t>::min() && step <= std::numeric_limits<int32_t>::max();
}

void FrameRun::append(int64_t timeNs, std::span<const uint8_t> frame) {
  if (deltas_.empty()) {
    frameSize_ = uint32_t(frame.size());
    deltas_.push_back(int32_t(timeNs - firstTimeNs_));
  } else {
    deltas_.push_back(int32_t(timeNs - lastTimeNs_));
    uniform_ = uniform_ && frame.size() == frameSize_;
  }
  lastTimeNs_ = timeNs;
  bytes_.insert(bytes_.end(), frame.begin(), frame.end());
  ends_.push_back(uint32_t(bytes_.size()));
}

}  // namespace proctape::format
