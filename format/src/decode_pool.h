// Persistent worker threads that decode chunks ahead of the reader. Each
// worker keeps its own zstd context (thread_local in the decoder), so no
// thread or context is created per chunk.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chunk_decoder.h"

namespace proctape::format {

class DecodePool {
 public:
  // Decodes `chunk`, filling `reuse` (a recycled chunk, or null) if it can.
  using DecodeFn = std::function<std::shared_ptr<DecodedChunk>(size_t chunk, std::shared_ptr<DecodedChunk> reuse)>;

  DecodePool(unsigned threads, DecodeFn decode);
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  // Queues `chunk` for decoding.
  void submit(size_t chunk);
  // Waits for `chunk` (which must have been submitted) and hands it over.
  std::shared_ptr<DecodedChunk> take(size_t chunk);
  // Drops queued work and results, waiting for chunks being decoded now.
  void clear();
  // Hands back a chunk no one else holds. A worker recycles it for a later
  // chunk (its thousands of strings keep their memory), or frees it when
  // enough are kept: work the reading thread need not do.
  void dispose(std::shared_ptr<DecodedChunk> chunk);

 private:
  void work();
  // Lowers the calling worker's priority below the consuming thread's.
  static void yieldToTheReader();
  static constexpr int kWorkerNiceIncrement = 5;
  // Recycles disposed chunks into spares_, as many as are kept, and frees the rest.
  void handBack(std::vector<std::shared_ptr<DecodedChunk>>& garbage);

  DecodeFn decode_;
  std::mutex mutex_;
  std::condition_variable wake_;   // workers: work queued or stopping
  std::condition_variable done_;   // takers: a result arrived or a worker went idle
  std::deque<size_t> queue_;
  std::vector<std::shared_ptr<DecodedChunk>> garbage_;  // disposed, to recycle or free
  std::vector<std::shared_ptr<DecodedChunk>> spares_;   // recycled, for the next decodes
  std::unordered_map<size_t, std::shared_ptr<DecodedChunk>> results_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace proctape::format
