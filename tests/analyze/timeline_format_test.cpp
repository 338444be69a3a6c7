// `proctape-analyze timeline` against the Trace Event Format (the JSON that
// chrome://tracing and ui.perfetto.dev load): the top-level shape, the fields
// each phase requires, times in microseconds that are non-negative, and
// slices that nest on each (pid, tid) track. Then proctape's own promises:
// one track and one complete event per process, ts/dur equal to the
// processes report's nanosecond times / 1000, notes where a time is unknown.
// Run over hand-built traces (trace_builder.h) and every samples/ trace.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/json.h"
#include "test_support.h"
#include "trace_builder.h"

namespace proctape::test::analyze {
namespace {

using json::Value;

// ---- Exact times --------------------------------------------------------------

// A JSON number as an exact count of 1e-6 of its unit (picoseconds, for a
// number of microseconds); nullopt when it has finer digits or does not fit.
std::optional<int64_t> millionths(const Value& number) {
  if (!number.isNumber()) return std::nullopt;
  std::string_view text = number.text;
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  size_t exponentAt = text.find_first_of("eE");
  int64_t exponent = 0;
  if (exponentAt != std::string_view::npos) {
    std::string_view e = text.substr(exponentAt + 1);
    if (!e.empty() && e.front() == '+') e.remove_prefix(1);
    auto [end, error] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    if (error != std::errc() || end != e.data() + e.size() || exponent > 30 || exponent < -30) return std::nullopt;
    text = text.substr(0, exponentAt);
  }
  std::string digits;
  size_t dot = text.find('.');
  digits.append(text.substr(0, dot));
  if (dot != std::string_view::npos) {
    digits.append(text.substr(dot + 1));
    exponent -= int64_t(text.size() - dot - 1);
  }
  exponent += 6;
  for (; exponent < 0; ++exponent) {  // finer than 1e-6: only zeros may go
    if (digits.empty() || digits.back() != '0') return digits.empty() ? std::optional<int64_t>(0) : std::nullopt;
    digits.pop_back();
  }
  int64_t value = 0;
  for (char c : digits)
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, c - '0', &value)) return std::nullopt;
  for (; exponent > 0; --exponent)
    if (__builtin_mul_overflow(value, 10, &value)) return std::nullopt;
  return negative ? -value : value;
}

// ---- The Trace Event Format -------------------------------------------------------

// What breaks the Trace Event Format in `root`, one line per problem; empty
// when it is a valid trace. Checked: the JSON Array or JSON Object Format;
// per event, "ph" is a known phase and the fields that phase requires are
// there with their types (names and categories strings, pid/tid integers,
// ts/dur non-negative numbers, args an object); metadata events carry the
// args their name needs; B/E pairs balance on each (pid, tid) track; and on
// each track, slices (X events and B/E pairs) nest fully or do not overlap.
class TraceEventChecker {
 public:
  std::vector<std::string> check(const Value& root) {
    const Value* events = &root;
    if (root.isObject()) {
      events = root.find("traceEvents");
      if (!events || !events->isArray()) return {"the top-level object has no \"traceEvents\" array"};
      if (const Value* unit = root.find("displayTimeUnit"))
        if (!unit->isString() || (unit->text != "ms" && unit->text != "ns"))
          problems_.push_back("displayTimeUnit must be \"ms\" or \"ns\"");
      if (const Value* other = root.find("otherData"); other && !other->isObject())
        problems_.push_back("otherData must be an object");
      if (const Value* system = root.find("systemTraceEvents"); system && !system->isString())
        problems_.push_back("systemTraceEvents must be a string");
    } else if (!root.isArray()) {
      return {"the top level is neither an array of events nor an object with \"traceEvents\""};
    }
    for (size_t i = 0; i < events->items.size(); ++i) event(i, events->items[i]);
    balanceBeginEnd();
    nesting();
    return problems_;
  }

 private:
  using Track = std::pair<int64_t, int64_t>;  // pid, tid
  struct Slice {
    int64_t begin, end;  // picoseconds
    size_t index;        // of the event that opened it
  };
  struct Mark {
    int64_t ts;
    size_t index;
    bool begin;
  };

  void problem(size_t i, const std::string& what) { problems_.push_back("event " + std::to_string(i) + ": " + what); }

  bool text(size_t i, const Value& e, const char* key, bool required) {
    const Value* v = e.find(key);
    if (!v) {
      if (required) problem(i, std::string("no \"") + key + "\"");
      return false;
    }
    if (!v->isString()) problem(i, std::string("\"") + key + "\" is not a string");
    return v->isString();
  }
  std::optional<int64_t> integer(size_t i, const Value& e, const char* key, bool required) {
    const Value* v = e.find(key);
    if (!v) {
      if (required) problem(i, std::string("no \"") + key + "\"");
      return std::nullopt;
    }
    auto value = v->integer();
    if (!value) problem(i, std::string("\"") + key + "\" is not an integer");
    return value;
  }
  // ts, dur: microseconds, non-negative numbers.
  std::optional<int64_t> time(size_t i, const Value& e, const char* key, bool required) {
    const Value* v = e.find(key);
    if (!v) {
      if (required) problem(i, std::string("no \"") + key + "\"");
      return std::nullopt;
    }
    if (!v->isNumber()) {
      problem(i, std::string("\"") + key + "\" is not a number");
      return std::nullopt;
    }
    auto value = millionths(*v);
    if (!value) {
      problem(i, std::string("\"") + key + "\" (" + v->text + ") is finer than 1e-6 us or too large");
      return std::nullopt;
    }
    if (*value < 0) {
      problem(i, std::string("\"") + key + "\" is negative (" + v->text + ")");
      return std::nullopt;
    }
    return value;
  }
  void identifier(size_t i, const Value& e) {
    const Value* id = e.find("id");
    if (!id) id = e.find("id2");
    if (!id)
      problem(i, "no \"id\"");
    else if (!id->isString() && !id->integer() && !id->isObject())
      problem(i, "\"id\" is neither a string nor an integer");
  }

  void metadata(size_t i, const Value& e, std::optional<int64_t> pid) {
    static const std::map<std::string, std::pair<std::string, bool>> kArgs = {
        // name -> (the arg it needs, whether that arg is an integer)
        {"process_name", {"name", false}},         {"process_labels", {"labels", false}},
        {"process_sort_index", {"sort_index", true}}, {"thread_name", {"name", false}},
        {"thread_sort_index", {"sort_index", true}}};
    if (!text(i, e, "name", true)) return;
    const std::string& name = e.find("name")->text;
    auto known = kArgs.find(name);
    if (known == kArgs.end()) {
      problem(i, "metadata \"" + name + "\" is not one of the metadata event names");
      return;
    }
    if (!pid) return;  // already reported
    if (name.rfind("thread_", 0) == 0) integer(i, e, "tid", true);
    const Value* args = e.find("args");
    if (!args || !args->isObject()) {
      problem(i, "metadata \"" + name + "\" without an \"args\" object");
      return;
    }
    const auto& [arg, isInteger] = known->second;
    if (isInteger ? !integer(i, *args, arg.c_str(), true) : !text(i, *args, arg.c_str(), true))
      problem(i, "metadata \"" + name + "\" needs args." + arg);
  }

  void event(size_t i, const Value& e) {
    if (!e.isObject()) return problem(i, "not an object");
    if (!text(i, e, "ph", true)) return;
    const std::string ph = e.find("ph")->text;
    static const std::set<std::string> kPhases = {"B", "E", "X", "i", "I", "C", "b", "n", "e", "S", "T", "p", "F",
                                                  "s", "t", "f", "P", "N", "O", "D", "M", "V", "v", "R", "c", "(", ")"};
    if (!kPhases.count(ph)) return problem(i, "unknown phase \"" + ph + "\"");
    text(i, e, "cat", false);
    if (const Value* args = e.find("args"); args && !args->isObject()) problem(i, "\"args\" is not an object");
    auto pid = integer(i, e, "pid", true);
    if (ph == "M") return metadata(i, e, pid);

    bool needsName = ph == "B" || ph == "X" || ph == "i" || ph == "I" || ph == "C";
    text(i, e, "name", needsName);
    auto ts = time(i, e, "ts", true);
    bool global = false;
    if (ph == "i" || ph == "I") {
      if (const Value* scope = e.find("s")) {
        if (!scope->isString() || (scope->text != "g" && scope->text != "p" && scope->text != "t"))
          problem(i, "instant scope \"s\" must be g, p or t");
        global = scope->isString() && scope->text != "t";
      }
    }
    bool needsTid = ph == "B" || ph == "E" || ph == "X" || ph == "s" || ph == "t" || ph == "f" || ph == "P" ||
                    ((ph == "i" || ph == "I") && !global);
    auto tid = integer(i, e, "tid", needsTid);
    if (ph == "b" || ph == "n" || ph == "e" || ph == "S" || ph == "T" || ph == "p" || ph == "F" || ph == "s" ||
        ph == "t" || ph == "f" || ph == "N" || ph == "O" || ph == "D")
      identifier(i, e);
    if (ph == "C") {
      const Value* args = e.find("args");
      if (!args || !args->isObject())
        problem(i, "a counter without an \"args\" object");
      else
        for (const auto& [key, value] : args->members)
          if (!value.isNumber()) problem(i, "counter series \"" + key + "\" is not a number");
    }
    auto dur = time(i, e, "dur", ph == "X");
    if (!pid || !tid || !ts) return;
    Track track{*pid, *tid};
    if (ph == "X" && dur) slices_[track].push_back({*ts, *ts + *dur, i});
    if (ph == "B" || ph == "E") marks_[track].push_back({*ts, i, ph == "B"});
  }

  // B opens a slice on its track, E closes the latest one still open.
  void balanceBeginEnd() {
    for (auto& [track, marks] : marks_) {
      std::stable_sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) { return a.ts < b.ts; });
      std::vector<Mark> open;
      for (const Mark& mark : marks) {
        if (mark.begin) {
          open.push_back(mark);
        } else if (open.empty()) {
          problem(mark.index, "an E with no B open on its track");
        } else {
          slices_[track].push_back({open.back().ts, mark.ts, open.back().index});
          open.pop_back();
        }
      }
      for (const Mark& mark : open) problem(mark.index, "a B that no E closes");
    }
  }

  // Sorted by start (longer first), each slice must end by the end of every
  // slice still open around its start.
  void nesting() {
    for (auto& [track, slices] : slices_) {
      std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end > b.end : a.index < b.index;
      });
      std::vector<Slice> open;
      for (const Slice& slice : slices) {
        while (!open.empty() && open.back().end <= slice.begin) open.pop_back();
        if (!open.empty() && slice.end > open.back().end)
          problem(slice.index, "overlaps event " + std::to_string(open.back().index) + " on track (pid " +
                                   std::to_string(track.first) + ", tid " + std::to_string(track.second) +
                                   ") without nesting in it");
        open.push_back(slice);
      }
    }
  }

  std::vector<std::string> problems_;
  std::map<Track, std::vector<Slice>> slices_;
  std::map<Track, std::vector<Mark>> marks_;
};

std::vector<std::string> formatProblems(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed.value) return {"not JSON: " + parsed.error + " at byte " + std::to_string(parsed.offset)};
  return TraceEventChecker().check(*parsed.value);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

bool mentions(const std::vector<std::string>& problems, const std::string& part) {
  return std::any_of(problems.begin(), problems.end(),
                     [&part](const std::string& p) { return p.find(part) != std::string::npos; });
}

// ---- The checker itself ---------------------------------------------------------

TEST(TraceEventChecker, AcceptsBothTopLevelFormatsAndEveryPhaseWithItsFields) {
  EXPECT_EQ(formatProblems(R"([])"), std::vector<std::string>{});
  EXPECT_EQ(formatProblems(R"({"traceEvents":[],"displayTimeUnit":"ns","otherData":{"v":1}})"),
            std::vector<std::string>{});
  std::string events = R"([
    {"ph":"M","name":"process_name","pid":1,"args":{"name":"p"}},
    {"ph":"M","name":"thread_sort_index","pid":1,"tid":2,"args":{"sort_index":-3}},
    {"ph":"X","name":"outer","cat":"a,b","pid":1,"tid":2,"ts":0,"dur":10.5},
    {"ph":"X","name":"inner","pid":1,"tid":2,"ts":1.25,"dur":9.25},
    {"ph":"X","name":"after","pid":1,"tid":2,"ts":10.5,"dur":0},
    {"ph":"B","name":"b","pid":1,"tid":3,"ts":5},
    {"ph":"B","name":"b2","pid":1,"tid":3,"ts":6},
    {"ph":"E","pid":1,"tid":3,"ts":7},
    {"ph":"E","pid":1,"tid":3,"ts":8},
    {"ph":"i","name":"mark","pid":1,"ts":3,"s":"g"},
    {"ph":"C","name":"load","pid":1,"ts":4,"args":{"cpu":0.5}},
    {"ph":"b","name":"async","cat":"c","id":"0x1","pid":1,"ts":4},
    {"ph":"e","name":"async","cat":"c","id":"0x1","pid":1,"ts":5},
    {"ph":"s","name":"flow","id":7,"pid":1,"tid":2,"ts":2},
    {"ph":"O","name":"obj","id":"0x2","pid":1,"ts":2,"args":{}}
  ])";
  EXPECT_EQ(formatProblems(events), std::vector<std::string>{}) << joined(formatProblems(events));
}

TEST(TraceEventChecker, RejectsTheWrongTopLevel) {
  EXPECT_TRUE(mentions(formatProblems("42"), "neither an array"));
  EXPECT_TRUE(mentions(formatProblems(R"({"events":[]})"), "no \"traceEvents\""));
  EXPECT_TRUE(mentions(formatProblems(R"({"traceEvents":{}})"), "no \"traceEvents\""));
  EXPECT_TRUE(mentions(formatProblems(R"({"traceEvents":[],"displayTimeUnit":"us"})"), "displayTimeUnit"));
  EXPECT_TRUE(mentions(formatProblems(R"({"traceEvents":[],)"), "not JSON"));
}

TEST(TraceEventChecker, RejectsMissingOrMistypedFields) {
  auto problems = [](const std::string& event) { return formatProblems("[" + event + "]"); };
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":0})"), "no \"dur\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","pid":1,"tid":1,"ts":0,"dur":1})"), "no \"name\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","tid":1,"ts":0,"dur":1})"), "no \"pid\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"ts":0,"dur":1})"), "no \"tid\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"dur":1})"), "no \"ts\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":-1,"dur":1})"), "negative"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":-0.001})"), "negative"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":"0","dur":1})"), "not a number"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1.5,"tid":1,"ts":0,"dur":1})"), "not an integer"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":7,"pid":1,"tid":1,"ts":0,"dur":1})"), "not a string"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":1,"args":[]})"),
                       "\"args\" is not an object"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"Q","pid":1})"), "unknown phase"));
  EXPECT_TRUE(mentions(problems(R"({"name":"a","pid":1})"), "no \"ph\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"M","name":"process_name","pid":1})"), "without an \"args\" object"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"M","name":"process_name","pid":1,"args":{}})"), "needs args.name"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"M","name":"process_sort_index","pid":1,"args":{"sort_index":"1"}})"),
                       "needs args.sort_index"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"M","name":"thread_name","pid":1,"args":{"name":"t"}})"), "no \"tid\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"M","name":"colour","pid":1,"args":{}})"), "not one of the metadata"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"C","name":"c","pid":1,"ts":0,"args":{"n":"x"}})"), "not a number"));
  EXPECT_TRUE(mentions(problems(R"({"ph":"b","name":"a","pid":1,"ts":0})"), "no \"id\""));
  EXPECT_TRUE(mentions(problems(R"({"ph":"i","name":"a","pid":1,"ts":0,"s":"x"})"), "must be g, p or t"));
}

TEST(TraceEventChecker, RejectsPartialOverlapsOnATrackButNotAcrossTracks) {
  const std::string a = R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":10})";
  EXPECT_TRUE(mentions(formatProblems("[" + a + R"(,{"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":10}])"),
                       "without nesting"));
  // One picosecond too long is still a partial overlap.
  EXPECT_TRUE(mentions(formatProblems("[" + a + R"(,{"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":5.000001}])"),
                       "without nesting"));
  EXPECT_TRUE(formatProblems("[" + a + R"(,{"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":5}])").empty());
  EXPECT_TRUE(formatProblems("[" + a + R"(,{"ph":"X","name":"b","pid":1,"tid":2,"ts":5,"dur":10}])").empty());
  EXPECT_TRUE(formatProblems("[" + a + R"(,{"ph":"X","name":"b","pid":2,"tid":1,"ts":5,"dur":10}])").empty());
  // A B/E pair is a slice too.
  EXPECT_TRUE(mentions(formatProblems("[" + a + R"(,{"ph":"B","name":"b","pid":1,"tid":1,"ts":5},
                                                 {"ph":"E","pid":1,"tid":1,"ts":11}])"),
                       "without nesting"));
}

TEST(TraceEventChecker, RejectsUnbalancedBeginEnd) {
  EXPECT_TRUE(mentions(formatProblems(R"([{"ph":"B","name":"b","pid":1,"tid":1,"ts":5}])"), "no E closes"));
  EXPECT_TRUE(mentions(formatProblems(R"([{"ph":"E","pid":1,"tid":1,"ts":5}])"), "no B open"));
  // An E on another thread does not close the B.
  EXPECT_TRUE(mentions(formatProblems(R"([{"ph":"B","name":"b","pid":1,"tid":1,"ts":5},
                                          {"ph":"E","pid":1,"tid":2,"ts":6}])"),
                       "no B open"));
  // Out of file order is fine: E events are matched in time order.
  EXPECT_TRUE(formatProblems(R"([{"ph":"E","pid":1,"tid":1,"ts":6},{"ph":"B","name":"b","pid":1,"tid":1,"ts":5}])")
                  .empty());
}

TEST(TraceEventChecker, ReadsMicrosecondsExactly) {
  auto micro = [](const std::string& text) { return millionths(*json::parse(text).value); };
  EXPECT_EQ(micro("9999.0000"), 9'999'000'000);
  EXPECT_EQ(micro("0.000001"), 1);
  EXPECT_EQ(micro("1.5e3"), 1'500'000'000);
  EXPECT_EQ(micro("12345e-6"), 12'345);
  EXPECT_EQ(micro("-2"), -2'000'000);
  EXPECT_FALSE(micro("0.0000001").has_value());
  EXPECT_FALSE(micro("0.00000010").has_value());
  EXPECT_EQ(micro("1.0000000"), 1'000'000);
  EXPECT_FALSE(micro("1e30").has_value());
}

// ---- The JSON parser used here ------------------------------------------------------

TEST(TestJsonParser, ReadsValuesStrictly) {
  auto ok = [](const std::string& text) { return json::parse(text).value.has_value(); };
  auto value = json::parse(R"( {"a":[1,-0.5,2e3,true,false,null],"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"} )");
  ASSERT_TRUE(value.value) << value.error;
  const Value& a = *value.value->find("a");
  ASSERT_EQ(a.items.size(), 6u);
  EXPECT_EQ(a.items[0].integer(), 1);
  EXPECT_EQ(a.items[1].number, -0.5);
  EXPECT_EQ(a.items[2].number, 2000);
  EXPECT_FALSE(a.items[2].integer().has_value());
  EXPECT_TRUE(a.items[3].boolean);
  EXPECT_TRUE(a.items[5].isNull());
  EXPECT_EQ(value.value->find("s")->text, "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(value.value->at("s").string(), value.value->find("s")->text);
  EXPECT_THROW(value.value->at("missing"), std::out_of_range);
  EXPECT_FALSE(a.string().has_value());
  EXPECT_FALSE(a.strings().has_value());  // not all strings
  EXPECT_EQ(json::parse(R"(["x",""])").value->strings(), (std::vector<std::string>{"x", ""}));
  EXPECT_FALSE(a.items[5].strings().has_value());  // null
  EXPECT_TRUE(ok("\"h\xc3\xa9llo\""));
  for (const char* bad : {"", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "+1", "1e", "[1 2]", "{\"a\" 1}",
                          "{\"a\":1,\"a\":2}", "\"\x01\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\xff\"",
                          "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"abc", "nul", "[1]x", "{1:2}"})
    EXPECT_FALSE(ok(bad)) << bad;
  auto lines = json::parseLines("{\"a\":1}\n[2]\n");
  EXPECT_EQ(lines.values.size(), 2u);
  EXPECT_EQ(json::parseLines("{}\n\n{}\n").badLine, 2u);
}

// ---- proctape's timeline ----------------------------------------------------------------

std::string shellQuoted(const std::string& path) { return "'" + path + "'"; }

// Runs proctape-analyze with `args`, stdout to `out`; its exit code.
int runAnalyze(const TempDir& dir, const std::string& args, const std::string& out) {
  std::string command = std::string(PROCTAPE_ANALYZE_EXE) + " " + args + " >" + shellQuoted(out) + " 2>" +
                        shellQuoted(dir.file("stderr"));
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Outputs {
  std::string timeline;                   // the JSON text
  std::vector<Value> processes;           // processes --format json, one value per row
};

enum class Damage { none, expected, allowed };

// The timeline and the process rows of `traces` (quoted paths) with `scope`
// ("", "--all", "--root PID"); the exit codes must be 0, or 1 (a damaged
// trace) when `damage` expects or allows it.
Outputs analyzeBoth(const TempDir& dir, const std::string& scope, const std::string& traces,
                    Damage damage = Damage::none) {
  auto codeOk = [damage](int code) {
    return damage == Damage::allowed ? code == 0 || code == 1 : code == (damage == Damage::expected ? 1 : 0);
  };
  Outputs outputs;
  int code = runAnalyze(dir, "timeline " + scope + " -o " + shellQuoted(dir.file("timeline.json")) + " " + traces,
                        dir.file("timeline.stdout"));
  EXPECT_TRUE(codeOk(code)) << "timeline exited " << code << ": " << readText(dir.file("stderr"));
  EXPECT_EQ(readText(dir.file("timeline.stdout")), "") << "timeline -o FILE wrote to stdout";
  int timelineCode = code;
  outputs.timeline = readText(dir.file("timeline.json"));
  code = runAnalyze(dir, "processes --format json " + scope + " " + traces, dir.file("processes.jsonl"));
  EXPECT_EQ(code, timelineCode) << "processes and timeline disagree: " << readText(dir.file("stderr"));
  auto rows = json::parseLines(readText(dir.file("processes.jsonl")));
  EXPECT_TRUE(rows.error.empty()) << "processes line " << rows.badLine << ": " << rows.error;
  outputs.processes = std::move(rows.values);
  return outputs;
}

std::optional<int64_t> optionalInteger(const Value& object, const char* key) {
  const Value* v = object.find(key);
  return v ? v->integer() : std::nullopt;
}

bool hasFlag(const Value& row, const std::string& flag) {
  const Value* flags = row.find("flags");
  return flags && std::any_of(flags->items.begin(), flags->items.end(),
                              [&flag](const Value& f) { return f.text == flag; });
}

// proctape's promises about its timeline (docs/analyze.md, "timeline"), with
// `rows` the processes report of the same traces and scope:
// - only metadata and complete events; one complete event per process in
//   scope, on its own track numbered 1, 2, ... (pid == tid == the number),
//   named by the metadata process_name/thread_name "NAME [pid PID]", with
//   process_sort_index the track number;
// - tracks follow the traces in order, and the events of trace T are its rows;
// - ts and dur are whole nanoseconds / 1000; ts + the trace's origin is the
//   row's start_ns (one origin per trace), dur is duration_ns / 1000, and an
//   end without a start still lands on end_ns;
// - an unknown start is drawn from the origin (ts 0) and says so in args.start;
//   an unknown end says why in args.end, and open processes all end at the
//   trace's end, which no slice of the trace passes.
void checkAgainstProcesses(const Value& timeline, const std::vector<Value>& rows) {
  ASSERT_TRUE(timeline.isObject());
  const Value* events = timeline.find("traceEvents");
  ASSERT_TRUE(events && events->isArray());
  ASSERT_TRUE(timeline.has("displayTimeUnit"));
  EXPECT_EQ(timeline.find("displayTimeUnit")->text, "ms");

  std::map<int64_t, std::vector<const Value*>> slicesOf;  // track -> X events
  std::map<std::pair<int64_t, std::string>, int> metadataCount;  // (track, name) -> count
  std::vector<const Value*> slices;
  for (const Value& e : events->items) {
    const std::string& ph = e.find("ph")->text;
    ASSERT_TRUE(ph == "M" || ph == "X") << "phase " << ph;
    int64_t pid = *e.find("pid")->integer();
    EXPECT_EQ(optionalInteger(e, "tid"), pid) << "a process's track has one thread, tid == pid";
    if (ph == "X") {
      slices.push_back(&e);
      slicesOf[pid].push_back(&e);
      continue;
    }
    const std::string& name = e.find("name")->text;
    ++metadataCount[{pid, name}];
    if (name == "process_sort_index") {
      EXPECT_EQ(optionalInteger(*e.find("args"), "sort_index"), pid);
    }
  }
  ASSERT_EQ(slices.size(), rows.size()) << "one complete event per process in scope";

  struct TraceTimes {
    std::optional<int64_t> originNs;  // ns of ts 0
    std::vector<std::pair<int64_t, int64_t>> open;  // ts and ts + dur of open processes
    int64_t latestEndPs = 0;                         // of the slices longer than 0
  };
  std::map<int64_t, TraceTimes> times;
  std::map<std::pair<int64_t, int64_t>, const Value*> rowOf;  // (trace, id)
  for (const Value& row : rows) rowOf[{*optionalInteger(row, "trace"), *optionalInteger(row, "id")}] = &row;
  ASSERT_EQ(rowOf.size(), rows.size()) << "(trace, id) names one process";

  // Rows come trace by trace; so do the tracks.
  std::vector<int64_t> traceOfSlice;
  for (const Value& row : rows) traceOfSlice.push_back(*optionalInteger(row, "trace"));
  ASSERT_TRUE(std::is_sorted(traceOfSlice.begin(), traceOfSlice.end()));

  std::set<std::pair<int64_t, int64_t>> seen;
  std::vector<const Value*> rowOfSlice;
  for (size_t k = 0; k < slices.size(); ++k) {
    const Value& x = *slices[k];
    const int64_t track = int64_t(k + 1), trace = traceOfSlice[k];
    SCOPED_TRACE("track " + std::to_string(track) + " \"" + x.find("name")->text + "\"");
    EXPECT_EQ(optionalInteger(x, "pid"), track) << "tracks are numbered in order, never a real pid";
    EXPECT_EQ(slicesOf[track].size(), 1u);
    for (const char* name : {"process_name", "thread_name", "process_sort_index"})
      EXPECT_EQ((metadataCount[{track, name}]), 1) << name;
    ASSERT_TRUE(x.has("cat") && x.has("args")) << "cat and args are optional in the format, not here";
    const Value& args = *x.find("args");
    auto id = optionalInteger(args, "id");
    ASSERT_TRUE(id);
    ASSERT_TRUE(rowOf.count({trace, *id})) << "id " << *id << " is no process of trace " << trace;
    EXPECT_TRUE(seen.insert({trace, *id}).second) << "two tracks for one process";
    const Value& row = *rowOf[{trace, *id}];
    rowOfSlice.push_back(&row);
    EXPECT_EQ(optionalInteger(args, "pid"), optionalInteger(row, "pid"));
    EXPECT_EQ(optionalInteger(args, "parent_id"), optionalInteger(row, "parent_id"));
    EXPECT_EQ(optionalInteger(args, "exit_status"), optionalInteger(row, "exit_status"));
    EXPECT_EQ(optionalInteger(args, "term_signal"), optionalInteger(row, "term_signal"));
    EXPECT_EQ(x.find("cat")->text, hasFlag(row, "failed") ? "process,failed" : "process");
    for (const Value& e : events->items) {
      if (e.find("ph")->text == "M" && e.find("name")->text == "process_name" && *e.find("pid")->integer() == track) {
        EXPECT_EQ(e.find("args")->find("name")->text,
                  x.find("name")->text + " [pid " + std::to_string(*optionalInteger(row, "pid")) + "]");
      }
    }

    auto ts = millionths(*x.find("ts")), dur = millionths(*x.find("dur"));
    ASSERT_TRUE(ts && dur);
    EXPECT_EQ(*ts % 1000, 0) << "ts is not a whole number of nanoseconds: " << x.find("ts")->text;
    EXPECT_EQ(*dur % 1000, 0) << "dur is not a whole number of nanoseconds: " << x.find("dur")->text;
    const int64_t tsNs = *ts / 1000, durNs = *dur / 1000;
    TraceTimes& t = times[trace];
    if (*dur > 0) t.latestEndPs = std::max(t.latestEndPs, *ts + *dur);

    auto start = optionalInteger(row, "start_ns"), end = optionalInteger(row, "end_ns");
    if (start) {
      EXPECT_FALSE(args.has("start"));
      if (!t.originNs) t.originNs = *start - tsNs;
      EXPECT_EQ(*t.originNs + tsNs, *start) << "ts is not start_ns - the trace's origin";
    } else {
      EXPECT_TRUE(args.find("start") && args.find("start")->isString()) << "an unknown start without a note";
      EXPECT_EQ(*ts, 0) << "an unknown start is drawn from the trace's start";
    }
    if (auto duration = optionalInteger(row, "duration_ns")) {
      // The row's duration in ns is the event's in us, to the nanosecond.
      EXPECT_EQ(durNs, *duration) << "dur " << x.find("dur")->text << " us, duration_ns " << *duration;
    }
    if (end) {
      EXPECT_FALSE(args.has("end"));
    } else {
      ASSERT_TRUE(args.find("end") && args.find("end")->isString()) << "an unknown end without a note";
      if (args.find("end")->text.rfind("open", 0) == 0) {
        EXPECT_TRUE(hasFlag(row, "open"));
        t.open.emplace_back(*ts, *ts + *dur);
      }
    }
  }
  // Every end lands on end_ns; for an end without a start this needs the
  // trace's origin, known once every slice has been seen.
  for (size_t k = 0; k < rowOfSlice.size(); ++k) {
    const TraceTimes& t = times[traceOfSlice[k]];
    auto end = optionalInteger(*rowOfSlice[k], "end_ns");
    if (!end || !t.originNs) continue;
    int64_t endPs = *millionths(*slices[k]->find("ts")) + *millionths(*slices[k]->find("dur"));
    EXPECT_EQ(*t.originNs + endPs / 1000, *end) << "track " << k + 1 << ": ts + dur is not end_ns";
  }
  // Open processes run to the trace's end, which no slice passes; one that
  // started after that end is drawn where it started, with no duration.
  for (const auto& [trace, t] : times) {
    std::optional<int64_t> traceEndPs;
    for (const auto& [begin, end] : t.open)
      if (end > begin) traceEndPs = std::max(traceEndPs.value_or(end), end);
    if (!traceEndPs) continue;
    for (const auto& [begin, end] : t.open)
      EXPECT_EQ(end, std::max(*traceEndPs, begin)) << "trace " << trace << ": an open process ends elsewhere";
    EXPECT_LE(t.latestEndPs, *traceEndPs) << "a slice of trace " << trace << " ends after the trace's end";
  }
}

// Both checks on one timeline; `what` names it in failures.
void checkTimeline(const Outputs& outputs, const std::string& what) {
  SCOPED_TRACE(what);
  auto problems = formatProblems(outputs.timeline);
  ASSERT_TRUE(problems.empty()) << "not a valid Trace Event Format file:\n" << joined(problems);
  auto parsed = json::parse(outputs.timeline);
  ASSERT_TRUE(parsed.value) << parsed.error;
  checkAgainstProcesses(*parsed.value, outputs.processes);
}

const Value* sliceOfPid(const Value& timeline, int64_t pid) {
  for (const Value& e : timeline.find("traceEvents")->items)
    if (e.find("ph")->text == "X" && optionalInteger(*e.find("args"), "pid") == pid) return &e;
  return nullptr;
}

const Value* rowOfPid(const std::vector<Value>& rows, int64_t pid) {
  for (const Value& row : rows)
    if (optionalInteger(row, "pid") == pid) return &row;
  return nullptr;
}

class TimelineFormat : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(TimelineFormat, SmallBuildInEveryScope) {
  std::string trace = dir_.file("build.pt");
  {
    TraceBuilder builder(trace, 1000);
    writeSmallBuild(builder);
  }
  Outputs command = analyzeBoth(dir_, "", shellQuoted(trace));
  checkTimeline(command, "default scope");
  EXPECT_EQ(command.processes.size(), 4u);
  // make ran 90 ms: 90000 us in the timeline, 90000000 ns in the processes report.
  auto timeline = json::parse(command.timeline);
  ASSERT_TRUE(timeline.value);
  const Value* make = sliceOfPid(*timeline.value, 1000);
  const Value* makeRow = rowOfPid(command.processes, 1000);
  ASSERT_TRUE(make && makeRow);
  EXPECT_EQ(millionths(*make->find("dur")), int64_t(90'000) * 1'000'000);
  EXPECT_EQ(optionalInteger(*makeRow, "duration_ns"), 90'000'000);
  EXPECT_EQ(millionths(*make->find("ts")), int64_t(9'999) * 1'000'000);  // forked 9.999 ms after the start

  Outputs all = analyzeBoth(dir_, "--all", shellQuoted(trace));
  checkTimeline(all, "--all");
  EXPECT_EQ(all.processes.size(), 8u);
  Outputs root = analyzeBoth(dir_, "--root 1002", shellQuoted(trace));
  checkTimeline(root, "--root 1002");
  EXPECT_EQ(root.processes.size(), 1u);
}

TEST_F(TimelineFormat, SmallBuildWithAGap) {
  std::string trace = dir_.file("gap.pt");
  {
    TraceBuilder builder(trace, 1000);
    writeSmallBuild(builder, true);
  }
  checkTimeline(analyzeBoth(dir_, "--all", shellQuoted(trace)), "gap, --all");
}

// What the timeline has to draw without a fork or an exit: a pid reused
// while its process had not exited, an exit with no fork, a thread that
// outlives its leader, processes still running at the end, snapshot
// processes started before the trace.
void writeMessyTrace(TraceBuilder& t) {
  constexpr int64_t ms = kMs;
  t.snapshot(1 * ms, {snapshotEntry(1, 0, {"init"}), snapshotEntry(700, 1, {"sshd"})});
  t.fork(2 * ms, 700, 3000);
  t.exec(2 * ms + 100 * kUs, 3000, {"bash", "-c", "work"});
  t.fork(3 * ms, 3000, 3001);
  t.exec(3 * ms + 100 * kUs, 3001, {"worker", "--one"});
  t.fork(8 * ms, 3000, 3001);  // 3001 again: its first exit was lost
  t.exec(8 * ms + 100 * kUs, 3001, {"worker", "--two"});
  t.exit(9 * ms, 3100, exitedWith(0), 3000);  // an exit, no fork
  t.fork(10 * ms, 3000, 3002);
  t.exec(10 * ms + 100 * kUs, 3002, {"server"});
  t.threadFork(11 * ms, 3002, 3003);
  t.exit(12 * ms, 3002, exitedWith(0), 3000);  // the leader goes first
  t.exit(15 * ms, 3003, 9, 3000, 3002);        // its thread is killed later
  t.exit(16 * ms, 3001, exitedWith(4), 3000);
  t.fork(17 * ms, 3000, 3004);  // still running at the end
  t.exec(17 * ms + 100 * kUs, 3004, {"sleep", "60"});
  t.fork(18 * ms, 700, 3005);  // never execs, never exits
  t.close();
}

TEST_F(TimelineFormat, ProcessesWithUnknownStartsAndEnds) {
  std::string trace = dir_.file("messy.pt");
  {
    TraceBuilder builder(trace, 0);
    writeMessyTrace(builder);
  }
  Outputs outputs = analyzeBoth(dir_, "", shellQuoted(trace));
  checkTimeline(outputs, "messy, default scope");
  auto timeline = json::parse(outputs.timeline);
  ASSERT_TRUE(timeline.value);
  // Every kind of note shows up at least once.
  std::set<std::string> starts, ends;
  for (const Value& e : timeline.value->find("traceEvents")->items) {
    if (e.find("ph")->text != "X") continue;
    if (const Value* start = e.find("args")->find("start")) starts.insert(start->text);
    if (const Value* end = e.find("args")->find("end")) ends.insert(end->text);
  }
  EXPECT_TRUE(starts.count("before the trace"));
  EXPECT_TRUE(starts.count("unknown (shown from the trace start)"));
  EXPECT_TRUE(ends.count("open (still running at the trace end)"));
  EXPECT_TRUE(ends.count("exit lost (shown until its pid was reused)"));
  // The server ends with its last thread, 15 ms: 5 ms after its fork at 10 ms.
  const Value* server = sliceOfPid(*timeline.value, 3002);
  ASSERT_TRUE(server);
  EXPECT_EQ(millionths(*server->find("dur")), int64_t(5'000) * 1'000'000);
}

TEST_F(TimelineFormat, SeveralTracesShareOneTimeline) {
  std::string build = dir_.file("build.pt"), messy = dir_.file("messy.pt");
  {
    TraceBuilder builder(build, 1000);
    writeSmallBuild(builder);
  }
  {
    TraceBuilder builder(messy, 0, deterministicOptions(), "otherhost");
    writeMessyTrace(builder);
  }
  Outputs outputs = analyzeBoth(dir_, "--all", shellQuoted(build) + " " + shellQuoted(messy));
  checkTimeline(outputs, "two traces, --all");
  std::set<int64_t> traces;
  for (const Value& row : outputs.processes) traces.insert(*optionalInteger(row, "trace"));
  EXPECT_EQ(traces, (std::set<int64_t>{0, 1}));
}

TEST_F(TimelineFormat, DamagedTraceStillGivesAValidTimeline) {
  auto options = deterministicOptions();
  options.chunkMaxAgeNs = 20 * kMs;
  std::string trace = dir_.file("cut.pt");
  {
    TraceBuilder builder(trace, 1000, options);
    writeSmallBuild(builder);
  }
  auto bytes = readFile(trace);
  bytes.resize(bytes.size() * 2 / 3);
  writeFile(trace, bytes);
  checkTimeline(analyzeBoth(dir_, "--all", shellQuoted(trace), Damage::expected), "truncated, --all");
}

// ---- Every sample ----------------------------------------------------------------------

// samples/ of this source tree (PROCTAPE_SAMPLES_DIR overrides).
std::filesystem::path samplesDir() {
  if (const char* dir = std::getenv("PROCTAPE_SAMPLES_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "samples";
}

std::vector<std::string> sampleCases() {
  std::vector<std::string> cases;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(samplesDir(), error))
    if (std::filesystem::exists(entry.path() / "trace.pt")) cases.push_back(entry.path().filename().string());
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST(SampleTimelines, TheSamplesAreFound) {
  auto cases = sampleCases();
  EXPECT_FALSE(cases.empty()) << "no samples/*/trace.pt under " << samplesDir();
  EXPECT_TRUE(std::count(cases.begin(), cases.end(), "live-build")) << "the one real recording is missing";
}

class SampleTimeline : public ::testing::TestWithParam<std::string> {};

TEST_P(SampleTimeline, IsValidAndMatchesTheProcessesReport) {
  TempDir dir;
  std::string trace = shellQuoted((samplesDir() / GetParam() / "trace.pt").string());
  // Damaged samples exit 1; samples/<case>/analyze-stderr.golden pins which.
  checkTimeline(analyzeBoth(dir, "", trace, Damage::allowed), GetParam() + ", default scope");
  checkTimeline(analyzeBoth(dir, "--all", trace, Damage::allowed), GetParam() + ", --all");
}

INSTANTIATE_TEST_SUITE_P(Samples, SampleTimeline, ::testing::ValuesIn(sampleCases()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace proctape::test::analyze
