#include "setup.h"

#include <sys/utsname.h>

#include <cerrno>

#include "proctape/format/netlink.h"
#include "proctape/record/route_source.h"
#include "proctape/record/units.h"

namespace proctape::record {

namespace nl = proctape::netlink;

namespace {

bool tryProcInput(SubscribeMode mode) {
  if (mode != SubscribeMode::automatic) return mode == SubscribeMode::procInput;
  utsname names{};
  return ::uname(&names) == 0 && kernelHasProcInput(names.release);
}

// A note on the buffer the kernel gave; a warning (always shown) when it is
// much smaller than asked, since bursts then overflow it.
std::string describe(const ReceiveBuffer& buffer, const char* socket) {
  std::string note = std::string(socket) + " receive buffer " + formatBytes(uint64_t(buffer.effective));
  if (buffer.forced) return note + " (SO_RCVBUFFORCE)";
  note += " (SO_RCVBUF, capped by net.core.rmem_max; with CAP_NET_ADMIN it would be " +
          formatBytes(uint64_t(buffer.requested) * 2) + ")";
  return buffer.effective < buffer.requested ? "warning: " + note + ": bursts may overflow it, and be counted lost"
                                             : note;
}

int exitFor(ListenFailure failure) {
  return failure == ListenFailure::permission ? kExitNoPermission : kExitUnavailable;
}

Status subscribeProc(const RecorderOptions& options, Sources& sources, int& exitCode) {
  int openErrno = 0;
  auto proc = ProcConnector::open("process events", &openErrno);
  if (!proc) return exitCode = openErrno == EPERM ? kExitNoPermission : kExitUnavailable, proc.error();
  sources.proc.emplace(std::move(*proc));
  sources.notes.push_back(describe(sources.proc->socket().setReceiveBuffer(options.receiveBufferBytes), "connector"));
  NamespaceInfo ns = detectNamespaces();
  // Outside the initial namespaces no ack will come: do not make the user wait long for the explanation.
  int ackTimeout = ns.initialUser && ns.initialPid ? options.ackTimeoutMs : std::min(options.ackTimeoutMs, 400);
  auto all = sources.proc->listen(kAllProcEvents, tryProcInput(options.subscribe), ackTimeout, sources.captured);
  if (!all) {
    exitCode = exitFor(sources.proc->failure());
    if (sources.proc->failure() == ListenFailure::noAck) return Error{all.error().message + ". " + explainNoAck(ns)};
    return all.error();
  }
  auto probe = runSelfTest(*sources.proc, options.selfTestTimeoutMs, sources.captured);
  if (!probe) return exitCode = kExitUnavailable, probe.error();
  sources.selfTest = *probe;
  sources.procSubscription = *all;
  if (options.eventMask != kAllProcEvents) {
    auto masked = sources.proc->listen(options.eventMask, all->procInput, options.ackTimeoutMs, sources.captured);
    if (!masked) return exitCode = exitFor(sources.proc->failure()), masked.error();
    sources.procSubscription = *masked;
  }
  const auto& sub = sources.procSubscription;
  sources.notes.push_back(std::string("subscribed with ") + (sub.procInput ? "proc_input" : "the classic op") +
                          (sub.kernelFiltering ? ", kernel filtering on"
                                               : sub.eventMask == kAllProcEvents ? ", all events"
                                                                                 : ", filtering in user space") +
                          "; self-test passed in " + std::to_string(probe->latencyNs / 1000) + " us");
  return okStatus();
}

// The enrichment socket is a convenience: failing to set it up warns, never stops the recording.
void subscribeExec(const RecorderOptions& options, Sources& sources) {
  auto exec = ProcConnector::open("exec enrichment");
  if (!exec) return sources.notes.push_back("warning: no enrichment: " + exec.error().message);
  sources.exec.emplace(std::move(*exec));
  sources.exec->socket().setReceiveBuffer(8 << 20);
  bool procInput = sources.procSubscription.procInput;
  auto sub = sources.exec->listen(nl::kProcEventExec, procInput, options.ackTimeoutMs, sources.execCaptured);
  if (!sub) {
    sources.notes.push_back("warning: no enrichment: " + sub.error().message);
    return sources.exec.reset();
  }
  if (!sub->kernelFiltering) {
    if (auto filtered = sources.exec->attachExecOnlyFilter(); !filtered) sources.notes.push_back("warning: " + filtered.error().message);
  }
  sources.notes.push_back(std::string("enrichment socket: exec events only (") +
                          (sub->kernelFiltering ? "proc_input filter" : "BPF socket filter") + ")");
}

Status subscribeRoute(const RecorderOptions& options, Sources& sources) {
  auto route = openRouteSocket();
  if (!route) return route.error();
  sources.route.emplace(std::move(*route));
  sources.notes.push_back(describe(sources.route->setReceiveBuffer(options.receiveBufferBytes), "rtnetlink"));
  return dumpRoute(*sources.route, kRouteSourceId, 5000, sources.captured);
}

std::string eventNames(uint32_t mask) {
  if (mask == kAllProcEvents) return "all events";
  static const std::pair<uint32_t, const char*> kNames[] = {
      {nl::kProcEventFork, "fork"},     {nl::kProcEventExec, "exec"},   {nl::kProcEventUid, "uid"},
      {nl::kProcEventGid, "gid"},       {nl::kProcEventSid, "sid"},     {nl::kProcEventPtrace, "ptrace"},
      {nl::kProcEventComm, "comm"},     {nl::kProcEventCoredump, "coredump"}, {nl::kProcEventExit, "exit"},
      {nl::kProcEventNonzeroExit, "nonzero-exit"}};
  // Appended piece by piece: GCC 12's -Wrestrict misfires on
  // `"literal" + std::string` at -O3 (GCC bug 105329).
  std::string names = "events ";
  const char* separator = "";
  for (auto [bit, name] : kNames) {
    if (!(mask & bit)) continue;
    names.append(separator).append(name);
    separator = ",";
  }
  return names;
}

}  // namespace

Result<Sources> setUpSources(const RecorderOptions& options, int& exitCode) {
  Sources sources;
  if (options.sourceProc) {
    if (auto s = subscribeProc(options, sources, exitCode); !s) return s.error();
    if (options.enrich && !options.checkOnly) subscribeExec(options, sources);
    const auto& sub = sources.procSubscription;
    sources.metaSources.push_back({kProcSourceId, nl::kFamilyConnector, {nl::kCnIdxProc},
                                   "proc connector (cn_proc): " + eventNames(sub.eventMask) +
                                       (sub.kernelFiltering ? ", filtered by the kernel (proc_input)" : "")});
  }
  if (options.sourceRoute) {
    if (auto s = subscribeRoute(options, sources); !s) return exitCode = kExitUnavailable, s.error();
    sources.metaSources.push_back({kRouteSourceId, nl::kFamilyRoute, routeGroupNumbers(),
                                   "rtnetlink: links and IPv4/IPv6 addresses (a dump, then changes)"});
  }
  return sources;
}

}  // namespace proctape::record
