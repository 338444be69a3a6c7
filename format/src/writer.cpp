#include "proctape/format/writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <variant>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "crc32c.h"
#include "frame_batch.h"
#include "proctape.capnp.h"
#include "proctape/format/clamped.h"
#include "proctape/format/container.h"
#include "schema_convert.h"
#include "segment_names.h"
#include "stored_frame.h"
#include "proctape/format/unique_fd.h"
#include "zstd_sink.h"

namespace proctape::format {
namespace {

namespace fs = std::filesystem;

constexpr TraceUuid kDeterministicUuid = {0x70, 0x72, 0x6f, 0x63, 0x74, 0x61, 0x70, 0x65,
                                          0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x30, 0x31};
// Deterministic clocks follow the records' own times, with the realtime
// clock reading 2026-01-01T00:00:00Z at monotonic zero.
constexpr int64_t kDeterministicEpochNs = 1'767'225'600'000'000'000;

int64_t readClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

TraceUuid randomUuid() {
  TraceUuid uuid{};
  size_t got = 0;
  while (got < uuid.size()) {
    ssize_t n = getrandom(uuid.data() + got, uuid.size() - got, 0);
    if (n > 0) got += size_t(n);
    else if (errno != EINTR) break;
  }
  uuid[6] = uint8_t((uuid[6] & 0x0F) | 0x40);  // RFC 4122 version 4
  uuid[8] = uint8_t((uuid[8] & 0x3F) | 0x80);
  return uuid;
}

std::string errnoText(int err) { return std::strerror(err); }

using PendingBody = std::variant<size_t /* index into runs */, Meta, ProcessInfo, Snapshot, Gap, ClockAnchor>;

struct PendingRecord {
  int64_t timeNs;
  PendingBody body;
};

// Rough uncompressed size of a record, to cut chunks near chunkRawBytes.
size_t estimateBytes(const ProcessInfo& info) {
  size_t n = 160 + info.exe.size() + info.cwd.size() + info.comm.size() + info.cgroup.size();
  for (const auto& arg : info.argv) n += arg.size() + 16;
  return n + info.misses.size() * 8;
}

}  // namespace

// The three clocks are read one after the other, so a preemption between
// the reads would skew every time converted through the anchor by as long as
// the thread waited. Bracket the other two by monotonic reads and keep the
// tightest of a few tries, stamped at its midpoint: a few microseconds of
// error instead of, under load, milliseconds.
ClockAnchor readSystemClocks() {
  ClockAnchor best{};
  int64_t bestSpan = INT64_MAX;
  for (int attempt = 0; attempt < 4 && bestSpan > 20'000; ++attempt) {
    int64_t before = readClock(CLOCK_MONOTONIC);
    int64_t real = readClock(CLOCK_REALTIME);
    int64_t boot = readClock(CLOCK_BOOTTIME);
    int64_t after = readClock(CLOCK_MONOTONIC);
    if (after - before < bestSpan) {
      bestSpan = after - before;
      best = {before + bestSpan / 2, real, boot};
    }
  }
  return best;
}

struct TraceWriter::Impl {
  std::string path;  // file, or directory with rotation
  Meta meta;
  WriterOptions options;

  // The segment being written.
  UniqueFd fd;
  std::string segmentPath;
  // With rotation: the directory, locked for as long as this writer lives,
  // and, with `keep`, the segments this writer finished and has not pruned,
  // oldest first.
  UniqueFd directoryLock;
  std::string firstSegmentName;
  int64_t lastNameRealtimeNs = 0;  // the time in the newest segment's name
  std::vector<fs::path> finishedSegments;
  uint64_t segmentBytes = 0;
  uint64_t unitStart = 0;  // where the piece being written (a chunk, the index) began: all before it is whole
  uint64_t segmentChunks = 0;
  // The segment's age is the span of its records after the meta record: in
  // deterministic mode the first segment's meta is stamped at time zero,
  // before any record exists, and must not count towards maxAgeNs.
  bool segmentHasRecords = false;
  int64_t segmentFirstTimeNs = 0;
  int64_t segmentLastTimeNs = 0;
  std::vector<container::IndexEntry> index;

  // The chunk being gathered.
  std::vector<PendingRecord> pending;
  std::vector<FrameRun> runs;
  uint64_t pendingFrames = 0;
  size_t runsUsed = 0;
  size_t pendingBytes = 0;
  uint32_t pendingCount = 0;
  int64_t chunkFirstNs = 0;
  int64_t chunkLastNs = 0;
  bool anchorWritten = false;
  int64_t lastAnchorNs = 0;

  ZstdContext zstd;
  std::vector<uint8_t> compressed;
  WriterStats stats;
  std::optional<Error> failure;
  bool closed = false;

  Status fail(std::string message) {
    failure = Error{std::move(message)};
    return *failure;
  }
  Status checkUsable() const {
    if (failure) return *failure;
    if (closed) return Error{path + ": the trace is already closed"};
    return okStatus();
  }

  // The clocks now; in deterministic mode, as if now were `recordTimeNs`.
  ClockAnchor clockAt(int64_t recordTimeNs) const {
    if (options.clock) return options.clock();
    if (options.deterministic) return {recordTimeNs, addClamped(kDeterministicEpochNs, recordTimeNs), recordTimeNs};
    return readSystemClocks();
  }
  Status createPrivateFile(const std::string& file);
  void removeUnfinishedFirstSegment();
  Status lockDirectory();
  Status openSegment();
  Status finishSegment();
  Status writeBytes(std::span<const uint8_t> bytes);
  Status cutChunk();
  Status maybeRotate();
  void pruneSegments();
  Status afterAppend();
  void noteRecord(int64_t timeNs, size_t bytes, uint32_t count);
  void maybeAddAnchor(int64_t timeNs);
  FrameRun& runFor(uint16_t sourceId, int64_t timeNs);
  void buildRecord(schema::Record::Builder out, const PendingRecord& record);
  void buildFrames(schema::FrameBatch::Builder out, const FrameRun& run);
  std::vector<uint8_t> encodeIndex() const;
};

// ---- segments ---------------------------------------------------------------

Status TraceWriter::Impl::writeBytes(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      return fail(segmentPath + ": write failed at offset " + std::to_string(segmentBytes) + ": " +
                  errnoText(err) + (err == ENOSPC ? " (the disk is full; free space and record again)" : "") +
                  (unitStart > container::kFileHeaderBytes
                       ? ". Every chunk before offset " + std::to_string(unitStart) + " is complete and readable."
                   : meta.segmentIndex > 0
                       ? ". Nothing of this segment could be written; the segments before it are complete."
                       : ". Nothing of the trace could be written."));
    }
    bytes = bytes.subspan(size_t(n));
    segmentBytes += uint64_t(n);
    stats.fileBytes += uint64_t(n);
  }
  return okStatus();
}

// Opens `file` for a new trace: locked, so that a second writer is refused
// before it truncates the first one's trace; mode 0600 even when the file was
// there before (command lines are sensitive); only then emptied. Something
// that is no regular file (/dev/null) is written to as it is: its mode is
// not ours to change. Symbolic links are followed, as every tool does
// (/dev/stdout, /proc/self/fd/N); fs.protected_symlinks (on by default in
// Debian) keeps root from following another user's link in /tmp and the like.
Status TraceWriter::Impl::createPrivateFile(const std::string& file) {
  // O_NONBLOCK: opening a FIFO nobody reads would block, past every signal
  // and --duration; it fails with ENXIO instead. Writes block again below.
  fd.reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600));
  if (!fd.valid() && errno == ENXIO)
    return fail(file + ": a FIFO that nobody reads yet; start its reader first");
  if (!fd.valid() && errno == EISDIR && !file.empty() && file.back() == '/')
    return fail(file + ": cannot create the trace file: it names a directory (a trailing /); give a file name, or "
                       "--rotate-size or --rotate-time for a directory of segments");
  if (!fd.valid())
    return fail(file + ": cannot create the trace file: " + errnoText(errno) +
                " (check that the directory exists and is writable)");
  if (int flags = ::fcntl(fd.get(), F_GETFL); flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && !S_ISREG(st.st_mode)) return okStatus();
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    fd.reset();
    if (err == EWOULDBLOCK) return fail(file + ": another recorder is writing this trace; choose another -o");
    return fail(file + ": cannot lock the trace file: " + errnoText(err));
  }
  if (::fchmod(fd.get(), 0600) != 0 || ::ftruncate(fd.get(), 0) != 0) {
    int err = errno;
    fd.reset();
    return fail(file + ": cannot make the trace file private and empty: " + errnoText(err));
  }
  return okStatus();
}

// Two recorders in one directory would prune each other's segments and
// interleave two recordings: the second is refused, as on a single file.
Status TraceWriter::Impl::lockDirectory() {
  directoryLock.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directoryLock.valid()) return fail(path + ": cannot open the segment directory: " + errnoText(errno));
  if (::flock(directoryLock.get(), LOCK_EX | LOCK_NB) == 0) return okStatus();
  int err = errno;
  directoryLock.reset();
  if (err == EWOULDBLOCK) return fail(path + ": another recorder is writing into this directory; choose another -o");
  return fail(path + ": cannot lock the segment directory: " + errnoText(err));
}

Status TraceWriter::Impl::openSegment() {
  ClockAnchor now = clockAt(segmentLastTimeNs);
  // Names sort in time order, which readers and --keep rely on. Should the
  // realtime clock step back, a name takes a nanosecond past the last one's
  // time instead of sorting before it.
  lastNameRealtimeNs = std::max(now.realtimeNs, stats.segments > 0 ? lastNameRealtimeNs + 1 : now.realtimeNs);
  segmentPath = options.rotation
                    ? (fs::path(path) / segmentFileName(lastNameRealtimeNs, uint32_t(stats.segments))).string()
                    : path;
  if (auto status = createPrivateFile(segmentPath); !status) return status;
  if (firstSegmentName.empty()) firstSegmentName = fs::path(segmentPath).filename().string();
  segmentBytes = 0;
  segmentChunks = 0;
  index.clear();
  meta.segmentIndex = uint32_t(stats.segments++);
  meta.clocks = now;

  std::array<uint8_t, container::kFileHeaderBytes> header{};
  container::encodeFileHeader({kFormatMajor, kFormatMinor, meta.traceUuid, meta.segmentIndex}, header);
  unitStart = 0;
  if (auto status = writeBytes(header); !status) return status;

  // The meta record goes out in a chunk of its own at once, so even a
  // recorder killed a moment later leaves a self-describing file.
  pending.push_back({now.monotonicNs, meta});
  noteRecord(now.monotonicNs, 512, 1);
  segmentHasRecords = false;  // the meta record starts no age
  anchorWritten = true;  // the meta carries the clocks
  lastAnchorNs = now.monotonicNs;
  return cutChunk();
}

std::vector<uint8_t> TraceWriter::Impl::encodeIndex() const {
  capnp::MallocMessageBuilder message;
  auto entries = message.initRoot<schema::Index>().initChunks(unsigned(index.size()));
  for (size_t i = 0; i < index.size(); ++i) {
    entries[i].setOffset(index[i].offset);
    entries[i].setSeq(index[i].seq);
    entries[i].setFirstTimeNs(index[i].firstTimeNs);
    entries[i].setLastTimeNs(index[i].lastTimeNs);
    entries[i].setRecordCount(index[i].recordCount);
    entries[i].setCompressedSize(index[i].compressedSize);
  }
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

Status TraceWriter::Impl::finishSegment() {
  if (auto status = cutChunk(); !status) return status;
  uint64_t indexOffset = segmentBytes;
  unitStart = indexOffset;
  std::vector<uint8_t> message = encodeIndex();
  std::array<uint8_t, container::kIndexPrefixBytes> prefix{};
  container::encodeIndexPrefix(message, prefix);
  std::array<uint8_t, container::kTrailerBytes> trailer{};
  container::encodeTrailer({indexOffset, segmentChunks}, trailer);
  for (std::span<const uint8_t> part : {std::span<const uint8_t>(prefix), std::span<const uint8_t>(message),
                                        std::span<const uint8_t>(trailer)}) {
    if (auto status = writeBytes(part); !status) return status;
  }
  if (::fdatasync(fd.get()) != 0 && errno != EINVAL)
    return fail(segmentPath + ": fdatasync failed: " + errnoText(errno));
  fd.reset();
  // Only a ring needs them, and it holds at most `keep` (a list of every
  // segment would grow for as long as a recorder runs).
  if (options.rotation && options.rotation->keep > 0) finishedSegments.push_back(segmentPath);
  return okStatus();
}

// Keeps the newest `keep` segments, the one being written included. Only
// what is provably older goes: the segments this writer finished, and those
// of earlier recordings whose names sort before this recording's first one
// (a name sort is time order). A segment named later (a clock that was ahead,
// a copied ring) is not ours to judge, and the open segment is never touched.
void TraceWriter::Impl::pruneSegments() {
  if (!options.rotation || options.rotation->keep == 0) return;
  auto ours = [&](const fs::path& segment) {
    return segment == fs::path(segmentPath) ||
           std::find(finishedSegments.begin(), finishedSegments.end(), segment) != finishedSegments.end();
  };
  std::vector<fs::path> older;
  try {
    for (const fs::path& segment : listSegments(path)) {
      std::string name = segment.filename().string();
      if (isSegmentFileName(name) && name < firstSegmentName && !ours(segment)) older.push_back(segment);
    }
  } catch (const fs::filesystem_error&) {
    // pruning is housekeeping; never fail a recording over it
  }
  std::sort(older.begin(), older.end());
  size_t count = older.size() + finishedSegments.size() + 1;
  std::error_code ignored;
  for (const fs::path& segment : older) {
    if (count <= options.rotation->keep) return;
    fs::remove(segment, ignored);
    --count;
  }
  while (count > options.rotation->keep && !finishedSegments.empty()) {
    uintmax_t size = fs::file_size(finishedSegments.front(), ignored);
    if (fs::remove(finishedSegments.front(), ignored) && size != uintmax_t(-1)) stats.prunedBytes += size;
    finishedSegments.erase(finishedSegments.begin());
    --count;
  }
}

Status TraceWriter::Impl::maybeRotate() {
  if (!options.rotation || segmentChunks < 2) return okStatus();  // never leave a meta-only segment
  const RotationOptions& r = *options.rotation;
  bool bySize = r.maxBytes > 0 && segmentBytes >= r.maxBytes;
  bool byAge = r.maxAgeNs > 0 && segmentHasRecords && subClamped(segmentLastTimeNs, segmentFirstTimeNs) >= r.maxAgeNs;
  if (!bySize && !byAge) return okStatus();
  if (auto status = finishSegment(); !status) return status;
  if (auto status = openSegment(); !status) return status;
  pruneSegments();
  return okStatus();
}

// ---- chunks -----------------------------------------------------------------

void TraceWriter::Impl::noteRecord(int64_t timeNs, size_t bytes, uint32_t count) {
  if (pendingCount == 0) chunkFirstNs = chunkLastNs = timeNs;
  chunkFirstNs = std::min(chunkFirstNs, timeNs);
  chunkLastNs = std::max(chunkLastNs, timeNs);
  pendingBytes += bytes;
  pendingCount += count;
  segmentFirstTimeNs = segmentHasRecords ? std::min(segmentFirstTimeNs, timeNs) : timeNs;
  segmentHasRecords = true;
  stats.records += count;
}

void TraceWriter::Impl::maybeAddAnchor(int64_t timeNs) {
  if (anchorWritten && subClamped(timeNs, lastAnchorNs) < options.clockAnchorEveryNs) return;
  ClockAnchor anchor = clockAt(timeNs);
  pending.push_back({anchor.monotonicNs, anchor});
  noteRecord(anchor.monotonicNs, 48, 1);
  anchorWritten = true;
  lastAnchorNs = timeNs;
}

FrameRun& TraceWriter::Impl::runFor(uint16_t sourceId, int64_t timeNs) {
  if (!pending.empty() && std::holds_alternative<size_t>(pending.back().body)) {
    FrameRun& open = runs[std::get<size_t>(pending.back().body)];
    if (open.accepts(sourceId, timeNs)) return open;
  }
  if (runsUsed == runs.size()) runs.emplace_back();
  FrameRun& run = runs[runsUsed];
  run.reset(sourceId, timeNs);
  pending.push_back({timeNs, runsUsed++});
  return run;
}

void TraceWriter::Impl::buildFrames(schema::FrameBatch::Builder out, const FrameRun& run) {
  size_t count = run.count();
  out.setSourceId(run.sourceId());
  out.setCount(uint32_t(count));
  if (options.shuffleFrames && run.uniform()) {
    out.setLayout(schema::FrameLayout::SHUFFLED);
    out.setFrameSize(run.frameSize());
    auto data = out.initData(unsigned(run.bytes().size()));
    shuffleBytes(run.bytes().data(), count, run.frameSize(), data.begin());
  } else {
    out.setLayout(schema::FrameLayout::CONCATENATED);
    out.setData(kj::arrayPtr(run.bytes().data(), run.bytes().size()));
    auto ends = out.initEnds(unsigned(count));
    for (size_t i = 0; i < count; ++i) ends.set(unsigned(i), run.ends()[i]);
  }
  auto deltas = out.initTimeDeltasNs(unsigned(count));
  for (size_t i = 0; i < count; ++i) deltas.set(unsigned(i), run.deltas()[i]);
}

void TraceWriter::Impl::buildRecord(schema::Record::Builder out, const PendingRecord& record) {
  out.setTimeNs(record.timeNs);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, size_t>) buildFrames(out.initFrames(), runs[body]);
        else if constexpr (std::is_same_v<T, Meta>) fillMeta(out.initMeta(), body);
        else if constexpr (std::is_same_v<T, ProcessInfo>) fillProcessInfo(out.initProcessInfo(), body);
        else if constexpr (std::is_same_v<T, Snapshot>) fillSnapshot(out.initSnapshot(), body);
        else if constexpr (std::is_same_v<T, Gap>) fillGap(out.initGap(), body);
        else fillClockAnchor(out.initClocks(), body);
      },
      record.body);
}

Status TraceWriter::Impl::cutChunk() {
  if (pending.empty()) return okStatus();
  capnp::MallocMessageBuilder message(unsigned(pendingBytes / 8 + 1024), capnp::AllocationStrategy::GROW_HEURISTICALLY);
  auto chunk = message.initRoot<schema::Chunk>();
  chunk.setSeq(segmentChunks);
  auto records = chunk.initRecords(unsigned(pending.size()));
  for (size_t i = 0; i < pending.size(); ++i) buildRecord(records[unsigned(i)], pending[i]);

  auto segments = message.getSegmentsForOutput();
  size_t rawBytes = capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word);
  if (rawBytes > container::kMaxChunkRawBytes)
    return fail(segmentPath + ": one chunk would hold " + std::to_string(rawBytes) +
                " bytes, over the format's limit of " + std::to_string(container::kMaxChunkRawBytes) +
                "; write smaller records (a snapshot this large cannot be stored)");
  ZstdFrameSink sink(zstd.get(), options.compressionLevel, rawBytes, compressed);
  capnp::writeMessage(sink, segments);
  size_t compressedSize = sink.finish();
  if (compressedSize == 0) return fail(segmentPath + ": zstd compression failed: " + sink.error());
  if (!container::expansionAllowed(compressedSize, rawBytes)) {
    // Too compressible for readers' expansion bound (only synthetic data
    // does this): store the message verbatim instead.
    auto flat = capnp::messageToFlatArray(segments);
    auto bytes = flat.asBytes();
    writeStoredZstdFrame({bytes.begin(), bytes.size()}, compressed);
    compressedSize = compressed.size();
  }

  std::span<const uint8_t> payload(compressed.data(), compressedSize);
  container::ChunkHeader header{segmentChunks, uint32_t(compressedSize), uint32_t(rawBytes),
                                chunkFirstNs, chunkLastNs, pendingCount, crc32c(payload)};
  std::array<uint8_t, container::kChunkHeaderBytes> headerBytes{};
  container::encodeChunkHeader(header, headerBytes);
  index.push_back({segmentBytes, segmentChunks, chunkFirstNs, chunkLastNs, pendingCount, uint32_t(compressedSize)});
  unitStart = segmentBytes;
  if (auto status = writeBytes(headerBytes); !status) return status;
  if (auto status = writeBytes(payload); !status) return status;

  ++segmentChunks;
  ++stats.chunks;
  stats.framesWritten += pendingFrames;
  pendingFrames = 0;
  stats.rawBytes += rawBytes;
  segmentLastTimeNs = std::max(segmentLastTimeNs, chunkLastNs);
  pending.clear();
  runsUsed = 0;
  pendingBytes = 0;
  pendingCount = 0;
  return okStatus();
}

Status TraceWriter::Impl::afterAppend() {
  bool full = pendingBytes >= options.chunkRawBytes;
  bool old = subClamped(chunkLastNs, chunkFirstNs) >= options.chunkMaxAgeNs;
  if (!full && !old) return okStatus();
  if (auto status = cutChunk(); !status) return status;
  return maybeRotate();
}

// ---- public -----------------------------------------------------------------

TraceWriter::TraceWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceWriter::TraceWriter(TraceWriter&&) noexcept = default;
TraceWriter& TraceWriter::operator=(TraceWriter&&) noexcept = default;
TraceWriter::~TraceWriter() {
  if (impl_) (void)close();
}

Result<TraceWriter> TraceWriter::create(const std::string& path, Meta meta, WriterOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = std::move(options);
  if (impl->options.chunkRawBytes > container::kMaxChunkRawBytes / 2)
    return Error{path + ": chunkRawBytes must be at most " + std::to_string(container::kMaxChunkRawBytes / 2)};
  meta.formatMajor = kFormatMajor;
  meta.formatMinor = kFormatMinor;
  meta.traceUuid = impl->options.deterministic ? kDeterministicUuid : randomUuid();
  meta.byteOrder = impl->options.frameByteOrder.value_or(std::endian::native == std::endian::big ? ByteOrder::big
                                                                                                 : ByteOrder::little);
  impl->meta = std::move(meta);
  if (impl->options.rotation) {
    std::error_code ec;
    // A directory the recorder creates is private; one that was there keeps
    // its mode (it may be shared, such as /var/tmp): the segments are 0600.
    if (fs::create_directories(path, ec)) ::chmod(path.c_str(), 0700);
    std::error_code statError;
    if (ec && fs::exists(path, statError) && !fs::is_directory(path, statError))
      return Error{path + ": rotation writes a directory of segments, and this is a file: name a directory "
                          "(or write one file without rotation)"};
    if (ec) return Error{path + ": cannot create the segment directory: " + ec.message()};
    if (auto status = impl->lockDirectory(); !status) return status.error();
  }
  if (auto status = impl->openSegment(); !status) {
    impl->removeUnfinishedFirstSegment();
    return status.error();
  }
  return TraceWriter(std::move(impl));
}

// A first segment whose header or meta chunk could not be written (a full
// disk) holds nothing readable: it is removed rather than left as an empty
// or broken file. Only a regular file: a FIFO or device stays.
void TraceWriter::Impl::removeUnfinishedFirstSegment() {
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  fd.reset();
  ::unlink(segmentPath.c_str());
}

Status TraceWriter::writeFrame(int64_t timeNs, uint16_t sourceId, std::span<const uint8_t> bytes) {
  if (auto status = impl_->checkUsable(); !status) return status;
  if (bytes.size() > kMaxFrameBytes)
    return Error{"frame of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                 std::to_string(kMaxFrameBytes)};
  impl_->maybeAddAnchor(timeNs);
  impl_->runFor(sourceId, timeNs).append(timeNs, bytes);
  impl_->noteRecord(timeNs, bytes.size() + 8, 1);
  ++impl_->stats.frames;
  ++impl_->pendingFrames;
  return impl_->afterAppend();
}

Status TraceWriter::writeProcessInfo(int64_t timeNs, const ProcessInfo& info) {
  if (auto status = impl_->checkUsable(); !status) return status;
  impl_->maybeAddAnchor(timeNs);
  impl_->pending.push_back({timeNs, info});
  impl_->noteRecord(timeNs, estimateBytes(info), 1);
  return impl_->afterAppend();
}

Status TraceWriter::writeSnapshot(int64_t timeNs, const Snapshot& snapshot) {
  if (auto status = impl_->checkUsable(); !status) return status;
  impl_->maybeAddAnchor(timeNs);
  size_t bytes = 64;
  for (const auto& info : snapshot.processes) bytes += estimateBytes(info);
  impl_->pending.push_back({timeNs, snapshot});
  impl_->noteRecord(timeNs, bytes, 1);
  return impl_->afterAppend();
}

Status TraceWriter::writeGap(int64_t timeNs, const Gap& gap) {
  if (auto status = impl_->checkUsable(); !status) return status;
  impl_->maybeAddAnchor(timeNs);
  impl_->pending.push_back({timeNs, gap});
  impl_->noteRecord(timeNs, 64 + gap.detail.size(), 1);
  return impl_->afterAppend();
}

Status TraceWriter::writeClocks(int64_t timeNs, const ClockAnchor& anchor) {
  if (auto status = impl_->checkUsable(); !status) return status;
  impl_->pending.push_back({timeNs, anchor});
  impl_->noteRecord(timeNs, 48, 1);
  impl_->anchorWritten = true;
  impl_->lastAnchorNs = timeNs;
  return impl_->afterAppend();
}

Status TraceWriter::tick(int64_t nowNs) {
  if (auto status = impl_->checkUsable(); !status) return status;
  if (impl_->pending.empty() || subClamped(nowNs, impl_->chunkFirstNs) < impl_->options.chunkMaxAgeNs)
    return okStatus();
  return flush();
}

Status TraceWriter::flush() {
  if (auto status = impl_->checkUsable(); !status) return status;
  if (auto status = impl_->cutChunk(); !status) return status;
  return impl_->maybeRotate();
}

Status TraceWriter::close() {
  if (!impl_ || impl_->closed) return impl_ && impl_->failure ? Status(*impl_->failure) : okStatus();
  impl_->closed = true;
  // The directory is free for the next recorder once this one is done with it.
  struct ReleaseLock {
    UniqueFd& lock;
    ~ReleaseLock() { lock.reset(); }
  } release{impl_->directoryLock};
  if (impl_->failure || !impl_->fd.valid()) return impl_->failure ? Status(*impl_->failure) : okStatus();
  return impl_->finishSegment();
}

bool TraceWriter::hasUnwritten() const { return impl_ && !impl_->pending.empty(); }

const WriterStats& TraceWriter::stats() const { return impl_->stats; }
const Meta& TraceWriter::meta() const { return impl_->meta; }
const std::string& TraceWriter::currentPath() const { return impl_->segmentPath; }

}  // namespace proctape::format
