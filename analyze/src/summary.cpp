#include "proctape/analyze/summary.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace proctape::analyze {

Span spanOf(const Model& model) {
  constexpr int64_t kHigh = std::numeric_limits<int64_t>::max(), kLow = std::numeric_limits<int64_t>::min();
  int64_t first = model.firstNs.value_or(kHigh), last = model.lastNs.value_or(kLow);
  auto widen = [&](const std::optional<int64_t>& t) {
    if (!t) return;
    first = std::min(first, *t);
    last = std::max(last, *t);
  };
  for (const auto& process : model.processes) {
    widen(process.startNs);
    widen(process.endNs);
    widen(process.firstSeenNs);
    widen(process.goneByNs);
  }
  if (first == kHigh) return {};
  return {first, std::max(first, last)};
}

Interval effectiveLife(const Process& process, const Span& span) {
  int64_t start = process.startNs.value_or(span.firstNs);
  int64_t end = process.endNs ? *process.endNs : process.goneByNs.value_or(span.lastNs);
  return {start, std::max(start, end)};
}

namespace {

// groupName() as a view into the model: no copy per exec.
std::string_view groupView(const Image* image) {
  if (image && image->exe && !image->exe->empty()) return *image->exe;
  if (image && image->argv && !image->argv->empty() && !image->argv->front().empty()) return image->argv->front();
  return "?";
}

}  // namespace

std::string groupName(const Image* image) { return std::string(groupView(image)); }

// --- Commands ------------------------------------------------------------------

int64_t addSaturated(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? INT64_MAX : INT64_MIN) : sum;
}

std::vector<CommandStats> commandStats(const Model& model, const Scope& scope) {
  Span span = spanOf(model);
  std::unordered_map<std::string_view, CommandStats> groups;  // views into the model
  for (const auto& process : model.processes) {
    if (!scope.contains(process.id)) continue;
    Interval life = effectiveLife(process, span);
    for (size_t i = 0; i < process.execs.size(); ++i) {
      const Exec& exec = process.execs[i];
      if (!exec.timeNs) continue;
      bool last = i + 1 == process.execs.size();
      int64_t end = last ? life.endNs : process.execs[i + 1].timeNs.value_or(life.endNs);
      int64_t duration = std::max<int64_t>(0, end - *exec.timeNs);
      std::string_view name = groupView(exec.image);
      CommandStats& stats = groups[name];
      if (stats.runs == 0) stats.exe = name;
      ++stats.runs;
      if (last && !process.ended()) ++stats.openRuns;
      stats.totalNs = addSaturated(stats.totalNs, duration);
      if (duration > stats.maxNs || stats.maxId == 0) {
        stats.maxNs = std::max(stats.maxNs, duration);
        stats.maxId = process.id;
      }
    }
  }
  std::vector<CommandStats> out;
  out.reserve(groups.size());
  for (auto& [name, stats] : groups) out.push_back(std::move(stats));
  std::sort(out.begin(), out.end(), [](const CommandStats& a, const CommandStats& b) { return a.exe < b.exe; });
  return out;
}

std::vector<CommandStats> topByTotal(std::vector<CommandStats> stats, size_t n) {
  std::stable_sort(stats.begin(), stats.end(),
                   [](const CommandStats& a, const CommandStats& b) { return a.totalNs > b.totalNs; });
  if (stats.size() > n) stats.resize(n);
  return stats;
}

std::vector<CommandStats> topByMax(std::vector<CommandStats> stats, size_t n) {
  std::stable_sort(stats.begin(), stats.end(),
                   [](const CommandStats& a, const CommandStats& b) { return a.maxNs > b.maxNs; });
  if (stats.size() > n) stats.resize(n);
  return stats;
}

// --- Parallelism ---------------------------------------------------------------

namespace {

struct Edge {
  int64_t timeNs;
  bool isEnd;
  uint32_t order;  // starts: preorder (parents first); ends: reverse preorder (children first)
  ProcessId id;
  bool operator<(const Edge& o) const {
    if (timeNs != o.timeNs) return timeNs < o.timeNs;
    if (isEnd != o.isEnd) return !isEnd;  // within one instant, starts first: a zero-length process ends
    return order < o.order;
  }
};

// Running processes: alive with no alive child in scope.
class RunningSet {
 public:
  RunningSet(const Model& model, const Scope& scope)
      : model_(model), scope_(scope), alive_(model.processes.size() + 1), liveChildren_(alive_.size()),
        inParent_(alive_.size()) {}

  void start(ProcessId id) {
    alive_[id] = true;
    if (liveChildren_[id] == 0) ++running_;
    ProcessId parent = model_.find(id)->parentId;
    if (!scope_.contains(parent) || !alive_[parent]) return;
    if (liveChildren_[parent]++ == 0) --running_;
    inParent_[id] = true;
  }
  void end(ProcessId id) {
    if (!alive_[id]) return;
    alive_[id] = false;
    if (liveChildren_[id] == 0) --running_;
    ProcessId parent = model_.find(id)->parentId;
    if (!inParent_[id]) return;
    inParent_[id] = false;
    if (--liveChildren_[parent] == 0 && alive_[parent]) ++running_;
  }
  int64_t running() const { return running_; }

 private:
  const Model& model_;
  const Scope& scope_;
  std::vector<bool> alive_;
  std::vector<uint32_t> liveChildren_;
  std::vector<bool> inParent_;
  int64_t running_ = 0;
};

}  // namespace

Parallelism parallelism(const Model& model, const ProcessTree& tree, const Scope& scope, Interval window) {
  Parallelism result;
  if (window.endNs <= window.startNs) return result;
  Span span = spanOf(model);
  auto order = walkTree(tree, scope);
  std::vector<Edge> edges;
  edges.reserve(order.size() * 2);
  for (uint32_t i = 0; i < order.size(); ++i) {
    Interval life = effectiveLife(*model.find(order[i].id), span);
    int64_t start = std::max(life.startNs, window.startNs), end = std::min(life.endNs, window.endNs);
    if (start >= end) continue;  // outside the window, or no time at all: never running after an instant
    edges.push_back({start, false, i, order[i].id});
    edges.push_back({end, true, uint32_t(order.size() - i), order[i].id});
  }
  std::sort(edges.begin(), edges.end());
  RunningSet running(model, scope);
  double area = 0;
  int64_t previous = window.startNs;
  for (size_t i = 0; i < edges.size();) {
    int64_t now = edges[i].timeNs;
    area += double(running.running()) * double(now - previous);
    for (; i < edges.size() && edges[i].timeNs == now; ++i)
      edges[i].isEnd ? running.end(edges[i].id) : running.start(edges[i].id);
    if (now < window.endNs && running.running() > int64_t(result.peak)) {
      result.peak = uint32_t(running.running());
      result.peakAtNs = now;
    }
    previous = now;
  }
  result.average = area / double(window.endNs - window.startNs);
  return result;
}

// --- Summary -------------------------------------------------------------------

namespace {

Interval rootWindow(const Model& model, const Scope& scope) {
  Span span = spanOf(model);
  if (scope.roots.empty()) return {span.firstNs, span.firstNs};
  Interval window{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  for (ProcessId root : scope.roots) {
    Interval life = effectiveLife(*model.find(root), span);
    window.startNs = std::min(window.startNs, life.startNs);
    window.endNs = std::max(window.endNs, life.endNs);
  }
  return window;
}

int64_t endKey(const Process& process) {
  return process.endNs ? *process.endNs : process.goneByNs.value_or(std::numeric_limits<int64_t>::max());
}

}  // namespace

Summary summarize(const Model& model, const ProcessTree& tree, const Scope& scope, const SummaryOptions& options) {
  Summary summary;
  summary.window = rootWindow(model, scope);
  summary.wallNs = summary.window.endNs - summary.window.startNs;
  for (const auto& process : model.processes) {
    if (!scope.contains(process.id)) continue;
    ++summary.processes;
    for (const auto& exec : process.execs) summary.execs += exec.timeNs ? 1 : 0;
    if (process.has(kOpen)) ++summary.open;
    if (!process.forkSeen()) ++summary.startUnknown;
    if (process.failed()) summary.failures.push_back(process.id);
    if (process.has(kPossiblyIncomplete)) summary.possiblyIncomplete.push_back(process.id);
  }
  std::stable_sort(summary.failures.begin(), summary.failures.end(), [&model](ProcessId a, ProcessId b) {
    return endKey(*model.find(a)) < endKey(*model.find(b));
  });
  summary.stats = commandStats(model, scope);
  summary.topByTotal = topByTotal(summary.stats, options.top);
  summary.topByMax = topByMax(summary.stats, options.top);
  summary.parallelism = parallelism(model, tree, scope, summary.window);
  summary.criticalPath = criticalPath(model, tree, scope, summary.window);
  return summary;
}

}  // namespace proctape::analyze
