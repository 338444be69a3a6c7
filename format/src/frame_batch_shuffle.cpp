// The byte shuffle of equal-size frames, both directions. On x86-64 it moves
// 16x16 byte tiles through SSE2 registers; the scalar loops handle the edges
// and other machines. The benchmark showed the scalar version was nearly
// half the reader's instructions.
#include "frame_batch.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace proctape::format {
namespace {

#if defined(__SSE2__)
constexpr size_t kTile = 16;

// Transposes a 16x16 byte tile in four rounds of unpacks. Afterwards
// register m holds row reverse4(m) of the transposed tile.
inline void transposeTile(__m128i r[kTile]) {
  __m128i t[kTile];
  for (int k = 0; k < 8; ++k) {
    t[k] = _mm_unpacklo_epi8(r[2 * k], r[2 * k + 1]);
    t[k + 8] = _mm_unpackhi_epi8(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm_unpacklo_epi16(t[2 * k], t[2 * k + 1]);
    r[k + 8] = _mm_unpackhi_epi16(t[2 * k], t[2 * k + 1]);
  }
  for (int k = 0; k < 8; ++k) {
    t[k] = _mm_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
    t[k + 8] = _mm_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm_unpacklo_epi64(t[2 * k], t[2 * k + 1]);
    r[k + 8] = _mm_unpackhi_epi64(t[2 * k], t[2 * k + 1]);
  }
}

constexpr size_t reverse4(size_t m) { return ((m & 1) << 3) | ((m & 2) << 1) | ((m & 4) >> 1) | ((m & 8) >> 3); }

// Copies the 16x16 tile at `in` (rows `inStride` apart) transposed to `out`
// (rows `outStride` apart).
inline void copyTileTransposed(const uint8_t* in, size_t inStride, uint8_t* out, size_t outStride) {
  __m128i r[kTile];
  for (size_t k = 0; k < kTile; ++k) r[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k * inStride));
  transposeTile(r);
  for (size_t m = 0; m < kTile; ++m)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + reverse4(m) * outStride), r[m]);
}

// Transposes the rows [0, count) x columns [0, width) of a row-major matrix
// with row stride `width` into one with row stride `count`, tile by tile.
// Returns how many leading rows it handled (a multiple of 16); the caller
// finishes the rest. The last column tile overlaps the one before it when
// width is not a multiple of 16: it rewrites the same bytes, harmlessly.
size_t transposeTiles(const uint8_t* in, size_t count, size_t width, uint8_t* out, bool toColumns) {
  if (width < kTile) return 0;
  size_t rows = count - count % kTile;
  for (size_t i = 0; i < rows; i += kTile) {
    for (size_t j0 = 0; j0 < width; j0 += kTile) {
      size_t j = j0 + kTile <= width ? j0 : width - kTile;
      if (toColumns) copyTileTransposed(in + i * width + j, width, out + j * count + i, count);
      else copyTileTransposed(in + j * count + i, count, out + i * width + j, width);
    }
  }
  return rows;
}
#else
size_t transposeTiles(const uint8_t*, size_t, size_t, uint8_t*, bool) { return 0; }
#endif

}  // namespace

void shuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out) {
  for (size_t i = transposeTiles(in, count, width, out, true); i < count; ++i)
    for (size_t j = 0; j < width; ++j) out[j * count + i] = in[i * width + j];
}

void unshuffleBytes(const uint8_t* in, size_t count, size_t width, uint8_t* out) {
  for (size_t i = transposeTiles(in, count, width, out, false); i < count; ++i)
    for (size_t j = 0; j < width; ++j) out[i * width + j] = in[j * count + i];
}

}  // namespace proctape::format
