#include "report.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "proctape/record/units.h"

namespace proctape::record {

namespace {

uint64_t get(const SharedStats::Counter& counter) { return counter.load(std::memory_order_relaxed); }

std::string grouped(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::string statusLine(const SharedStats& stats, int64_t elapsedNs, uint64_t eventsPerSecond) {
  uint64_t file = get(stats.fileBytes);
  uint64_t onDisk = file - std::min(file, get(stats.prunedBytes));  // a ring keeps only its newest segments
  uint64_t drops = get(stats.lostKnown) + get(stats.unknownGaps);
  char ratio[32] = "-";
  if (file > 0) std::snprintf(ratio, sizeof ratio, "%.1fx", double(get(stats.rawBytes)) / double(file));
  char line[256];
  std::snprintf(line, sizeof line, "%5llds  %s events  %s/s  drops %s%s  %s on disk  ratio %s",
                static_cast<long long>(elapsedNs / 1'000'000'000), grouped(get(stats.events)).c_str(),
                grouped(eventsPerSecond).c_str(), grouped(drops).c_str(), get(stats.unknownGaps) ? "+" : "",
                formatBytes(onDisk).c_str(), ratio);
  return line;
}

std::string summaryLine(const SharedStats& stats, bool enrichment) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  double cpu = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
               double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  uint64_t events = get(stats.events);
  uint64_t bytes = get(stats.fileBytes);
  char text[640];
  int n = std::snprintf(
      text, sizeof text,
      "events=%llu gaps=%llu lost=%llu lost_unknown=%llu overruns=%llu truncated=%llu rejected=%llu filtered=%llu "
      "bytes=%llu bytes_per_event=%.2f cpu_s=%.3f peak_rss_kib=%ld",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(get(stats.gaps)),
      static_cast<unsigned long long>(get(stats.lostKnown)), static_cast<unsigned long long>(get(stats.unknownGaps)),
      static_cast<unsigned long long>(get(stats.overruns)), static_cast<unsigned long long>(get(stats.truncated)),
      static_cast<unsigned long long>(get(stats.rejected)), static_cast<unsigned long long>(get(stats.filtered)),
      static_cast<unsigned long long>(bytes), events ? double(bytes) / double(events) : 0.0, cpu, usage.ru_maxrss);
  std::string line(text, size_t(n));
  if (!enrichment) return line + " enrichment=off";
  uint64_t execs = get(stats.execs);
  std::snprintf(text, sizeof text,
                " execs=%llu argv=%llu argv_rate=%.2f%% miss_gone=%llu miss_zombie=%llu miss_reused=%llu "
                "miss_permission=%llu miss_other=%llu miss_replaced=%llu enrich_skipped=%llu enrich_dropped=%llu "
                "enrich_overruns=%llu",
                static_cast<unsigned long long>(execs), static_cast<unsigned long long>(get(stats.argvHits)),
                execs ? 100.0 * double(get(stats.argvHits)) / double(execs) : 0.0,
                static_cast<unsigned long long>(get(stats.missGone)),
                static_cast<unsigned long long>(get(stats.missZombie)),
                static_cast<unsigned long long>(get(stats.missReused)),
                static_cast<unsigned long long>(get(stats.missPermission)),
                static_cast<unsigned long long>(get(stats.missOther)),
                static_cast<unsigned long long>(get(stats.missReplaced)),
                static_cast<unsigned long long>(get(stats.enrichSkipped)),
                static_cast<unsigned long long>(get(stats.enrichDropped)),
                static_cast<unsigned long long>(get(stats.enrichOverruns)));
  return line + text;
}

}  // namespace proctape::record
