#include "proctape/analyze/scope.h"

#include <algorithm>
#include <limits>

namespace proctape::analyze {
namespace {

// The first incarnation of `pid` among the processes made from id `from` on
// (ids follow the order the trace shows them in).
ProcessId firstIncarnation(const Model& model, int32_t pid, ProcessId from = 1) {
  for (size_t i = from ? from - 1 : 0; i < model.processes.size(); ++i)
    if (model.processes[i].pid == pid) return model.processes[i].id;
  return 0;
}

// The recorded commands as roots, in the order of their recordings, and the
// description: "command pid 4242", or "command pids 4242, 5120 (2
// recordings)"; with none found, what was looked for.
void commandRoots(const Model& model, std::span<const Recording> recordings, Scope& scope) {
  std::string found, missing;
  size_t commands = 0;
  for (const auto& recording : recordings) {
    if (recording.commandPid <= 0) continue;
    ++commands;
    std::string pid = std::to_string(recording.commandPid);
    ProcessId root = firstIncarnation(model, recording.commandPid, recording.firstProcessId);
    if (root && std::find(scope.roots.begin(), scope.roots.end(), root) == scope.roots.end()) {
      scope.roots.push_back(root);
      found += (found.empty() ? "" : ", ") + pid;
    } else if (!root) {
      missing += (missing.empty() ? "" : ", ") + pid;
    }
  }
  if (commands == 0) return;
  if (scope.roots.empty()) {
    scope.description = "all processes (the recorded command's pid " + missing + " is not in the trace)";
    return;
  }
  scope.description = (scope.roots.size() == 1 ? "command pid " : "command pids ") + found;
  if (commands > 1) scope.description += " (" + std::to_string(commands) + " recordings)";
  if (!missing.empty()) scope.description += "; the command pid " + missing + " is not in the trace";
}

void addSubtree(const ProcessTree& tree, ProcessId root, Scope& scope) {
  std::vector<ProcessId> stack{root};
  while (!stack.empty()) {
    ProcessId id = stack.back();
    stack.pop_back();
    if (scope.included[id]) continue;
    scope.included[id] = true;
    ++scope.count;
    for (ProcessId child : tree.children(id)) stack.push_back(child);
  }
}

}  // namespace

ProcessTree::ProcessTree(const Model& model) : first_(model.processes.size() + 2, 0), children_(model.processes.size()) {
  auto parentOf = [&model](const Process& process) { return model.find(process.parentId) ? process.parentId : 0; };
  // Count each parent's children, then place them, in id order, after the counts before.
  for (const auto& process : model.processes) ++first_[parentOf(process) + 1];
  for (size_t i = 1; i < first_.size(); ++i) first_[i] += first_[i - 1];
  std::vector<uint32_t> next(first_.begin(), first_.end() - 1);
  for (const auto& process : model.processes) children_[next[parentOf(process)]++] = process.id;
  auto byStart = [&model](ProcessId a, ProcessId b) {
    constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
    int64_t startA = model.find(a)->startNs.value_or(kUnknown), startB = model.find(b)->startNs.value_or(kUnknown);
    return startA != startB ? startA < startB : a < b;
  };
  for (size_t id = 0; id + 1 < first_.size(); ++id)
    std::sort(children_.begin() + first_[id], children_.begin() + first_[id + 1], byStart);
}

Result<Scope> selectScope(const Model& model, const ProcessTree& tree, const ScopeOptions& options,
                          std::span<const Recording> recordings) {
  Scope scope;
  scope.included.assign(model.processes.size() + 1, false);
  if (!options.all && options.rootPid) {
    ProcessId root = firstIncarnation(model, *options.rootPid);
    if (!root)
      return Error{"pid " + std::to_string(*options.rootPid) +
                   " does not appear in the trace: pick another --root (see `proctape-analyze processes --all`)"};
    scope.description = "pid " + std::to_string(*options.rootPid) + " (--root)";
    scope.roots.push_back(root);
  } else if (!options.all) {
    commandRoots(model, recordings, scope);
  }
  if (!scope.roots.empty()) {
    for (ProcessId root : scope.roots) addSubtree(tree, root, scope);
    return scope;
  }
  if (scope.description.empty()) scope.description = "all processes";
  auto tops = tree.children(0);
  scope.roots.assign(tops.begin(), tops.end());
  for (ProcessId top : scope.roots) addSubtree(tree, top, scope);
  return scope;
}

Result<Scope> selectScope(const Model& model, const ProcessTree& tree, const ScopeOptions& options,
                          int32_t commandPid) {
  Recording recording;
  recording.commandPid = commandPid;
  return selectScope(model, tree, options, std::span<const Recording>(&recording, 1));
}

std::vector<TreeEntry> walkTree(const ProcessTree& tree, const Scope& scope) {
  std::vector<TreeEntry> out;
  out.reserve(scope.count);
  std::vector<TreeEntry> stack;
  for (auto it = scope.roots.rbegin(); it != scope.roots.rend(); ++it) stack.push_back({*it, 0});
  while (!stack.empty()) {
    TreeEntry entry = stack.back();
    stack.pop_back();
    out.push_back(entry);
    auto children = tree.children(entry.id);
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      if (scope.contains(*it)) stack.push_back({*it, entry.depth + 1});
  }
  return out;
}

}  // namespace proctape::analyze
