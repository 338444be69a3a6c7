// Formatting shared by the reports: durations, command lines, exit statuses,
// wall-clock times, CSV cells and a small JSON writer, all appending to
// replay's Buffer (whose string escaping keeps output valid UTF-8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proctape/analyze/model.h"
#include "proctape/replay/output.h"

namespace proctape::analyze {

using replay::Buffer;

// "1 event", "2 events": `n` and the noun in its number.
std::string counted(uint64_t n, std::string_view one, std::string_view many);
// "1.234s", "12.5ms", "870us".
std::string formatDuration(int64_t ns);
// Seconds with three decimals, no unit: "1.234".
std::string formatSeconds(int64_t ns);
// "2026-11-22T10:00:00.123456Z"; empty when the time is unknown.
std::string formatWall(std::optional<int64_t> wallNs);
// "SIGKILL" for 9, "SIG42" for what has no name here.
std::string signalName(int signal);

// The command line a person reads: argv, each argument escaped (spaces inside
// one as \x20); else the exe; else why it is unknown, e.g. "[argv: gone]".
std::string commandText(const Image* image);
// argv as one line, each argument escaped (spaces inside one as \x20, an
// empty one as ''); empty when argv is unknown. For CSV cells and SQL text.
std::string argvLine(const Image* image);
// A process's: its last image, "(fork) " and the inherited one when it never
// exec'd, "[unknown]" when nothing is known.
std::string commandText(const Process& process);
// commandText(process) appended to `out`: the same bytes, with no string built.
void appendCommandText(Buffer& out, const Process& process);
// Escaped `text` cut to at most `max` bytes, never inside an escape or a
// UTF-8 character, and "...".
std::string shortened(const std::string& text, size_t max = 160);
// "rc=0", "sig=9 (SIGKILL), core", "open", "exit lost", "exit unknown".
std::string statusText(const Process& process);

// Flag names of a process, with the derived ones: failed, no_exec, exec_info_missing.
std::vector<std::string> flagNames(const Process& process);

// Text with control characters and invalid UTF-8 escaped (replay's rules).
std::string escapedText(std::string_view text, bool quoteSpaces = false);
// One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a space at either end.
void appendCsvCell(Buffer& out, std::string_view cell);

// A JSON writer that places commas itself.
class JsonWriter {
 public:
  explicit JsonWriter(Buffer& out) : out_(out) {}
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(int64_t(number)); }
  JsonWriter& value(uint32_t number) { return value(uint64_t(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  template <typename T>
  JsonWriter& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }
  JsonWriter& value(const Text& text) { return text ? value(std::string_view(*text)) : null(); }
  JsonWriter& strings(const std::vector<std::string>& list);
  JsonWriter& strings(const Argv& list);

 private:
  void separate();
  Buffer& out_;
  std::vector<bool> first_{true};  // per open container: nothing written in it yet
  bool afterKey_ = false;
};

}  // namespace proctape::analyze
