#include "report.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <vector>

#include "proctape/format/clamped.h"
#include "proctape/replay/event_stream.h"
#include "time_math.h"

namespace proctape::replay::detail {
namespace {

constexpr size_t kMaxListed = 20;  // gaps and damage entries listed one by one

std::string seconds(int64_t ns) {
  char text[48];
  std::snprintf(text, sizeof text, "%.6f", double(ns) / 1e9);
  return text;
}

// As text's --time=wall shows it; a time that cannot be told shows as such.
std::string wallText(std::optional<int64_t> ns) {
  if (!ns) return "(wall time out of range)";
  auto [second, micros] = splitWall(*ns);
  char date[kDateChars + 1];
  formatDate(second, date);
  char text[48];
  std::snprintf(text, sizeof text, "%s.%06dZ", date, int(micros));
  return text;
}

std::string uuidText(const format::TraceUuid& uuid) {
  std::string text;
  char hex[3];
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    std::snprintf(hex, sizeof hex, "%02x", uuid[i]);
    text += hex;
  }
  return text;
}

const char* familyName(uint32_t family) {
  if (family == 0) return "rtnetlink";
  if (family == 11) return "connector";
  return "netlink";
}

std::string join(const std::vector<std::string>& words, const char* separator = " ") {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : separator) + word;
  return text;
}

void line(std::string& out, const char* label, const std::string& value) {
  char prefix[24];
  std::snprintf(prefix, sizeof prefix, "%-12s ", label);
  out += prefix + value + "\n";
}

void describeMeta(std::string& out, const format::Meta& meta) {
  line(out, "format", std::to_string(meta.formatMajor) + "." + std::to_string(meta.formatMinor));
  line(out, "uuid", uuidText(meta.traceUuid));
  line(out, "host", meta.hostname + ", kernel " + meta.kernelRelease + (meta.machine.empty() ? "" : ", " + meta.machine) +
                        (meta.bootId.empty() ? "" : ", boot id " + meta.bootId));
  line(out, "byte order", meta.byteOrder == format::ByteOrder::little ? "little-endian" : "big-endian");
  line(out, "recorder", meta.recorderName + " " + meta.recorderVersion +
                            (meta.commandLine.empty() ? "" : ": " + join(meta.commandLine)));
  if (meta.sources.empty()) line(out, "sources", "none declared");
  for (size_t i = 0; i < meta.sources.size(); ++i) {
    const auto& s = meta.sources[i];
    std::vector<std::string> groups;
    for (auto g : s.groups) groups.push_back(std::to_string(g));
    line(out, i ? "" : "sources",
         std::to_string(s.id) + ": " + familyName(s.netlinkFamily) + " (family " + std::to_string(s.netlinkFamily) +
             ")" + (groups.empty() ? "" : ", groups " + join(groups, ",")) +
             (s.description.empty() ? "" : ": " + s.description));
  }
}

void describeSegments(std::string& out, const format::TraceReader& reader) {
  const auto& segments = reader.segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i == kMaxListed && segments.size() > kMaxListed + 1) {
      line(out, "", "... and " + std::to_string(segments.size() - i) + " more");
      break;
    }
    const auto& s = segments[i];
    line(out, i ? "" : "segments",
         s.path + ": " + std::to_string(s.size) + " bytes, " +
             (s.headerDamaged ? std::string("file header damaged (format unknown)")
                              : "format " + std::to_string(s.formatMajor) + "." + std::to_string(s.formatMinor)) +
             (s.indexed ? ", indexed" : ", no index"));
  }
  line(out, "chunks", std::to_string(reader.chunks().size()));
  // A recorder started again into the same directory adds a recording.
  std::vector<format::TraceUuid> uuids;
  for (const auto& s : segments)
    if (!s.headerDamaged && std::find(uuids.begin(), uuids.end(), s.traceUuid) == uuids.end())
      uuids.push_back(s.traceUuid);
  if (uuids.size() > 1)
    line(out, "recordings",
         std::to_string(uuids.size()) + ", read one after the other: uuid, host, recorder and sources above are the "
         "first one's, and the time span runs across the pauses between them");
}

struct Scan {
  StreamStats stats;
  std::optional<format::ClockAnchor> firstAnchor;
  std::optional<format::ClockAnchor> lastAnchor;  // in force at the end
  std::optional<int64_t> startNs;                 // the start the time column counts from
  std::vector<std::string> gaps;
  uint64_t gapCount = 0;
  uint64_t lost = 0;
  uint64_t unknownGaps = 0;
  std::vector<std::string> decodeErrors;
};

std::string gapText(const Event& event, const format::Gap& gap, int64_t start) {
  return "at " + seconds(subClamped(event.timeNs, start)) + " s, source " + std::to_string(gap.sourceId) + ": " +
         (gap.lostCount ? std::to_string(*gap.lostCount) + " lost" : std::string("unknown number lost")) + " (" +
         format::toString(gap.reason) + (gap.detail.empty() ? "" : ": " + gap.detail) + ")";
}

Scan scan(format::TraceReader& reader) {
  ReaderSource source(reader);
  EventStream stream(source);
  Scan result;
  const Event* event = nullptr;
  while (stream.next(event) == Pull::record) {
    if (!result.firstAnchor && stream.anchor()) result.firstAnchor = stream.anchor();
    int64_t start = stream.startNs().value_or(0);
    if (const auto* gap = std::get_if<format::Gap>(&event->body)) {
      ++result.gapCount;
      if (gap->lostCount)
        result.lost = format::addSaturated(result.lost, *gap->lostCount);
      else
        ++result.unknownGaps;
      if (result.gaps.size() < kMaxListed) result.gaps.push_back(gapText(*event, *gap, start));
    } else if (const auto* error = std::get_if<netlink::DecodeError>(&event->body)) {
      if (result.decodeErrors.size() < kMaxListed)
        result.decodeErrors.push_back("at " + seconds(subClamped(event->timeNs, start)) + " s, source " +
                                      std::to_string(event->sourceId) + ", frame " +
                                      std::to_string(event->frameNumber) + ": " + error->reason);
    }
  }
  result.stats = stream.stats();
  result.lastAnchor = stream.anchor();
  result.startNs = stream.startNs();
  return result;
}

void describeEvents(std::string& out, const Scan& s) {
  const auto& st = s.stats;
  line(out, "records", std::to_string(st.records) + " (" + std::to_string(st.frames) + " frames)");
  if (st.firstTimeNs && st.lastTimeNs) {
    // From the time column's zero (which takes in the kernel times of the
    // first events, a little before their capture) to the last capture.
    int64_t first = std::min(*st.firstTimeNs, s.startNs.value_or(*st.firstTimeNs));
    std::string span = seconds(subClamped(*st.lastTimeNs, first)) + " s";
    if (s.firstAnchor) {
      // Each end through the anchor in force there, as event times are
      // (a clock step during the recording moves the later ones).
      span += ", " + wallText(wallOf(*s.firstAnchor, first)) + " to " +
              wallText(wallOf(s.lastAnchor.value_or(*s.firstAnchor), *st.lastTimeNs));
    }
    line(out, "time span", span);
  }
  std::vector<std::string> counts;
  for (size_t i = 0; i < kEventTypeCount; ++i)
    if (st.events[i]) counts.push_back(std::string(toString(EventType(i))) + " " + std::to_string(st.events[i]));
  line(out, "events", counts.empty() ? "none" : join(counts, ", "));
  line(out, "gaps", s.gapCount == 0 ? "none"
                                    : std::to_string(s.gapCount) + ": " + std::to_string(s.lost) +
                                          (s.lost == 1 ? " event lost" : " events lost") +
                                          (s.unknownGaps ? ", and " + std::to_string(s.unknownGaps) +
                                                               (s.unknownGaps == 1 ? " gap" : " gaps") + " of unknown size"
                                                         : ""));
  for (const auto& gap : s.gaps) line(out, "", gap);
  uint64_t errors = st.events[size_t(EventType::decodeError)];
  if (errors) {
    line(out, "undecodable", std::to_string(errors) + " messages");
    for (const auto& error : s.decodeErrors) line(out, "", error);
  }
}

void describeDamage(std::string& out, const std::vector<format::Damage>& damage) {
  if (damage.empty()) {
    line(out, "damage", "none");
    return;
  }
  line(out, "damage", std::to_string(damage.size()) + (damage.size() == 1 ? " problem" : " problems"));
  for (const auto& d : damage) line(out, "", format::describe(d));
}

}  // namespace

Report describeTrace(const std::string& name, format::TraceReader& reader) {
  Report report;
  line(report.text, "trace", name);
  if (reader.meta())
    describeMeta(report.text, *reader.meta());
  else
    line(report.text, "meta", "missing: the first chunk could not be read");
  describeSegments(report.text, reader);
  Scan result = scan(reader);
  describeEvents(report.text, result);
  describeDamage(report.text, reader.damage());
  report.damaged = !reader.damage().empty();
  return report;
}

namespace {

// Chunks the reader found but could not read: corrupt, or cut off by the
// end of the file (their damage is reported at the chunk's own offset).
size_t unreadableChunks(const format::TraceReader& reader) {
  size_t count = 0;
  for (const auto& chunk : reader.chunks()) {
    const std::string& file = reader.segments()[chunk.segment].path;
    count += std::any_of(reader.damage().begin(), reader.damage().end(), [&](const format::Damage& d) {
      return d.file == file && d.offset == chunk.offset &&
             (d.kind == format::DamageKind::corruptChunk || d.kind == format::DamageKind::truncated);
    });
  }
  return count;
}

}  // namespace

Report verifyTrace(const std::string& name, format::TraceReader& reader) {
  Scan result = scan(reader);
  const auto& damage = reader.damage();
  uint64_t errors = result.stats.events[size_t(EventType::decodeError)];
  Report report;
  report.damaged = !damage.empty() || errors != 0;
  std::string records = std::to_string(result.stats.records) + " records (" + std::to_string(result.stats.frames) +
                        " frames) in ";
  std::string segments =
      std::to_string(reader.segments().size()) + (reader.segments().size() == 1 ? " segment" : " segments");
  size_t chunks = reader.chunks().size();
  if (!report.damaged) {
    report.text = name + ": intact: " + records + std::to_string(chunks) + " chunks of " + segments + "\n";
    return report;
  }
  report.text = name + ": damaged: " + records + std::to_string(chunks - unreadableChunks(reader)) + " of the " +
                std::to_string(chunks) + " chunks of " + segments + " could be read\n";
  for (const auto& d : damage) report.text += "  " + format::describe(d) + "\n";
  if (errors) {
    report.text += "  " + std::to_string(errors) + " netlink messages did not decode:\n";
    for (const auto& error : result.decodeErrors) report.text += "    " + error + "\n";
  }
  return report;
}

}  // namespace proctape::replay::detail
