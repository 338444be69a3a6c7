#include "proctape/record/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace proctape::record {
namespace {

using format::InfoField;
using format::Miss;
using format::MissReason;

constexpr unsigned kKernelThreadFlag = 0x00200000;  // PF_KTHREAD in /proc/PID/stat flags
// Above what execve accepts for arguments and environment together (at most
// 6 MiB since Linux 4.13, a quarter of the stack limit before).
constexpr size_t kLargestCmdline = size_t(256) << 20;

struct ReadResult {
  std::string text;
  int err = 0;
};

// Reads `name` under the directory `dir` (an fd of /proc/PID). A read that
// fills less than the buffer has reached the end: these files (seq_file
// ones like stat, status and cgroup) hand out everything they have up to the
// size asked for. Not asking again saves a syscall per file, three per exec.
ReadResult readWhole(int dir, const char* name) {
  int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {{}, errno};
  ReadResult result;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) result.err = errno;
    if (n > 0) result.text.append(buffer, size_t(n));
    if (n < ssize_t(sizeof buffer)) break;
  }
  ::close(fd);
  return result;
}

// cmdline whole, in one read() call: the kernel holds the process's memory
// for the length of one call, so what one call returns is consistent. Read in
// pieces, a process exiting between two reads cut its argv short without a
// sign (the next read just ended the file). So a buffer that comes back full
// is not continued, but the file is read again from its start with a larger
// one; a process gone meanwhile then reads as empty (a miss), never as half.
ReadResult readCmdline(int dir) {
  int fd = ::openat(dir, "cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {{}, errno};
  thread_local std::vector<char> buffer(64 * 1024);
  ReadResult result;
  for (;;) {
    ssize_t n = ::pread(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.err = errno;
      break;
    }
    if (size_t(n) < buffer.size() || buffer.size() >= kLargestCmdline) {
      result.text.assign(buffer.data(), size_t(n));
      break;
    }
    buffer.resize(buffer.size() * 4);
  }
  ::close(fd);
  return result;
}

ReadResult readLink(int dir, const char* name) {
  std::string target(4096, '\0');
  ssize_t n = ::readlinkat(dir, name, target.data(), target.size());
  if (n < 0) return {{}, errno};
  target.resize(size_t(n));
  return {target, 0};
}

MissReason reasonFor(int err) {
  if (err == ENOENT || err == ESRCH) return MissReason::gone;
  if (err == EACCES || err == EPERM) return MissReason::permission;
  return MissReason::other;
}

struct Stat {
  char state = '?';
  pid_t ppid = 0;
  unsigned flags = 0;
  uint64_t startTicks = 0;
};

// Space-separated fields of a line of /proc text, parsed in place: this runs
// for every exec, and string streams cost more than the parsing.
class Fields {
 public:
  explicit Fields(std::string_view text) : text_(text) {}
  // The next field, or empty when none is left.
  std::string_view next() {
    size_t start = text_.find_first_not_of(" \t");
    if (start == std::string_view::npos) return {};
    size_t end = text_.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view field = text_.substr(start, end - start);
    text_.remove_prefix(end);
    return field;
  }
  template <typename Number>
  bool number(Number& out) {
    std::string_view field = next();
    auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), out);
    return !field.empty() && error == std::errc() && end == field.data() + field.size();
  }

 private:
  std::string_view text_;
};

// /proc/PID/stat: "pid (comm) state ppid ... flags(9) ... starttime(22)".
// comm may hold spaces and parentheses, so parse from the last ')'.
std::optional<Stat> parseStat(const std::string& text) {
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  Fields in(std::string_view(text).substr(close + 1));
  Stat stat;
  std::string_view state = in.next();
  if (state.size() != 1 || !in.number(stat.ppid)) return std::nullopt;
  stat.state = state[0];
  for (int i = 5; i <= 22; ++i) {
    bool ok = i == 9 ? in.number(stat.flags) : i == 22 ? in.number(stat.startTicks) : !in.next().empty();
    if (!ok) return std::nullopt;
  }
  return stat;
}

std::vector<std::string> splitNul(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Column `column` of the line starting with `key` in /proc/PID/status
// ("Uid:\treal\teffective\tsaved\tfs"); 0 when missing.
uint32_t secondId(const std::string& status, const char* key, int column) {
  size_t at = status.find(key);
  if (at == std::string::npos) return 0;
  Fields in(std::string_view(status).substr(at + std::strlen(key)));
  uint32_t value = 0;
  for (int i = 0; i <= column; ++i)
    if (!in.number(value)) return 0;
  return value;
}

// Reads one process through a descriptor of its /proc/PID directory: every
// file opened relative to it belongs to that process, even if the pid is
// reused meanwhile (reads then fail with ENOENT or ESRCH instead of
// describing another process).
class InfoReader {
 public:
  InfoReader(int dir, format::ProcessInfo& info) : dir_(dir), info_(info) {}

  std::optional<Stat> stat() {
    auto read = readWhole(dir_, "stat");
    if (read.err) return miss(InfoField::all, reasonFor(read.err), read.err), std::nullopt;
    auto parsed = parseStat(read.text);
    // A stat that makes no sense is a miss too, never a record with nothing in it.
    if (!parsed) miss(InfoField::all, MissReason::other, 0);
    return parsed;
  }
  void miss(InfoField field, MissReason reason, int err) { info_.misses.push_back({field, reason, err}); }
  void readArgv(const Stat& stat, const ReadResult& cmdline);
  void readLinks(const Stat& stat);
  void readStatus();
  void readCgroup();

 private:
  int dir_;
  format::ProcessInfo& info_;
};

void InfoReader::readArgv(const Stat& stat, const ReadResult& read) {
  if (read.err) return miss(InfoField::argv, reasonFor(read.err), read.err);
  if (!read.text.empty()) {
    info_.argv = splitNul(read.text);
    return;
  }
  // An empty cmdline is a zombie's, or a kernel thread's: never an empty argv.
  if (stat.state == 'Z' || stat.state == 'X') return miss(InfoField::argv, MissReason::zombie, 0);
  miss(InfoField::argv, stat.flags & kKernelThreadFlag ? MissReason::other : MissReason::gone, 0);
}

void InfoReader::readLinks(const Stat& stat) {
  bool zombie = stat.state == 'Z' || stat.state == 'X';
  struct Link {
    const char* name;
    InfoField field;
    std::string* out;
  };
  for (auto [name, field, out] : {Link{"exe", InfoField::exe, &info_.exe}, Link{"cwd", InfoField::cwd, &info_.cwd}}) {
    auto read = readLink(dir_, name);
    if (!read.err) *out = read.text;
    else if (zombie) miss(field, MissReason::zombie, read.err);
    else if (stat.flags & kKernelThreadFlag) miss(field, MissReason::other, read.err);
    else miss(field, reasonFor(read.err), read.err);
  }
}

void InfoReader::readStatus() {
  auto read = readWhole(dir_, "status");
  if (read.err) return miss(InfoField::ids, reasonFor(read.err), read.err);
  const std::string& s = read.text;
  if (size_t at = s.find("Name:\t"); at != std::string::npos) info_.comm = s.substr(at + 6, s.find('\n', at) - at - 6);
  info_.tgid = pid_t(secondId(s, "\nTgid:", 0));
  info_.ruid = secondId(s, "\nUid:", 0);
  info_.euid = secondId(s, "\nUid:", 1);
  info_.rgid = secondId(s, "\nGid:", 0);
  info_.egid = secondId(s, "\nGid:", 1);
}

void InfoReader::readCgroup() {
  auto read = readWhole(dir_, "cgroup");
  if (read.err) return miss(InfoField::cgroup, reasonFor(read.err), read.err);
  std::string text = read.text;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  // cgroup v2 gives one line "0::/path"; keep v1's lines as they are.
  info_.cgroup = text.rfind("0::", 0) == 0 && text.find('\n') == std::string::npos ? text.substr(3) : text;
}

}  // namespace

ProcessRead::ProcessRead(pid_t pid, format::InfoReason reason, const std::string& procRoot) {
  info_.pid = pid;
  info_.reason = reason;
  std::string path = procRoot + "/" + std::to_string(pid);
  dir_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_ < 0) {
    dirErr_ = errno;
    return;
  }
  // argv first: it is there only while the process lives, and a short-lived
  // one (a compiler driver's helper, /bin/true) is gone within a millisecond.
  ReadResult cmdline = readCmdline(dir_);
  cmdline_ = std::move(cmdline.text);
  cmdlineErr_ = cmdline.err;
}

ProcessRead::ProcessRead(ProcessRead&& other) noexcept
    : info_(std::move(other.info_)),
      dir_(std::exchange(other.dir_, -1)),
      dirErr_(other.dirErr_),
      cmdline_(std::move(other.cmdline_)),
      cmdlineErr_(other.cmdlineErr_) {}

ProcessRead::~ProcessRead() {
  if (dir_ >= 0) ::close(dir_);
}

format::ProcessInfo ProcessRead::finish() {
  format::ProcessInfo info = std::move(info_);
  if (dir_ < 0) {
    if (dirErr_) info.misses.push_back({InfoField::all, reasonFor(dirErr_), dirErr_});
    return info;
  }
  InfoReader reader(dir_, info);
  if (auto stat = reader.stat()) {
    info.ppid = stat->ppid;
    info.startTimeTicks = stat->startTicks;
    reader.readArgv(*stat, ReadResult{std::move(cmdline_), cmdlineErr_});
    reader.readLinks(*stat);
    reader.readStatus();
    reader.readCgroup();
  }
  ::close(std::exchange(dir_, -1));
  return info;
}

format::ProcessInfo readProcessInfo(pid_t pid, format::InfoReason reason, const std::string& procRoot) {
  return ProcessRead(pid, reason, procRoot).finish();
}

format::Snapshot readProcessTable(const std::string& procRoot) {
  format::Snapshot snapshot;
  DIR* dir = ::opendir(procRoot.c_str());
  if (!dir) return snapshot;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    snapshot.processes.push_back(readProcessInfo(pid_t(pid), format::InfoReason::snapshot, procRoot));
  }
  ::closedir(dir);
  return snapshot;
}

}  // namespace proctape::record
