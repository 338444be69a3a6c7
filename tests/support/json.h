// A small, strict JSON parser for tests (RFC 8259): it reads what our tools
// write so that tests can check structure and values instead of substrings.
// Strict on purpose: no trailing commas, no leading zeros, no raw control
// characters or invalid UTF-8 in strings, no lone surrogates, no duplicate
// keys, nothing after the value. Numbers keep their text, so a test can do
// exact decimal arithmetic on them.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace proctape::test::json {

class Value {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;  // for numbers
  std::string text;   // a string's value, or a number's text as written
  std::vector<Value> items;                           // arrays
  std::vector<std::pair<std::string, Value>> members;  // objects, in file order

  bool isNull() const { return kind == Kind::null; }
  bool isBool() const { return kind == Kind::boolean; }
  bool isNumber() const { return kind == Kind::number; }
  bool isString() const { return kind == Kind::string; }
  bool isArray() const { return kind == Kind::array; }
  bool isObject() const { return kind == Kind::object; }
  // A number written without fraction or exponent that fits in 64 bits.
  std::optional<int64_t> integer() const {
    if (!isNumber() || text.find_first_of(".eE") != std::string::npos) return std::nullopt;
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }
  // The member `key` of an object, or null when absent (or not an object).
  const Value* find(std::string_view key) const {
    if (!isObject()) return nullptr;
    for (const auto& [name, value] : members)
      if (name == key) return &value;
    return nullptr;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The member `key` of an object; throws std::out_of_range when absent (a
  // test fails with the key's name instead of reading a missing member as null).
  const Value& at(std::string_view key) const {
    if (const Value* value = find(key)) return *value;
    throw std::out_of_range("JSON: no member \"" + std::string(key) + "\"");
  }
  // A string's value; nullopt for anything else (null included).
  std::optional<std::string> string() const {
    if (!isString()) return std::nullopt;
    return text;
  }
  // An array of strings; nullopt for anything else (null included).
  std::optional<std::vector<std::string>> strings() const {
    if (!isArray()) return std::nullopt;
    std::vector<std::string> out;
    for (const Value& item : items) {
      if (!item.isString()) return std::nullopt;
      out.push_back(item.text);
    }
    return out;
  }
};

struct ParseResult {
  std::optional<Value> value;  // set when the whole text is one valid JSON value
  std::string error;           // otherwise: what is wrong
  size_t offset = 0;           // and where (byte offset)
};

namespace detail {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  ParseResult run() {
    ParseResult result;
    Value value;
    skipSpace();
    if (parseValue(value, 0)) {
      skipSpace();
      if (at_ == text_.size())
        result.value = std::move(value);
      else
        fail("text after the value");
    }
    if (!result.value) {
      result.error = error_;
      result.offset = errorAt_;
    }
    return result;
  }

 private:
  static constexpr int kMaxDepth = 200;

  bool fail(const char* what) {
    if (error_.empty()) {
      error_ = what;
      errorAt_ = at_;
    }
    return false;
  }
  bool atEnd() const { return at_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[at_]; }
  void skipSpace() {
    while (!atEnd() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return fail("not a JSON value");
    at_ += word.size();
    return true;
  }

  bool parseValue(Value& out, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    switch (peek()) {
      case '{': return parseObject(out, depth);
      case '[': return parseArray(out, depth);
      case '"': out.kind = Value::Kind::string; return parseString(out.text);
      case 't': out.kind = Value::Kind::boolean; out.boolean = true; return literal("true");
      case 'f': out.kind = Value::Kind::boolean; out.boolean = false; return literal("false");
      case 'n': out.kind = Value::Kind::null; return literal("null");
      default: return parseNumber(out);
    }
  }

  bool parseObject(Value& out, int depth) {
    out.kind = Value::Kind::object;
    ++at_;  // '{'
    skipSpace();
    if (peek() == '}') {
      ++at_;
      return true;
    }
    while (true) {
      skipSpace();
      if (peek() != '"') return fail("expected a string key");
      std::string key;
      if (!parseString(key)) return false;
      if (out.find(key)) return fail("duplicate key");
      skipSpace();
      if (peek() != ':') return fail("expected ':'");
      ++at_;
      skipSpace();
      Value value;
      if (!parseValue(value, depth + 1)) return false;
      out.members.emplace_back(std::move(key), std::move(value));
      skipSpace();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() == '}') {
        ++at_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool parseArray(Value& out, int depth) {
    out.kind = Value::Kind::array;
    ++at_;  // '['
    skipSpace();
    if (peek() == ']') {
      ++at_;
      return true;
    }
    while (true) {
      skipSpace();
      Value value;
      if (!parseValue(value, depth + 1)) return false;
      out.items.push_back(std::move(value));
      skipSpace();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() == ']') {
        ++at_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    }
  }

  bool hex4(uint32_t& out) {
    if (at_ + 4 > text_.size()) return fail("\\u needs four hex digits");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[at_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= uint32_t(c - 'A' + 10);
      else
        return fail("\\u needs four hex digits");
    }
    return true;
  }

  bool escape(std::string& out) {
    char c = peek();
    ++at_;
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return fail("unknown escape");
    }
    uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail("a lone low surrogate");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      uint32_t low = 0;
      if (text_.substr(at_, 2) != "\\u") return fail("a high surrogate without its low half");
      at_ += 2;
      if (!hex4(low)) return false;
      if (low < 0xdc00 || low > 0xdfff) return fail("a high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    appendUtf8(out, cp);
    return true;
  }

  // One UTF-8 encoded character (not ASCII), checked: no overlong forms, no
  // surrogates, nothing above U+10FFFF.
  bool utf8(std::string& out) {
    auto byte = [this](size_t i) { return uint8_t(text_[i]); };
    uint8_t lead = byte(at_);
    size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length == 0 || lead > 0xf4 || at_ + length > text_.size()) return fail("invalid UTF-8");
    uint32_t cp = lead & (0x7f >> length);
    for (size_t i = 1; i < length; ++i) {
      if ((byte(at_ + i) & 0xc0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (byte(at_ + i) & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return fail("invalid UTF-8");
    out.append(text_.substr(at_, length));
    at_ += length;
    return true;
  }

  bool parseString(std::string& out) {
    ++at_;  // '"'
    while (true) {
      if (atEnd()) return fail("unterminated string");
      char c = text_[at_];
      if (c == '"') {
        ++at_;
        return true;
      }
      if (uint8_t(c) < 0x20) return fail("a control character in a string");
      if (c == '\\') {
        ++at_;
        if (!escape(out)) return false;
      } else if (uint8_t(c) >= 0x80) {
        if (!utf8(out)) return false;
      } else {
        out += c;
        ++at_;
      }
    }
  }

  bool digits() {
    size_t start = at_;
    while (!atEnd() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
    return at_ > start;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool parseNumber(Value& out) {
    size_t start = at_;
    if (peek() == '-') ++at_;
    if (peek() == '0') {
      ++at_;
      if (peek() >= '0' && peek() <= '9') return fail("a number with a leading zero");
    } else if (!digits()) {
      return fail("not a JSON value");
    }
    if (peek() == '.') {
      ++at_;
      if (!digits()) return fail("a number without digits after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (!digits()) return fail("a number without digits in its exponent");
    }
    out.kind = Value::Kind::number;
    out.text = std::string(text_.substr(start, at_ - start));
    auto [end, error] = std::from_chars(out.text.data(), out.text.data() + out.text.size(), out.number);
    if (error != std::errc() || end != out.text.data() + out.text.size()) return fail("a number out of range");
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
  size_t errorAt_ = 0;
};

}  // namespace detail

inline ParseResult parse(std::string_view text) { return detail::Parser(text).run(); }

// Each line of JSON Lines text as a value; an empty last line is allowed.
// Stops at the first line that does not parse (its error, 1-based line number).
struct LinesResult {
  std::vector<Value> values;
  std::string error;
  size_t badLine = 0;
};
inline LinesResult parseLines(std::string_view text) {
  LinesResult result;
  size_t line = 0;
  while (!text.empty()) {
    ++line;
    size_t end = text.find('\n');
    std::string_view one = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    auto parsed = parse(one);
    if (!parsed.value) {
      result.error = parsed.error + " at byte " + std::to_string(parsed.offset);
      result.badLine = line;
      return result;
    }
    result.values.push_back(std::move(*parsed.value));
  }
  return result;
}

}  // namespace proctape::test::json
