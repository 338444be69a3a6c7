// A read-only memory map of a whole file, shared by the decoding threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "proctape/format/result.h"

namespace proctape::format {

class MappedFile {
 public:
  // Maps `path`. An empty file maps to an empty span. Errors name the path.
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace proctape::format
