// FollowSource: the records of a trace that is still being written, like
// `tail -f`: new chunks as they land, and new segments as a rotating recorder
// starts them.
//
// TraceReader reads what a file holds when it is opened. FollowSource reads
// to the end, waits a poll interval, opens the trace again and seeks past the
// chunks it has delivered (chunks are identified by segment path and offset,
// so segments that a rotating recorder deletes do not confuse it). A chunk is
// only read once it is complete, so a live recorder's half-written chunk is
// never taken for damage.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "proctape/format/reader.h"
#include "proctape/replay/event_stream.h"

namespace proctape::replay {

struct FollowOptions {
  std::chrono::milliseconds poll{200};         // how often to look for new chunks
  std::function<bool()> stop;                  // checked while waiting: true ends the follow
  std::function<void(const format::Damage&)> onDamage;  // each damage found, once
  // Why following ended by itself before the trace was closed: the file was
  // deleted, or a new recording replaced it.
  std::function<void(const std::string&)> onEnd;
  format::ReaderOptions reader;
};

class FollowSource final : public RecordSource {
 public:
  // Fails as TraceReader::open does, when nothing can be read at all.
  static Result<std::unique_ptr<FollowSource>> open(const std::string& path, FollowOptions options = {});

  // Pull::record for each record; Pull::idle when there is nothing new yet
  // (the next call waits a poll interval, then looks again); Pull::end when
  // stop() said so, or when a single-file trace was closed by its recorder
  // (it has its index and trailer, so it will not grow) and all of it was read.
  Pull next(format::Record& record) override;

  // Damage found so far, each once. The transient state of the segment being
  // written (its half-written tail, its missing index) is not damage.
  const std::vector<format::Damage>& damage() const { return damage_; }
  // How many times the trace was opened again.
  uint64_t reopens() const { return reopens_; }

 private:
  FollowSource(std::string path, bool directory, FollowOptions options, format::TraceReader reader);
  void markDelivered();
  void collectDamage();
  bool closed() const;
  bool waitOrStop();
  bool reopen();
  void checkSegmentsLost(const format::TraceReader& reader);
  bool fileGoneOrReplaced(const Result<format::TraceReader>& reader);
  void endEarly(std::string why);

  // The segment of the last chunk delivered, and whether that chunk was its
  // last (the segment was closed, with its index, when it was read).
  struct Progress {
    format::TraceUuid uuid{};
    uint32_t index = 0;
    std::string path;
    bool complete = false;
  };

  std::string path_;
  bool directory_;
  FollowOptions options_;
  std::optional<format::TraceReader> reader_;
  std::map<std::string, uint64_t> delivered_;  // by segment path: offset of the last chunk delivered
  std::set<std::tuple<std::string, uint64_t, int>> seenDamage_;
  std::vector<format::Damage> damage_;
  bool drained_ = false;
  uint64_t reopens_ = 0;
  std::optional<Progress> progress_;
  std::optional<format::TraceUuid> fileUuid_;  // a single file: the recording it held when opened
  bool endedEarly_ = false;
};

}  // namespace proctape::replay
