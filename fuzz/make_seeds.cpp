// Writes small, varied traces into a directory, as the fuzzers' seed corpus:
// frames of both layouts, process info with misses, gaps, snapshots, and a
// file left unclosed.
#include <cstdio>
#include <string>
#include <vector>

#include "proctape/format/writer.h"

using namespace proctape::format;

namespace {

std::vector<uint8_t> frameBytes(uint32_t i, size_t size) {
  std::vector<uint8_t> frame(size);
  for (size_t j = 0; j < size; ++j) frame[j] = uint8_t(i * 13 + j);
  return frame;
}

bool writeSeed(const std::string& path, bool shuffle, bool close) {
  WriterOptions options;
  options.deterministic = true;
  options.shuffleFrames = shuffle;
  options.chunkRawBytes = 2048;
  Meta meta;
  meta.hostname = "seed";
  meta.sources = {{0, 11, {1}, "proc connector"}};
  auto writer = TraceWriter::create(path, meta, options);
  if (!writer) return false;
  ProcessInfo info;
  info.pid = 42;
  info.argv = {"/bin/sh", "-c", "true"};
  info.misses = {{InfoField::cwd, MissReason::gone, 2}};
  (void)writer->writeSnapshot(1, Snapshot{{info}});
  for (uint32_t i = 0; i < 60; ++i) (void)writer->writeFrame(10 + i, uint16_t(i % 7 == 0), frameBytes(i, i % 7 == 0 ? 40 + i : 76));
  (void)writer->writeProcessInfo(100, info);
  (void)writer->writeGap(101, Gap{0, 5, GapReason::kernelOverrun, "ENOBUFS"});
  if (!close) return writer->flush().ok();  // the destructor would close it: keep a copy first
  return writer->close().ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  bool ok = writeSeed(dir + "/shuffled.pt", true, true) && writeSeed(dir + "/concatenated.pt", false, true);
  return ok ? 0 : 1;
}
