// Decimal integers for the JSON renderer, written eight digits at a time in
// 32-bit arithmetic with two digits per table lookup. Private to the renderers.
//
// A JSON Lines event has about ten numbers, three of them 15-19 digits long
// (times in ns). The benchmark (bench/replay_bench.cpp) found std::to_chars,
// which finds the length in a loop and then makes two digits per 64-bit
// division, was a third of JSON rendering once string escaping was fast.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "proctape/replay/output.h"

namespace proctape::replay::detail {

inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Two digits of n < 100.
inline void writePair(char* at, uint32_t n) { std::memcpy(at, kDigitPairs + 2 * n, 2); }

// Exactly four digits of n < 10^4, or eight of n < 10^8, leading zeros included.
inline void writeFour(char* at, uint32_t n) {
  writePair(at, n / 100);
  writePair(at + 2, n % 100);
}
inline void writeEight(char* at, uint32_t n) {
  writeFour(at, n / 10'000);
  writeFour(at + 4, n % 10'000);
}

// n < 10^4, or n < 10^8, without leading zeros; returns the end.
inline char* writeUpToFour(char* at, uint32_t n) {
  if (n < 10) {
    *at = char('0' + n);
    return at + 1;
  }
  if (n < 100) {
    writePair(at, n);
    return at + 2;
  }
  if (n < 1'000) {
    *at = char('0' + n / 100);
    writePair(at + 1, n % 100);
    return at + 3;
  }
  writeFour(at, n);
  return at + 4;
}
inline char* writeUpToEight(char* at, uint32_t n) {
  if (n < 10'000) return writeUpToFour(at, n);
  at = writeUpToFour(at, n / 10'000);
  writeFour(at, n % 10'000);
  return at + 4;
}

// `n` in decimal, at most 20 bytes; returns the end.
inline char* writeDecimal(char* at, uint64_t n) {
  if (n < 100'000'000) return writeUpToEight(at, uint32_t(n));
  uint64_t high = n / 100'000'000;  // < 1.9 * 10^11
  if (high < 100'000'000) {
    at = writeUpToEight(at, uint32_t(high));
  } else {
    at = writeUpToFour(at, uint32_t(high / 100'000'000));
    writeEight(at, uint32_t(high % 100'000'000));
    at += 8;
  }
  writeEight(at, uint32_t(n % 100'000'000));
  return at + 8;
}

// Appends `value` in decimal, as Buffer::appendInt does, faster.
template <typename Int>
void appendDecimal(Buffer& out, Int value) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  char* at = out.reserve(20);  // "18446744073709551615", "-9223372036854775808"
  char* end = at;
  uint64_t magnitude = uint64_t(value);
  if constexpr (std::is_signed_v<Int>) {
    if (value < 0) {
      *end++ = '-';
      magnitude = uint64_t(0) - uint64_t(value);
    }
  }
  out.commit(size_t(writeDecimal(end, magnitude) - at));
}

}  // namespace proctape::replay::detail
