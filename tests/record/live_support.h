// Helpers for the live recorder tests: run proctape-record as a child with
// its stderr captured, wait for it to be ready, and read a trace back into
// decoded events.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proctape/format/netlink.h"
#include "proctape/format/reader.h"

namespace proctape::test {

inline int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A child process whose stderr (and stdout) we read.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) return;
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipeFds[1], 2);
      ::dup2(pipeFds[1], 1);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(pipeFds[1]);
    out_ = pipeFds[0];
  }
  ~Child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      wait(5000);
    }
    if (out_ >= 0) ::close(out_);
  }
  pid_t pid() const { return pid_; }

  // Reads output until `needle` appears or `timeoutMs` passes.
  bool waitFor(const std::string& needle, int timeoutMs) {
    int64_t deadline = nowMs() + timeoutMs;
    while (output_.find(needle) == std::string::npos) {
      int64_t left = deadline - nowMs();
      if (left <= 0 || !readSome(int(left))) return output_.find(needle) != std::string::npos;
    }
    return true;
  }
  // Waits for the exit; the exit code, 128+signal, or nullopt on timeout.
  std::optional<int> wait(int timeoutMs) {
    int64_t deadline = nowMs() + timeoutMs;
    while (!status_) {
      int raw = 0;
      pid_t done = ::waitpid(pid_, &raw, WNOHANG);
      if (done == pid_) {
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        break;
      }
      if (nowMs() > deadline) return std::nullopt;
      readSome(10);
    }
    while (readSome(0)) {
    }
    return status_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  const std::string& output() const { return output_; }

 private:
  bool readSome(int timeoutMs) {
    pollfd wait{out_, POLLIN, 0};
    if (::poll(&wait, 1, timeoutMs) <= 0) return false;
    char buffer[4096];
    ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, size_t(n));
    return true;
  }
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::optional<int> status_;
};

// Runs a shell command line; its exit status.
inline int shell(const std::string& command) {
  int raw = std::system(command.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128;
}

struct TraceContents {
  std::optional<format::Meta> meta;
  std::vector<netlink::ProcEvent> events;
  std::vector<netlink::LinkEvent> links;
  std::vector<netlink::AddrEvent> addresses;
  std::vector<format::ProcessInfo> infos;
  std::vector<format::Gap> gaps;
  std::vector<format::Damage> damage;
  size_t snapshots = 0;
  size_t frames = 0;
};

inline TraceContents readTrace(const std::string& path) {
  TraceContents out;
  auto reader = format::TraceReader::open(path);
  if (!reader) return out;
  out.meta = reader->meta();
  auto order = out.meta ? out.meta->byteOrder : format::ByteOrder::little;
  format::Record record;
  while (reader->next(record)) {
    if (auto* frame = std::get_if<format::Frame>(&record.body)) {
      ++out.frames;
      uint32_t family = frame->sourceId == 1 ? netlink::kFamilyRoute : netlink::kFamilyConnector;
      for (auto& message : netlink::decodeDatagram(family, order, frame->bytes)) {
        if (auto* event = std::get_if<netlink::ProcEvent>(&message.body)) out.events.push_back(*event);
        if (auto* link = std::get_if<netlink::LinkEvent>(&message.body)) out.links.push_back(*link);
        if (auto* address = std::get_if<netlink::AddrEvent>(&message.body)) out.addresses.push_back(*address);
      }
    } else if (auto* info = std::get_if<const format::ProcessInfo*>(&record.body)) {
      out.infos.push_back(**info);
    } else if (auto* gap = std::get_if<const format::Gap*>(&record.body)) {
      out.gaps.push_back(**gap);
    } else if (std::holds_alternative<const format::Snapshot*>(record.body)) {
      ++out.snapshots;
    }
  }
  out.damage = reader->damage();
  return out;
}

// The value of "key=" in the recorder's summary line, or -1.
inline long long summaryValue(const std::string& output, const std::string& key) {
  size_t at = output.find(" " + key + "=");
  if (at == std::string::npos) return -1;
  return std::atoll(output.c_str() + at + key.size() + 2);
}

}  // namespace proctape::test
