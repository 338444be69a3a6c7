#include "proctape/replay/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace proctape::replay {

void Buffer::grow(size_t atLeast) {
  size_t capacity = capacity_ ? capacity_ : 64 * 1024;
  while (capacity - size_ < atLeast) capacity *= 2;
  auto data = std::make_unique<char[]>(capacity);
  if (size_) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void Buffer::appendHexBytes(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char* at = reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    *at++ = kDigits[b >> 4];
    *at++ = kDigits[b & 15];
  }
  size_ += bytes.size() * 2;
}

void Buffer::appendSeconds(int64_t ns) {
  uint64_t magnitude = ns < 0 ? uint64_t(0) - uint64_t(ns) : uint64_t(ns);
  if (ns < 0) append('-');
  appendInt(magnitude / 1'000'000'000);
  uint64_t micros = magnitude % 1'000'000'000 / 1000;
  char* at = reserve(7);
  at[0] = '.';
  for (int i = 6; i >= 1; --i, micros /= 10) at[i] = char('0' + micros % 10);
  size_ += 7;
}

void Buffer::appendLe(uint64_t value, size_t width) {
  char* at = reserve(width);
  for (size_t i = 0; i < width; ++i) at[i] = char(uint8_t(value >> (8 * i)));
  size_ += width;
}

void Buffer::appendBe(uint64_t value, size_t width) {
  char* at = reserve(width);
  for (size_t i = 0; i < width; ++i) at[i] = char(uint8_t(value >> (8 * (width - 1 - i))));
  size_ += width;
}

Status FdSink::write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{name_ + ": cannot write: " + std::strerror(errno) + " (is the disk full, or the reader gone?)"};
    bytes.remove_prefix(size_t(n));
  }
  return okStatus();
}

Result<OutputFile> OutputFile::open(const std::string& path, int standardOut) {
  if (path.empty() || path == "-") return OutputFile(standardOut, "standard output", false);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error{path + ": cannot create the output file: " + std::strerror(errno)};
  return OutputFile(fd, path, true);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd_(other.fd_), name_(std::move(other.name_)), owned_(std::exchange(other.owned_, false)) {}

OutputFile::~OutputFile() {
  if (owned_) ::close(fd_);
}

Status OutputFile::close() {
  if (!owned_) return okStatus();
  owned_ = false;
  if (::close(fd_) != 0) return Error{name_ + ": cannot finish writing: " + std::strerror(errno)};
  return okStatus();
}

std::optional<std::string> outputClash(const std::string& output, const std::string& input) {
  if (output.empty() || output == "-" || input == "-") return std::nullopt;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::equivalent(output, input, ec)) return output + ": the output file is the input trace; choose another -o";
  fs::path parent = fs::absolute(output, ec).parent_path();
  if (fs::is_directory(input, ec) && fs::equivalent(parent, input, ec))
    return output + ": the output would land among the segments of " + input + "; choose a -o outside that directory";
  return std::nullopt;
}

}  // namespace proctape::replay
