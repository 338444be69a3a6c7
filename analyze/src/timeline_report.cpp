// `timeline`: Chrome Trace Event JSON (Perfetto and chrome://tracing read it).
// One track per process incarnation, ordered by tree order so that children
// sit under their parents; one complete ("X") event per track.
#include <algorithm>
#include <functional>
#include <string>

#include "proctape/analyze/report.h"
#include "text.h"

namespace proctape::analyze {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr size_t kNameBytes = 80;

// Where a trace's events start on the timeline: its first record, or an
// earlier kernel time of a process in scope.
int64_t originOf(const TraceView& view) {
  const Model& model = view.trace->model;
  int64_t origin = model.firstNs.value_or(0);
  for (const auto& p : model.processes)
    if (view.scope.contains(p.id) && p.startNs) origin = std::min(origin, *p.startNs);
  return origin;
}

int64_t lastOf(const TraceView& view, int64_t origin) {
  int64_t last = view.trace->model.lastNs.value_or(origin);
  for (const auto& p : view.trace->model.processes)
    if (view.scope.contains(p.id) && p.endNs) last = std::max(last, *p.endNs);
  return last;
}

double micros(int64_t ns) { return double(ns) / 1000.0; }

// Start and end on the timeline (ns), and why they were chosen when not the fork and exit.
struct Span {
  int64_t startNs = 0;
  int64_t endNs = 0;
  const char* startNote = nullptr;
  const char* endNote = nullptr;
};

Span spanOf(const Process& p, int64_t origin, int64_t last) {
  Span span{p.startNs.value_or(origin), last, nullptr, nullptr};
  if (!p.startNs) span.startNote = p.has(kStartBeforeTrace) ? "before the trace" : "unknown (shown from the trace start)";
  if (p.endNs)
    span.endNs = *p.endNs;
  else if (p.goneByNs)
    span.endNs = *p.goneByNs, span.endNote = "exit lost (shown until its pid was reused)";
  else if (p.has(kOpen))
    span.endNote = "open (still running at the trace end)";
  else
    span.endNote = "unknown (shown until the trace end)";
  span.endNs = std::max(span.endNs, span.startNs);
  return span;
}

void metadata(JsonWriter& json, const char* name, uint64_t track, const std::function<void()>& args) {
  json.beginObject().key("ph").value("M").key("name").value(name);
  json.key("pid").value(track).key("tid").value(track).key("args").beginObject();
  args();
  json.endObject().endObject();
}

void processArgs(JsonWriter& json, const TraceView& view, const Process& p, const Span& span) {
  const Process* parent = view.trace->model.find(p.parentId);
  const Image* image = p.lastImage();
  json.key("pid").value(p.pid).key("parent_pid").value(p.parentPid);
  json.key("id").value(p.id).key("parent_id").value(parent ? std::optional<uint32_t>(parent->id) : std::nullopt);
  json.key("argv");
  if (image && image->argv)
    json.strings(*image->argv);
  else
    json.null();
  json.key("exe").value(image ? image->exe : Text()).key("cwd").value(image ? image->cwd : Text());
  json.key("exit_status").value(p.exitStatus).key("term_signal").value(p.termSignal);
  json.key("core_dumped");
  p.ended() && p.exitCode ? json.value(p.coreDumped) : json.null();
  json.key("status").value(statusText(p));
  if (span.startNote) json.key("start").value(span.startNote);
  if (span.endNote) json.key("end").value(span.endNote);
  if (!view.trace->host().empty()) json.key("host").value(view.trace->host());
  json.key("flags").strings(flagNames(p));
}

// Track `track` (numbered in tree order, which is also its sort index) for `p`.
void processEvents(JsonWriter& json, const TraceView& view, const Process& p, uint64_t track, int64_t origin,
                   int64_t last) {
  const Span span = spanOf(p, origin, last);
  const std::string name = shortened(commandText(p), kNameBytes);
  const std::string label = name + " [pid " + std::to_string(p.pid) + "]";
  metadata(json, "process_name", track, [&] { json.key("name").value(label); });
  metadata(json, "process_sort_index", track, [&] { json.key("sort_index").value(track); });
  metadata(json, "thread_name", track, [&] { json.key("name").value(label); });
  json.beginObject().key("ph").value("X").key("cat").value(p.failed() ? "process,failed" : "process");
  json.key("name").value(name).key("pid").value(track).key("tid").value(track);
  json.key("ts").value(micros(span.startNs - origin)).key("dur").value(micros(span.endNs - span.startNs));
  json.key("args").beginObject();
  processArgs(json, view, p, span);
  json.endObject().endObject();
}

}  // namespace

Status writeTimeline(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink) {
  if (options.format != OutputFormat::json) return Error{"timeline: the format is json"};
  Buffer out;
  JsonWriter json(out);
  json.beginObject().key("traceEvents").beginArray();
  uint64_t track = 0;
  for (const auto& view : views) {
    const int64_t origin = originOf(view), last = lastOf(view, origin);
    for (const auto& entry : walkTree(view.tree, view.scope)) {
      ++track;
      processEvents(json, view, view.trace->model.processes[entry.id - 1], track, origin, last);
      if (out.size() < kFlushBytes) continue;
      if (auto status = sink.write(out.view()); !status) return status;
      out.clear();
    }
  }
  json.endArray().key("displayTimeUnit").value("ms").endObject();
  out.append('\n');
  return sink.write(out.view());
}

}  // namespace proctape::analyze
