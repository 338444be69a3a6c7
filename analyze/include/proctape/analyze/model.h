// The analysis model: process incarnations rebuilt from a trace.
//
// An incarnation is one process from its fork to the exit of its thread group
// (pid reuse starts a new one). Times are CLOCK_MONOTONIC nanoseconds from the
// kernel's event timestamps; a time that is not known is std::nullopt, never 0.
// Plain values, no I/O: ProcessTracker builds a Model, reports read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "proctape/analyze/counters.h"
#include "proctape/format/records.h"

namespace proctape::analyze {

// 1-based position in Model::processes; 0 means "none".
using ProcessId = uint32_t;

// A string the model stores once, however many processes name it, with its
// position among those (Model::texts).
struct StoredText {
  std::string text;
  uint32_t index = 0;
};

// An optional string that the model stores once however many processes
// name it (executables and working directories repeat across thousands of
// processes): a pointer to the string in Model::texts, or none.
class Text {
 public:
  Text() = default;
  explicit Text(const StoredText* text) : text_(text) {}
  bool has_value() const { return text_ != nullptr; }
  explicit operator bool() const { return text_ != nullptr; }
  const std::string& operator*() const { return text_->text; }
  const std::string* operator->() const { return &text_->text; }
  // Its position in Model::texts (the same for equal strings); has_value() first.
  uint32_t index() const { return text_->index; }
  std::optional<std::string_view> view() const {
    return text_ ? std::optional<std::string_view>(text_->text) : std::nullopt;
  }
  friend bool operator==(const Text& a, std::string_view b) { return a.text_ && a.text_->text == b; }
  friend std::ostream& operator<<(std::ostream& out, const Text& text);

 private:
  const StoredText* text_ = nullptr;
};

// An argument vector in one block of memory (each argument's length, then its
// bytes), so that keeping a process's argv costs one allocation and about the
// bytes of the arguments, not a std::string per argument.
class Argv {
 public:
  class Iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const uint8_t* at, size_t left) : at_(at), left_(left) {}
    std::string_view operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return left_ == other.left_; }

   private:
    const uint8_t* at_ = nullptr;
    size_t left_ = 0;  // arguments from here to the end
  };

  Argv() = default;
  explicit Argv(const std::vector<std::string>& args);
  Argv(const Argv& other);
  Argv& operator=(const Argv& other);
  Argv(Argv&&) noexcept = default;
  Argv& operator=(Argv&&) noexcept = default;

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::string_view front() const { return *begin(); }
  Iterator begin() const { return {data_.get(), count_}; }
  Iterator end() const { return {nullptr, 0}; }
  std::vector<std::string> strings() const;
  friend bool operator==(const Argv& a, const std::vector<std::string>& b);
  friend std::ostream& operator<<(std::ostream& out, const Argv& argv);

 private:
  std::unique_ptr<uint8_t[]> data_;
  uint32_t bytes_ = 0;
  uint32_t count_ = 0;
};

// What /proc said about an exec'd image (a process-info record). A field the
// recorder could not read is empty (a miss), never an empty string or list.
struct Image {
  Text exe;
  std::optional<Argv> argv;
  Text cwd;
  Text comm;  // the name in /proc (status Name): names an image whose argv and exe were missed
  bool infoSeen = false;  // a process-info record was matched to it
  // Why argv is missing, when the record said so.
  std::optional<format::MissReason> argvMiss;
};

struct Exec {
  std::optional<int64_t> timeNs;  // empty: the image was already running when the trace started
  Image* image = nullptr;         // never null; in Model::images
};

// A forward iterator over a container that is indexed by position (the
// lists below keep their elements in pieces, not in one array).
template <typename List, typename Value>
class IndexIterator {
 public:
  using value_type = std::remove_const_t<Value>;
  using difference_type = std::ptrdiff_t;
  IndexIterator() = default;
  IndexIterator(List* list, size_t at) : list_(list), at_(at) {}
  Value& operator*() const { return (*list_)[at_]; }
  Value* operator->() const { return &(*list_)[at_]; }
  IndexIterator& operator++() {
    ++at_;
    return *this;
  }
  IndexIterator operator++(int) {
    IndexIterator before = *this;
    ++at_;
    return before;
  }
  bool operator==(const IndexIterator& other) const { return at_ == other.at_; }

 private:
  List* list_ = nullptr;
  size_t at_ = 0;
};

// A process's execs, in order: the first inside the process (most processes
// exec once), any others in a vector. The parts of std::vector it needs.
class ExecList {
 public:
  using Iterator = IndexIterator<const ExecList, const Exec>;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Exec& operator[](size_t i) { return i == 0 ? first_ : more_[i - 1]; }
  const Exec& operator[](size_t i) const { return i == 0 ? first_ : more_[i - 1]; }
  Exec& front() { return first_; }
  const Exec& front() const { return first_; }
  Exec& back() { return (*this)[size_ - 1]; }
  const Exec& back() const { return (*this)[size_ - 1]; }
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size_}; }
  void push_back(const Exec& exec);
  // Removes the first exec.
  void popFront();

 private:
  Exec first_;
  std::vector<Exec> more_;
  uint32_t size_ = 0;
};

// Process flags (bits of Process::flags). Names in toString(ProcessFlag).
enum ProcessFlag : uint32_t {
  kStartBeforeTrace = 1u << 0,      // in the snapshot: it started before the recording
  kStartUnknown = 1u << 1,          // no fork seen and not in the snapshot
  kOpen = 1u << 2,                  // not exited when the trace ends
  kEndUnknown = 1u << 3,            // its pid was forked again with no exit seen: the exit was lost
  kPossiblyIncomplete = 1u << 4,    // alive during a gap or damaged part: events may be missing
  kSessionLeader = 1u << 5,         // called setsid()
  kTraced = 1u << 6,                // a tracer attached (ptrace)
  kCredentialsChanged = 1u << 7,    // uid or gid changed during its life
  kCoredumpEvent = 1u << 8,         // a coredump event was seen
  kThreadsOutlivedLeader = 1u << 9, // its leader thread exited before its other threads
  kDuplicateExit = 1u << 10,        // the leader's exit was delivered twice
};
inline constexpr int kProcessFlagCount = 11;
const char* toString(ProcessFlag flag);

// How a process first showed up (for the counters of processes seen without a fork).
enum class Origin : uint8_t { fork, snapshot, exec, exit, parent, other };

// One recording of a trace. A segment directory may hold several (a
// recorder started again into it): each has its own uuid and command.
struct Recording {
  format::TraceUuid uuid{};
  int32_t commandPid = 0;        // 0: a system-wide recording
  ProcessId firstProcessId = 1;  // the processes the model made from its records have ids from here on
};

struct Process {
  ProcessId id = 0;
  int32_t pid = 0;
  ProcessId parentId = 0;               // 0: no parent known in the trace
  std::optional<int32_t> parentPid;
  std::optional<int64_t> startNs;       // the fork's kernel time
  std::optional<int64_t> endNs;         // the kernel time of the exit that ended the thread group
  std::optional<int64_t> goneByNs;      // kEndUnknown: it had exited by then (its pid was forked again)
  std::optional<int64_t> firstSeenNs;   // the first event about it
  std::optional<uint32_t> exitCode;     // the raw wait status of that exit
  std::optional<int> exitStatus;        // 0-255, for a normal exit
  std::optional<int> termSignal;        // the signal that killed it
  bool coreDumped = false;
  bool renamed = false;                 // a comm event of its leader thread set `comm`
  ExecList execs;                       // in order; a snapshot process starts with its running image
  Image* inherited = nullptr;           // the parent's image at the fork (runs until the first exec)
  std::optional<uint32_t> ruid, euid, rgid, egid;
  std::optional<int32_t> tracerPid;     // the last tracer to attach
  std::string comm;                     // its name: the last comm event of its leader thread, or an exec's
  uint32_t flags = 0;
  uint32_t threadCount = 0;             // threads created during the trace
  Origin origin = Origin::fork;

  bool has(ProcessFlag flag) const { return (flags & flag) != 0; }
  bool forkSeen() const { return origin == Origin::fork; }
  bool ended() const { return endNs.has_value() || has(kEndUnknown); }
  // Exited with a nonzero status or was killed by a signal.
  bool failed() const { return (exitStatus && *exitStatus != 0) || termSignal.has_value(); }
  std::optional<int64_t> durationNs() const;
  // The image it ran last: its last exec's, else the inherited one (may be null).
  const Image* lastImage() const;
};

enum class LossKind : uint8_t { gap, damage };

// A stretch of capture time where events may have been lost: a gap record
// (from the record before it to the gap), or a damaged part of the file
// (between the last readable record before it and the first after it).
// An empty bound is open: the loss may lie anywhere before or after.
struct LossNotice {
  LossKind kind = LossKind::gap;
  std::optional<int64_t> fromNs;
  std::optional<int64_t> toNs;
  std::optional<uint64_t> lostCount;  // gaps: events lost, when known
  std::string detail;                 // what and where, for people
  // False for a gap that cannot hide a process event: one of another source
  // (rtnetlink), or one that lost nothing. It is reported, and flags no process.
  bool mayHideProcessEvents = true;
};

// The processes of a model, by id - 1: a vector in blocks of 4096, so that
// growing never copies a process (nor touches twice the memory it needs).
// The parts of std::vector it needs.
class ProcessList {
 public:
  static constexpr size_t kBlock = 4096;

  using iterator = IndexIterator<ProcessList, Process>;
  using const_iterator = IndexIterator<const ProcessList, const Process>;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Process& operator[](size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  const Process& operator[](size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
  Process& back() { return (*this)[size_ - 1]; }
  const Process& back() const { return (*this)[size_ - 1]; }
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }
  Process& emplace_back();

 private:
  std::vector<std::vector<Process>> blocks_;  // each reserved to kBlock, so never reallocated
  size_t size_ = 0;
};

// One trace's analysis. Processes point into its images and texts: move a
// Model, never copy it.
struct Model {
  Model() = default;
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  ProcessList processes;              // processes[id - 1]
  std::deque<Image> images;           // every exec's image (a deque: they stay where they are)
  std::deque<StoredText> texts;       // each distinct exe and cwd, once (texts[i].index == i)
  Counters counters;
  std::vector<LossNotice> losses;
  std::vector<format::ClockAnchor> anchors;  // in capture order, to map times to wall clock
  std::optional<int64_t> firstNs;     // capture time of the trace's first record
  std::optional<int64_t> lastNs;      // ... and of its last

  const Process* find(ProcessId id) const { return id && id <= processes.size() ? &processes[id - 1] : nullptr; }
  // CLOCK_REALTIME ns for a monotonic time, from the latest anchor at or before it.
  std::optional<int64_t> wallNs(int64_t monotonicNs) const;
};

}  // namespace proctape::analyze
