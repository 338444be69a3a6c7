// Little-endian loads and stores at arbitrary (unaligned) offsets.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace proctape::format {

template <typename T>
inline T byteSwap(T v) {
  if constexpr (sizeof(T) == 2) return T(__builtin_bswap16(uint16_t(v)));
  else if constexpr (sizeof(T) == 4) return T(__builtin_bswap32(uint32_t(v)));
  else if constexpr (sizeof(T) == 8) return T(__builtin_bswap64(uint64_t(v)));
  else return v;
}

template <typename T>
inline T loadLe(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) v = byteSwap(v);
  return v;
}

template <typename T>
inline void storeLe(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) v = byteSwap(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace proctape::format
