#include "decode_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace proctape::format {
namespace {

// Enough for the chunks in flight (twice the workers) and a few retired late.
constexpr size_t kSparesPerThread = 4;

}  // namespace

DecodePool::DecodePool(unsigned threads, DecodeFn decode) : decode_(std::move(decode)) {
  for (unsigned i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      yieldToTheReader();
      work();
    });
}

// The thread that consumes the records (a single one, in file order) is what
// bounds a read; the workers only have to stay ahead of it. With a worker per
// core there is one more busy thread than cores, and at equal weight the
// scheduler gave the consumer only about two thirds of a core. A lower nice
// value for the workers (per thread on Linux) hands it its core whenever it
// can run, and the workers the rest. Failure changes only speed.
void DecodePool::yieldToTheReader() {
  int tid = int(::gettid());
  errno = 0;
  int nice = ::getpriority(PRIO_PROCESS, id_t(tid));
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, id_t(tid), std::min(nice + kWorkerNiceIncrement, 19));
}

DecodePool::~DecodePool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void DecodePool::submit(size_t chunk) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(chunk);
  }
  wake_.notify_one();
}

std::shared_ptr<DecodedChunk> DecodePool::take(size_t chunk) {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return results_.count(chunk) > 0; });
  auto node = results_.extract(chunk);
  return std::move(node.mapped());
}

void DecodePool::clear() {
  std::unique_lock lock(mutex_);
  queue_.clear();
  done_.wait(lock, [&] { return busy_ == 0; });
  results_.clear();
}

void DecodePool::dispose(std::shared_ptr<DecodedChunk> chunk) {
  {
    std::lock_guard lock(mutex_);
    garbage_.push_back(std::move(chunk));
  }
  wake_.notify_one();
}

// Outside the lock: recycling and freeing touch thousands of strings.
void DecodePool::handBack(std::vector<std::shared_ptr<DecodedChunk>>& garbage) {
  if (!kRecycleChunks) return garbage.clear();
  for (auto& chunk : garbage) chunk->recycle();
  {
    std::lock_guard lock(mutex_);
    for (auto& chunk : garbage)
      if (spares_.size() < kSparesPerThread * threads_.size()) spares_.push_back(std::move(chunk));
  }
  garbage.clear();  // frees what was not kept
}

void DecodePool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !garbage_.empty(); });
    if (stopping_) return;
    if (!garbage_.empty()) {
      auto garbage = std::exchange(garbage_, {});
      lock.unlock();
      handBack(garbage);
      lock.lock();
      continue;
    }
    size_t chunk = queue_.front();
    queue_.pop_front();
    ++busy_;
    std::shared_ptr<DecodedChunk> spare;
    if (!spares_.empty()) {
      spare = std::move(spares_.back());
      spares_.pop_back();
    }
    lock.unlock();
    auto decoded = decode_(chunk, std::move(spare));
    lock.lock();
    --busy_;
    results_[chunk] = std::move(decoded);
    done_.notify_all();
  }
}

}  // namespace proctape::format
