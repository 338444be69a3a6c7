// runRecorder: set up the sources, start the threads, wait for the end
// (command exit, signal, --duration, --max-events, or a write error), stop in
// order, and report.
#include "proctape/record/recorder.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/capability.h>
#include <memory>
#include <optional>
#include <thread>

#include "capabilities.h"
#include "command.h"
#include "enricher.h"
#include "proctape/record/host_info.h"
#include "proctape/record/procfs.h"
#include "proctape/record/redactor.h"
#include "receiver.h"
#include "report.h"
#include "setup.h"
#include "trace_sink.h"

namespace proctape::record {

namespace {

void say(const std::string& text) { std::fprintf(stderr, "proctape-record: %s\n", text.c_str()); }

// A poll timeout that ends just after `atNs`, at most `atMost` ms.
int millisecondsUntil(int64_t atNs, int64_t nowNs, int atMost) {
  return int(std::clamp<int64_t>((atNs - nowNs) / 1'000'000 + 1, 0, atMost));
}

class Session {
 public:
  explicit Session(const RecorderOptions& options) : options_(options), side_(65536) {}
  ~Session() { stopRecording(); }
  int run();

 private:
  int prepare();
  int createTrace();
  void raiseForEnricher();
  void restoreScheduling();
  void dropPrivileges();
  void startThreads();
  void takeSnapshot();
  int startCommand();
  void loop();
  bool handleSignals();
  void showStatus(int64_t now);
  bool statusLineWanted() const;
  void stopRecording();
  int report();

  const RecorderOptions& options_;
  Redactor redactor_;
  std::optional<Sources> sources_;
  std::optional<CommandChild> child_;
  std::optional<format::TraceWriter> writer_;
  std::optional<int> commandStatus_;
  UniqueFd signalFd_;
  UniqueFd stopFd_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  std::unique_ptr<FrameQueue> queue_;
  SideChannel side_;
  WorkSignal signal_;
  SharedStats stats_;
  std::unique_ptr<Enricher> enricher_;
  std::unique_ptr<TraceSink> sink_;
  std::unique_ptr<Receiver> receiver_;
  bool recording_ = false;
  bool raisedRealtime_ = false;
  bool raisedNice_ = false;
  int originalNice_ = 0;
  std::optional<int> lowerEnricherNice_;  // a positive nice the enricher gives itself
  InheritedSignals inheritedSignals_;      // for the command
  std::string enrichScheduling_ = "normal";
  std::string receiveError_;
  int64_t startNs_ = 0;
  int64_t nextStatusNs_ = 0;
  uint64_t lastEvents_ = 0;
  bool statusShown_ = false;
};

// Signals are taken synchronously through a signalfd; every thread started
// later inherits the blocked mask, so none of them is interrupted. Each
// signal whose default would kill the recorder (leaving the trace unclosed
// and the command unwaited) is taken: it stops a system-wide recording
// cleanly, and is forwarded to a command.
Result<UniqueFd> blockSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPWR,
                     SIGSTKFLT, SIGIO, SIGXCPU, SIGXFSZ, SIGCHLD})
    sigaddset(&set, signal);
  // The real-time signals too (SIGRTMIN is past the ones glibc keeps for itself).
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) sigaddset(&set, signal);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error{std::string("sigprocmask: ") + std::strerror(errno)};
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error{std::string("signalfd: ") + std::strerror(errno)};
  return fd;
}

int Session::prepare() {
  auto redactor = Redactor::create(options_.redact);
  if (!redactor) return say(redactor.error().message), kExitUsage;
  redactor_ = std::move(*redactor);
  inheritedSignals_ = takeSignalDispositions();
  auto signals = blockSignals();
  if (!signals) return say(signals.error().message), kExitUnavailable;
  signalFd_ = std::move(*signals);
  int exitCode = kExitUnavailable;
  auto sources = setUpSources(options_, exitCode);
  if (!sources) return say(sources.error().message), exitCode;
  sources_.emplace(std::move(*sources));
  // Warnings always; the other notes with -v and --check. Each once.
  bool everyNote = options_.verbose || options_.checkOnly;
  for (const auto& note : sources_->notes) {
    if (everyNote || note.rfind("warning:", 0) == 0) say(note);
  }
  return kExitOk;
}

int Session::createTrace() {
  if (!options_.command.empty()) {
    auto child = CommandChild::spawnHeld(options_.command, inheritedSignals_);
    if (!child) return say(child.error().message), kExitUnavailable;
    child_.emplace(std::move(*child));
  }
  format::Meta meta = readHostMeta();
  meta.recorderName = "proctape-record";
  meta.recorderVersion = options_.version;
  meta.commandLine = options_.recorderCommandLine;
  redactor_.apply(meta.commandLine);
  meta.sources = sources_->metaSources;
  meta.commandPid = child_ ? child_->pid() : 0;
  format::WriterOptions writerOptions;
  writerOptions.compressionLevel = options_.compressionLevel;
  writerOptions.rotation = options_.rotation;
  auto writer = format::TraceWriter::create(options_.output, std::move(meta), writerOptions);
  if (!writer) return say(writer.error().message), kExitCantCreate;
  writer_.emplace(std::move(*writer));
  return kExitOk;
}

void Session::dropPrivileges() {
  std::vector<KeptCapability> keep;
  if (sources_->exec) keep.push_back({CAP_SYS_PTRACE, "cap_sys_ptrace", "read /proc/PID/exe and cwd of any process"});
  bool classic = (sources_->proc || sources_->exec) && !sources_->procSubscription.procInput;
  if (classic) keep.push_back({CAP_NET_ADMIN, "cap_net_admin", "send PROC_CN_MCAST_IGNORE at exit (before Linux 6.6)"});
  if (child_) keep.push_back({CAP_KILL, "cap_kill", "forward signals to the command after it changes user"});
  if (options_.rotation) keep.push_back({CAP_DAC_OVERRIDE, "cap_dac_override", "create and delete segment files"});
  std::vector<std::string> kept;
  std::string error = dropCapabilitiesExcept(keep, kept);
  if (!error.empty()) say("warning: could not drop capabilities: " + error);
  if (options_.verbose) {
    std::string names;
    for (const auto& name : kept) names += (names.empty() ? "" : ", ") + name;
    say("capabilities kept after setup: " + (names.empty() ? std::string("none") : names));
  }
}

// Threads inherit their creator's scheduling policy and nice value: for a
// higher priority, this thread takes the enricher's before the capabilities
// are dropped, creates the enricher, and gives it up again (which needs no
// privilege). A lower priority (a positive nice) is not taken here, as giving
// it up would need the privilege dropped by then: the enricher takes it itself.
void Session::raiseForEnricher() {
  if (!sources_->exec || options_.enrichPriority == EnrichPriority::normal) return;
  if (options_.enrichPriority == EnrichPriority::realtime) {
    sched_param param{};
    param.sched_priority = 1;
    raisedRealtime_ = ::sched_setscheduler(0, SCHED_FIFO, &param) == 0;
    if (raisedRealtime_) enrichScheduling_ = "SCHED_FIFO 1";
  }
  if (!raisedRealtime_) {
    errno = 0;
    originalNice_ = ::getpriority(PRIO_PROCESS, 0);
    if (errno != 0) return;
    if (options_.enrichNice > originalNice_) {
      lowerEnricherNice_ = options_.enrichNice;
      enrichScheduling_ = "nice " + std::to_string(options_.enrichNice);
      return;
    }
    raisedNice_ = ::setpriority(PRIO_PROCESS, 0, options_.enrichNice) == 0;
    if (raisedNice_) enrichScheduling_ = "nice " + std::to_string(options_.enrichNice);
  }
}

void Session::restoreScheduling() {
  if (raisedRealtime_) {
    sched_param param{};
    (void)::sched_setscheduler(0, SCHED_OTHER, &param);
  }
  if (raisedNice_) (void)::setpriority(PRIO_PROCESS, 0, originalNice_);
  raisedRealtime_ = raisedNice_ = false;
}

void Session::startThreads() {
  queue_ = std::make_unique<FrameQueue>(options_.queueSlots);
  const auto& sub = sources_->procSubscription;
  if (sources_->exec) {
    enricher_ = std::make_unique<Enricher>(sources_->exec->socket().fd(), side_, stats_, redactor_,
                                           EnricherOptions{options_.enrichMaxPerSecond, "/proc", lowerEnricherNice_});
    enricher_->start(std::move(sources_->execCaptured));
  }
  restoreScheduling();
  if (options_.verbose && enricher_) say("enrichment thread scheduling: " + enrichScheduling_);
  SinkOptions sinkOptions;
  sinkOptions.procSourceId = sources_->proc ? kProcSourceId : -1;
  sinkOptions.seqValid = !sub.kernelFiltering;
  // Also with kernel filtering: what was read while subscribed to every type (setup) is filtered here.
  sinkOptions.userFilterMask = options_.eventMask;
  sinkOptions.maxEvents = options_.maxEvents;
  sinkOptions.waitForSnapshot = options_.snapshot && sources_->proc;
  // An exec's frame reaches the writer up to one long drain period and one
  // writer period after its /proc read; twice that leaves room for a loaded
  // machine (200 ms).
  constexpr int64_t kFrameLagNs =
      kLongestDrainIntervalNs + std::chrono::duration_cast<std::chrono::nanoseconds>(TraceSink::kPeriod).count();
  sinkOptions.holdInfoNs = std::max<int64_t>(2 * kFrameLagNs, 10 * options_.drainIntervalNs);
  int stopFd = stopFd_.get();
  auto requestStop = [stopFd] {
    uint64_t one = 1;
    (void)!::write(stopFd, &one, sizeof one);
  };
  sinkOptions.requestStop = requestStop;
  sink_ = std::make_unique<TraceSink>(std::move(*writer_), *queue_, side_, signal_, stats_, std::move(sinkOptions));
  writer_.reset();
  sink_->start(std::move(sources_->captured));
  std::vector<ReceiverSource> receiving;
  if (sources_->proc) receiving.push_back({sources_->proc->socket().fd(), kProcSourceId, false});
  if (sources_->route) receiving.push_back({sources_->route->fd(), kRouteSourceId, true});
  receiver_ = std::make_unique<Receiver>(*queue_, signal_, stats_, std::move(receiving),
                                         ReceiverOptions{.drainIntervalNs = options_.drainIntervalNs,
                                                         .batch = options_.batch,
                                                         .onFailure = requestStop});
  receiver_->start();
  recording_ = true;
}

void Session::takeSnapshot() {
  if (!options_.snapshot || !sources_->proc) return;
  int64_t time = monotonicNs();
  format::Snapshot snapshot = readProcessTable();
  for (auto& process : snapshot.processes) redactor_.apply(process);
  SideRecord record{time, std::move(snapshot)};
  while (!side_.push(std::move(record))) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  signal_.notify();
}

int Session::startCommand() {
  if (!child_) return kExitOk;
  int failedStatus = 0;
  if (auto released = child_->release(failedStatus); !released) {
    say(released.error().message + ": " + redactor_.apply(options_.command.front()));
    commandStatus_ = child_->wait();
    return failedStatus;
  }
  return kExitOk;
}

bool Session::handleSignals() {
  signalfd_siginfo info{};
  bool stop = false;
  while (::read(signalFd_.get(), &info, sizeof info) == ssize_t(sizeof info)) {
    int signal = int(info.ssi_signo);
    if (signal == SIGCHLD) {
      if (child_ && !commandStatus_) commandStatus_ = child_->poll();
      continue;
    }
    if (!child_) {
      stop = true;
      continue;
    }
    // A terminal's ^C or hangup (SI_KERNEL) reached the command too, as part
    // of the foreground process group: forward only what was sent to us alone.
    if (!commandStatus_ && info.ssi_code != SI_KERNEL) ::kill(child_->pid(), signal);
  }
  return stop;
}

bool Session::statusLineWanted() const {
  return !options_.quiet && options_.statusLine && recording_ && ::isatty(STDERR_FILENO);
}

void Session::showStatus(int64_t now) {
  if (!statusLineWanted() || now < nextStatusNs_) return;
  uint64_t events = stats_.events.load(std::memory_order_relaxed);
  std::fprintf(stderr, "\r%s\x1b[K", statusLine(stats_, now - startNs_, events - lastEvents_).c_str());
  std::fflush(stderr);
  statusShown_ = true;
  lastEvents_ = events;
  nextStatusNs_ = now + 1'000'000'000;
}

void Session::loop() {
  int64_t durationEnd = options_.durationNs > 0 ? startNs_ + options_.durationNs : 0;
  nextStatusNs_ = startNs_ + 1'000'000'000;
  for (;;) {
    int64_t now = monotonicNs();
    // Everything that ends a recording wakes this poll (signals, the command's
    // SIGCHLD, a stop request from the writer or the receiver); the timeout
    // only paces the status line and --duration.
    int timeoutMs = 1000;
    if (statusLineWanted()) timeoutMs = millisecondsUntil(nextStatusNs_, now, timeoutMs);
    if (durationEnd && recording_) timeoutMs = millisecondsUntil(durationEnd, now, timeoutMs);
    pollfd waits[2] = {{signalFd_.get(), POLLIN, 0}, {stopFd_.get(), POLLIN, 0}};
    (void)::poll(waits, 2, timeoutMs);
    now = monotonicNs();
    bool stop = (waits[0].revents && handleSignals()) || (durationEnd && now >= durationEnd);
    uint64_t requested = 0;
    if (waits[1].revents && ::read(stopFd_.get(), &requested, sizeof requested) > 0) stop = true;
    if (recording_ && !receiver_->error().empty()) stop = true;
    if (child_ && !commandStatus_) commandStatus_ = child_->poll();
    if (stop || commandStatus_) stopRecording();
    if (!child_ ? !recording_ : bool(commandStatus_)) return;
    showStatus(now);
  }
}

void Session::stopRecording() {
  if (!recording_) return;
  recording_ = false;
  receiver_->stopAndJoin();  // after one last drain of every socket
  receiveError_ = receiver_->error();
  if (sources_->proc) sources_->proc->ignore();
  if (enricher_) enricher_->stopAndJoin();
  if (sources_->exec) sources_->exec->ignore();
  sink_->finish();
  if (statusShown_) std::fprintf(stderr, "\r\x1b[K");
  if (options_.onStopped) options_.onStopped();
}

int Session::report() {
  uint64_t rejected = sources_->proc ? sources_->proc->rejected() : 0;
  stats_.rejected.fetch_add(rejected, std::memory_order_relaxed);
  say(options_.output + ": " + summaryLine(stats_, bool(enricher_)));
  uint64_t lost = stats_.lostKnown.load(), unknown = stats_.unknownGaps.load();
  if (lost || unknown) {
    say("warning: events were lost: " + std::to_string(lost) + " counted" +
        (unknown ? " plus " + std::to_string(unknown) + " gap(s) of unknown size" : std::string()) +
        "; the trace marks each place with a gap record. A larger --rcvbuf (with CAP_NET_ADMIN) helps.");
  }
  bool failed = false;
  if (!sink_->error().empty()) {
    failed = true;
    say("recording stopped: " + sink_->error());
  }
  if (!receiveError_.empty()) failed = true, say(receiveError_);
  if (child_) return commandStatus_.value_or(1) == 0 && failed ? kExitIoError : commandStatus_.value_or(1);
  return failed ? kExitIoError : kExitOk;
}

int Session::run() {
  if (int code = prepare(); code != kExitOk) return code;
  if (options_.checkOnly) {
    if (sources_->proc) {
      say("check passed: process events arrive (" + std::to_string(sources_->selfTest.latencyNs / 1000) +
          " us from fork to seeing the probe's fork and exit)");
    }
    if (sources_->route) say("check passed: rtnetlink links and addresses dumped");
    return kExitOk;
  }
  if (int code = createTrace(); code != kExitOk) return code;
  raiseForEnricher();
  dropPrivileges();
  startNs_ = monotonicNs();
  startThreads();
  takeSnapshot();
  if (options_.onRecording) options_.onRecording(options_.output);
  if (!options_.quiet) {
    std::string command = child_ ? redactor_.apply(options_.command.front()) : std::string();
    say("recording to " + options_.output +
        (child_ ? " while running " + command + " (pid " + std::to_string(child_->pid()) + ")"
                : std::string(", stop with Ctrl-C")));
  }
  if (int failed = startCommand(); failed != kExitOk) {
    stopRecording();
    report();
    return failed;
  }
  loop();
  stopRecording();
  return report();
}

}  // namespace

int runRecorder(const RecorderOptions& options) {
  Session session(options);
  return session.run();
}

}  // namespace proctape::record
