// Renderers: events to text, JSON Lines or pcap, appended to a Buffer.
//
// Output depends only on the events (and the trace's start time), never on
// the machine or time zone of the replay, so a trace renders to the same bytes
// everywhere: samples/ keeps golden outputs of both text and JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "proctape/replay/event.h"
#include "proctape/replay/event_stream.h"
#include "proctape/replay/output.h"

namespace proctape::replay {

enum class Format : uint8_t { text, json, pcap };
std::optional<Format> parseFormat(std::string_view name);

// The time column of text output.
enum class TimeMode : uint8_t {
  relative,  // seconds since the trace's first record, 6 decimals
  wall,      // UTC wall-clock time from the trace's clock anchors, microseconds
  none,      // no time column
};
std::optional<TimeMode> parseTimeMode(std::string_view name);

class Renderer {
 public:
  virtual ~Renderer() = default;
  // What goes before the first event (the pcap file header).
  virtual void begin(Buffer& out) { (void)out; }
  // Appends `event`. `stream` gives the trace's start time and sources.
  virtual void render(const Event& event, const EventStream& stream, Buffer& out) = 0;
};

// Text, one line per event (a snapshot adds one indented line per process),
// in the style of the classic cn_proc examples:
//   fork(): /bin/zsh (1451658, 1451658) -> (1451730, 1451730)
//   exec(): /bin/sleep (1451730, 1451730)
//   exit(): (1451730, 1451730) -> rc=0
// See docs/replay.md for every line.
class TextRenderer final : public Renderer {
 public:
  explicit TextRenderer(TimeMode time = TimeMode::relative) : time_(time) {}
  void render(const Event& event, const EventStream& stream, Buffer& out) override;

 private:
  void appendTime(const Event& event, const EventStream& stream, Buffer& out);
  TimeMode time_;
  int64_t cachedSecond_ = INT64_MIN;  // wall time: the second whose date text is cached
  char cachedDate_[20] = {};          // "YYYY-MM-DDTHH:MM:SS"
};

// JSON Lines: one object per event, schema in docs/replay-json.md.
class JsonRenderer final : public Renderer {
 public:
  void render(const Event& event, const EventStream& stream, Buffer& out) override;
};

// pcap (nanosecond timestamps, LINKTYPE_NETLINK): each frame once, as one
// packet behind the 16-byte cooked header Wireshark's netlink dissector reads.
// Needs events with their frame bytes (StreamOptions::keepFrames); events that
// are not from frames (gaps, process info) are not written.
class PcapRenderer final : public Renderer {
 public:
  static constexpr uint32_t kMagicNs = 0xa1b23c4d;
  static constexpr uint32_t kLinkTypeNetlink = 253;
  static constexpr uint16_t kArphrdNetlink = 824;
  static constexpr uint32_t kSnapLength = 262144;
  static constexpr size_t kCookedHeaderBytes = 16;

  void begin(Buffer& out) override;
  void render(const Event& event, const EventStream& stream, Buffer& out) override;

 private:
  uint64_t lastFrame_ = 0;
};

std::unique_ptr<Renderer> makeRenderer(Format format, TimeMode time);

}  // namespace proctape::replay
