// The recorder: everything proctape-record does, behind one call, so that
// its main only parses the command line.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proctape/format/writer.h"
#include "proctape/record/proc_connector.h"

namespace proctape::record {

// Exit statuses of proctape-record (sysexits-style), besides the command's own.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;           // bad command line
inline constexpr int kExitUnavailable = 69;    // cannot subscribe, or the self-test failed
inline constexpr int kExitCantCreate = 73;     // cannot create the output
inline constexpr int kExitIoError = 74;        // the trace could not be written (disk full, ...)
inline constexpr int kExitNoPermission = 77;   // the kernel wants CAP_NET_ADMIN

// How the enrichment thread is scheduled. It must run within microseconds of
// each exec, before a short-lived process exits, also when every core is busy.
enum class EnrichPriority {
  realtime,  // SCHED_FIFO priority 1 when allowed (CAP_SYS_NICE), else nice
  nice,      // nice value enrichNice when allowed
  normal,    // as every other thread
};

// How to subscribe: auto uses proc_input where the kernel has it (Linux >=
// 6.6); classic forces the 4-byte op of older kernels (filtering in user
// space), to reproduce their behaviour on a new kernel.
enum class SubscribeMode { automatic, procInput, classic };

struct RecorderOptions {
  std::string output;                          // a file, or a directory with rotation
  std::optional<format::RotationOptions> rotation;
  int compressionLevel = 3;

  bool sourceProc = true;
  bool sourceRoute = false;
  uint32_t eventMask = kAllProcEvents;         // --events
  SubscribeMode subscribe = SubscribeMode::automatic;

  int receiveBufferBytes = 64 << 20;           // per connector/route socket
  int64_t drainIntervalNs = 10'000'000;
  size_t queueSlots = 16384;
  size_t batch = 256;

  bool enrich = true;
  uint32_t enrichMaxPerSecond = 0;             // 0: no limit
  EnrichPriority enrichPriority = EnrichPriority::realtime;
  int enrichNice = -10;                        // for EnrichPriority::nice, and the fallback of realtime
  bool snapshot = true;
  std::vector<std::string> redact;

  int64_t durationNs = 0;                      // system-wide: stop after this long (0: never)
  uint64_t maxEvents = 0;                      // stop after this many frames (0: never)

  int ackTimeoutMs = 1000;
  int selfTestTimeoutMs = 2000;
  bool checkOnly = false;                      // --check: subscribe, self-test, report, exit
  bool quiet = false;
  bool statusLine = true;                      // the once-a-second line on a terminal (also off with quiet)
  bool verbose = false;

  // Hooks for the tool around the library (--print). onRecording is called
  // once the trace exists and recording runs, on the main thread, with
  // signals blocked and capabilities dropped (threads it starts inherit
  // both); onStopped once the trace is closed, before the summary line.
  std::function<void(const std::string& output)> onRecording;
  std::function<void()> onStopped;

  std::vector<std::string> command;            // command mode when not empty
  std::vector<std::string> recorderCommandLine;  // our own argv, for the meta (redacted)
  std::string version;
};

// Records until the command exits, a stop signal, --duration or
// --max-events; closes the trace; prints a summary line on stderr. Returns
// the exit status (the command's in command mode, else one of kExit*).
int runRecorder(const RecorderOptions& options);

}  // namespace proctape::record
