// A trace is readable without proctape: `zstd -dc | capnp decode` prints it,
// `zstd -t` accepts it, and the shuffled frame layout is undone by hand with
// nothing but zstd, the Cap'n Proto library and the schema's comment.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <capnp/serialize.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proctape.capnp.h"
#include "proctape/format/container.h"
#include "test_support.h"

namespace proctape::format {
namespace {

using test::TempDir;

const std::vector<std::string> kArgv = {"/opt/probe/bin/frobnicate", "--needle=7f3a9c2e", "quux-argument-42"};

// The full path of `name` on $PATH, or empty.
std::string findOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

#define REQUIRE_TOOL(name)                                                                          \
  do {                                                                                              \
    if (findOnPath(name).empty())                                                                   \
      FAIL() << "`" name "` is not on PATH. It is a required test dependency (installed by the "  \
                "setup script); install it rather than skipping this test.";                        \
  } while (0)

struct CommandResult {
  int exitStatus = -1;  // -1: did not exit normally
  std::string output;   // stdout and stderr
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exitStatus = WEXITSTATUS(status);
  return result;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

ProcessInfo probeInfo() {
  ProcessInfo info;
  info.pid = info.tgid = 31337;
  info.ppid = 1;
  info.argv = kArgv;
  info.exe = "/opt/probe/bin/frobnicate";
  info.cwd = "/var/probe";
  info.comm = "frobnicate";
  info.startTimeTicks = 424242;
  info.reason = InfoReason::exec;
  return info;
}

constexpr uint32_t kFrames = 200;
constexpr size_t kFrameSize = 76;

// Writes the sample trace and returns the frames in it.
std::vector<std::vector<uint8_t>> writeSampleTrace(const std::string& path) {
  std::vector<std::vector<uint8_t>> frames;
  auto writer = TraceWriter::create(path, test::testMeta(), test::deterministicOptions());
  EXPECT_TRUE(writer) << writer.error().message;
  if (!writer) return frames;
  EXPECT_TRUE(writer->writeProcessInfo(1000, probeInfo()));
  for (uint32_t i = 0; i < kFrames; ++i) {
    frames.push_back(test::sampleFrame(i, kFrameSize));
    EXPECT_TRUE(writer->writeFrame(2000 + int64_t(i) * 10, 0, frames.back()));
  }
  EXPECT_TRUE(writer->close());
  return frames;
}

TEST(StockTools, ZstdAndCapnpDecodePrintTheTrace) {
  REQUIRE_TOOL("zstd");
  REQUIRE_TOOL("capnp");
  TempDir dir;
  const std::string file = dir.file("t.pt");
  writeSampleTrace(file);
  ASSERT_FALSE(HasFailure());

  auto test = run("zstd -q -t " + quoted(file));
  EXPECT_EQ(test.exitStatus, 0) << test.output;

  auto decoded = run("zstd -q -dc " + quoted(file) + " | capnp decode " + quoted(PROCTAPE_SCHEMA) + " Chunk");
  ASSERT_EQ(decoded.exitStatus, 0) << decoded.output;
  const std::string& text = decoded.output;
  auto meta = test::testMeta();
  EXPECT_NE(text.find("hostname = \"" + meta.hostname + "\""), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("kernelRelease = \"" + meta.kernelRelease + "\""), std::string::npos);
  for (const auto& arg : kArgv) EXPECT_NE(text.find("\"" + arg + "\""), std::string::npos) << arg;
  EXPECT_NE(text.find("layout = shuffled"), std::string::npos);
  // One message per chunk: the meta chunk and the data chunk, nothing from the
  // skippable frames (header, chunk headers, index, trailer).
  size_t chunks = 0;
  for (size_t at = text.find("seq = "); at != std::string::npos; at = text.find("seq = ", at + 1)) ++chunks;
  EXPECT_EQ(chunks, 2u) << text.substr(0, 2000);
}

TEST(StockTools, ShuffledFramesUntransposeByTheSchemasRecipe) {
  TempDir dir;
  const std::string file = dir.file("t.pt");
  auto frames = writeSampleTrace(file);
  ASSERT_FALSE(HasFailure());
  auto bytes = test::readFile(file);
  ASSERT_GE(bytes.size(), container::kFileHeaderBytes);

  // Walk the chunks: header frame, then the zstd frame it describes.
  std::vector<std::vector<uint8_t>> unshuffled;
  std::vector<int64_t> times;
  std::vector<uint8_t> stored;
  size_t shuffledBatches = 0;
  size_t offset = container::kFileHeaderBytes;
  while (auto header = container::parseChunkHeader(std::span(bytes).subspan(offset))) {
    offset += container::kChunkHeaderBytes;
    ASSERT_LE(offset + header->compressedSize, bytes.size());
    ASSERT_EQ(header->rawSize % sizeof(capnp::word), 0u);
    auto words = kj::heapArray<capnp::word>(header->rawSize / sizeof(capnp::word));
    size_t got = ZSTD_decompress(words.begin(), words.asBytes().size(), bytes.data() + offset, header->compressedSize);
    ASSERT_FALSE(ZSTD_isError(got)) << ZSTD_getErrorName(got);
    ASSERT_EQ(got, header->rawSize);
    offset += header->compressedSize;

    capnp::FlatArrayMessageReader message(words);
    for (auto record : message.getRoot<schema::Chunk>().getRecords()) {
      if (!record.isFrames()) continue;
      auto batch = record.getFrames();
      ASSERT_EQ(batch.getLayout(), schema::FrameLayout::SHUFFLED);
      ++shuffledBatches;
      size_t count = batch.getCount();
      size_t width = batch.getFrameSize();
      auto data = batch.getData();
      ASSERT_EQ(width, kFrameSize);
      ASSERT_EQ(data.size(), count * width);
      ASSERT_EQ(batch.getEnds().size(), 0u);
      ASSERT_EQ(batch.getTimeDeltasNs().size(), count);
      stored.insert(stored.end(), data.begin(), data.end());
      // Byte j of frame i is at data[j * count + i].
      int64_t t = record.getTimeNs();
      for (size_t i = 0; i < count; ++i) {
        std::vector<uint8_t> frame(width);
        for (size_t j = 0; j < width; ++j) frame[j] = data[j * count + i];
        unshuffled.push_back(std::move(frame));
        t += batch.getTimeDeltasNs()[unsigned(i)];
        times.push_back(t);
      }
    }
  }
  // What follows the chunks is the index frame, then the trailer.
  EXPECT_EQ(container::proctapeTag(std::span(bytes).subspan(offset)), container::kTagIndex);
  EXPECT_EQ(shuffledBatches, 1u);
  EXPECT_EQ(unshuffled, frames);
  ASSERT_EQ(times.size(), size_t(kFrames));
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], 2000 + int64_t(i) * 10) << i;
  // The same bytes, only reordered: not the frames laid end to end.
  std::vector<uint8_t> concatenated;
  for (const auto& frame : frames) concatenated.insert(concatenated.end(), frame.begin(), frame.end());
  EXPECT_NE(stored, concatenated);
  std::sort(stored.begin(), stored.end());
  std::sort(concatenated.begin(), concatenated.end());
  EXPECT_EQ(stored, concatenated);
}

}  // namespace
}  // namespace proctape::format
