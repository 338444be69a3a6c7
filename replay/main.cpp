// proctape-replay: decodes a proctape trace into text, JSON Lines or pcap.
// Parses the command line and hands over to proctape::replay::runTool().
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

#include "proctape/replay/tool.h"

namespace {

using namespace proctape::replay;

volatile std::sig_atomic_t stopRequested = 0;
void requestStop(int) { stopRequested = 1; }

std::string typeList() {
  std::string list;
  for (size_t i = 0; i < kEventTypeCount; ++i) list += std::string(i ? ", " : "") + toString(EventType(i));
  return list;
}

bool parseTypes(const std::vector<std::string>& names, ToolOptions& options) {
  auto types = EventTypeSet::none();
  for (const auto& name : names) {
    auto type = parseEventType(name);
    if (!type) {
      std::fprintf(stderr, "proctape-replay: --type: '%s' is no event type; the types are: %s\n", name.c_str(),
                   typeList().c_str());
      return false;
    }
    types.add(*type);
  }
  options.filter.types = types;
  options.typesGiven = true;
  return true;
}

bool parseBound(const std::string& text, const char* option, std::optional<TimeBound>& bound) {
  if (text.empty()) return true;
  auto parsed = parseTimeBound(text);
  if (!parsed) {
    std::fprintf(stderr, "proctape-replay: %s: %s\n", option, parsed.error().message.c_str());
    return false;
  }
  bound = *parsed;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Decodes a proctape trace: classic cn_proc text, JSON Lines, or a pcap file for Wireshark.",
               "proctape-replay"};
  app.footer(std::string("\n") + exitCodeHelp() + "\nDocumentation: docs/replay.md, docs/replay-json.md");
  ToolOptions options;
  std::string format = "text", time = "relative", since, until;
  std::vector<std::string> types;
  std::vector<uint16_t> sources;
  int32_t pid = 0;
  app.add_option("input", options.input, "A trace file, a directory of segments, or - for standard input")
      ->required();
  app.add_option("-f,--format", format, "Output: text, json (JSON Lines) or pcap")
      ->check(CLI::IsMember({"text", "json", "pcap"}))
      ->capture_default_str();
  app.add_option("-o,--output", options.output, "Write to FILE instead of standard output");
  app.add_option("--time", time, "Time column of text, a process event's kernel time (else capture time): relative "
                 "(seconds from the start), wall (UTC), none")
      ->check(CLI::IsMember({"relative", "wall", "none"}))
      ->capture_default_str();
  auto* pidOption = app.add_option("--pid", pid, "Only events about this pid or tgid");
  app.add_flag("--descendants", options.filter.descendants,
               "With --pid: also its descendants, following the fork events in the trace")
      ->needs(pidOption);
  app.add_option("--type", types, "Only these event types (comma-separated): " + typeList() +
                                      " (info: process_info, error: decode_error)")
      ->delimiter(',');
  app.add_option("--since", since, "Only events from this time: seconds from the trace's start, or a wall-clock "
                                   "time such as 2026-11-22T10:00:00 (local) or 2026-11-22T10:00:00Z (UTC)");
  app.add_option("--until", until, "Only events before this time (same forms as --since)");
  app.add_option("--source", sources, "Only events of these sources (comma-separated ids; see --info)")
      ->delimiter(',');
  app.add_flag("--info", options.info, "Describe the trace: header, sources, span, chunks, events, gaps, damage");
  app.add_flag("--verify", options.verify, "Read every chunk and frame; exit 0 only if the trace is intact");
  app.add_flag("--follow", options.follow,
               "Keep reading a trace that is being written (like tail -f); a directory follows rotation");
  app.add_option("--speed", options.speed, "Replay at the recorded pace times X (0: as fast as possible)")
      ->capture_default_str();  // runTool checks the value, with a shorter message than CLI11's range
  app.set_version_flag("--version", std::string("proctape-replay ") + PROCTAPE_VERSION);
  // Parse errors name the tool, as its other messages do.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("proctape-replay: ") + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  options.format = *parseFormat(format);
  options.time = *parseTimeMode(time);
  if (pidOption->count()) options.filter.pid = pid;
  options.filter.sources = sources;
  if (!types.empty() && !parseTypes(types, options)) return kExitUsage;
  if (!parseBound(since, "--since", options.filter.since) || !parseBound(until, "--until", options.filter.until))
    return kExitUsage;
  if (options.follow) {
    std::signal(SIGINT, requestStop);
    std::signal(SIGTERM, requestStop);
    options.stop = [] { return stopRequested != 0; };
  }
  return runTool(options);
}
