// The self-test: after subscribing, fork a probe child and require its fork
// and exit events, so that a connector that acknowledges but delivers nothing
// (a listener count driven negative, namespaces) is found at start, with an
// explanation, instead of producing an empty trace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proctape/format/result.h"
#include "proctape/record/proc_connector.h"

namespace proctape::record {

struct NamespaceInfo {
  bool initialUser = true;  // /proc/self/ns/user is the initial user namespace
  bool initialPid = true;   // /proc/self/ns/pid is the initial pid namespace
};

// Compares the inode numbers of /proc/self/ns/{user,pid} with those the
// kernel gives the initial namespaces. Unreadable links count as initial.
NamespaceInfo detectNamespaces();

// Why a subscription got no ack, and what to do about it.
std::string explainNoAck(const NamespaceInfo& ns);
// Why the probe's events did not arrive although the subscription was acked.
std::string explainNoProbeEvents(const NamespaceInfo& ns, bool sawFork, bool sawExit);

struct SelfTestResult {
  pid_t probe = 0;
  int64_t latencyNs = 0;  // from fork() to having seen both events
};

// Forks a probe child that exits at once, and reads `connector` until its
// fork and exit events arrive or `timeoutMs` passes. Every datagram read is
// appended to `captured`. The probe is reaped before returning.
Result<SelfTestResult> runSelfTest(ProcConnector& connector, int timeoutMs, std::vector<Datagram>& captured);

}  // namespace proctape::record
