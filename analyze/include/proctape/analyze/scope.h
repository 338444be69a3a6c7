// Which processes an analysis looks at, and the tree they form.
//
// By default the subtree of the recorded command (Meta::commandPid) when the
// trace has one, else every process; --root PID picks the subtree of that
// pid's first incarnation instead, and --all takes everything.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proctape/analyze/model.h"
#include "proctape/format/result.h"

namespace proctape::analyze {

struct ScopeOptions {
  std::optional<int32_t> rootPid;  // --root PID
  bool all = false;                // --all
};

// The children of every process, sorted by start time (unknown first), then id.
class ProcessTree {
 public:
  explicit ProcessTree(const Model& model);
  // Children of `id`; id 0 gives the processes with no parent.
  std::span<const ProcessId> children(ProcessId id) const {
    return {children_.data() + first_[id], first_[id + 1] - first_[id]};
  }

 private:
  // One array for all: the children of `id` are children_[first_[id], first_[id + 1]).
  std::vector<uint32_t> first_;
  std::vector<ProcessId> children_;
};

struct Scope {
  std::vector<ProcessId> roots;  // the top of each subtree in scope, by start time
  std::vector<bool> included;    // included[id]: id is in scope (index 0 unused)
  size_t count = 0;              // processes in scope
  std::string description;       // "command pid 4242", "pid 17 (--root)", "all processes"

  bool contains(ProcessId id) const { return id < included.size() && included[id]; }
};

// Picks the processes in scope. By default, the subtree of each recording's
// command (Recording::commandPid, 0: none; the first incarnation of that pid
// among the processes the recording made). Fails only when --root names a
// pid the trace never shows; if no recorded command is in the trace, every
// process is in scope, and the description says so.
Result<Scope> selectScope(const Model& model, const ProcessTree& tree, const ScopeOptions& options,
                          std::span<const Recording> recordings);
// The same for a trace of one recording whose command is `commandPid`.
Result<Scope> selectScope(const Model& model, const ProcessTree& tree, const ScopeOptions& options,
                          int32_t commandPid);

// Every process in scope, depth first from the roots, children in start
// order, each with its depth below its root (0 for a root).
struct TreeEntry {
  ProcessId id = 0;
  uint32_t depth = 0;
};
std::vector<TreeEntry> walkTree(const ProcessTree& tree, const Scope& scope);

}  // namespace proctape::analyze
