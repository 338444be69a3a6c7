#include "proctape/replay/follow.h"

#include <algorithm>
#include <filesystem>
#include <thread>

namespace proctape::replay {
namespace {

using format::DamageKind;

// What a segment that a recorder is writing looks like while it writes: the
// tail of the last chunk missing, no index yet, or (just created) no header yet.
bool transient(DamageKind kind) {
  return kind == DamageKind::truncated || kind == DamageKind::notClosed || kind == DamageKind::notATrace;
}

}  // namespace

Result<std::unique_ptr<FollowSource>> FollowSource::open(const std::string& path, FollowOptions options) {
  auto reader = format::TraceReader::open(path, options.reader);
  if (!reader) return reader.error();
  std::error_code ec;
  bool directory = std::filesystem::is_directory(path, ec);
  return std::unique_ptr<FollowSource>(new FollowSource(path, directory, std::move(options), std::move(*reader)));
}

FollowSource::FollowSource(std::string path, bool directory, FollowOptions options, format::TraceReader reader)
    : path_(std::move(path)), directory_(directory), options_(std::move(options)), reader_(std::move(reader)) {
  if (!directory_ && !reader_->segments().empty()) fileUuid_ = reader_->segments().front().traceUuid;
}

Pull FollowSource::next(format::Record& record) {
  for (;;) {
    if (!drained_) {
      if (reader_->next(record)) return Pull::record;
      markDelivered();
      collectDamage();
      drained_ = true;
      if (closed()) return Pull::end;
      return Pull::idle;
    }
    if (waitOrStop()) return Pull::end;
    if (!reopen()) return closed() ? Pull::end : Pull::idle;
    drained_ = false;
  }
}

void FollowSource::markDelivered() {
  const auto& segments = reader_->segments();
  for (const auto& chunk : reader_->chunks()) {
    auto& last = delivered_[segments[chunk.segment].path];
    last = std::max(last, chunk.offset);
  }
  if (reader_->chunks().empty()) return;
  const format::SegmentInfo& newest = segments[reader_->chunks().back().segment];
  progress_ = Progress{newest.traceUuid, newest.segmentIndex, newest.path, newest.indexed};
}

// A recorder's --keep may delete segments before a slow follower reads them:
// the rest of the segment it was reading, or whole segments after it. Their
// events are lost to the follower, and it says so as damage.
void FollowSource::checkSegmentsLost(const format::TraceReader& reader) {
  if (!directory_ || !progress_) return;
  const auto& segments = reader.segments();
  bool tailLost = !progress_->complete && std::none_of(segments.begin(), segments.end(), [&](const auto& s) {
    return s.path == progress_->path;
  });
  std::optional<uint32_t> next;
  for (const auto& s : segments)
    if (!s.headerDamaged && s.traceUuid == progress_->uuid && s.segmentIndex > progress_->index)
      next = std::min(next.value_or(s.segmentIndex), s.segmentIndex);
  uint32_t skipped = next ? *next - progress_->index - 1 : 0;
  if (!tailLost && skipped == 0) return;
  std::string what;
  if (tailLost) what = "the end of segment " + std::to_string(progress_->index);
  if (skipped > 0) {
    if (!what.empty()) what += " and ";
    what += skipped == 1 ? "segment " + std::to_string(progress_->index + 1)
                         : "segments " + std::to_string(progress_->index + 1) + " to " + std::to_string(*next - 1);
  }
  bool several = tailLost + skipped > 1;
  format::Damage damage{progress_->path, 0, DamageKind::missingSegment, 0,
                        what + " of this recording " + (several ? "were" : "was") +
                            " deleted (by the recorder's --keep) before --follow read " + (several ? "them" : "it") +
                            ": " + (several ? "their" : "its") + " events are lost; keep more segments"};
  progress_->complete = true;  // said once
  if (!seenDamage_.emplace(damage.file, damage.offset, int(damage.kind)).second) return;
  damage_.push_back(damage);
  if (options_.onDamage) options_.onDamage(damage);
}

void FollowSource::endEarly(std::string why) {
  endedEarly_ = true;
  if (options_.onEnd) options_.onEnd(path_ + ": " + why);
}

// A single file deleted (by --keep, say) or replaced by a new recording
// (a recorder started again on the same -o): nothing more will come of the
// recording being followed.
bool FollowSource::fileGoneOrReplaced(const Result<format::TraceReader>& reader) {
  if (directory_) return false;
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    endEarly("the file was deleted before the recorder closed it; following ends here");
    return true;
  }
  if (reader && fileUuid_ && !reader->segments().empty() && reader->segments().front().traceUuid != *fileUuid_) {
    endEarly("a new recording replaced the one being followed; following ends here (follow it again to read "
             "the new one)");
    return true;
  }
  return false;
}

void FollowSource::collectDamage() {
  const auto& segments = reader_->segments();
  std::string last = segments.empty() ? std::string() : segments.back().path;
  for (const auto& d : reader_->damage()) {
    // The newest file may be one the recorder has only just created.
    bool newest = d.file == last || (directory_ && d.file > last);
    if (newest && transient(d.kind)) continue;
    // A segment a rotating recorder deleted between listing and opening.
    std::error_code ec;
    if (d.kind == DamageKind::notATrace && !std::filesystem::exists(d.file, ec)) continue;
    if (!seenDamage_.emplace(d.file, d.offset, int(d.kind)).second) continue;
    damage_.push_back(d);
    if (options_.onDamage) options_.onDamage(d);
  }
}

// A single file with its index and trailer: the recorder closed it for good.
bool FollowSource::closed() const {
  if (endedEarly_) return true;
  if (directory_) return false;
  return std::none_of(reader_->damage().begin(), reader_->damage().end(), [](const format::Damage& d) {
    return d.kind == DamageKind::notClosed || d.kind == DamageKind::truncated;
  });
}

bool FollowSource::waitOrStop() {
  constexpr auto kStep = std::chrono::milliseconds(20);
  auto until = std::chrono::steady_clock::now() + options_.poll;
  for (;;) {
    if (options_.stop && options_.stop()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kStep, until - now));
  }
}

// Opens the trace again; true if it has chunks not delivered yet, and the
// reader is then positioned at the first of them.
bool FollowSource::reopen() {
  auto reader = format::TraceReader::open(path_, options_.reader);
  if (fileGoneOrReplaced(reader)) return false;
  if (!reader) return false;  // e.g. between a rotation's delete and create: look again later
  ++reopens_;
  checkSegmentsLost(*reader);
  const auto& segments = reader->segments();
  const auto& chunks = reader->chunks();
  size_t first = chunks.size();
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto known = delivered_.find(segments[chunks[i].segment].path);
    if (known == delivered_.end() || chunks[i].offset > known->second) {
      first = i;
      break;
    }
  }
  // Forget segments that are gone, so memory stays bounded under rotation.
  for (auto it = delivered_.begin(); it != delivered_.end();) {
    bool present = std::any_of(segments.begin(), segments.end(), [&](const auto& s) { return s.path == it->first; });
    it = present ? std::next(it) : delivered_.erase(it);
  }
  reader->seekChunk(first);
  reader_ = std::move(*reader);
  if (first == chunks.size()) {
    collectDamage();
    return false;
  }
  return true;
}

}  // namespace proctape::replay
