// Output: a growable byte buffer that renderers append to, with fast number
// formatting, and sinks that take its contents (a file descriptor or a string).
//
// Renderers never allocate per event: they append to one reused buffer, which
// the caller drains into a sink every so often.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <string_view>

#include "proctape/format/result.h"

namespace proctape::replay {

class Buffer {
 public:
  Buffer() { grow(64 * 1024); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // Room for `n` more bytes; write them at the pointer, then commit(n).
  char* reserve(size_t n) {
    if (capacity_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(size_t n) { size_ += n; }

  void append(std::string_view text) {
    std::memcpy(reserve(text.size()), text.data(), text.size());
    size_ += text.size();
  }
  void append(char c) {
    *reserve(1) = c;
    ++size_;
  }
  void appendBytes(std::span<const uint8_t> bytes) {
    std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  template <typename Int>
  void appendInt(Int value) {
    char* at = reserve(24);
    size_ += size_t(std::to_chars(at, at + 24, value).ptr - at);
  }
  // `value` in lower-case hex, no prefix.
  void appendHex(uint64_t value) {
    char* at = reserve(16);
    size_ += size_t(std::to_chars(at, at + 16, value, 16).ptr - at);
  }
  // Each byte as two lower-case hex digits.
  void appendHexBytes(std::span<const uint8_t> bytes);
  // `ns` as seconds with 6 decimals (microseconds, truncated toward zero), e.g. "-1.000250".
  void appendSeconds(int64_t ns);
  // A little-endian integer of `width` bytes.
  void appendLe(uint64_t value, size_t width);
  void appendBe(uint64_t value, size_t width);

  std::string_view view() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void grow(size_t atLeast);
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Where output goes.
class Sink {
 public:
  virtual ~Sink() = default;
  // Writes all of `bytes`, or says why it could not (naming the file).
  virtual Status write(std::string_view bytes) = 0;
};

// Writes to a file descriptor it does not own (retrying short writes).
class FdSink final : public Sink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status write(std::string_view bytes) override;

 private:
  int fd_;
  std::string name_;
};

// Appends to a string: for tests and goldens.
class StringSink final : public Sink {
 public:
  explicit StringSink(std::string& target) : target_(target) {}
  Status write(std::string_view bytes) override {
    target_.append(bytes);
    return okStatus();
  }

 private:
  std::string& target_;
};

// The file a tool writes to (created 0600, as traces are: it holds their
// command lines; truncated), or standard output for "" and "-". An owned file
// is closed with the object; close() closes it early and reports what close()
// says, since a full disk may show only there.
class OutputFile {
 public:
  static Result<OutputFile> open(const std::string& path, int standardOut);
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile();
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  Status close();

 private:
  OutputFile(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  int fd_;
  std::string name_;
  bool owned_;
};

// Why a tool must not write `output` while it reads the trace `input`: it is
// that trace, or a file in its segment directory, where it would overwrite a
// segment or be read as one. nullopt when it may ("" and "-" always may).
std::optional<std::string> outputClash(const std::string& output, const std::string& input);

}  // namespace proctape::replay
