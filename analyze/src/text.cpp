#include "text.h"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "proctape/replay/escape.h"

namespace proctape::analyze {

std::string counted(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string formatDuration(int64_t ns) {
  char text[48];
  if (ns >= 1'000'000'000 || ns <= -1'000'000'000)
    std::snprintf(text, sizeof text, "%.3fs", double(ns) / 1e9);
  else if (ns >= 1'000'000 || ns <= -1'000'000)
    std::snprintf(text, sizeof text, "%.1fms", double(ns) / 1e6);
  else
    std::snprintf(text, sizeof text, "%" PRId64 "us", ns / 1000);
  return text;
}

std::string formatSeconds(int64_t ns) {
  char text[48];
  std::snprintf(text, sizeof text, "%.3f", double(ns) / 1e9);
  return text;
}

std::string formatWall(std::optional<int64_t> wallNs) {
  if (!wallNs) return {};
  int64_t seconds = *wallNs / 1'000'000'000, micros = (*wallNs % 1'000'000'000) / 1000;
  if (micros < 0) {
    --seconds;
    micros += 1'000'000;
  }
  time_t t = time_t(seconds);
  struct tm utc {};
  if (!gmtime_r(&t, &utc)) return {};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, int(micros));
  return text;
}

std::string signalName(int signal) {
  static constexpr std::array<const char*, 32> kNames = {
      nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT",  "SIGBUS",
      "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",  "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",  "SIGURG",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",  "SIGPWR",   "SIGSYS"};
  if (signal > 0 && size_t(signal) < kNames.size()) return kNames[size_t(signal)];
  return "SIG" + std::to_string(signal);
}

std::string escapedText(std::string_view text, bool quoteSpaces) {
  thread_local Buffer buffer;  // reused: a Buffer starts with 64 KiB
  buffer.clear();
  replay::appendTextString(buffer, text, quoteSpaces);
  return std::string(buffer.view());
}

std::string argvLine(const Image* image) {
  if (!image || !image->argv) return {};
  std::string line;
  for (std::string_view arg : *image->argv) {
    if (!line.empty()) line += ' ';
    line += arg.empty() ? "''" : escapedText(arg, true);
  }
  return line;
}

std::string commandText(const Image* image) {
  if (!image) return "[unknown]";
  if (image->argv && !image->argv->empty()) {
    std::string line;
    for (std::string_view arg : *image->argv) {
      if (!line.empty()) line += ' ';
      line += arg.empty() ? "''" : escapedText(arg, true);
    }
    return line;
  }
  if (image->exe) return escapedText(*image->exe);
  if (!image->infoSeen) return "[exec info missing]";
  std::string why = image->argvMiss ? std::string("argv: ").append(format::toString(*image->argvMiss)) : "argv unknown";
  // Like ps, the kernel's name in brackets when there is no command line.
  // append(), not operator+: GCC 12 warns falsely on "literal" + std::string&& (-Wrestrict, bug 105329).
  std::string text("[");
  if (image->comm) text.append(escapedText(*image->comm)).append("] (").append(why).append(")");
  else text.append(why).append("]");
  return text;
}

std::string commandText(const Process& process) {
  if (!process.execs.empty()) return commandText(process.execs.back().image);
  // std::string(...) + ...: GCC 12 warns falsely on "literal" + std::string&& (-Wrestrict, bug 105329).
  if (process.inherited) return std::string("(fork) ") + commandText(process.inherited);
  if (!process.comm.empty()) return std::string("[") + escapedText(process.comm) + "]";
  return "[unknown]";
}

namespace {

void appendCommandText(Buffer& out, const Image* image) {
  if (!image) return out.append("[unknown]");
  if (image->argv && !image->argv->empty()) {
    bool first = true;
    for (std::string_view arg : *image->argv) {
      if (!first) out.append(' ');
      first = false;
      if (arg.empty())
        out.append("''");
      else
        replay::appendTextString(out, arg, true);
    }
    return;
  }
  if (image->exe) return replay::appendTextString(out, *image->exe, false);
  out.append(commandText(image));  // why it is unknown
}

}  // namespace

void appendCommandText(Buffer& out, const Process& process) {
  if (!process.execs.empty()) return appendCommandText(out, process.execs.back().image);
  if (process.inherited) {
    out.append("(fork) ");
    return appendCommandText(out, process.inherited);
  }
  out.append(commandText(process));
}

namespace {

// The bytes of the piece of escaped text that starts at `i`: an escape
// ("\\xHH", or a backslash and one character), a UTF-8 character, or a byte.
size_t pieceLength(const std::string& text, size_t i) {
  uint8_t c = uint8_t(text[i]);
  if (c == '\\') return i + 1 < text.size() && text[i + 1] == 'x' ? 4 : 2;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

}  // namespace

std::string shortened(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = 0;  // never inside an escape or a UTF-8 character
  while (cut < text.size()) {
    size_t next = cut + pieceLength(text, cut);
    if (next > max) break;
    cut = next;
  }
  return text.substr(0, cut) + "...";
}

std::string statusText(const Process& process) {
  if (process.termSignal) {
    std::string text = "sig=" + std::to_string(*process.termSignal) + " (" + signalName(*process.termSignal) + ")";
    return process.coreDumped ? text + ", core" : text;
  }
  if (process.exitStatus) return "rc=" + std::to_string(*process.exitStatus);
  if (process.has(kOpen)) return "open";
  if (process.has(kEndUnknown)) return "exit lost";
  return "exit unknown";
}

std::vector<std::string> flagNames(const Process& process) {
  std::vector<std::string> names;
  for (int i = 0; i < kProcessFlagCount; ++i)
    if (process.flags & (1u << i)) names.emplace_back(toString(ProcessFlag(1u << i)));
  if (process.failed()) names.emplace_back("failed");
  bool execs = false, missing = false;
  for (const auto& exec : process.execs) {
    execs = execs || exec.timeNs.has_value();
    missing = missing || (exec.timeNs && !exec.image->infoSeen);
  }
  if (!execs && process.origin != Origin::snapshot) names.emplace_back("no_exec");
  if (missing) names.emplace_back("exec_info_missing");
  return names;
}

void appendCsvCell(Buffer& out, std::string_view cell) {
  bool quote = !cell.empty() && (cell.front() == ' ' || cell.back() == ' ' ||
                                 cell.find_first_of(",\"\r\n") != std::string_view::npos);
  if (!quote) return out.append(cell);
  out.append('"');
  for (char c : cell) {
    if (c == '"') out.append('"');
    out.append(c);
  }
  out.append('"');
}

// --- JSON --------------------------------------------------------------------

void JsonWriter::separate() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!first_.back()) out_.append(',');
  first_.back() = false;
}

JsonWriter& JsonWriter::beginObject() {
  separate();
  out_.append('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_.append('}');
  if (first_.size() > 1) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  separate();
  out_.append('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  out_.append(']');
  if (first_.size() > 1) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  replay::appendJsonString(out_, name);
  out_.append(':');
  afterKey_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  replay::appendJsonString(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t number) {
  separate();
  out_.appendInt(number);
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t number) {
  separate();
  out_.appendInt(number);
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  if (!std::isfinite(number)) return null();
  separate();
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", number);
  out_.append(text);
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_.append(flag ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::strings(const std::vector<std::string>& list) {
  beginArray();
  for (const auto& item : list) value(std::string_view(item));
  return endArray();
}

JsonWriter& JsonWriter::strings(const Argv& list) {
  beginArray();
  for (std::string_view item : list) value(item);
  return endArray();
}

}  // namespace proctape::analyze
