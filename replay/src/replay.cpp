#include "proctape/replay/replay.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "time_math.h"

namespace proctape::replay {
namespace {

using Clock = std::chrono::steady_clock;

// Replays at `speed` times the pace of the capture times.
class Pacer {
 public:
  explicit Pacer(double speed) : speed_(speed) {}
  bool enabled() const { return speed_ > 0; }
  // How long to wait before showing an event captured at `timeNs` (zero if due).
  Clock::duration delay(int64_t timeNs) {
    auto now = Clock::now();
    if (!started_) {
      started_ = true;
      firstNs_ = timeNs;
      start_ = now;
    }
    // In double, clamped to a day: capture times may jump anywhere in a damaged trace.
    double waitNs = std::clamp(double(detail::subClamped(timeNs, firstNs_)) / speed_, 0.0, 86'400e9);
    auto due = start_ + std::chrono::nanoseconds(int64_t(waitNs));
    return due > now ? due - now : Clock::duration::zero();
  }

 private:
  double speed_;
  bool started_ = false;
  int64_t firstNs_ = 0;
  Clock::time_point start_;
};

Status drain(Buffer& buffer, Sink& sink) {
  if (buffer.size() == 0) return okStatus();
  auto status = sink.write(buffer.view());
  buffer.clear();
  return status;
}

}  // namespace

EventTypeSet defaultTypes(Format format) {
  auto types = EventTypeSet::all();
  if (format == Format::text) types.remove(EventType::processInfo).remove(EventType::snapshot);
  return types;
}

ReplayOptions defaultOptions(Format format, TimeMode time) {
  ReplayOptions options;
  options.format = format;
  options.time = time;
  options.filter.types = defaultTypes(format);
  return options;
}

Result<ReplaySummary> replay(RecordSource& source, const ReplayOptions& options, Sink& sink) {
  StreamOptions streamOptions = options.stream;
  if (options.format == Format::pcap) streamOptions.keepFrames = true;
  EventStream stream(source, streamOptions);
  Filter filter(options.filter);
  auto renderer = makeRenderer(options.format, options.time);
  Pacer pacer(options.speed);
  Buffer buffer;
  renderer->begin(buffer);
  ReplaySummary summary;
  for (;;) {
    const Event* event = nullptr;
    Pull pull = stream.next(event);
    if (pull == Pull::end) break;
    if (pull == Pull::idle) {
      if (auto status = drain(buffer, sink); !status) return status.error();
      continue;
    }
    ++summary.events;
    if (!filter.accept(*event, stream)) continue;
    ++summary.shown;
    if (pacer.enabled()) {
      if (auto wait = pacer.delay(event->timeNs); wait > Clock::duration::zero()) {
        if (auto status = drain(buffer, sink); !status) return status.error();
        std::this_thread::sleep_for(wait);
      }
    }
    renderer->render(*event, stream, buffer);
    if (buffer.size() >= options.flushBytes || pacer.enabled())
      if (auto status = drain(buffer, sink); !status) return status.error();
  }
  if (auto status = drain(buffer, sink); !status) return status.error();
  summary.stats = stream.stats();
  return summary;
}

Result<RenderedTrace> renderTrace(const std::string& path, const ReplayOptions& options) {
  format::ReaderOptions readerOptions;
  readerOptions.threads = 1;
  auto reader = format::TraceReader::open(path, readerOptions);
  if (!reader) return reader.error();
  RenderedTrace rendered;
  StringSink sink(rendered.output);
  ReaderSource source(*reader);
  auto summary = replay(source, options, sink);
  if (!summary) return summary.error();
  rendered.summary = *summary;
  rendered.damage = reader->damage();
  return rendered;
}

}  // namespace proctape::replay
