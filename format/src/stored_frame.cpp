#include "stored_frame.h"

#include <algorithm>

#include "le_bytes.h"

namespace proctape::format {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
constexpr uint64_t round64(uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }
constexpr uint64_t merge64(uint64_t acc, uint64_t value) { return (acc ^ round64(0, value)) * kP1 + kP4; }

constexpr uint32_t kZstdMagic = 0xFD2FB528;
// Frame header descriptor: 8-byte content size, single segment, checksum on.
constexpr uint8_t kDescriptor = 0xE4;
constexpr size_t kMaxBlock = 128 * 1024;

}  // namespace

uint64_t xxh64(std::span<const uint8_t> bytes, uint64_t seed) {
  const uint8_t* p = bytes.data();
  const uint8_t* end = p + bytes.size();
  uint64_t h;
  if (bytes.size() >= 32) {
    uint64_t v[4] = {seed + kP1 + kP2, seed + kP2, seed, seed - kP1};
    for (; end - p >= 32; p += 32)
      for (int i = 0; i < 4; ++i) v[i] = round64(v[i], loadLe<uint64_t>(p + 8 * i));
    h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    for (uint64_t lane : v) h = merge64(h, lane);
  } else {
    h = seed + kP5;
  }
  h += bytes.size();
  for (; end - p >= 8; p += 8) h = rotl(h ^ round64(0, loadLe<uint64_t>(p)), 27) * kP1 + kP4;
  if (end - p >= 4) {
    h = rotl(h ^ (uint64_t(loadLe<uint32_t>(p)) * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (*p * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

void writeStoredZstdFrame(std::span<const uint8_t> content, std::vector<uint8_t>& out) {
  size_t blocks = content.empty() ? 1 : (content.size() + kMaxBlock - 1) / kMaxBlock;
  out.resize(4 + 1 + 8 + blocks * 3 + content.size() + 4);
  uint8_t* p = out.data();
  storeLe<uint32_t>(p, kZstdMagic);
  p[4] = kDescriptor;
  storeLe<uint64_t>(p + 5, content.size());
  p += 13;
  size_t done = 0;
  for (size_t b = 0; b < blocks; ++b) {
    size_t size = std::min(kMaxBlock, content.size() - done);
    uint32_t header = uint32_t(size << 3) | (b + 1 == blocks ? 1u : 0u);  // raw block type 0
    p[0] = uint8_t(header);
    p[1] = uint8_t(header >> 8);
    p[2] = uint8_t(header >> 16);
    std::copy_n(content.data() + done, size, p + 3);
    p += 3 + size;
    done += size;
  }
  storeLe<uint32_t>(p, uint32_t(xxh64(content)));
}

}  // namespace proctape::format
