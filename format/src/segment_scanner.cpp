#include "segment_scanner.h"

#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "proctape.capnp.h"
#include "proctape/format/container.h"

namespace proctape::format {
namespace {

namespace c = container;

std::string versionText(uint16_t major, uint16_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

class Scanner {
 public:
  Scanner(std::span<const uint8_t> file, const std::string& path, ScannedSegment& out)
      : file_(file), path_(path), out_(out) {}

  bool loadIndex();
  void walk();

 private:
  void addDamage(uint64_t offset, DamageKind kind, uint64_t skipped, std::string detail) {
    out_.damage.push_back({path_, offset, kind, skipped, std::move(detail)});
  }
  std::optional<std::vector<c::IndexEntry>> readIndexEntries(uint64_t indexOffset, uint64_t trailerOffset);
  bool entryMatchesChunk(const c::IndexEntry& entry) const;
  void leaveOutDuplicateChunks();
  void reportMissingChunks();
  bool damagedBytesBefore(uint64_t offset) const;
  bool sameBytes(const ChunkInfo& a, const ChunkInfo& b) const;
  bool stepOverFrame(size_t& offset, bool& closed);
  void resync(size_t& offset);

  std::span<const uint8_t> file_;
  const std::string& path_;
  ScannedSegment& out_;
  bool sawIndex_ = false;        // an index frame was walked over
  bool trailerDamaged_ = false;  // a trailer, or other bytes, after the index, but no valid trailer
  bool trailerSeen_ = false;     // a trailer that passed its checks (perhaps not at the end)
  struct Listed {
    uint64_t chunks = 0;       // as many as an intact index lists
    uint64_t indexOffset = 0;  // where that index begins
  };
  std::optional<Listed> listed_;
};

std::optional<std::vector<c::IndexEntry>> Scanner::readIndexEntries(uint64_t indexOffset, uint64_t trailerOffset) {
  if (indexOffset < c::kFileHeaderBytes || indexOffset >= trailerOffset) return std::nullopt;
  auto frame = file_.subspan(indexOffset, trailerOffset - indexOffset);
  auto message = c::parseIndexFrame(frame);
  if (!message || c::kIndexPrefixBytes + message->size() != frame.size() || message->size() % 8 != 0)
    return std::nullopt;
  // Copy into words: the frame's position in the file gives no alignment.
  auto words = kj::heapArray<capnp::word>(message->size() / 8);
  std::memcpy(words.begin(), message->data(), message->size());
  std::vector<c::IndexEntry> entries;
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 2 + 64;
    capnp::FlatArrayMessageReader reader(words, options);
    for (auto e : reader.getRoot<schema::Index>().getChunks())
      entries.push_back({e.getOffset(), e.getSeq(), e.getFirstTimeNs(), e.getLastTimeNs(), e.getRecordCount(),
                         e.getCompressedSize()});
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
  return entries;
}

// No intact chunk header at the entry's offset names another chunk. An index
// kept after chunks were moved, or copied from another file, would send the
// reader into the middle of chunks. (A header that fails its CRC is damage to
// that chunk, which the index lets the reader step over.)
bool Scanner::entryMatchesChunk(const c::IndexEntry& entry) const {
  if (entry.offset >= file_.size()) return false;
  auto header = c::parseChunkHeader(file_.subspan(entry.offset));
  return !header || (header->seq == entry.seq && header->compressedSize == entry.compressedSize);
}

// Uses the index only if it describes the file exactly: chunks back to back
// from the header to the index. Anything else means the file is not what its
// index says, and walking it is the safe answer.
bool Scanner::loadIndex() {
  if (file_.size() < c::kFileHeaderBytes + c::kTrailerBytes) return false;
  uint64_t trailerOffset = file_.size() - c::kTrailerBytes;
  auto trailer = c::parseTrailer(file_.subspan(trailerOffset));
  if (!trailer) return false;
  auto entries = readIndexEntries(trailer->indexOffset, trailerOffset);
  uint64_t expected = c::kFileHeaderBytes;
  bool consistent = entries && entries->size() == trailer->chunkCount;
  for (size_t i = 0; consistent && i < entries->size(); ++i) {
    const auto& e = (*entries)[i];
    consistent = e.offset == expected && e.seq == i && entryMatchesChunk(e);
    expected = e.offset + c::kChunkHeaderBytes + e.compressedSize;
  }
  if (!consistent || expected != trailer->indexOffset) {
    addDamage(trailerOffset, DamageKind::badIndex, 0, "the index does not match the file; scanned the chunks instead");
    return false;
  }
  for (const auto& e : *entries)
    out_.chunks.push_back({out_.info.segmentIndex, e.offset, e.seq, e.firstTimeNs, e.lastTimeNs, e.recordCount,
                           e.compressedSize, 0});
  out_.info.indexed = true;
  return true;
}

// True when `rest` (the end of the file) is the start of a proctape frame
// that the end of the file cut short: every frame opens with zstd's
// skippable-frame magic and its size.
bool cutShortFrame(std::span<const uint8_t> rest) {
  static constexpr uint8_t kMagic[] = {0x5E, 0x2A, 0x4D, 0x18};  // kSkippableMagic, little-endian
  if (std::memcmp(rest.data(), kMagic, std::min(rest.size(), sizeof kMagic)) != 0) return false;
  uint32_t size = 0;
  return !c::isSkippableFrame(rest, &size) || size > rest.size() - c::kFrameHeaderBytes;
}

void Scanner::resync(size_t& offset) {
  trailerDamaged_ = trailerDamaged_ || sawIndex_;  // bytes after the index where its trailer belongs
  auto next = c::findChunkHeader(file_, offset + 1);
  size_t to = next.value_or(file_.size());
  if (next)
    addDamage(offset, DamageKind::unexpectedBytes, to - offset,
              "bytes that are no proctape frame; resumed at the next chunk header");
  else if (cutShortFrame(file_.subspan(offset)))
    addDamage(offset, DamageKind::truncated, to - offset, "the file ends inside a frame; the rest was ignored");
  else
    addDamage(offset, DamageKind::unexpectedBytes, to - offset,
              "bytes at the end that are no proctape frame (appended to the file, or a damaged trailer); ignored");
  offset = to;
}

// Advances past one frame at `offset`; false if none is recognisable there.
bool Scanner::stepOverFrame(size_t& offset, bool& closed) {
  auto rest = file_.subspan(offset);
  if (auto header = c::parseChunkHeader(rest)) {
    uint64_t end = uint64_t(offset) + c::kChunkHeaderBytes + header->compressedSize;
    if (end > file_.size()) {
      addDamage(offset, DamageKind::truncated, file_.size() - offset,
                "the file ends inside chunk " + std::to_string(header->seq) + " (a recorder stopped mid-write?)");
      offset = file_.size();
      return true;
    }
    out_.chunks.push_back({out_.info.segmentIndex, offset, header->seq, header->firstTimeNs, header->lastTimeNs,
                           header->recordCount, header->compressedSize, header->rawSize});
    offset = size_t(end);
    return true;
  }
  uint32_t tag = c::proctapeTag(rest);
  uint32_t size = 0;
  if ((tag == c::kTagIndex || tag == c::kTagTrailer) && c::isSkippableFrame(rest, &size) &&
      size <= rest.size() - c::kFrameHeaderBytes) {
    bool trailer = tag == c::kTagTrailer && c::parseTrailer(rest);
    closed = trailer && offset + c::kTrailerBytes == file_.size();
    sawIndex_ = sawIndex_ || tag == c::kTagIndex;
    // An index whose CRC holds says how many chunks the file had, even when
    // it no longer matches the file: the scan checks that (chunks cut from the end).
    if (tag == c::kTagIndex) {
      if (auto entries = readIndexEntries(offset, offset + c::kFrameHeaderBytes + size))
        listed_ = Listed{entries->size(), offset};
    }
    trailerSeen_ = trailerSeen_ || trailer;
    trailerDamaged_ = trailerDamaged_ || (tag == c::kTagTrailer && !trailer);
    offset += c::kFrameHeaderBytes + size;
    return true;
  }
  return false;
}

void Scanner::walk() {
  size_t offset = c::kFileHeaderBytes;
  bool closed = false;
  while (offset < file_.size()) {
    if (!stepOverFrame(offset, closed)) resync(offset);
  }
  leaveOutDuplicateChunks();
  reportMissingChunks();
  bool endsInDamage = !out_.damage.empty() && out_.damage.back().kind == DamageKind::truncated;
  // A valid trailer followed by more bytes: those are reported, the file was closed.
  if (closed || endsInDamage || trailerSeen_) return;
  if (trailerDamaged_)  // the recorder closed it: only the trailer after its index is damaged
    addDamage(file_.size(), DamageKind::badIndex, 0,
              "the trailer after the index is damaged; every chunk was scanned and read");
  else
    addDamage(file_.size(), DamageKind::notClosed, 0,
              "no index at the end: the recorder did not close this file (every complete chunk was read)");
}

// A recorder numbers a file's chunks 0, 1, 2... An index proves the sequence;
// a scanned file has only the numbers to show a chunk written twice (a copy
// made by hand or by a faulty tool) or cut out of the file.
void Scanner::leaveOutDuplicateChunks() {
  std::map<uint64_t, const ChunkInfo*> first;  // by number
  std::vector<ChunkInfo> kept;
  for (const auto& chunk : out_.chunks) {
    auto [at, isNew] = first.emplace(chunk.seq, &chunk);
    if (!isNew && sameBytes(*at->second, chunk)) {
      addDamage(chunk.offset, DamageKind::duplicateChunk, c::kChunkHeaderBytes + chunk.compressedSize,
                "chunk " + std::to_string(chunk.seq) + " again, byte for byte the one at offset " +
                    std::to_string(at->second->offset) + ": left out");
      continue;
    }
    kept.push_back(chunk);  // a different chunk of the same number (two traces joined) is read
  }
  out_.chunks = std::move(kept);
}

bool Scanner::sameBytes(const ChunkInfo& a, const ChunkInfo& b) const {
  size_t size = c::kChunkHeaderBytes + a.compressedSize;
  return a.compressedSize == b.compressedSize &&
         std::memcmp(file_.data() + a.offset, file_.data() + b.offset, size) == 0;
}

// Numbers missing below the highest one read, and past it up to the count an
// intact index lists. Chunks lost in bytes already reported (damaged or
// cut-off bytes just before the next chunk or the index) are not reported
// twice.
void Scanner::reportMissingChunks() {
  // Chunks `from` to `to` - 1, missing before `offset`.
  auto report = [this](uint64_t from, uint64_t to, uint64_t offset, const char* where) {
    uint64_t missing = to - from;
    addDamage(offset, DamageKind::missingChunk, 0,
              std::to_string(missing) + (missing == 1 ? " chunk" : " chunks") + " (number " + std::to_string(from) +
                  (missing == 1 ? "" : " to " + std::to_string(to - 1)) + ") missing " + where +
                  ": cut out of the file, " + (missing == 1 ? "its" : "their") + " records are lost");
  };
  std::map<uint64_t, uint64_t> offsets;  // number -> offset of its first chunk
  for (const auto& chunk : out_.chunks) offsets.emplace(chunk.seq, chunk.offset);
  uint64_t expected = 0;
  for (auto [seq, offset] : offsets) {
    if (seq > expected && !damagedBytesBefore(offset)) report(expected, seq, offset, "before this one");
    expected = seq + 1;
  }
  if (listed_ && expected < listed_->chunks && !damagedBytesBefore(listed_->indexOffset))
    report(expected, listed_->chunks, listed_->indexOffset,
           listed_->chunks - expected == 1 ? "before the index, which lists it" : "before the index, which lists them");
}

// Bytes reported as damage that end where the chunk at `offset` begins.
bool Scanner::damagedBytesBefore(uint64_t offset) const {
  return std::any_of(out_.damage.begin(), out_.damage.end(), [offset](const Damage& d) {
    return d.bytesSkipped > 0 && d.offset + d.bytesSkipped == offset;
  });
}

// A file header that fails its checks but is followed by a chunk header that
// passes its own CRC: a damaged proctape file, not someone else's. (A foreign
// file holds no CRC-checked chunk header at exactly this offset.)
bool chunkFollowsHeader(std::span<const uint8_t> file) {
  return file.size() > c::kFileHeaderBytes && c::parseChunkHeader(file.subspan(c::kFileHeaderBytes)).has_value();
}

}  // namespace

Result<ScannedSegment> scanSegment(std::span<const uint8_t> file, const std::string& path, size_t segment,
                                   bool useIndex) {
  if (file.empty()) return Error{path + ": the file is empty, so it holds no trace"};
  c::FileHeaderStatus status;
  auto header = c::parseFileHeader(file, &status);
  bool headerDamaged = status == c::FileHeaderStatus::notATrace && chunkFollowsHeader(file);
  if (headerDamaged) header = c::FileHeader{kFormatMajor, 0, {}, 0};
  else if (status == c::FileHeaderStatus::notATrace)
    return Error{path + ": not a proctape trace (no valid proctape file header at offset 0)"};
  if (status == c::FileHeaderStatus::newerMajor)
    return Error{path + ": written in trace format " + versionText(header->major, header->minor) +
                 "; this build reads format " + std::to_string(kFormatMajor) + ".x (up to " +
                 versionText(kFormatMajor, kFormatMinor) + " fully). Upgrade proctape to read it."};
  ScannedSegment out;
  out.info = {path, file.size(), header->major, header->minor, header->segmentIndex, false, headerDamaged,
              header->traceUuid};
  if (headerDamaged)
    out.damage.push_back({path, 0, DamageKind::unexpectedBytes, c::kFileHeaderBytes,
                          "the file header fails its checks (a bit flip?), but a valid chunk follows it: "
                          "the chunks were read as format " + std::to_string(kFormatMajor) + ".x"});
  Scanner scanner(file, path, out);
  if (!useIndex || !scanner.loadIndex()) scanner.walk();
  for (auto& chunk : out.chunks) chunk.segment = segment;
  return out;
}

}  // namespace proctape::format
