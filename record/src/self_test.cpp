#include "proctape/record/self_test.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "native_order.h"
#include "proctape/format/netlink.h"

namespace proctape::record {

namespace nl = proctape::netlink;

namespace {

// PROC_USER_INIT_INO and PROC_PID_INIT_INO (include/linux/proc_ns.h): fixed
// inode numbers of the initial namespaces since Linux 3.8.
constexpr ino_t kInitialUserNsInode = 0xEFFFFFFDU;
constexpr ino_t kInitialPidNsInode = 0xEFFFFFFCU;

bool isInitial(const char* link, ino_t initialInode) {
  struct stat info{};
  if (::stat(link, &info) != 0) return true;
  return info.st_ino == initialInode;
}

}  // namespace

NamespaceInfo detectNamespaces() {
  return {isInitial("/proc/self/ns/user", kInitialUserNsInode), isInitial("/proc/self/ns/pid", kInitialPidNsInode)};
}

namespace {

std::string namespaceNote(const NamespaceInfo& ns) {
  if (ns.initialUser && ns.initialPid) return {};
  std::string which = !ns.initialUser && !ns.initialPid ? "user and pid namespaces"
                      : !ns.initialUser                 ? "user namespace"
                                                        : "pid namespace";
  return "this process runs in a non-initial " + which +
         " (a container, unshare or a sandbox), and the kernel silently ignores process-event subscriptions from "
         "there, because events carry pids and ids of the initial namespaces. Run proctape-record on the host, in "
         "the initial namespaces (e.g. outside `unshare --user`, or in a container started with --pid=host and "
         "without a user namespace).";
}

}  // namespace

std::string explainNoAck(const NamespaceInfo& ns) {
  std::string note = namespaceNote(ns);
  if (!note.empty()) return "No acknowledgement: " + note;
  return "No acknowledgement. Likely causes: a kernel built without CONFIG_PROC_EVENTS (the connector exists but "
         "nothing answers process-event requests: check `grep PROC_EVENTS /boot/config-$(uname -r)`), or a "
         "non-initial user or pid namespace that this check could not see (run it on the host).";
}

std::string explainNoProbeEvents(const NamespaceInfo& ns, bool sawFork, bool sawExit) {
  std::string seen = sawFork ? "its fork but not its exit" : sawExit ? "its exit but not its fork" : "neither its fork nor its exit";
  std::string text = "Self-test failed: a probe child was forked, but the kernel delivered " + seen + ". ";
  std::string note = namespaceNote(ns);
  if (!note.empty()) return text + "Likely cause: " + note;
  return text +
         "Likely causes: (1) before Linux 6.6 the kernel keeps one global listener count, and another program that "
         "sent PROC_CN_MCAST_IGNORE without a LISTEN drove it negative, so nobody gets events until as many LISTENs "
         "bring it back (stop that program; rebooting resets the count); (2) a non-initial user or pid namespace; "
         "(3) a kernel without CONFIG_PROC_EVENTS. Pass --self-test-timeout to wait longer on a very busy machine.";
}

namespace {

struct ProbeWatch {
  pid_t probe = 0;
  bool sawFork = false;
  bool sawExit = false;

  void look(std::span<const uint8_t> bytes) {
    for (const auto& message : nl::decodeDatagram(nl::kFamilyConnector, kNativeOrder, bytes)) {
      const auto* event = std::get_if<nl::ProcEvent>(&message.body);
      if (!event) continue;
      if (event->type == nl::ProcEventType::fork && event->childPid == probe) sawFork = true;
      if (event->type == nl::ProcEventType::exit && event->processPid == probe) sawExit = true;
    }
  }
  bool done() const { return sawFork && sawExit; }
};

void reap(pid_t child) {
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<SelfTestResult> runSelfTest(ProcConnector& connector, int timeoutMs, std::vector<Datagram>& captured) {
  int64_t start = monotonicNs();
  pid_t probe = ::fork();
  if (probe < 0) return Error{std::string("self-test: cannot fork a probe child: ") + std::strerror(errno)};
  if (probe == 0) ::_exit(0);
  ProbeWatch watch{probe};
  int64_t deadline = start + int64_t(timeoutMs) * 1'000'000;
  for (int64_t now = start; !watch.done() && now < deadline; now = monotonicNs()) {
    auto received = connector.socket().receive(int((deadline - now + 999'999) / 1'000'000), 1u << 16);
    if (!received) return reap(probe), received.error();
    if (!*received) continue;
    if (!(*received)->overrun && (*received)->senderPort != 0) continue;
    if (!(*received)->overrun) watch.look((*received)->bytes);
    captured.push_back(std::move(**received));
  }
  reap(probe);
  if (!watch.done()) return Error{explainNoProbeEvents(detectNamespaces(), watch.sawFork, watch.sawExit)};
  return SelfTestResult{probe, monotonicNs() - start};
}

}  // namespace proctape::record
