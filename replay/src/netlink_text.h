// Names and formatting of rtnetlink values, shared by the text and JSON renderers.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "proctape/replay/output.h"

namespace proctape::replay::detail {

// IFF_* flag names, lowest bit first, as `ip link` spells them (lower case).
struct FlagName {
  uint32_t bit;
  const char* name;
};
std::span<const FlagName> linkFlagNames();

inline constexpr uint32_t kIffUp = 0x1;
inline constexpr uint32_t kIffLoopback = 0x8;
inline constexpr uint32_t kIffRunning = 0x40;
inline constexpr uint32_t kIffPromisc = 0x100;

// IF_OPER_* name ("up", "down", ...), or nullptr for a value it does not know.
const char* operStateName(uint8_t state);
// RT_SCOPE_* name ("global", "site", "link", "host", "nowhere"), or nullptr.
const char* scopeName(uint8_t scope);
// "inet", "inet6", or nullptr.
const char* addressFamilyName(uint8_t family);
// "NEWLINK", "DELLINK", "NEWADDR", "DELADDR", or nullptr.
const char* rtmName(uint16_t type);

// A link-layer address as colon-separated hex bytes ("08:00:27:41:de:23").
void appendMac(Buffer& out, std::span<const uint8_t> bytes);
// An IP address of `family` (AF_INET: 4 bytes, AF_INET6: 16) in its usual
// text form; any other length as colon-separated hex bytes.
void appendIp(Buffer& out, uint8_t family, std::span<const uint8_t> bytes);

}  // namespace proctape::replay::detail
