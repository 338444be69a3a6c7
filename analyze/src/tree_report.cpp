// `tree`: an indented process tree per trace.
#include <string>

#include "proctape/analyze/report.h"
#include "text.h"

namespace proctape::analyze {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

// Incomplete: something about it is not known or may be missing.
bool incomplete(const Process& p) {
  if (p.flags & (kOpen | kEndUnknown | kStartUnknown | kPossiblyIncomplete)) return true;
  for (const auto& exec : p.execs)
    if (exec.timeNs && !exec.image->infoSeen) return true;
  return false;
}

std::string lifeText(const Process& p) {
  if (auto duration = p.durationNs()) return formatDuration(*duration);
  if (p.has(kStartBeforeTrace)) return "started before the trace";
  if (!p.startNs) return "start unknown";
  return "";
}

void appendDetails(Buffer& out, const Process& p) {
  out.append("  [pid ");
  out.appendInt(p.pid);
  if (auto life = lifeText(p); !life.empty()) out.append(", " + life);
  out.append(", " + statusText(p));
  size_t execs = 0;
  for (const auto& exec : p.execs) execs += exec.timeNs ? 1 : 0;
  if (execs > 1) out.append(", " + std::to_string(execs) + " execs");
  if (p.has(kPossiblyIncomplete)) out.append(", possibly incomplete");
  if (p.has(kEndUnknown)) out.append(", pid reused");
  out.append("]\n");
}

void appendHeader(Buffer& out, const TraceView& view) {
  const AnalyzedTrace& trace = *view.trace;
  out.append("# ");
  out.append(escapedText(trace.path));
  if (!trace.host().empty()) out.append(" (host " + escapedText(trace.host()) + ")");
  out.append(": " + view.scope.description + ", " + std::to_string(view.scope.count) + " processes\n");
}

}  // namespace

Status writeTree(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink) {
  if (options.format != OutputFormat::text) return Error{"tree: the only format is text"};
  Buffer out;
  bool marked = false;
  for (size_t v = 0; v < views.size(); ++v) {
    const TraceView& view = views[v];
    if (v) out.append('\n');
    appendHeader(out, view);
    for (const auto& entry : walkTree(view.tree, view.scope)) {
      const Process& p = *view.trace->model.find(entry.id);
      bool failed = p.failed(), partial = incomplete(p);
      marked = marked || failed || partial;
      out.append(failed ? '!' : ' ');
      out.append(partial ? '?' : ' ');
      out.append(' ');
      for (uint32_t d = 0; d < entry.depth; ++d) out.append("  ");
      appendCommandText(out, p);
      appendDetails(out, p);
      if (out.size() < kFlushBytes) continue;
      if (auto status = sink.write(out.view()); !status) return status;
      out.clear();
    }
  }
  if (marked)
    out.append("\n! failed (nonzero exit status or killed by a signal)   ? incomplete (open, start or end "
               "unknown, exec info missing, or alive during lost events)\n");
  return sink.write(out.view());
}

}  // namespace proctape::analyze
