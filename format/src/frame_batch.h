// Column-wise storage of frame runs: the writer's accumulator and the byte
// shuffle both sides use. Pure functions over memory; no Cap'n Proto here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace proctape::format {

// Byte-transposes `count` records of `width` bytes: out[j*count + i] = in[i*width + j].
void shuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out);
// The inverse of shuffleBytes.
void unshuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out);

// Consecutive frames from one source, gathered until the chunk is cut.
class FrameRun {
 public:
  void reset(uint16_t sourceId, int64_t firstTimeNs);
  // True if a frame from `sourceId` at `timeNs` can join this run: same source,
  // and the time step fits the schema's Int32 delta.
  bool accepts(uint16_t sourceId, int64_t timeNs) const;
  void append(int64_t timeNs, std::span<const uint8_t> frame);

  uint16_t sourceId() const { return sourceId_; }
  int64_t firstTimeNs() const { return firstTimeNs_; }
  int64_t lastTimeNs() const { return lastTimeNs_; }
  size_t count() const { return deltas_.size(); }
  // Every frame has the same size, so the run can be stored shuffled.
  bool uniform() const { return uniform_ && count() > 0; }
  uint32_t frameSize() const { return frameSize_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const std::vector<uint32_t>& ends() const { return ends_; }
  const std::vector<int32_t>& deltas() const { return deltas_; }

 private:
  uint16_t sourceId_ = 0;
  int64_t firstTimeNs_ = 0;
  int64_t lastTimeNs_ = 0;
  uint32_t frameSize_ = 0;
  bool uniform_ = true;
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> ends_;
  std::vector<int32_t> deltas_;
};

}  // namespace proctape::format
