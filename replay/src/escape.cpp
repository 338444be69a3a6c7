#include "proctape/replay/escape.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Copying what JSON takes as it is (jsonPlain) 16 bytes at a time (SSE2) or 8
// (a 64-bit word) rather than byte by byte: the benchmark
// (bench/replay_bench.cpp) found the byte loop was half the time of rendering
// JSON, for the argv, exe and cwd of every exec, which seldom hold a byte to
// escape.
#if defined(__SSE2__)
// A bit for each of the 16 bytes of `v` that is not plain.
unsigned specialMask16(__m128i v) {
  // A signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
  __m128i special = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return unsigned(_mm_movemask_epi8(special));
}
#endif

// Whether all eight bytes of `w` are plain: none < 0x20, '"', '\\' or >= 0x80.
// (Where one is, a borrow may mark its neighbour too: the answer stays right,
// but the marks do not say which byte it was.)
bool plainWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
  uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  uint64_t special = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | w;
  return (special & kHigh) == 0;
}

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

template <typename T>
void store(char* p, T value) {
  std::memcpy(p, &value, sizeof value);
}

// The last bytes of `text` from `i` on, fewer than 8, copied to `to` if they
// are plain. Overlapping loads cover them: the last 8 bytes, or the first and
// last 4 of a shorter text. They may take in bytes before `i` (which `to`
// already holds, or which are special and make it say no); a no sends the
// caller to the byte loop.
bool copyPlainTail(char* to, std::string_view text, size_t i) {
  const char* p = text.data();
  size_t n = text.size();
  if (i == n) return true;
  if (n >= 8) {
    uint64_t w = load<uint64_t>(p + n - 8);
    if (!plainWord(w)) return false;
    store(to + n - 8, w);
    return true;
  }
  if (n < 4) return false;
  uint32_t head = load<uint32_t>(p), tail = load<uint32_t>(p + n - 4);
  if (!plainWord(head | uint64_t(tail) << 32)) return false;
  store(to, head);
  store(to + n - 4, tail);
  return true;
}

// Copies the plain bytes at the start of `text` to `to`, which has room for
// text.size() bytes, and returns how many there are. Bytes of `to` past that
// count may have been written too. Inlined: a call cost a fifth as much again.
[[gnu::always_inline]] inline size_t copyPlain(char* to, std::string_view text) {
  const char* p = text.data();
  size_t n = text.size(), i = 0;
#if defined(__SSE2__)
  for (; n - i >= 16; i += 16) {
    __m128i v;
    std::memcpy(&v, p + i, sizeof v);
    std::memcpy(to + i, &v, sizeof v);
    if (unsigned mask = specialMask16(v)) return i + size_t(std::countr_zero(mask));
  }
#endif
  for (; n - i >= 8; i += 8) {
    uint64_t w = load<uint64_t>(p + i);
    if (!plainWord(w)) break;  // the byte loop finds which byte
    store(to + i, w);
  }
  if (n - i < 8 && copyPlainTail(to, text, i)) return n;
  for (; i < n && jsonPlain(uint8_t(p[i])); ++i) to[i] = p[i];
  return i;
}

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

// A well-formed UTF-8 character as it is, but for the C1 controls (U+0080 to
// U+009F) and U+2028/2029: valid JSON, yet line breaks to JavaScript before
// ES2019 and to Python's str.splitlines(), which would split a JSON Lines
// record. They go as \u escapes.
void appendJsonCharacter(Buffer& out, std::string_view utf8) {
  auto byte = [&](size_t k) { return uint8_t(utf8[k]); };
  uint32_t code = 0;
  if (utf8.size() == 2 && byte(0) == 0xC2 && byte(1) <= 0x9F) code = byte(1);
  if (utf8.size() == 3 && byte(0) == 0xE2 && byte(1) == 0x80 && (byte(2) == 0xA8 || byte(2) == 0xA9))
    code = 0x2000u | (byte(2) - 0x80u);
  if (code == 0) return out.append(utf8);
  char* at = out.reserve(6);
  at[0] = '\\', at[1] = 'u';
  for (int k = 0; k < 4; ++k) at[2 + k] = kHex[(code >> (12 - 4 * k)) & 15];
  out.commit(6);
}

// The rest of a JSON string from `i`, the first byte to escape, on; and the
// closing quote.
[[gnu::noinline]] void appendJsonRest(Buffer& out, std::string_view text, size_t i) {
  while (i < text.size()) {
    uint8_t c = uint8_t(text[i]);
    if (c < 0x80) {
      appendJsonEscape(out, c);
      ++i;
    } else if (size_t n = utf8Length(text, i)) {
      appendJsonCharacter(out, text.substr(i, n));
      i += n;
    } else {
      out.append("\\ufffd");
      ++i;
    }
    size_t run = copyPlain(out.reserve(text.size() - i), text.substr(i));
    out.commit(run);
    i += run;
  }
  out.append('"');
}

}  // namespace

void appendJsonString(Buffer& out, std::string_view text) {
  char* at = out.reserve(text.size() + 2);  // all it takes when nothing needs escaping, as is usual
  at[0] = '"';
  size_t plain = copyPlain(at + 1, text);
  if (plain == text.size()) {
    at[plain + 1] = '"';
    out.commit(plain + 2);
    return;
  }
  out.commit(plain + 1);
  appendJsonRest(out, text, plain);
}

namespace {

void appendHexEscape(Buffer& out, uint8_t c) {
  char* at = out.reserve(4);
  at[0] = '\\', at[1] = 'x', at[2] = kHex[c >> 4], at[3] = kHex[c & 15];
  out.commit(4);
}

// Well-formed UTF-8 that a terminal or an editor would still act on: the C1
// controls (U+0080-U+009F; U+009B starts an escape sequence on some
// terminals) and the line and paragraph separators (U+2028, U+2029).
bool actsLikeAControl(std::string_view character) {
  auto byte = [&](size_t i) { return uint8_t(character[i]); };
  if (character.size() == 2) return byte(0) == 0xC2 && byte(1) < 0xA0;
  return character.size() == 3 && byte(0) == 0xE2 && byte(1) == 0x80 && (byte(2) == 0xA8 || byte(2) == 0xA9);
}

}  // namespace

void appendTextString(Buffer& out, std::string_view text, bool quoteSpaces) {
  size_t i = 0;
  while (i < text.size()) {
    uint8_t c = uint8_t(text[i]);
    // With quoteSpaces (argv lists) an apostrophe is escaped too, so that an
    // argument '' is told apart from the empty argument, which shows as ''.
    if (c > 0x20 && c < 0x7F && c != '\\' && !(quoteSpaces && c == '\'')) {
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
      size_t n = utf8Length(text, i);
      if (n && !actsLikeAControl(text.substr(i, n))) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
      for (size_t end = i + std::max<size_t>(n, 1); i < end; ++i) appendHexEscape(out, uint8_t(text[i]));
      continue;
    }
    if (c == '\\') out.append("\\\\");
    else if (c == '\n') out.append("\\n");
    else if (c == '\t') out.append("\\t");
    else if (c == '\r') out.append("\\r");
    else appendHexEscape(out, c);
    ++i;
  }
}

}  // namespace proctape::replay
