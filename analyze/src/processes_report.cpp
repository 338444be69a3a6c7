// `processes`: one row per incarnation, CSV or JSON Lines.
#include <string>

#include "proctape/analyze/report.h"
#include "text.h"

namespace proctape::analyze {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

constexpr const char* kCsvHeader =
    "host,trace,id,pid,parent_id,parent_pid,start_ns,end_ns,duration_ns,start_time,end_time,exit_status,term_signal,"
    "core_dumped,exe,argv,cwd,comm,uid,euid,gid,egid,exec_count,thread_count,flags\n";

template <typename T>
void appendOptional(Buffer& out, const std::optional<T>& value) {
  if (value) out.appendInt(*value);
}

std::optional<int64_t> wallOf(const Model& model, const std::optional<int64_t>& ns) {
  return ns ? model.wallNs(*ns) : std::nullopt;
}

size_t execCount(const Process& process) {
  size_t n = 0;
  for (const auto& exec : process.execs) n += exec.timeNs ? 1 : 0;
  return n;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : "|") + name;
  return text;
}

void csvRow(Buffer& out, const TraceView& view, const Process& p) {
  const Model& model = view.trace->model;
  const Process* parent = model.find(p.parentId);
  const Image* image = p.lastImage();
  appendCsvCell(out, escapedText(view.trace->host()));
  out.append(',');
  out.appendInt(view.index);
  out.append(',');
  out.appendInt(p.id);
  out.append(',');
  out.appendInt(p.pid);
  out.append(',');
  if (parent) out.appendInt(parent->id);
  out.append(',');
  appendOptional(out, p.parentPid);
  out.append(',');
  appendOptional(out, p.startNs);
  out.append(',');
  appendOptional(out, p.endNs);
  out.append(',');
  appendOptional(out, p.durationNs());
  out.append(',');
  out.append(formatWall(wallOf(model, p.startNs)));
  out.append(',');
  out.append(formatWall(wallOf(model, p.endNs)));
  out.append(',');
  appendOptional(out, p.exitStatus);
  out.append(',');
  appendOptional(out, p.termSignal);
  out.append(',');
  if (p.ended() && p.exitCode) out.append(p.coreDumped ? "true" : "false");
  out.append(',');
  if (image && image->exe) appendCsvCell(out, escapedText(*image->exe));
  out.append(',');
  appendCsvCell(out, argvLine(image));
  out.append(',');
  if (image && image->cwd) appendCsvCell(out, escapedText(*image->cwd));
  out.append(',');
  appendCsvCell(out, escapedText(p.comm));
  for (const auto* id : {&p.ruid, &p.euid, &p.rgid, &p.egid}) {
    out.append(',');
    appendOptional(out, *id);
  }
  out.append(',');
  out.appendInt(execCount(p));
  out.append(',');
  out.appendInt(p.threadCount);
  out.append(',');
  out.append(joined(flagNames(p)));
  out.append('\n');
}

void jsonImage(JsonWriter& json, const Image* image) {
  json.key("exe").value(image ? image->exe : Text());
  json.key("argv");
  if (image && image->argv)
    json.strings(*image->argv);
  else
    json.null();
  json.key("cwd").value(image ? image->cwd : Text());
}

void jsonRow(Buffer& out, const TraceView& view, const Process& p) {
  const Model& model = view.trace->model;
  const Process* parent = model.find(p.parentId);
  JsonWriter json(out);
  json.beginObject();
  json.key("host").value(view.trace->host()).key("trace").value(uint64_t(view.index));
  json.key("id").value(p.id).key("pid").value(p.pid);
  json.key("parent_id").value(parent ? std::optional<uint32_t>(parent->id) : std::nullopt);
  json.key("parent_pid").value(p.parentPid);
  json.key("start_ns").value(p.startNs).key("end_ns").value(p.endNs).key("duration_ns").value(p.durationNs());
  auto startWall = formatWall(wallOf(model, p.startNs)), endWall = formatWall(wallOf(model, p.endNs));
  json.key("start_time");
  startWall.empty() ? json.null() : json.value(startWall);
  json.key("end_time");
  endWall.empty() ? json.null() : json.value(endWall);
  json.key("exit_status").value(p.exitStatus).key("term_signal").value(p.termSignal);
  json.key("core_dumped");
  p.ended() && p.exitCode ? json.value(p.coreDumped) : json.null();
  jsonImage(json, p.lastImage());
  json.key("comm");
  p.comm.empty() ? json.null() : json.value(p.comm);
  json.key("uid").value(p.ruid).key("euid").value(p.euid).key("gid").value(p.rgid).key("egid").value(p.egid);
  json.key("exec_count").value(uint64_t(execCount(p))).key("thread_count").value(p.threadCount);
  json.key("flags").strings(flagNames(p));
  json.key("execs").beginArray();
  for (const auto& exec : p.execs) {
    json.beginObject().key("time_ns").value(exec.timeNs);
    jsonImage(json, exec.image);
    json.endObject();
  }
  json.endArray().endObject();
  out.append('\n');
}

}  // namespace

Status writeProcesses(const std::vector<TraceView>& views, const ReportOptions& options, replay::Sink& sink) {
  if (options.format != OutputFormat::csv && options.format != OutputFormat::json)
    return Error{"processes: the formats are csv and json"};
  Buffer out;
  if (options.format == OutputFormat::csv) out.append(kCsvHeader);
  for (const auto& view : views) {
    for (const auto& process : view.trace->model.processes) {
      if (!view.scope.contains(process.id)) continue;
      options.format == OutputFormat::csv ? csvRow(out, view, process) : jsonRow(out, view, process);
      if (out.size() < kFlushBytes) continue;
      if (auto status = sink.write(out.view()); !status) return status;
      out.clear();
    }
  }
  return sink.write(out.view());
}

}  // namespace proctape::analyze
