#include "proctape/analyze/summary.h"

#include <algorithm>
#include <bit>
#include <future>
#include <limits>
#include <unordered_map>
#include <utility>

#include "proctape/format/clamped.h"

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

std::vector<CommandStats> commandStats(const Model& model, const Scope& scope) {
  return commandStats(model, scope, spanOf(model));
}

std::vector<CommandStats> commandStats(const Model& model, const Scope& scope, const Span& span) {
  std::unordered_map<std::string_view, CommandStats> groups;  // views into the model
  // Images name their exe by the model's one copy of it: the group of an
  // exe, found once by its index, needs no string hashing after.
  std::vector<CommandStats*> byExe(model.texts.size(), nullptr);
  std::vector<bool> looked(model.texts.size(), false);
  for (const auto& process : model.processes) {
    if (!scope.contains(process.id)) continue;
    Interval life = effectiveLife(process, span);
    for (size_t i = 0; i < process.execs.size(); ++i) {
      const Exec& exec = process.execs[i];
      if (!exec.timeNs) continue;
      bool last = i + 1 == process.execs.size();
      int64_t end = last ? life.endNs : process.execs[i + 1].timeNs.value_or(life.endNs);
      int64_t duration = std::max<int64_t>(0, end - *exec.timeNs);
      const Image* image = exec.image;
      CommandStats* group = nullptr;
      if (image && image->exe && image->exe.index() < byExe.size()) {
        uint32_t index = image->exe.index();
        if (!looked[index]) {  // an empty exe stays null: grouped by argv[0]
          looked[index] = true;
          if (!image->exe->empty()) byExe[index] = &groups[*image->exe];  // node-based: the address stays
        }
        group = byExe[index];
      }
      if (!group) group = &groups[groupView(image)];
      CommandStats& stats = *group;
      if (stats.runs == 0) stats.exe = groupView(image);
      ++stats.runs;
      if (last && !process.ended()) ++stats.openRuns;
      stats.totalNs = format::addClamped(stats.totalNs, duration);
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

namespace {

// The n largest by `key`, ties in their order in `stats` (as a stable sort
// would leave them), copying only those n: a build can have hundreds of
// thousands of executables.
template <typename Key>
std::vector<CommandStats> topBy(const std::vector<CommandStats>& stats, size_t n, Key key) {
  std::vector<uint32_t> order(stats.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = uint32_t(i);
  auto first = [&](uint32_t a, uint32_t b) {
    return key(stats[a]) != key(stats[b]) ? key(stats[a]) > key(stats[b]) : a < b;
  };
  size_t count = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + ptrdiff_t(count), order.end(), first);
  std::vector<CommandStats> top;
  top.reserve(count);
  for (size_t i = 0; i < count; ++i) top.push_back(stats[order[i]]);
  return top;
}

}  // namespace

std::vector<CommandStats> topByTotal(const std::vector<CommandStats>& stats, size_t n) {
  return topBy(stats, n, [](const CommandStats& s) { return s.totalNs; });
}

std::vector<CommandStats> topByMax(const std::vector<CommandStats>& stats, size_t n) {
  return topBy(stats, n, [](const CommandStats& s) { return s.maxNs; });
}

// --- Parallelism ---------------------------------------------------------------

namespace {

constexpr uint32_t kNoPosition = UINT32_MAX;

// A process starting or ending. Processes are named by their position in
// the tree walk (preorder), which orders the edges of one instant.
struct Edge {
  int64_t timeNs;
  bool isEnd;
  uint32_t order;  // starts: the position (parents first); ends: count - position (children first)
  bool operator<(const Edge& o) const {
    if (timeNs != o.timeNs) return timeNs < o.timeNs;
    if (isEnd != o.isEnd) return !isEnd;  // within one instant, starts first: a zero-length process ends
    return order < o.order;
  }
};

// Running processes: alive with no alive child in scope. By walk position,
// each with the position of its parent when that is in scope.
class RunningSet {
 public:
  explicit RunningSet(std::vector<uint32_t> parentAt)
      : parentAt_(std::move(parentAt)), alive_(parentAt_.size()), liveChildren_(parentAt_.size()),
        inParent_(parentAt_.size()) {}

  void start(uint32_t at) {
    alive_[at] = true;
    if (liveChildren_[at] == 0) ++running_;
    uint32_t parent = parentAt_[at];
    if (parent == kNoPosition || !alive_[parent]) return;
    if (liveChildren_[parent]++ == 0) --running_;
    inParent_[at] = true;
  }
  void end(uint32_t at) {
    if (!alive_[at]) return;
    alive_[at] = false;
    if (liveChildren_[at] == 0) --running_;
    if (!inParent_[at]) return;
    inParent_[at] = false;
    uint32_t parent = parentAt_[at];
    if (--liveChildren_[parent] == 0 && alive_[parent]) ++running_;
  }
  int64_t running() const { return running_; }

 private:
  std::vector<uint32_t> parentAt_;
  std::vector<uint8_t> alive_;
  std::vector<uint32_t> liveChildren_;
  std::vector<uint8_t> inParent_;
  int64_t running_ = 0;
};

// Sorts the edges of `count` processes as Edge::operator< orders them. For a
// large scope this is much of the work, so when the times (counted from the
// earliest) and the positions fit in 64 bits together, each edge becomes one
// 64-bit key (time, isEnd, order), and integers are sorted (about three times
// faster than the edges). Keys are unique (so is each edge's order among its
// kind), so both ways give one result.
void sortEdges(std::vector<Edge>& edges, size_t count) {
  if (edges.size() < 4096) return std::sort(edges.begin(), edges.end());
  int64_t low = std::numeric_limits<int64_t>::max(), high = std::numeric_limits<int64_t>::min();
  for (const auto& edge : edges) low = std::min(low, edge.timeNs), high = std::max(high, edge.timeNs);
  unsigned orderBits = unsigned(std::bit_width(uint64_t(count)));
  unsigned keyBits = unsigned(std::bit_width(uint64_t(high) - uint64_t(low))) + 1 + orderBits;
  if (keyBits > 64) return std::sort(edges.begin(), edges.end());
  std::vector<uint64_t> keys;
  keys.reserve(edges.size());
  for (const auto& edge : edges)
    keys.push_back((uint64_t(edge.timeNs) - uint64_t(low)) << (orderBits + 1) | uint64_t(edge.isEnd) << orderBits |
                   edge.order);
  std::sort(keys.begin(), keys.end());
  uint64_t orderMask = (uint64_t(1) << orderBits) - 1;
  for (size_t i = 0; i < keys.size(); ++i)
    edges[i] = {int64_t(uint64_t(low) + (keys[i] >> (orderBits + 1))), bool((keys[i] >> orderBits) & 1),
                uint32_t(keys[i] & orderMask)};
}

}  // namespace

Parallelism parallelism(const Model& model, const ProcessTree& tree, const Scope& scope, Interval window) {
  return parallelism(model, tree, scope, window, spanOf(model));
}

Parallelism parallelism(const Model& model, const ProcessTree& tree, const Scope& scope, Interval window,
                        const Span& span) {
  Parallelism result;
  if (window.endNs <= window.startNs) return result;
  auto order = walkTree(tree, scope);
  auto count = uint32_t(order.size());
  // Parents by position; a parent that is not walked (not in scope) is none.
  std::vector<uint32_t> positionOf(model.processes.size() + 1, kNoPosition);
  for (uint32_t i = 0; i < count; ++i) positionOf[order[i].id] = i;
  std::vector<uint32_t> parentAt(count, kNoPosition);
  std::vector<Edge> edges;
  edges.reserve(size_t(count) * 2);
  for (uint32_t i = 0; i < count; ++i) {
    const Process& process = *model.find(order[i].id);
    if (process.parentId < positionOf.size()) parentAt[i] = positionOf[process.parentId];
    Interval life = effectiveLife(process, span);
    int64_t start = std::max(life.startNs, window.startNs), end = std::min(life.endNs, window.endNs);
    if (start >= end) continue;  // outside the window, or no time at all: never running after an instant
    edges.push_back({start, false, i});
    edges.push_back({end, true, count - i});
  }
  sortEdges(edges, count);
  RunningSet running(std::move(parentAt));
  double area = 0;
  int64_t previous = window.startNs;
  for (size_t i = 0; i < edges.size();) {
    int64_t now = edges[i].timeNs;
    area += double(running.running()) * double(now - previous);
    for (; i < edges.size() && edges[i].timeNs == now; ++i)
      edges[i].isEnd ? running.end(count - edges[i].order) : running.start(edges[i].order);
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

Interval rootWindow(const Model& model, const Scope& scope, const Span& span) {
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
  Span span = spanOf(model);  // once, for every figure
  summary.window = rootWindow(model, scope, span);
  summary.wallNs = summary.window.endNs - summary.window.startNs;
  // Parallelism sorts two events per process: the slowest figure, so it runs
  // on a thread of its own beside the others (all of them only read).
  auto parallel = std::async(std::launch::async, [&model, &tree, &scope, window = summary.window, span] {
    return parallelism(model, tree, scope, window, span);
  });
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
  summary.stats = commandStats(model, scope, span);
  summary.topByTotal = topByTotal(summary.stats, options.top);
  summary.topByMax = topByMax(summary.stats, options.top);
  summary.criticalPath = criticalPath(model, tree, scope, summary.window, span);
  summary.parallelism = parallel.get();
  return summary;
}

}  // namespace proctape::analyze
