// `summary --format markdown`: GitHub-flavoured Markdown for CI job summaries
// (e.g. appended to $GITHUB_STEP_SUMMARY).
#include <algorithm>
#include <cstdio>

#include "summary_render.h"

namespace proctape::analyze {
namespace {

constexpr size_t kFailuresShown = 50;

// Already escaped text as it is inside a table cell: | would end the cell
// (also inside a code span, in GitHub's tables), so it is escaped.
std::string pipesEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// Plain text in a cell: a backtick would open a code span, so it is escaped too.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : pipesEscaped(text)) {
    if (c == '`') out += '\\';
    out += c;
  }
  return out;
}

// A code span that shows `text` exactly, backticks included: CommonMark lets
// a span fenced by one backtick more than the longest run inside it hold
// them, and a space inside each fence keeps a backtick at either end apart.
std::string code(const std::string& text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  // Appended piece by piece: GCC 12 warns falsely on "literal" + std::string&& (-Wrestrict, bug 105329).
  std::string out = fence;
  if (pad) out += ' ';
  out += pipesEscaped(text);
  if (pad) out += ' ';
  out += fence;
  return out;
}

void mdTop(Buffer& out, const char* title, const std::vector<CommandStats>& rows) {
  if (rows.empty()) return;
  out.append(std::string("\n**") + title + "**\n\n| total | runs | longest | executable |\n|--:|--:|--:|---|\n");
  for (const auto& row : rows) {
    out.append("| " + formatDuration(row.totalNs) + " | " + std::to_string(row.runs) + " | " +
               formatDuration(row.maxNs) + " | " + code(escapedText(row.exe)) + " |\n");
  }
}

void mdFailures(Buffer& out, const Model& model, const Summary& s) {
  if (s.failures.empty()) return;
  out.append("\n**Failures (" + std::to_string(s.failures.size()) + ")**\n\n| status | command | pid | duration |\n"
             "|---|---|--:|--:|\n");
  for (size_t i = 0; i < s.failures.size() && i < kFailuresShown; ++i) {
    const Process& p = *model.find(s.failures[i]);
    auto duration = p.durationNs();
    out.append("| " + statusText(p) + " | " + code(shortened(commandText(p))) + " | " + std::to_string(p.pid) + " | " +
               (duration ? formatDuration(*duration) : std::string("?")) + " |\n");
  }
  if (s.failures.size() > kFailuresShown)
    out.append("\n... and " + std::to_string(s.failures.size() - kFailuresShown) + " more.\n");
}

void mdCriticalPath(Buffer& out, const Model& model, const Summary& s) {
  if (s.criticalPath.empty()) return;
  out.append("\n**Critical path**\n\n| share | time | step |\n|--:|--:|---|\n");
  size_t hidden = 0;
  double hiddenShare = 0;
  for (const auto& step : s.criticalPath) {
    if (step.share < kStepShown) {
      ++hidden;
      hiddenShare += step.share;
      continue;
    }
    std::string indent;
    for (uint32_t d = 0; d < step.depth; ++d) indent += "&nbsp;&nbsp;";
    out.append("| " + percent(step.share) + " | " + formatDuration(step.toNs - step.fromNs) + " | " + indent +
               code(stepName(model, step)) + (step.startUnknown ? " (start unknown: may be too long)" : "") + " |\n");
  }
  if (hidden) {
    out.append('\n');  // not "\n" + std::to_string(...): GCC 12 warns falsely (-Wrestrict, bug 105329)
    out.append(counted(hidden, "shorter step", "shorter steps") + ", " + percent(hiddenShare) + " in all.\n");
  }
}

void mdQuality(Buffer& out, const Model& model, const Summary& s) {
  bool any = false;
  for (size_t i = 0; i < kCounterCount; ++i) {
    uint64_t value = model.counters.get(Counter(i));
    const CounterInfo& info = describe(Counter(i));
    if (!value || info.severity == Severity::info) continue;
    if (!any) out.append("\n**Data quality** (whole trace)\n\n");
    any = true;
    out.append("- " + std::string(toString(info.severity)) + " `" + info.name + "` = " + std::to_string(value) +
               ": " + info.meaning + "\n");
  }
  if (!s.possiblyIncomplete.empty())
    out.append("- " + std::to_string(s.possiblyIncomplete.size()) +
               " processes in scope may be incomplete (alive during lost events)\n");
}

void mdTrace(Buffer& out, const TraceView& view, const Summary& s) {
  const Model& model = view.trace->model;
  std::string host = view.trace->host().empty() ? std::string("unknown host") : view.trace->host();
  out.append("### " + cell(escapedText(host)) + ": " + code(escapedText(view.trace->path)) + "\n\n");
  out.append("| wall time | processes | execs | failures | parallelism (peak / average) |\n|--:|--:|--:|--:|--:|\n");
  char parallel[64];
  std::snprintf(parallel, sizeof parallel, "%u / %.2f", s.parallelism.peak, s.parallelism.average);
  out.append("| " + (s.hasWindow() ? formatDuration(s.wallNs) : std::string("none")) + " | " +
             std::to_string(s.processes) + " | " +
             std::to_string(s.execs) + " | " + std::to_string(s.failures.size()) + " | " + parallel + " |\n");
  out.append("\nScope: " + cell(view.scope.description) + ".");
  if (s.open) {
    out.append(' ');
    out.append(std::to_string(s.open) + " processes were still running at the end.");
  }
  out.append('\n');
  mdFailures(out, model, s);
  mdTop(out, "Top commands by total time", s.topByTotal);
  mdTop(out, "Top commands by longest run", s.topByMax);
  mdCriticalPath(out, model, s);
  mdQuality(out, model, s);
}

}  // namespace

void writeSummaryMarkdown(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                          const Totals& totals) {
  out.append("## proctape build summary\n\n");
  for (size_t i = 0; i < views.size(); ++i) {
    if (i) out.append('\n');
    mdTrace(out, views[i], summaries[i]);
  }
  if (views.size() < 2) return;
  out.append("\n### All " + std::to_string(views.size()) + " traces\n\n" + counted(totals.processes, "process", "processes") +
             ", " + counted(totals.execs, "exec", "execs") + ", " + counted(totals.failures, "failure", "failures") + ".\n");
  mdTop(out, "Top commands by total time", totals.topByTotal);
  mdTop(out, "Top commands by longest run", totals.topByMax);
}

}  // namespace proctape::analyze
