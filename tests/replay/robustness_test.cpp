// Frames that lie: mutated and random datagrams, in valid traces, through
// every renderer. Under ASan/UBSan this must never read out of bounds; every
// frame gives at least one event, and text and JSON give one line per event.
#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <sstream>
#include <string_view>

#include "replay_support.h"

namespace proctape::test {
namespace {

std::vector<frames::Bytes> seeds() {
  frames::Link link;
  link.flags = frames::kNlmFMulti;
  frames::Addr v6;
  v6.family = 10;
  v6.address.assign(16, 0xfe);
  return {frames::fork(1, 1, 2, 2), frames::exec(2, 2), frames::exit(2, 2, 0x8b, 17, 1, 1),
          frames::comm(2, 2, "0123456789abcdefXYZ"), frames::ptrace(2, 2, 3, 3), frames::ack(0),
          frames::concat({frames::link(link), frames::addr(), frames::addr(v6), frames::done()})};
}

frames::Bytes mutate(frames::Bytes bytes, std::mt19937& random) {
  std::uniform_int_distribution<int> what(0, 5);
  switch (what(random)) {
    case 0:  // flip a few bytes, often the lengths
      for (int i = 0; i < 3 && !bytes.empty(); ++i) bytes[random() % std::min<size_t>(bytes.size(), 40)] ^= uint8_t(random());
      break;
    case 1: bytes.resize(random() % (bytes.size() + 1)); break;  // cut
    case 2: bytes.resize(bytes.size() + random() % 64, uint8_t(random())); break;  // grow
    case 3:  // a lying attribute length somewhere
      if (bytes.size() > 36) bytes[32 + random() % 4] = uint8_t(random());
      break;
    case 4:  // random bytes
      bytes.assign(random() % 200, 0);
      for (auto& b : bytes) b = uint8_t(random());
      break;
    default: bytes[random() % bytes.size()] = uint8_t(random()); break;
  }
  return bytes;
}

// A strict JSON checker (RFC 8259), enough to tell that each line is one
// well-formed object: strings must hold no raw control characters and only
// valid escapes; the output is meant to be UTF-8 (checked separately).
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool object() { return value() && (skip(), i_ == s_.size()) && s_.front() == '{'; }

 private:
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool string() {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k, ++i_)
          if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  bool value() {
    skip();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') return string();
    if (c == '{') return members('}', true);
    if (c == '[') return members(']', false);
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }
  bool members(char close, bool keyed) {
    ++i_;
    if (eat(close)) return true;
    do {
      if (keyed && (!string() || !eat(':'))) return false;
      if (!value()) return false;
    } while (eat(','));
    return eat(close);
  }
  std::string_view s_;
  size_t i_ = 0;
};

bool validUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

TEST(Robustness, JsonCheckerItself) {
  EXPECT_TRUE(JsonChecker(R"({"a":[1,-2,"x\n\u00e9"],"b":{"c":null,"d":true}})").object());
  EXPECT_FALSE(JsonChecker("{\"a\":\"x\ny\"}").object());
  EXPECT_FALSE(JsonChecker(R"({"a":"\x41"})").object());
  EXPECT_FALSE(JsonChecker(R"({"a":1,})").object());
  EXPECT_FALSE(JsonChecker(R"({"a":1} x)").object());
}

TEST(Robustness, MutatedFramesDecodeToEventsOrErrorsInEveryFormat) {
  std::mt19937 random(20261122);
  auto base = seeds();
  TraceBuilder trace;
  constexpr int kFrames = 3000;
  for (int i = 0; i < kFrames; ++i) {
    uint16_t source = uint16_t(random() % 3);  // 2: a source the meta does not declare
    trace.frame(i * kMs, source, mutate(base[random() % base.size()], random));
  }
  std::string path = trace.close();
  for (auto format : {replay::Format::text, replay::Format::json, replay::Format::pcap}) {
    auto o = replay::defaultOptions(format, replay::TimeMode::wall);
    o.filter.types = replay::EventTypeSet::all();
    auto rendered = replay::renderTrace(path, o);
    ASSERT_TRUE(rendered.ok());
    EXPECT_TRUE(rendered->damage.empty());
    EXPECT_GE(rendered->summary.events, uint64_t(kFrames));
    const auto& counts = rendered->summary.stats.events;
    for (auto type : {replay::EventType::decodeError, replay::EventType::fork, replay::EventType::comm,
                      replay::EventType::link, replay::EventType::addr, replay::EventType::unknown})
      EXPECT_GT(counts[size_t(type)], 10u) << "the mutations should reach " << replay::toString(type);
    if (format == replay::Format::json) {
      EXPECT_TRUE(validUtf8(rendered->output));
      std::istringstream lines(rendered->output);
      size_t bad = 0;
      for (std::string line; std::getline(lines, line);)
        if (!JsonChecker(line).object() && ++bad < 5) ADD_FAILURE() << "not a JSON object: " << line;
      EXPECT_EQ(bad, 0u);
    }
    if (format != replay::Format::pcap)
      EXPECT_EQ(uint64_t(std::count(rendered->output.begin(), rendered->output.end(), '\n')),
                rendered->summary.events);
    else
      EXPECT_GT(rendered->output.size(), size_t(kFrames) * 32);
  }
}

}  // namespace
}  // namespace proctape::test
