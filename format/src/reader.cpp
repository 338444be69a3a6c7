#include "proctape/format/reader.h"

#include <algorithm>
#include <array>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "chunk_decoder.h"
#include "decode_pool.h"
#include "mapped_file.h"
#include "proctape/format/container.h"
#include "segment_scanner.h"

namespace proctape::format {
namespace {

namespace fs = std::filesystem;

Result<std::vector<std::string>> segmentPaths(const std::string& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec) return Error{path + ": cannot open: " + ec.message() + " (check the path and its permissions)"};
  if (!fs::is_directory(status)) return std::vector<std::string>{path};
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".pt") continue;
    // The throwing is_regular_file() would escape open() on an entry it
    // cannot stat (a symlink loop, say). Keep such an entry, so that opening
    // it reports the problem as damage; skip what is surely no file, or gone.
    std::error_code statError;
    bool regular = it->is_regular_file(statError);
    bool unknown = statError && statError != std::errc::no_such_file_or_directory;
    if (regular || unknown) files.push_back(it->path().string());
  }
  if (ec) return Error{path + ": cannot list the directory: " + ec.message()};
  if (files.empty()) return Error{path + ": a directory with no trace segments (*.pt files) in it"};
  std::sort(files.begin(), files.end());  // segment names sort in time order
  return files;
}

// The file header of `path`, if it has a valid one.
std::optional<container::FileHeader> peekFileHeader(const std::string& path) {
  std::array<uint8_t, container::kFileHeaderBytes> bytes{};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()))) return std::nullopt;
  container::FileHeaderStatus status;
  auto header = container::parseFileHeader(bytes, &status);
  return status == container::FileHeaderStatus::ok ? header : std::nullopt;
}

// Segment names sort in time order while the realtime clock runs forward; one
// stepped back during a recording (before this version's writer prevented it)
// made a later segment's name sort first. The numbers in the file headers are
// a recording's own order. So the places a recording's segments take in name
// order are filled with them in number order; everything else (other
// recordings, files with no readable header) keeps its place.
std::vector<std::string> inRecordingOrder(std::vector<std::string> paths) {
  std::map<TraceUuid, std::vector<std::pair<uint32_t, size_t>>> recordings;  // number, name position
  for (size_t i = 0; i < paths.size(); ++i)
    if (auto header = peekFileHeader(paths[i])) recordings[header->traceUuid].emplace_back(header->segmentIndex, i);
  std::vector<std::string> ordered = paths;
  for (auto& [uuid, segments] : recordings) {
    std::vector<size_t> places;
    for (const auto& segment : segments) places.push_back(segment.second);  // ascending: names were sorted
    std::sort(segments.begin(), segments.end());
    for (size_t k = 0; k < segments.size(); ++k) ordered[places[k]] = paths[segments[k].second];
  }
  return ordered;
}

}  // namespace

const char* toString(DamageKind kind) {
  switch (kind) {
    case DamageKind::truncated: return "truncated";
    case DamageKind::corruptChunk: return "corrupt chunk";
    case DamageKind::unexpectedBytes: return "unexpected bytes";
    case DamageKind::badRecord: return "bad record";
    case DamageKind::notClosed: return "not closed";
    case DamageKind::badIndex: return "bad index";
    case DamageKind::notATrace: return "not a trace";
    case DamageKind::missingSegment: return "missing segment";
    case DamageKind::duplicateSegment: return "duplicate segment";
    case DamageKind::missingChunk: return "missing chunk";
    case DamageKind::duplicateChunk: return "duplicate chunk";
  }
  return "?";
}

bool losesRecords(DamageKind kind) {
  return kind != DamageKind::notClosed && kind != DamageKind::badIndex && kind != DamageKind::duplicateSegment &&
         kind != DamageKind::duplicateChunk;
}

std::string describe(const Damage& d) {
  return d.file + ": offset " + std::to_string(d.offset) + ": " + toString(d.kind) + ", " +
         std::to_string(d.bytesSkipped) + " bytes skipped: " + d.detail;
}

struct TraceReader::Impl {
  ReaderOptions options;
  std::vector<std::shared_ptr<const MappedFile>> files;
  std::vector<SegmentInfo> segments;
  std::vector<ChunkInfo> chunks;
  std::vector<Damage> damage;
  std::optional<Meta> meta;

  size_t window = 1;
  size_t nextToDecode = 0;
  std::unique_ptr<DecodePool> pool;  // none: decode on the caller's thread
  std::deque<size_t> inFlight;       // submitted to the pool, in file order
  std::shared_ptr<DecodedChunk> current;
  // Chunks read to their end, until no one else holds them: the pool frees them.
  std::vector<std::shared_ptr<DecodedChunk>> retired;
  size_t position = 0;
  std::optional<int64_t> seekTime;

  Status addSegment(const std::string& path, bool onlyFile);
  void checkSegmentSequence();
  std::shared_ptr<DecodedChunk> spare;  // without a pool: the last chunk read, for reuse
  std::shared_ptr<DecodedChunk> decode(size_t chunk, std::shared_ptr<DecodedChunk> reuse) const {
    const ChunkInfo& info = chunks[chunk];
    const auto& file = files[info.segment];
    return decodeChunk(file->bytes(), file->path(), info, segments[info.segment].indexed, std::move(reuse));
  }
  void schedule();
  void retire(std::shared_ptr<DecodedChunk> chunk);
  bool advanceChunk();
  void drain();
  void readMeta();
};

Status TraceReader::Impl::addSegment(const std::string& path, bool onlyFile) {
  auto mapped = MappedFile::open(path);
  if (!mapped) {
    if (onlyFile) return mapped.error();
    // A segment that cannot be opened (unreadable, or pruned by a rotating
    // recorder since the directory was listed) must not hide the others.
    damage.push_back({path, 0, DamageKind::notATrace, 0, mapped.error().message});
    return okStatus();
  }
  auto scanned = scanSegment((*mapped)->bytes(), path, files.size(), options.useIndex);
  if (!scanned) {
    if (onlyFile) return scanned.error();
    // One bad file in a directory must not hide the others.
    damage.push_back({path, 0, DamageKind::notATrace, (*mapped)->bytes().size(), scanned.error().message});
    return okStatus();
  }
  files.push_back(*mapped);
  segments.push_back(scanned->info);
  chunks.insert(chunks.end(), scanned->chunks.begin(), scanned->chunks.end());
  damage.insert(damage.end(), scanned->damage.begin(), scanned->damage.end());
  return okStatus();
}

// A recording numbers its segments from 0, in reading order, under one uuid. A
// number skipped between two segments read means segments were deleted or
// lost (a rotating recorder's --keep deletes only the oldest, so a recording
// may begin past 0: no damage). A number seen again is a copy, left out.
void TraceReader::Impl::checkSegmentSequence() {
  std::vector<bool> leftOut(segments.size(), false);
  const SegmentInfo* previous = nullptr;
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentInfo& segment = segments[i];
    if (segment.headerDamaged) {
      previous = nullptr;  // its number is unknown
      continue;
    }
    if (previous && previous->traceUuid == segment.traceUuid) {
      if (segment.segmentIndex <= previous->segmentIndex) {
        damage.push_back({segment.path, 0, DamageKind::duplicateSegment, segment.size,
                          "segment " + std::to_string(segment.segmentIndex) + " of its recording, after segment " +
                              std::to_string(previous->segmentIndex) + " (" + previous->path +
                              "): a copy; left out"});
        leftOut[i] = true;
        continue;
      }
      if (uint32_t missing = segment.segmentIndex - previous->segmentIndex - 1; missing > 0)
        damage.push_back({segment.path, 0, DamageKind::missingSegment, 0,
                          std::to_string(missing) + (missing == 1 ? " segment" : " segments") +
                              " of this recording (number " + std::to_string(previous->segmentIndex + 1) +
                              (missing == 1 ? "" : " to " + std::to_string(segment.segmentIndex - 1)) +
                              ") missing before this one: deleted or never written, their events are lost"});
    }
    previous = &segment;
  }
  std::erase_if(chunks, [&leftOut](const ChunkInfo& chunk) { return leftOut[chunk.segment]; });
}

void TraceReader::Impl::schedule() {
  if (!pool) return;
  while (inFlight.size() < window && nextToDecode < chunks.size()) {
    pool->submit(nextToDecode);
    inFlight.push_back(nextToDecode++);
  }
}

// Hands chunks that only this reader still holds to the pool to free. Others
// may hold a chunk a while (events share its records, see currentChunk());
// those are looked at again next time. Nothing else copies the handles of
// retired chunks, so a count of one stays one.
void TraceReader::Impl::retire(std::shared_ptr<DecodedChunk> chunk) {
  if (!pool) {  // recycled here, on the only thread, when no event holds it
    if (kRecycleChunks && chunk && chunk.use_count() == 1) {
      chunk->recycle();
      spare = std::move(chunk);
    }
    return;
  }
  if (chunk) retired.push_back(std::move(chunk));
  std::erase_if(retired, [this](std::shared_ptr<DecodedChunk>& held) {
    if (held.use_count() != 1) return false;
    pool->dispose(std::move(held));
    return true;
  });
  constexpr size_t kMaxRetired = 64;  // held elsewhere for long: let those free themselves
  if (retired.size() > kMaxRetired) retired.erase(retired.begin(), retired.begin() + ptrdiff_t(retired.size() / 2));
}

bool TraceReader::Impl::advanceChunk() {
  retire(std::move(current));
  schedule();
  if (pool && !inFlight.empty()) {
    current = pool->take(inFlight.front());
    inFlight.pop_front();
  } else if (!pool && nextToDecode < chunks.size()) {
    current = decode(nextToDecode++, std::move(spare));
  } else {
    return false;
  }
  position = 0;
  for (const auto& d : current->damage) {
    // A chunk decoded again after a seek reports the same damage: keep one.
    bool known = std::any_of(damage.begin(), damage.end(), [&d](const Damage& e) {
      return e.file == d.file && e.offset == d.offset && e.kind == d.kind && e.detail == d.detail;
    });
    if (!known) damage.push_back(d);
  }
  schedule();
  return true;
}

void TraceReader::Impl::drain() {
  if (pool) pool->clear();
  inFlight.clear();
}

void TraceReader::Impl::readMeta() {
  for (size_t i = 0; i < chunks.size() && i < 2 && !meta; ++i) {
    auto chunk = decode(i, nullptr);
    for (const auto& record : chunk->records)
      if (auto m = std::get_if<const Meta*>(&record.body)) {
        meta = **m;
        break;
      }
  }
}

TraceReader::TraceReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() {
  if (impl_) impl_->drain();
}

Result<TraceReader> TraceReader::open(const std::string& path, ReaderOptions options) {
  auto paths = segmentPaths(path);
  if (!paths) return paths.error();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  impl->window = size_t(threads) * 2;
  bool onlyFile = paths->size() == 1 && !std::filesystem::is_directory(path);
  if (!onlyFile) *paths = inRecordingOrder(std::move(*paths));
  for (const auto& file : *paths)
    if (auto status = impl->addSegment(file, onlyFile); !status) return status.error();
  if (impl->files.empty()) return Error{path + ": none of its files is a readable proctape trace"};
  impl->checkSegmentSequence();
  // In reading order: by file, then offset.
  std::map<std::string, size_t> readingPosition;
  for (size_t i = 0; i < paths->size(); ++i) readingPosition.emplace((*paths)[i], i);
  auto place = [&readingPosition](const Damage& d) {
    auto it = readingPosition.find(d.file);
    return std::pair(it == readingPosition.end() ? readingPosition.size() : it->second, d.offset);
  };
  std::stable_sort(impl->damage.begin(), impl->damage.end(),
                   [&place](const Damage& a, const Damage& b) { return place(a) < place(b); });
  impl->readMeta();
  // More threads than chunks would only wait (and thousands cannot all start).
  threads = unsigned(std::min<size_t>(threads, std::max<size_t>(1, impl->chunks.size())));
  impl->window = size_t(threads) * 2;
  if (threads > 1) impl->pool = std::make_unique<DecodePool>(threads, [p = impl.get()](size_t c, std::shared_ptr<DecodedChunk> reuse) { return p->decode(c, std::move(reuse)); });
  return TraceReader(std::move(impl));
}

bool TraceReader::next(Record& record) {
  Impl& s = *impl_;
  for (;;) {
    if (s.current && s.position < s.current->records.size()) {
      const Record& candidate = s.current->records[s.position++];
      if (s.seekTime && candidate.timeNs < *s.seekTime) continue;
      s.seekTime.reset();
      record = candidate;
      return true;
    }
    if (!s.advanceChunk()) {
      s.current.reset();
      return false;
    }
  }
}

void TraceReader::seek(int64_t timeNs) {
  Impl& s = *impl_;
  s.drain();
  s.current.reset();
  auto it = std::find_if(s.chunks.begin(), s.chunks.end(), [timeNs](const ChunkInfo& c) { return c.lastTimeNs >= timeNs; });
  s.nextToDecode = size_t(it - s.chunks.begin());
  s.seekTime = timeNs;
}

void TraceReader::seekChunk(size_t chunk) {
  Impl& s = *impl_;
  s.drain();
  s.current.reset();
  s.nextToDecode = std::min(chunk, s.chunks.size());
  s.seekTime.reset();
}

std::shared_ptr<const void> TraceReader::currentChunk() const { return impl_->current; }

const std::optional<Meta>& TraceReader::meta() const { return impl_->meta; }
const std::vector<SegmentInfo>& TraceReader::segments() const { return impl_->segments; }
const std::vector<ChunkInfo>& TraceReader::chunks() const { return impl_->chunks; }
const std::vector<Damage>& TraceReader::damage() const { return impl_->damage; }

}  // namespace proctape::format
