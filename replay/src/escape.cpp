#include "proctape/replay/escape.h"

#include <cstdint>

namespace proctape::replay {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence at text[i] (whose first byte is
// >= 0x80), or 0 if it is not one.
size_t utf8Length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return i + k < text.size() ? uint8_t(text[i + k]) : uint8_t(0); };
  auto cont = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  uint8_t b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    uint8_t b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;   // surrogates
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    uint8_t b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;   // above U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

bool jsonPlain(uint8_t c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void appendJsonEscape(Buffer& out, uint8_t c) {
  switch (c) {
    case '"': out.append("\\\""); return;
    case '\\': out.append("\\\\"); return;
    case '\n': out.append("\\n"); return;
    case '\t': out.append("\\t"); return;
    case '\r': out.append("\\r"); return;
    case '\b': out.append("\\b"); return;
    case '\f': out.append("\\f"); return;
    default: break;
  }
  char* at = out.reserve(6);
  at[0] = '\\', at[1] = 'u', at[2] = '0', at[3] = '0', at[4] = kHex[c >> 4], at[5] = kHex[c & 15];
  out.commit(6);
}

}  // namespace

void appendJsonString(Buffer& out, std::string_view text) {
  out.append('"');
  size_t i = 0;
  while (i < text.size()) {
    size_t run = i;
    while (run < text.size() && jsonPlain(uint8_t(text[run]))) ++run;
    out.append(text.substr(i, run - i));
    i = run;
    if (i == text.size()) break;
    uint8_t c = uint8_t(text[i]);
    if (c < 0x80) {
      appendJsonEscape(out, c);
      ++i;
    } else if (size_t n = utf8Length(text, i)) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.append("\\ufffd");
      ++i;
    }
  }
  out.append('"');
}

void appendTextString(Buffer& out, std::string_view text, bool quoteSpaces) {
  size_t i = 0;
  while (i < text.size()) {
    uint8_t c = uint8_t(text[i]);
    if (c > 0x20 && c < 0x7F && c != '\\') {
      out.append(char(c));
      ++i;
      continue;
    }
    if (c == ' ' && !quoteSpaces) {
      out.append(' ');
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t n = utf8Length(text, i)) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    if (c == '\\') out.append("\\\\");
    else if (c == '\n') out.append("\\n");
    else if (c == '\t') out.append("\\t");
    else if (c == '\r') out.append("\\r");
    else {
      char* at = out.reserve(4);
      at[0] = '\\', at[1] = 'x', at[2] = kHex[c >> 4], at[3] = kHex[c & 15];
      out.commit(4);
    }
    ++i;
  }
}

}  // namespace proctape::replay
