// libFuzzer target: arbitrary bytes as one trace segment, through everything
// the reader does with a file (header, index, scan with resync, chunk decode),
// touching every record so decoded data is really read.
#include <cstddef>
#include <cstdint>
#include <span>

#include "chunk_decoder.h"
#include "segment_scanner.h"

using namespace proctape::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> file(data, size);
  static const std::string kPath = "fuzz-input.pt";
  for (bool useIndex : {true, false}) {
    auto scanned = scanSegment(file, kPath, 0, useIndex);
    if (!scanned) continue;
    for (const auto& chunk : scanned->chunks) {
      auto decoded = decodeChunk(file, kPath, chunk, scanned->info.indexed);
      volatile uint64_t sink = 0;
      for (const auto& record : decoded->records) {
        if (auto* frame = std::get_if<Frame>(&record.body))
          for (uint8_t byte : frame->bytes) sink = sink + byte;
        else if (auto* info = std::get_if<const ProcessInfo*>(&record.body))
          sink = sink + (*info)->argv.size() + (*info)->exe.size();
      }
    }
  }
  return 0;
}
