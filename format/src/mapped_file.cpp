#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "proctape/format/unique_fd.h"

namespace proctape::format {

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error{path + ": cannot open: " + std::strerror(errno) + " (check the path and its permissions)"};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{path + ": cannot stat: " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  size_t size = size_t(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (map == MAP_FAILED) return Error{path + ": cannot map: " + std::strerror(errno)};
    ::madvise(map, size, MADV_SEQUENTIAL);
    data = static_cast<const uint8_t*>(map);
  }
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace proctape::format
