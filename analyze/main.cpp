// proctape-analyze: rebuilds process lifetimes from a trace and reports them
// (tree, summary, processes, timeline, sqlite). Parses the command line and hands over to
// proctape::analyze::runTool().
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "proctape/analyze/tool.h"

namespace {

using namespace proctape::analyze;

struct Parsed {
  ToolOptions options;
  std::string format;
  int32_t root = 0;
};

CLI::App* addCommand(CLI::App& app, Command command, const std::string& help, Parsed& parsed) {
  CLI::App* sub = app.add_subcommand(toString(command), help);
  sub->add_option("traces", parsed.options.inputs, "Trace files or directories of segments (several: each keeps "
                                                   "its host)")
      ->required();
  sub->add_option("-o,--output", parsed.options.output,
                  command == Command::sqlite ? "The database file to write (required)"
                                             : "Write to FILE instead of standard output");
  auto* root = sub->add_option("--root", parsed.root,
                               "Only the subtree of this pid (its first incarnation in the trace); by default "
                               "the recorded command's subtree, or everything")
                   ->check(CLI::Range(1, std::numeric_limits<int32_t>::max()));
  sub->add_flag("--all", parsed.options.scope.all, "Every process in the trace, not only the command's subtree")
      ->excludes(root);
  sub->add_option("--threads", parsed.options.threads, "Chunk decoding threads (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  auto formats = formatsOf(command);
  if (formats.size() > 1) {
    std::vector<std::string> names;
    for (auto format : formats) names.emplace_back(toString(format));
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    sub->add_option("-f,--format", parsed.format, "Output: " + list + " (default " + names.front() + ")")
        ->check(CLI::IsMember(names));
  }
  sub->callback([&parsed, command, root] {
    parsed.options.command = command;
    if (root->count()) parsed.options.scope.rootPid = parsed.root;
  });
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Rebuilds process lifetimes from a proctape trace: process trees, build summaries, process tables.",
               "proctape-analyze"};
  app.footer(std::string("\n") + exitCodeHelp() + "\nDocumentation: docs/analyze.md");
  app.require_subcommand(1);
  Parsed parsed;
  addCommand(app, Command::tree, "An indented process tree: command lines, durations, exit statuses", parsed);
  auto* summary = addCommand(app, Command::summary,
                             "A build summary: wall time, failures, slowest commands, parallelism, critical path",
                             parsed);
  summary->add_option("--top", parsed.options.top, "Rows in each top list")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  addCommand(app, Command::processes, "One row per process incarnation: CSV or JSON Lines", parsed);
  addCommand(app, Command::timeline,
             "A Chrome Trace Event JSON timeline for ui.perfetto.dev or chrome://tracing: a track per process",
             parsed);
  addCommand(app, Command::sqlite, "An SQLite database (-o FILE): tables processes, execs, events, gaps", parsed);
  app.set_version_flag("--version", std::string("proctape-analyze ") + PROCTAPE_VERSION);
  // A word where the subcommand goes that is none: CLI11 would only say one is required.
  auto isSubcommand = [&app](const std::string& word) {
    auto all = app.get_subcommands([](CLI::App*) { return true; });
    return std::any_of(all.begin(), all.end(), [&word](CLI::App* sub) { return sub->get_name() == word; });
  };
  if (argc > 1 && argv[1][0] != '-' && !isSubcommand(argv[1])) {
    std::fprintf(stderr, "proctape-analyze: '%s' is no subcommand; they are tree, summary, processes, timeline "
                 "and sqlite (see --help)\n", argv[1]);
    return kExitUsage;
  }
  // Parse errors name the tool, as its other messages do.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("proctape-analyze: ") + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (!parsed.format.empty()) parsed.options.format = parseOutputFormat(parsed.format);
  ToolIo io;
  io.leaveModelsToExit = true;
  return runTool(parsed.options, io);
}
