// Setting up the sources before anything runs: the proc connector (subscribe,
// self-test, then the --events mask), the exec-only enrichment socket, and
// rtnetlink (groups, then the dump). Datagrams read meanwhile are kept.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proctape/format/records.h"
#include "proctape/format/result.h"
#include "proctape/record/proc_connector.h"
#include "proctape/record/recorder.h"
#include "proctape/record/self_test.h"

namespace proctape::record {

inline constexpr uint16_t kProcSourceId = 0;
inline constexpr uint16_t kRouteSourceId = 1;

struct Sources {
  std::optional<ProcConnector> proc;
  std::optional<ProcConnector> exec;     // the enrichment socket
  std::optional<NetlinkSocket> route;
  Subscription procSubscription;
  SelfTestResult selfTest;
  std::vector<Datagram> captured;        // proc and route datagrams, in the order read
  std::vector<Datagram> execCaptured;    // exec-socket datagrams read while subscribing it
  std::vector<format::Source> metaSources;
  std::vector<std::string> notes;        // what was set up, for --verbose and --check
};

// Errors set `exitCode` (kExitNoPermission or kExitUnavailable).
Result<Sources> setUpSources(const RecorderOptions& options, int& exitCode);

}  // namespace proctape::record
