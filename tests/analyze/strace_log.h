// Reads the output of `strace -f -ttt -s N -o FILE -e trace=process,execve`
// into processes: who created each one, its successful execs (path and argv),
// how it ended, its threads, and the times strace saw around its creation and
// its exit. The live analyzer test compares proctape-analyze with it.
//
// What strace can tell about time: every -ttt timestamp is CLOCK_REALTIME,
// taken when strace handled a stop of the tracee (a syscall entry or return,
// a signal) or learnt of its end. The tracee stays stopped until strace lets
// it go, so the kernel's fork of a child happens after the creating call's
// entry stamp and before the creator's next stop (the call's return) and
// before the child's own first stop; the kernel's exit happens after the
// process's last stop (exit_group's entry) and before strace reports
// `+++ exited` (strace learns of it from wait4, after the kernel's exit).
#pragma once

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proctape::test::strace {

struct Exec {
  int64_t entryNs = 0;              // the execve's entry stop
  std::optional<int64_t> doneByNs;  // its return, or the thread's next stop after it
  std::string path;                 // as passed to execve
  std::vector<std::string> argv;
};

struct Process {
  int32_t pid = 0;
  int32_t parent = 0;                     // the creator's process (its parent with CLONE_PARENT); 0 for the root
  bool created = false;                   // the creating call was seen (false for the root)
  std::optional<int64_t> createdAfterNs;  // entry of the creating call
  std::optional<int64_t> createdByNs;     // min(the creator's next stop, the child's first stop)
  std::vector<Exec> execs;                // successful ones only, oldest first
  std::optional<int64_t> lastStopNs;      // its last stop before it ended (not the end report)
  std::optional<int64_t> endReportedNs;   // `+++ exited/killed +++`
  std::optional<int> exitStatus;
  std::optional<int> termSignal;
  bool coreDumped = false;
  int threads = 0;  // threads it created (CLONE_THREAD)
};

struct Log {
  int32_t root = 0;                 // the first process strace ran
  std::vector<Process> processes;   // root first, then in order of creation
  std::vector<std::string> errors;  // lines or calls that did not parse, cut strings, loose ends
  size_t lines = 0;
  size_t failedExecs = 0;  // execve attempts that failed (PATH search)

  const Process* find(int32_t pid) const {
    for (const auto& process : processes)
      if (process.pid == pid) return &process;
    return nullptr;
  }
};

// "SIGKILL" -> 9; "SIGRT_3" -> SIGRTMIN + 3; nullopt when unknown.
inline std::optional<int> signalNumber(std::string_view name) {
  if (name.substr(0, 3) != "SIG") return std::nullopt;
  std::string_view bare = name.substr(3);
  if (bare.substr(0, 3) == "RT_") {
    std::string digits(bare.substr(3));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return SIGRTMIN + std::stoi(digits);
  }
  for (int number = 1; number < NSIG; ++number) {
    const char* abbreviation = ::sigabbrev_np(number);
    if (abbreviation && bare == abbreviation) return number;
  }
  return std::nullopt;
}

// Reads a strace-quoted string at `at` ("..." with C escapes: \" \\ \n \t \r
// \v \f, octal \NNN, hex \xNN); `at` moves past it. A string strace cut (-s)
// is followed by "...": `cut` says so.
inline std::optional<std::string> unquote(std::string_view text, size_t& at, bool* cut = nullptr) {
  if (at >= text.size() || text[at] != '"') return std::nullopt;
  std::string out;
  size_t i = at + 1;
  auto isOctal = [](char c) { return c >= '0' && c <= '7'; };
  auto hexValue = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < text.size() && text[i] != '"') {
    char c = text[i++];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i >= text.size()) return std::nullopt;
    char e = text[i++];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'v':
        out += '\v';
        break;
      case 'f':
        out += '\f';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'x': {
        int value = 0, digits = 0;
        while (digits < 2 && i < text.size() && hexValue(text[i]) >= 0)
          value = value * 16 + hexValue(text[i++]), ++digits;
        if (digits == 0) return std::nullopt;
        out += char(value);
        break;
      }
      default: {
        if (!isOctal(e)) return std::nullopt;
        int value = e - '0', digits = 1;
        while (digits < 3 && i < text.size() && isOctal(text[i])) value = value * 8 + (text[i++] - '0'), ++digits;
        out += char(value);
      }
    }
  }
  if (i >= text.size()) return std::nullopt;
  at = i + 1;
  bool wasCut = text.substr(at, 3) == "...";
  if (wasCut) at += 3;
  if (cut) *cut = wasCut;
  return out;
}

namespace detail {

struct Line {
  int32_t tid = 0;
  int64_t ns = 0;
  std::string_view rest;
};

// "PID  SECONDS.FRACTION REST"
inline std::optional<Line> splitLine(std::string_view line) {
  Line out;
  size_t i = 0;
  auto digits = [&](int64_t& value, int& count) {
    value = 0;
    count = 0;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') value = value * 10 + (line[i++] - '0'), ++count;
    return count > 0;
  };
  int64_t pid = 0, seconds = 0, fraction = 0;
  int count = 0, fractionDigits = 0;
  if (!digits(pid, count) || i >= line.size() || line[i] != ' ') return std::nullopt;
  while (i < line.size() && line[i] == ' ') ++i;
  if (!digits(seconds, count) || i >= line.size() || line[i] != '.') return std::nullopt;
  ++i;
  if (!digits(fraction, fractionDigits) || fractionDigits > 9 || i >= line.size() || line[i] != ' ')
    return std::nullopt;
  for (int k = fractionDigits; k < 9; ++k) fraction *= 10;
  out.tid = int32_t(pid);
  out.ns = seconds * 1000000000 + fraction;
  out.rest = line.substr(i + 1);
  return out;
}

// The tokens of a `flags=A|B|C` argument.
inline std::vector<std::string> cloneFlags(std::string_view call) {
  std::vector<std::string> flags;
  size_t at = call.find("flags=");
  if (at == std::string_view::npos) return flags;
  at += 6;
  size_t end = call.find_first_of(",})", at);
  std::string_view list = call.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
  while (!list.empty()) {
    size_t bar = list.find('|');
    flags.emplace_back(list.substr(0, bar));
    if (bar == std::string_view::npos) break;
    list.remove_prefix(bar + 1);
  }
  return flags;
}

}  // namespace detail

inline Log parse(const std::string& text) {
  Log log;
  std::map<int32_t, Process> byPid;
  std::vector<int32_t> order;              // pids in order of creation (the root first)
  std::map<int32_t, int32_t> threadOwner;  // thread id -> its process
  std::map<int32_t, int64_t> firstStop;    // any tid -> its first line
  struct Pending {
    int64_t ns;
    std::string text;
  };
  std::map<int32_t, Pending> pending;  // tid -> an <unfinished ...> call
  // Calls printed whole: their return is bounded by the thread's next stop.
  std::map<int32_t, std::vector<std::function<void(int64_t)>>> awaitingNextStop;

  auto ownerOf = [&](int32_t tid) {
    auto found = threadOwner.find(tid);
    return found == threadOwner.end() ? tid : found->second;
  };
  auto process = [&](int32_t pid) -> Process& {
    auto [it, added] = byPid.try_emplace(pid);
    if (added) it->second.pid = pid;
    return it->second;
  };
  auto error = [&](const std::string& what, std::string_view line) {
    log.errors.push_back(what + ": " + std::string(line.substr(0, 300)));
  };

  // A whole call (entry at `entryNs`, return seen at `doneNs` when it was
  // split) made by thread `tid`.
  auto onCall = [&](int32_t tid, int64_t entryNs, std::optional<int64_t> doneNs, std::string_view call) {
    size_t paren = call.find('(');
    if (paren == std::string_view::npos) return error("no call", call);
    std::string_view name = call.substr(0, paren);
    bool creates = name == "clone" || name == "clone3" || name == "fork" || name == "vfork";
    bool execs = name == "execve" || name == "execveat";
    if (!creates && !execs) return;
    // The result follows the last ")", padded with spaces: ")   = 0",
    // ") = -1 ENOENT (No such file or directory)".
    size_t equals = call.rfind(" = ");
    size_t close = equals == std::string_view::npos ? equals : call.find_last_not_of(' ', equals);
    if (close == std::string_view::npos || call[close] != ')') return error("no result", call);
    std::string_view result = call.substr(equals + 3);
    result = result.substr(0, result.find(' '));
    int32_t owner = ownerOf(tid);
    auto whenReturned = [&](std::function<void(int64_t)> set) {
      if (doneNs)
        set(*doneNs);
      else
        awaitingNextStop[tid].push_back(std::move(set));
    };

    if (creates) {
      if (result.empty() || result[0] == '-' || result[0] == '?') return;  // failed
      int32_t child = int32_t(std::stol(std::string(result)));
      auto flags = detail::cloneFlags(call);
      auto has = [&](const char* flag) { return std::find(flags.begin(), flags.end(), flag) != flags.end(); };
      if (has("CLONE_THREAD")) {
        threadOwner[child] = owner;
        byPid.erase(child);  // lines it printed before the creator's return made a placeholder
        ++process(owner).threads;
        return;
      }
      Process& created = process(child);
      if (created.created) return error("pid created twice (reused?)", call);
      created.created = true;
      created.parent = has("CLONE_PARENT") ? process(owner).parent : owner;
      created.createdAfterNs = entryNs;
      order.push_back(child);
      whenReturned([&byPid, child](int64_t ns) {
        auto& by = byPid[child].createdByNs;
        by = by ? std::min(*by, ns) : ns;
      });
    } else {
      if (result != "0") {
        ++log.failedExecs;
        return;
      }
      size_t at = call.find('"', paren);
      if (name == "execveat") at = call.find('"', call.find(',', paren));
      bool cut = false;
      auto path = at == std::string_view::npos ? std::nullopt : unquote(call, at, &cut);
      if (!path || cut) return error("exec path", call);
      Exec exec;
      exec.entryNs = entryNs;
      exec.path = *path;
      while (at < call.size() && (call[at] == ',' || call[at] == ' ')) ++at;
      if (call.substr(at, 4) != "NULL") {
        if (at >= call.size() || call[at] != '[') return error("exec argv", call);
        ++at;
        while (at < call.size() && call[at] != ']') {
          if (call.substr(at, 3) == "...") return error("argv cut (raise -s)", call);
          auto arg = unquote(call, at, &cut);
          if (!arg || cut) return error("argv string (cut? raise -s)", call);
          exec.argv.push_back(*arg);
          if (call.substr(at, 2) == ", ")
            at += 2;
          else if (at >= call.size() || call[at] != ']')
            return error("argv list", call);
        }
      }
      Process& target = process(owner);
      target.execs.push_back(std::move(exec));
      size_t index = target.execs.size() - 1;
      whenReturned([&byPid, owner, index](int64_t ns) { byPid[owner].execs[index].doneByNs = ns; });
    }
  };

  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    ++log.lines;
    auto split = detail::splitLine(line);
    if (!split) {
      error("not PID TIME CALL (run strace with -f -ttt -o FILE)", line);
      continue;
    }
    auto [tid, ns, rest] = *split;
    if (log.root == 0) {
      log.root = tid;
      process(tid);
      order.push_back(tid);
    }
    firstStop.try_emplace(tid, ns);
    if (auto waiting = awaitingNextStop.find(tid); waiting != awaitingNextStop.end()) {
      for (auto& set : waiting->second) set(ns);
      awaitingNextStop.erase(waiting);
    }
    int32_t owner = ownerOf(tid);

    if (rest.substr(0, 4) == "+++ ") {
      pending.erase(tid);
      if (owner != tid) continue;  // a thread's end
      Process& ended = process(tid);
      if (rest.substr(0, 16) == "+++ exited with ") {
        ended.exitStatus = std::atoi(std::string(rest.substr(16)).c_str());
      } else if (rest.substr(0, 14) == "+++ killed by ") {
        std::string_view name = rest.substr(14);
        name = name.substr(0, name.find(' '));
        ended.termSignal = signalNumber(name);
        if (!ended.termSignal) error("unknown signal", line);
        ended.coreDumped = rest.find("(core dumped)") != std::string_view::npos;
      } else {
        continue;  // "+++ superseded by execve ..."
      }
      ended.endReportedNs = ns;
      continue;
    }
    process(owner).lastStopNs = ns;
    if (rest.substr(0, 4) == "--- ") continue;  // a signal

    constexpr std::string_view kUnfinished = " <unfinished ...>";
    if (rest.size() >= kUnfinished.size() && rest.substr(rest.size() - kUnfinished.size()) == kUnfinished) {
      pending[tid] = Pending{ns, std::string(rest.substr(0, rest.size() - kUnfinished.size()))};
      continue;
    }
    if (rest.substr(0, 5) == "<... ") {
      size_t resumed = rest.find(" resumed>");
      auto open = pending.find(tid);
      if (resumed == std::string_view::npos || open == pending.end()) {
        error("resumed without an unfinished call", line);
        continue;
      }
      std::string whole = open->second.text + std::string(rest.substr(resumed + 9));
      int64_t entryNs = open->second.ns;
      pending.erase(open);
      onCall(tid, entryNs, ns, whole);
      continue;
    }
    onCall(tid, ns, std::nullopt, rest);
  }

  for (auto& [pid, entry] : byPid) {
    if (auto first = firstStop.find(pid); first != firstStop.end() && entry.created) {
      entry.createdByNs = entry.createdByNs ? std::min(*entry.createdByNs, first->second) : first->second;
    }
    if (pid != log.root && !entry.created)
      log.errors.push_back("pid " + std::to_string(pid) + " seen, creation not seen");
  }
  for (int32_t pid : order) log.processes.push_back(byPid[pid]);
  return log;
}

}  // namespace proctape::test::strace
