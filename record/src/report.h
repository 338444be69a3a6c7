// What the recorder tells the user: the live status line (on a terminal)
// and the summary line at exit, both from the shared counters.
#pragma once

#include <cstdint>
#include <string>

#include "shared.h"

namespace proctape::record {

// "  12s  34,567 events  2,880/s  drops 0  1.2 MiB on disk  ratio 9.6x"
std::string statusLine(const SharedStats& stats, int64_t elapsedNs, uint64_t eventsPerSecond);

// One line of key=value pairs, stable for scripts and benchmarks:
// "events=N gaps=G lost=L lost_unknown=U overruns=O truncated=T rejected=R
//  filtered=F bytes=B bytes_per_event=X cpu_s=C peak_rss_kib=K execs=E argv=H
//  argv_rate=P% miss_gone=... ..." (cpu_s: the recorder's own user+system
// time, all threads; peak_rss_kib: its maximum resident set size)
std::string summaryLine(const SharedStats& stats, bool enrichment);

}  // namespace proctape::record
