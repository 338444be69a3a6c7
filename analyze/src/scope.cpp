#include "proctape/analyze/scope.h"

#include <algorithm>
#include <limits>

namespace proctape::analyze {
namespace {

// The first incarnation of `pid`: the one the trace shows earliest.
ProcessId firstIncarnation(const Model& model, int32_t pid) {
  for (const auto& process : model.processes)
    if (process.pid == pid) return process.id;
  return 0;
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
                          int32_t commandPid) {
  Scope scope;
  scope.included.assign(model.processes.size() + 1, false);
  ProcessId root = 0;
  if (!options.all && options.rootPid) {
    root = firstIncarnation(model, *options.rootPid);
    if (!root)
      return Error{"pid " + std::to_string(*options.rootPid) +
                   " does not appear in the trace: pick another --root (see `proctape-analyze processes --all`)"};
    scope.description = "pid " + std::to_string(*options.rootPid) + " (--root)";
  } else if (!options.all && commandPid > 0) {
    root = firstIncarnation(model, commandPid);
    scope.description = root ? "command pid " + std::to_string(commandPid)
                             : "all processes (the recorded command's pid " + std::to_string(commandPid) +
                                   " is not in the trace)";
  } else {
    scope.description = "all processes";
  }
  if (root) {
    scope.roots.push_back(root);
    addSubtree(tree, root, scope);
    return scope;
  }
  auto tops = tree.children(0);
  scope.roots.assign(tops.begin(), tops.end());
  for (ProcessId top : scope.roots) addSubtree(tree, top, scope);
  return scope;
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
