// A small JSON reader for the live analyzer test: it reads the JSON Lines
// that `proctape-analyze processes --format json` writes back into values,
// so the test compares fields, not text. Strict enough to reject what is not
// JSON (the test then fails saying where), no more.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proctape::test::json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;                      // a string, or a number as written
  std::vector<Value> items;              // an array
  std::map<std::string, Value> members;  // an object

  bool isNull() const { return kind == Kind::null; }
  // The member `key`, or a null value when there is none.
  const Value& operator[](const std::string& key) const {
    static const Value none;
    auto found = members.find(key);
    return found == members.end() ? none : found->second;
  }
  std::optional<int64_t> integer() const {
    if (kind != Kind::number) return std::nullopt;
    return std::stoll(text);
  }
  std::optional<std::string> string() const {
    if (kind != Kind::string) return std::nullopt;
    return text;
  }
  // An array of strings, or nullopt for null or anything else.
  std::optional<std::vector<std::string>> strings() const {
    if (kind != Kind::array) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& item : items) {
      if (item.kind != Kind::string) return std::nullopt;
      out.push_back(item.text);
    }
    return out;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  // One whole document; nullopt (and error()) when the text is not JSON.
  std::optional<Value> document() {
    Value value;
    if (!parseValue(value, 0)) return std::nullopt;
    skipSpace();
    if (at_ != text_.size()) {
      fail("trailing text");
      return std::nullopt;
    }
    return value;
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(at_);
    return false;
  }
  void skipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }
  bool parseValue(Value& out, int depth) {
    if (depth > 64) return fail("nesting too deep");
    skipSpace();
    if (at_ >= text_.size()) return fail("unexpected end");
    char c = text_[at_];
    if (c == '{') return parseObject(out, depth);
    if (c == '[') return parseArray(out, depth);
    if (c == '"') {
      out.kind = Value::Kind::string;
      return parseString(out.text);
    }
    if (literal("null")) return true;
    if (literal("true") || literal("false")) {
      out.kind = Value::Kind::boolean;
      out.boolean = c == 't';
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parseNumber(out);
    return fail(std::string("unexpected '") + c + "'");
  }
  bool parseNumber(Value& out) {
    size_t begin = at_;
    if (text_[at_] == '-') ++at_;
    auto digits = [&] {
      size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ > from;
    };
    if (!digits()) return fail("bad number");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) return fail("bad fraction");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digits()) return fail("bad exponent");
    }
    out.kind = Value::Kind::number;
    out.text = std::string(text_.substr(begin, at_ - begin));
    return true;
  }
  static void appendUtf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += char(code);
    } else if (code < 0x800) {
      out += char(0xC0 | (code >> 6));
      out += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += char(0xE0 | (code >> 12));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    } else {
      out += char(0xF0 | (code >> 18));
      out += char(0x80 | ((code >> 12) & 0x3F));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    }
  }
  bool hex4(uint32_t& code) {
    if (at_ + 4 > text_.size()) return fail("short \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[at_++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= uint32_t(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return true;
  }
  bool parseString(std::string& out) {
    ++at_;  // the opening quote
    while (at_ < text_.size()) {
      char c = text_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) break;
      char e = text_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t code = 0;
          if (!hex4(code)) return false;
          if (code >= 0xD800 && code < 0xDC00) {  // a surrogate pair
            uint32_t low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xDC00 || low >= 0xE000) return fail("lone surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(out, code);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }
  bool parseArray(Value& out, int depth) {
    out.kind = Value::Kind::array;
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
    while (true) {
      out.items.emplace_back();
      if (!parseValue(out.items.back(), depth + 1)) return false;
      skipSpace();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
      return fail("expected ',' or ']'");
    }
  }
  bool parseObject(Value& out, int depth) {
    out.kind = Value::Kind::object;
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
    while (true) {
      skipSpace();
      if (at_ >= text_.size() || text_[at_] != '"') return fail("expected a member name");
      std::string key;
      if (!parseString(key)) return false;
      skipSpace();
      if (at_ >= text_.size() || text_[at_] != ':') return fail("expected ':'");
      ++at_;
      Value value;
      if (!parseValue(value, depth + 1)) return false;
      out.members[key] = std::move(value);
      skipSpace();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
      return fail("expected ',' or '}'");
    }
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

inline std::optional<Value> parse(std::string_view text, std::string* error = nullptr) {
  Parser parser(text);
  auto value = parser.document();
  if (!value && error) *error = parser.error();
  return value;
}

}  // namespace proctape::test::json
