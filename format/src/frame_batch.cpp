#include "frame_batch.h"

namespace proctape::format {

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
