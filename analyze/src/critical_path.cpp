// The critical path: walking back from the end of the wall time, each process
// on the path hands over to the child whose exit it waited for last; before
// that child started, to the child that ended latest before its start; and so
// on back to the process's own start. Whatever no child covers is the
// process's own time. Iterative, so a tree of any depth is walked safely.
#include <algorithm>

#include "proctape/analyze/summary.h"

namespace proctape::analyze {
namespace {

struct Child {
  ProcessId id;
  Interval life;
};

struct Frame {
  ProcessId id;        // 0: the virtual root above the scope's roots
  uint32_t depth;
  int64_t lowNs;       // the start of this process's part of the path
  int64_t untilNs;     // what is left to explain: [lowNs, untilNs)
  std::vector<Child> children;  // in scope, sorted by end
  size_t cursor;       // only children[0, cursor) may still be picked
  // lowNs is not the process's own start, which was not seen. A snapshot's
  // process was alive at the trace's start, so its lowNs is no guess.
  bool startAssumed;
};

class PathWalker {
 public:
  PathWalker(const Model& model, const ProcessTree& tree, const Scope& scope, const Span& span)
      : model_(model), tree_(tree), scope_(scope), span_(span) {}

  std::vector<CriticalStep> walk(Interval window) {
    stack_.push_back(frame(0, 0, window, scope_.roots));
    while (!stack_.empty()) step();
    std::reverse(steps_.begin(), steps_.end());
    return steps_;
  }

 private:
  Frame frame(ProcessId id, uint32_t depth, Interval part, std::span<const ProcessId> ids) const {
    const Process* process = id ? model_.find(id) : nullptr;
    Frame f{id, depth, part.startNs, part.endNs, {}, 0, process && !process->startNs && process->origin != Origin::snapshot};
    for (ProcessId child : ids)
      if (scope_.contains(child)) f.children.push_back({child, effectiveLife(*model_.find(child), span_)});
    std::stable_sort(f.children.begin(), f.children.end(),
                     [](const Child& a, const Child& b) { return a.life.endNs < b.life.endNs; });
    f.cursor = f.children.size();
    return f;
  }

  void step() {
    Frame& f = stack_.back();
    if (f.untilNs <= f.lowNs) return stack_.pop_back();
    // The child that ended last, no later than what is left to explain.
    auto end = f.children.begin() + ptrdiff_t(f.cursor);
    auto it = std::upper_bound(f.children.begin(), end, f.untilNs,
                               [](int64_t t, const Child& c) { return t < c.life.endNs; });
    if (it == f.children.begin() || (it - 1)->life.endNs <= f.lowNs) {
      emit(f, f.lowNs, f.untilNs);
      return stack_.pop_back();
    }
    Child child = *(it - 1);
    f.cursor = size_t(it - 1 - f.children.begin());
    if (child.life.endNs < f.untilNs) emit(f, child.life.endNs, f.untilNs);
    Interval part{std::max(child.life.startNs, f.lowNs), child.life.endNs};
    f.untilNs = part.startNs;
    uint32_t depth = f.id == 0 ? 0 : f.depth + 1;
    stack_.push_back(frame(child.id, depth, part, tree_.children(child.id)));  // invalidates f
  }

  // Steps come out last first; walk() reverses them. Adjacent pieces of one
  // process's own time merge.
  void emit(const Frame& f, int64_t from, int64_t to) {
    if (to <= from) return;
    bool startUnknown = f.startAssumed && from == f.lowNs;
    if (!steps_.empty() && steps_.back().id == f.id && steps_.back().fromNs == to) {
      steps_.back().fromNs = from;
      steps_.back().startUnknown = startUnknown;
      return;
    }
    steps_.push_back({f.id, f.depth, from, to, 0, startUnknown});
  }

  const Model& model_;
  const ProcessTree& tree_;
  const Scope& scope_;
  Span span_;
  std::vector<Frame> stack_;
  std::vector<CriticalStep> steps_;
};

}  // namespace

std::vector<CriticalStep> criticalPath(const Model& model, const ProcessTree& tree, const Scope& scope,
                                       Interval window) {
  return criticalPath(model, tree, scope, window, spanOf(model));
}

std::vector<CriticalStep> criticalPath(const Model& model, const ProcessTree& tree, const Scope& scope,
                                       Interval window, const Span& span) {
  if (window.endNs <= window.startNs) return {};
  auto steps = PathWalker(model, tree, scope, span).walk(window);
  double wall = double(window.endNs - window.startNs);
  for (auto& step : steps) step.share = double(step.toNs - step.fromNs) / wall;
  return steps;
}

}  // namespace proctape::analyze
