// Helpers shared by the test binaries: temporary directories and trace files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/format/writer.h"

namespace proctape::test {

// A fresh directory under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "proctape-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A file's contents as text; empty if it cannot be read.
inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline format::Meta testMeta() {
  format::Meta meta;
  meta.hostname = "testhost";
  meta.kernelRelease = "6.6.0-test";
  meta.bootId = "00000000-0000-0000-0000-000000000000";
  meta.recorderName = "proctape-test";
  meta.recorderVersion = "0";
  meta.commandLine = {"proctape-test", "--flag"};
  meta.sources = {{0, 11, {1}, "proc connector"}, {1, 0, {1, 5, 9}, "rtnetlink"}};
  return meta;
}

inline format::WriterOptions deterministicOptions() {
  format::WriterOptions options;
  options.deterministic = true;
  return options;
}

// A 76-byte cn_proc-like frame whose bytes vary with `i`.
inline std::vector<uint8_t> sampleFrame(uint32_t i, size_t size = 76) {
  std::vector<uint8_t> frame(size);
  for (size_t j = 0; j < size; ++j) frame[j] = uint8_t((i * 31 + j * 7) ^ (j < 16 ? 0 : i >> 3));
  return frame;
}

struct ReadBack {
  std::vector<int64_t> times;
  std::vector<format::RecordKind> kinds;
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint16_t> frameSources;
  std::vector<format::ProcessInfo> infos;
  std::vector<format::Snapshot> snapshots;
  std::vector<format::Gap> gaps;
  std::vector<format::Damage> damage;
};

inline ReadBack readAll(format::TraceReader& reader) {
  ReadBack out;
  format::Record record;
  while (reader.next(record)) {
    out.times.push_back(record.timeNs);
    out.kinds.push_back(record.kind());
    if (auto* frame = std::get_if<format::Frame>(&record.body)) {
      out.frames.emplace_back(frame->bytes.begin(), frame->bytes.end());
      out.frameSources.push_back(frame->sourceId);
    } else if (auto* info = std::get_if<const format::ProcessInfo*>(&record.body)) {
      out.infos.push_back(**info);
    } else if (auto* snapshot = std::get_if<const format::Snapshot*>(&record.body)) {
      out.snapshots.push_back(**snapshot);
    } else if (auto* gap = std::get_if<const format::Gap*>(&record.body)) {
      out.gaps.push_back(**gap);
    }
  }
  out.damage = reader.damage();
  return out;
}

}  // namespace proctape::test
