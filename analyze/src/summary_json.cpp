// `summary --format json`: one object, {"traces": [...], "total": {...}}.
#include "summary_render.h"

namespace proctape::analyze {
namespace {

void jsonProcessRef(JsonWriter& json, const Process& p) {
  json.key("id").value(p.id).key("pid").value(p.pid);
  json.key("command").value(commandText(p));
  const Image* image = p.lastImage();
  json.key("exe").value(image ? image->exe : Text());
  json.key("argv");
  image && image->argv ? json.strings(*image->argv) : json.null();
}

void jsonTop(JsonWriter& json, const char* name, const std::vector<CommandStats>& rows, bool withIds) {
  json.key(name).beginArray();
  for (const auto& row : rows) {
    json.beginObject().key("exe").value(row.exe).key("runs").value(row.runs).key("open_runs").value(row.openRuns);
    json.key("total_ns").value(row.totalNs).key("max_ns").value(row.maxNs);
    if (withIds) json.key("max_id").value(row.maxId);
    json.endObject();
  }
  json.endArray();
}

void jsonCounters(JsonWriter& json, const Counters& counters) {
  json.key("counters").beginObject();
  for (size_t i = 0; i < kCounterCount; ++i) {
    uint64_t value = counters.get(Counter(i));
    if (!value) continue;
    const CounterInfo& info = describe(Counter(i));
    json.key(info.name).beginObject().key("value").value(value).key("severity").value(toString(info.severity));
    json.endObject();
  }
  json.endObject();
}

void jsonFailures(JsonWriter& json, const Model& model, const Summary& s) {
  json.key("failures").beginArray();
  for (ProcessId id : s.failures) {
    const Process& p = *model.find(id);
    json.beginObject();
    jsonProcessRef(json, p);
    json.key("exit_status").value(p.exitStatus).key("term_signal").value(p.termSignal);
    json.key("core_dumped").value(p.coreDumped).key("duration_ns").value(p.durationNs());
    json.endObject();
  }
  json.endArray();
}

void jsonCriticalPath(JsonWriter& json, const Model& model, const Summary& s) {
  json.key("critical_path").beginArray();
  for (const auto& step : s.criticalPath) {
    json.beginObject();
    if (const Process* p = model.find(step.id))
      jsonProcessRef(json, *p);
    else
      json.key("id").null().key("pid").null().key("command").value("(no process: between the roots)");
    json.key("depth").value(step.depth).key("from_ns").value(step.fromNs).key("to_ns").value(step.toNs);
    json.key("duration_ns").value(step.toNs - step.fromNs).key("share").value(step.share);
    json.key("start_unknown").value(step.startUnknown);
    json.endObject();
  }
  json.endArray();
}

void jsonLosses(JsonWriter& json, const TraceView& view, const Summary& s) {
  const Model& model = view.trace->model;
  json.key("losses").beginArray();
  for (const auto& loss : model.losses) {
    json.beginObject().key("kind").value(loss.kind == LossKind::gap ? "gap" : "damage");
    json.key("from_ns").value(loss.fromNs).key("to_ns").value(loss.toNs).key("lost").value(loss.lostCount);
    json.key("detail").value(loss.detail).endObject();
  }
  json.endArray();
  json.key("damage").beginArray();
  for (const auto& damage : view.trace->damage) json.value(format::describe(damage));
  json.endArray();
  json.key("possibly_incomplete").beginArray();
  for (ProcessId id : s.possiblyIncomplete) json.value(id);
  json.endArray();
}

void jsonTrace(JsonWriter& json, const TraceView& view, const Summary& s) {
  const Model& model = view.trace->model;
  json.beginObject();
  json.key("trace").value(view.trace->path).key("index").value(uint64_t(view.index));
  json.key("host").value(view.trace->host()).key("scope").value(view.scope.description);
  // No process in scope: no window, so null rather than a made-up instant.
  auto known = [&](int64_t value) { return s.hasWindow() ? std::optional<int64_t>(value) : std::nullopt; };
  json.key("start_ns").value(known(s.window.startNs)).key("end_ns").value(known(s.window.endNs));
  auto wall = s.hasWindow() ? formatWall(model.wallNs(s.window.startNs)) : std::string();
  json.key("start_time");
  wall.empty() ? json.null() : json.value(wall);
  json.key("wall_time_ns").value(known(s.wallNs));
  json.key("processes").value(uint64_t(s.processes)).key("execs").value(uint64_t(s.execs));
  json.key("open").value(uint64_t(s.open)).key("start_unknown").value(uint64_t(s.startUnknown));
  jsonFailures(json, model, s);
  json.key("parallelism").beginObject().key("peak").value(s.parallelism.peak);
  json.key("peak_at_ns").value(s.parallelism.peakAtNs).key("average").value(s.parallelism.average).endObject();
  jsonTop(json, "top_by_total", s.topByTotal, true);
  jsonTop(json, "top_by_max", s.topByMax, true);
  jsonCriticalPath(json, model, s);
  jsonLosses(json, view, s);
  jsonCounters(json, model.counters);
  json.endObject();
}

}  // namespace

void writeSummaryJson(Buffer& out, const std::vector<TraceView>& views, const std::vector<Summary>& summaries,
                      const Totals& totals) {
  JsonWriter json(out);
  json.beginObject().key("traces").beginArray();
  for (size_t i = 0; i < views.size(); ++i) jsonTrace(json, views[i], summaries[i]);
  json.endArray();
  json.key("total").beginObject().key("traces").value(uint64_t(views.size()));
  json.key("processes").value(uint64_t(totals.processes)).key("execs").value(uint64_t(totals.execs));
  json.key("failures").value(uint64_t(totals.failures));
  jsonTop(json, "top_by_total", totals.topByTotal, false);
  jsonTop(json, "top_by_max", totals.topByMax, false);
  jsonCounters(json, totals.counters);
  json.endObject().endObject();
  out.append('\n');
}

}  // namespace proctape::analyze
