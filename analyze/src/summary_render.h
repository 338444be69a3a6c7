// The three renderings of `summary` (text, JSON, Markdown) and what they share.
#pragma once

#include <string>
#include <vector>

#include "proctape/analyze/report.h"
#include "text.h"

namespace proctape::analyze {

// Figures over every trace given, for fleets of traces.
struct Totals {
  size_t processes = 0;
  size_t execs = 0;
  size_t failures = 0;
  Counters counters;
  std::vector<CommandStats> topByTotal;
  std::vector<CommandStats> topByMax;
};

Totals totalsOf(const std::vector<TraceView>& views, const std::vector<Summary>& summaries, size_t top);

void writeSummaryText(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                      const Totals& totals);
void writeSummaryJson(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                      const Totals& totals);
void writeSummaryMarkdown(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                          const Totals& totals);

// "12.5%".
std::string percent(double share);
// The command of a critical-path step, or what the time between roots is called.
std::string stepName(const Model& model, const CriticalStep& step);

// Critical-path steps the text and Markdown show: those of 1% or more.
inline constexpr double kStepShown = 0.01;

}  // namespace proctape::analyze
