#include "chunk_decoder.h"

#include <zstd.h>

#include <capnp/serialize.h>

#include <optional>
#include <string>

#include "crc32c.h"
#include "frame_batch.h"
#include "proctape.capnp.h"
#include "proctape/format/container.h"
#include "schema_convert.h"

namespace proctape::format {
namespace {

using container::ChunkHeader;

struct DctxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

ZSTD_DCtx* threadDctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  return dctx.get();
}

// The decompressed message of the chunk being decoded: nothing points into
// it once the chunk's records are converted. Kept per thread up to a size
// well above the writer's chunks (2 MiB by default), because a fresh
// allocation of megabytes per chunk cost the allocator dearly (each one
// consolidates its free lists); a bigger chunk gets its own allocation.
class MessageBuffer {
 public:
  kj::ArrayPtr<capnp::word> words(size_t count) {
    thread_local std::unique_ptr<capnp::word[]> kept;
    thread_local size_t keptCount = 0;
    if (count * sizeof(capnp::word) > kKeptBytes) {
      own_ = std::make_unique_for_overwrite<capnp::word[]>(count);
      return {own_.get(), count};
    }
    if (count > keptCount) {
      kept = std::make_unique_for_overwrite<capnp::word[]>(count);
      keptCount = count;
    }
    return {kept.get(), count};
  }

 private:
  static constexpr size_t kKeptBytes = 16u << 20;
  std::unique_ptr<capnp::word[]> own_;
};

class ChunkDecoder {
 public:
  ChunkDecoder(std::span<const uint8_t> file, const std::string& path, const ChunkInfo& info,
               std::shared_ptr<DecodedChunk> reuse)
      : file_(file), path_(path), info_(info), out_(reuse ? std::move(reuse) : std::make_shared<DecodedChunk>()) {}

  std::shared_ptr<DecodedChunk> run(bool expectHeader);

 private:
  void damage(std::string detail, DamageKind kind = DamageKind::corruptChunk) {
    uint64_t extent = losesRecords(kind) ? container::kChunkHeaderBytes + uint64_t(info_.compressedSize) : 0;
    out_->damage.push_back({path_, info_.offset, kind, kind == DamageKind::badRecord ? 0 : extent, std::move(detail)});
  }
  std::optional<ChunkHeader> readHeader(bool expectHeader);
  std::optional<kj::ArrayPtr<capnp::word>> decompress(const ChunkHeader& header);
  void readMessage(const ChunkHeader& header, kj::ArrayPtr<const capnp::word> words);
  void readRecords(schema::Chunk::Reader chunk, const ChunkHeader& header);
  std::optional<std::string> readFrames(schema::FrameBatch::Reader batch, int64_t timeNs);
  ProcessInfo& nextInfo(schema::ProcessInfo::Reader in) {
    auto& infos = out_->infos;
    ProcessInfo& info = out_->infosUsed < infos.size() ? infos[out_->infosUsed] : infos.emplace_back();
    ++out_->infosUsed;
    readProcessInfoInto(in, info);
    return info;
  }

  std::span<const uint8_t> file_;
  const std::string& path_;
  ChunkInfo info_;
  std::shared_ptr<DecodedChunk> out_;
  MessageBuffer message_;
};

std::optional<ChunkHeader> ChunkDecoder::readHeader(bool expectHeader) {
  if (info_.offset > file_.size()) {
    damage("the chunk lies beyond the end of the file");
    return std::nullopt;
  }
  auto header = container::parseChunkHeader(file_.subspan(info_.offset));
  if (!header) {
    damage("the chunk header failed its checks (magic, size or CRC-32C)");
    return std::nullopt;
  }
  bool matches = header->seq == info_.seq && header->compressedSize == info_.compressedSize &&
                 header->firstTimeNs == info_.firstTimeNs && header->lastTimeNs == info_.lastTimeNs &&
                 header->recordCount == info_.recordCount;
  // The header passed its own CRC, so it is the better witness: read the
  // chunk by it, and blame the index.
  if (expectHeader && !matches)
    damage("the index's entry for chunk " + std::to_string(info_.seq) +
               " disagrees with the chunk's header (which passed its CRC); the chunk was read by its header",
           DamageKind::badIndex);
  return header;
}

std::optional<kj::ArrayPtr<capnp::word>> ChunkDecoder::decompress(const ChunkHeader& header) {
  uint64_t start = info_.offset + container::kChunkHeaderBytes;
  if (start + header.compressedSize > file_.size()) {
    damage("the chunk runs past the end of the file");
    return std::nullopt;
  }
  auto payload = file_.subspan(start, header.compressedSize);
  if (crc32c(payload) != header.payloadCrc) {
    damage("the chunk's bytes fail their CRC-32C (the file was altered or the disk is bad)");
    return std::nullopt;
  }
  if (header.rawSize % sizeof(capnp::word) != 0 || header.rawSize > container::kMaxChunkRawBytes ||
      !container::expansionAllowed(header.compressedSize, header.rawSize)) {
    damage("the chunk claims an impossible size of " + std::to_string(header.rawSize) + " bytes");
    return std::nullopt;
  }
  if (ZSTD_getFrameContentSize(payload.data(), payload.size()) != header.rawSize ||
      ZSTD_findFrameCompressedSize(payload.data(), payload.size()) != payload.size()) {
    damage("the chunk's zstd frame does not match its header's sizes");
    return std::nullopt;
  }
  auto words = message_.words(header.rawSize / sizeof(capnp::word));
  size_t got = ZSTD_decompressDCtx(threadDctx(), words.begin(), header.rawSize, payload.data(), payload.size());
  if (ZSTD_isError(got) || got != header.rawSize) {
    damage(std::string("zstd cannot decompress the chunk: ") +
           (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output"));
    return std::nullopt;
  }
  return words;
}

std::optional<std::string> ChunkDecoder::readFrames(schema::FrameBatch::Reader batch, int64_t timeNs) {
  uint32_t count = batch.getCount();
  auto data = batch.getData();
  auto deltas = batch.getTimeDeltasNs();
  if (deltas.size() != count) return "a frame batch has " + std::to_string(deltas.size()) + " times for " +
                                     std::to_string(count) + " frames";
  // Check every time and size before handing out any frame: a bad batch is skipped whole.
  int64_t last = timeNs;
  for (uint32_t i = 0; i < count; ++i)
    if (__builtin_add_overflow(last, int64_t(deltas[i]), &last)) return "a frame time overflows";
  uint16_t source = batch.getSourceId();
  int64_t time = timeNs;
  if (batch.getLayout() == schema::FrameLayout::SHUFFLED) {
    uint64_t size = batch.getFrameSize();
    if (size * count != data.size()) return "a shuffled frame batch's size does not add up";
    uint8_t* frames = out_->frameBytes.take(data.size());
    if (!frames) return "frame data beyond what the chunk holds";
    unshuffleBytes(data.begin(), count, size, frames);
    for (uint32_t i = 0; i < count; ++i) {
      time += deltas[i];
      out_->records.push_back({time, Frame{source, {frames + i * size, size}}});
    }
    return std::nullopt;
  }
  if (batch.getLayout() != schema::FrameLayout::CONCATENATED) return "a frame batch has an unknown layout";
  auto ends = batch.getEnds();
  if (ends.size() != count) return "a frame batch has " + std::to_string(ends.size()) + " ends for " +
                                   std::to_string(count) + " frames";
  uint32_t previous = 0;
  for (uint32_t end : ends) {
    if (end < previous || end > data.size()) return "a frame batch's end offsets are out of order";
    previous = end;
  }
  if (previous != data.size()) return "a frame batch's ends do not cover its data";
  uint8_t* frames = out_->frameBytes.take(data.size());
  if (!frames) return "frame data beyond what the chunk holds";
  std::copy(data.begin(), data.end(), frames);
  uint32_t start = 0;
  for (uint32_t i = 0; i < count; ++i) {
    time += deltas[i];
    out_->records.push_back({time, Frame{source, {frames + start, ends[i] - start}}});
    start = ends[i];
  }
  return std::nullopt;
}

void ChunkDecoder::readRecords(schema::Chunk::Reader chunk, const ChunkHeader& header) {
  auto records = chunk.getRecords();
  size_t frameBytes = 0;
  for (auto record : records)
    if (record.isFrames()) frameBytes += record.getFrames().getData().size();
  // Sized once, so that spans into it stay valid while frames are appended.
  out_->frameBytes.reset(frameBytes);
  out_->records.reserve(std::min<size_t>(header.recordCount, header.rawSize / 4 + 16));
  for (size_t i = 0; i < records.size(); ++i) {
    auto record = records[unsigned(i)];
    int64_t t = record.getTimeNs();
    switch (record.which()) {
      case schema::Record::META: out_->records.push_back({t, &out_->metas.emplace_back(readMeta(record.getMeta()))}); break;
      case schema::Record::PROCESS_INFO:
        out_->records.push_back({t, &nextInfo(record.getProcessInfo())});
        break;
      case schema::Record::SNAPSHOT:
        out_->records.push_back({t, &out_->snapshots.emplace_back(readSnapshot(record.getSnapshot()))});
        break;
      case schema::Record::GAP: out_->records.push_back({t, &out_->gaps.emplace_back(readGap(record.getGap()))}); break;
      case schema::Record::CLOCKS:
        out_->records.push_back({t, &out_->clocks.emplace_back(readClockAnchor(record.getClocks()))});
        break;
      case schema::Record::FRAMES:
        if (auto error = readFrames(record.getFrames(), t))
          damage("record " + std::to_string(i) + ": " + *error + "; the record was skipped", DamageKind::badRecord);
        break;
      default: break;  // a record kind from a newer minor version: skipped, as the format promises
    }
  }
}

void ChunkDecoder::readMessage(const ChunkHeader& header, kj::ArrayPtr<const capnp::word> words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words.size() * 4 + 1024;  // bounds work by input size
  options.nestingLimit = 16;
  try {
    capnp::FlatArrayMessageReader message(words, options);
    auto chunk = message.getRoot<schema::Chunk>();
    if (chunk.getSeq() != header.seq) {
      damage("the chunk message says seq " + std::to_string(chunk.getSeq()) + ", its header " +
             std::to_string(header.seq));
      return;
    }
    readRecords(chunk, header);
  } catch (const kj::Exception& e) {
    out_->records.clear();
    damage(std::string("the chunk is not a valid message: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {  // e.g. bad_alloc on a list that claims too much
    out_->records.clear();
    damage(std::string("the chunk could not be decoded: ") + e.what());
  }
}

std::shared_ptr<DecodedChunk> ChunkDecoder::run(bool expectHeader) {
  auto header = readHeader(expectHeader);
  if (!header) return out_;
  auto words = decompress(*header);
  if (!words) return out_;
  readMessage(*header, *words);
  return out_;
}

}  // namespace

std::shared_ptr<DecodedChunk> decodeChunk(std::span<const uint8_t> file, const std::string& path,
                                          const ChunkInfo& info, bool expectHeader,
                                          std::shared_ptr<DecodedChunk> reuse) {
  return ChunkDecoder(file, path, info, std::move(reuse)).run(expectHeader);
}

void DecodedChunk::recycle() {
  infosUsed = 0;
  metas.clear();
  snapshots.clear();
  gaps.clear();
  clocks.clear();
  records.clear();
  damage.clear();
}

}  // namespace proctape::format
