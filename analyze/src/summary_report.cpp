// `summary`: the build summary as text, JSON or Markdown.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "proctape/analyze/report.h"
#include "proctape/format/clamped.h"
#include "summary_render.h"
#include "text.h"

namespace proctape::analyze {

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", share * 100);
  return text;
}

std::string stepName(const Model& model, const CriticalStep& step) {
  const Process* p = model.find(step.id);
  return p ? shortened(commandText(*p)) : std::string("(no process: between the roots)");
}

namespace {

std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

constexpr size_t kFailuresShown = 50;
constexpr size_t kIncompleteShown = 20;

// --- Text ----------------------------------------------------------------------

void textTop(Buffer& out, const char* title, const std::vector<CommandStats>& rows) {
  if (rows.empty()) return;
  out.append(title);
  out.append("\n  total       runs  longest     executable\n");
  char line[96];
  for (const auto& row : rows) {
    std::snprintf(line, sizeof line, "  %-10s %5llu  %-10s  ", formatDuration(row.totalNs).c_str(),
                  static_cast<unsigned long long>(row.runs), formatDuration(row.maxNs).c_str());
    out.append(line);
    out.append(escapedText(row.exe));
    if (row.openRuns) out.append(" (" + std::to_string(row.openRuns) + " still running)");
    out.append('\n');
  }
}

void textFailures(Buffer& out, const Model& model, const Summary& s) {
  out.append("Failures      " + std::to_string(s.failures.size()) + "\n");
  for (size_t i = 0; i < s.failures.size() && i < kFailuresShown; ++i) {
    const Process& p = *model.find(s.failures[i]);
    out.append("  " + statusText(p) + "  " + shortened(commandText(p)) + "  (pid " + std::to_string(p.pid));
    if (auto d = p.durationNs()) out.append(", " + formatDuration(*d));
    out.append(")\n");
  }
  if (s.failures.size() > kFailuresShown)
    out.append("  ... and " + std::to_string(s.failures.size() - kFailuresShown) + " more (see --format json)\n");
}

void textCriticalPath(Buffer& out, const Model& model, const Summary& s) {
  if (s.criticalPath.empty()) return;
  out.append("Critical path (" + formatDuration(s.wallNs) + ", " + counted(s.criticalPath.size(), "step", "steps") +
             ")\n");
  size_t hidden = 0;
  double hiddenShare = 0;
  char line[64];
  for (const auto& step : s.criticalPath) {
    if (step.share < kStepShown) {
      ++hidden;
      hiddenShare += step.share;
      continue;
    }
    std::snprintf(line, sizeof line, "  %6s  %-10s ", percent(step.share).c_str(),
                  formatDuration(step.toNs - step.fromNs).c_str());
    out.append(line);
    for (uint32_t d = 0; d < step.depth; ++d) out.append("  ");
    out.append(stepName(model, step));
    if (step.startUnknown) out.append("  (start unknown, so this step may be too long)");
    out.append('\n');
  }
  if (hidden)
    out.append("  " + counted(hidden, "shorter step", "shorter steps") + ", " + percent(hiddenShare) + " in all\n");
}

void textQuality(Buffer& out, const TraceView& view, const Summary& s) {
  const Model& model = view.trace->model;
  bool any = false;
  for (size_t i = 0; i < kCounterCount; ++i) {
    uint64_t value = model.counters.get(Counter(i));
    if (!value) continue;
    if (!any) out.append("Data quality (whole trace)\n");
    any = true;
    const CounterInfo& info = describe(Counter(i));
    out.append("  " + std::string(toString(info.severity)) + "  " + info.name + " = " + std::to_string(value) +
               ": " + info.meaning + "\n");
  }
  for (const auto& loss : model.losses) out.append("  loss: " + escapedText(loss.detail) + "\n");
  if (s.possiblyIncomplete.empty()) return;
  out.append("  possibly incomplete in scope (" + std::to_string(s.possiblyIncomplete.size()) + "):\n");
  for (size_t i = 0; i < s.possiblyIncomplete.size() && i < kIncompleteShown; ++i) {
    const Process& p = *model.find(s.possiblyIncomplete[i]);
    out.append("    pid " + std::to_string(p.pid) + " (id " + std::to_string(p.id) + "): " + shortened(commandText(p)) +
               "\n");
  }
  if (s.possiblyIncomplete.size() > kIncompleteShown)
    out.append("    ... and " + std::to_string(s.possiblyIncomplete.size() - kIncompleteShown) + " more\n");
}

void textSummary(Buffer& out, const TraceView& view, const Summary& s) {
  const Model& model = view.trace->model;
  out.append("Trace         " + escapedText(view.trace->path));
  if (!view.trace->host().empty()) out.append(" (host " + escapedText(view.trace->host()) + ")");
  out.append("\nScope         " + view.scope.description + "\n");
  out.append("Wall time     ");
  if (!s.hasWindow()) out.append("none (no process in scope)");
  else out.append(formatDuration(s.wallNs));
  if (auto wall = model.wallNs(s.window.startNs); wall && s.hasWindow()) out.append("  from " + formatWall(wall));
  out.append("\nProcesses     " + std::to_string(s.processes));
  if (s.open) out.append(", " + std::to_string(s.open) + " open at the end");
  if (!s.possiblyIncomplete.empty()) out.append(", " + std::to_string(s.possiblyIncomplete.size()) + " possibly incomplete");
  out.append("\nExecs         " + std::to_string(s.execs) + "\n");
  textFailures(out, model, s);
  out.append("Parallelism   peak " + std::to_string(s.parallelism.peak) + ", average " +
             fixed(s.parallelism.average) + " (processes running at once, waiting parents excluded)\n");
  textTop(out, "Top commands by total time", s.topByTotal);
  textTop(out, "Top commands by longest run", s.topByMax);
  textCriticalPath(out, model, s);
  textQuality(out, view, s);
}

}  // namespace

// --- Text and Markdown of several traces -----------------------------------------

void writeSummaryText(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                      const Totals& totals) {
  for (size_t i = 0; i < views.size(); ++i) {
    if (i) out.append('\n');
    textSummary(out, views[i], summaries[i]);
  }
  if (views.size() < 2) return;
  out.append("\nAll " + std::to_string(views.size()) + " traces: " + counted(totals.processes, "process", "processes") +
             ", " + counted(totals.execs, "exec", "execs") + ", " + counted(totals.failures, "failure", "failures") + "\n");
  textTop(out, "Top commands by total time, all traces", totals.topByTotal);
  textTop(out, "Top commands by longest run, all traces", totals.topByMax);
}

Totals totalsOf(const std::vector<TraceView>& views, const std::vector<Summary>& summaries, size_t top) {
  Totals totals;
  for (size_t i = 0; i < views.size(); ++i) {
    const Summary& s = summaries[i];
    totals.processes += s.processes;
    totals.execs += s.execs;
    totals.failures += s.failures.size();
    totals.counters += views[i].trace->model.counters;
  }
  // One trace: its own top lists are the totals' (merging its groups again,
  // a string per executable, took 4% of a large summary).
  if (summaries.size() == 1) {
    totals.topByTotal = summaries[0].topByTotal;
    totals.topByMax = summaries[0].topByMax;
    return totals;
  }
  std::unordered_map<std::string, CommandStats> merged;
  for (const auto& s : summaries) {
    for (const auto& stats : s.stats) {
      CommandStats& into = merged[stats.exe];
      into.exe = stats.exe;
      into.runs += stats.runs;
      into.openRuns += stats.openRuns;
      into.totalNs = format::addClamped(into.totalNs, stats.totalNs);
      into.maxNs = std::max(into.maxNs, stats.maxNs);
    }
  }
  std::vector<CommandStats> all;
  for (auto& [name, stats] : merged) all.push_back(std::move(stats));
  std::sort(all.begin(), all.end(), [](const CommandStats& a, const CommandStats& b) { return a.exe < b.exe; });
  totals.topByTotal = topByTotal(all, top);
  totals.topByMax = topByMax(all, top);
  return totals;
}

Status writeSummary(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink) {
  std::vector<Summary> summaries;
  summaries.reserve(views.size());
  for (const auto& view : views)
    summaries.push_back(summarize(view.trace->model, view.tree, view.scope, {options.top}));
  Totals totals = totalsOf(views, summaries, options.top);
  Buffer out;
  switch (options.format) {
    case OutputFormat::text: writeSummaryText(out, views, summaries, totals); break;
    case OutputFormat::json: writeSummaryJson(out, views, summaries, totals); break;
    case OutputFormat::markdown: writeSummaryMarkdown(out, views, summaries, totals); break;
    default: return Error{"summary: the formats are text, json and markdown"};
  }
  return sink.write(out.view());
}

}  // namespace proctape::analyze
