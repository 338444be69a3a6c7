// proctape-demo: writes a real trace of this machine (its meta and the live
// process table) and reads it back, showing what it holds. It stands in for
// the main job until proctape-record exists.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <map>

#include "proctape/format/reader.h"
#include "proctape/format/writer.h"
#include "proctape/record/host_info.h"
#include "proctape/record/procfs.h"

namespace {

using namespace proctape;

Status writeDemo(const std::string& path, const std::vector<std::string>& commandLine) {
  format::Meta meta = record::readHostMeta();
  meta.recorderName = "proctape-demo";
  meta.recorderVersion = PROCTAPE_VERSION;
  meta.commandLine = commandLine;
  auto writer = format::TraceWriter::create(path, meta);
  if (!writer) return writer.error();
  auto now = format::readSystemClocks().monotonicNs;
  if (auto s = writer->writeSnapshot(now, record::readProcessTable()); !s) return s;
  if (auto s = writer->writeProcessInfo(now, record::readProcessInfo(getpid(), format::InfoReason::other)); !s) return s;
  return writer->close();
}

std::string commandOf(const format::ProcessInfo& p) {
  if (!p.has(format::InfoField::argv)) return "[" + p.comm + "]";
  std::string text;
  for (const auto& arg : p.argv) text += (text.empty() ? "" : " ") + arg;
  return text.size() > 72 ? text.substr(0, 69) + "..." : text;
}

// The writer's own ancestry, found in the snapshot: proof that the process
// table went into the trace and came back.
void printAncestry(const format::Snapshot& snapshot, int32_t pid) {
  std::map<int32_t, const format::ProcessInfo*> byPid;
  for (const auto& p : snapshot.processes) byPid[p.pid] = &p;
  std::printf("  this process and its ancestors, as the snapshot holds them:\n");
  for (int depth = 0; depth < 16 && byPid.count(pid); ++depth) {
    const auto& p = *byPid[pid];
    std::printf("  %*spid %d uid %u: %s\n", depth * 2, "", p.pid, p.ruid, commandOf(p).c_str());
    if (p.ppid == pid) break;
    pid = p.ppid;
  }
}

int showTrace(const std::string& path) {
  auto reader = format::TraceReader::open(path);
  if (!reader) {
    std::fprintf(stderr, "%s\n", reader.error().message.c_str());
    return 2;
  }
  if (const auto& meta = reader->meta()) {
    std::printf("kernel %s, format %u.%u, written by %s %s\n", meta->kernelRelease.c_str(), meta->formatMajor,
                meta->formatMinor, meta->recorderName.c_str(), meta->recorderVersion.c_str());
  }
  std::printf("chunks: %zu (index %s)\n", reader->chunks().size(), reader->segments()[0].indexed ? "used" : "absent");
  std::map<std::string, size_t> kinds;
  format::Record record;
  while (reader->next(record)) {
    ++kinds[toString(record.kind())];
    if (auto snapshot = std::get_if<const format::Snapshot*>(&record.body)) {
      std::printf("snapshot: %zu processes\n", (*snapshot)->processes.size());
      printAncestry(**snapshot, getpid());
    }
  }
  for (const auto& [kind, count] : kinds) std::printf("%s records: %zu\n", kind.c_str(), count);
  for (const auto& damage : reader->damage()) std::fprintf(stderr, "damage: %s\n", describe(damage).c_str());
  std::printf("damage: %zu entries\n", reader->damage().size());
  return reader->damage().empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a trace of this machine's process table and read it back"};
  std::string path = "demo.pt";
  app.add_option("-o,--output", path, "trace file to write");
  CLI11_PARSE(app, argc, argv);
  if (auto status = writeDemo(path, std::vector<std::string>(argv, argv + argc)); !status) {
    std::fprintf(stderr, "%s\n", status.error().message.c_str());
    return 2;
  }
  std::printf("wrote %s\n", path.c_str());
  return showTrace(path);
}
