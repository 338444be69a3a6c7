#include "netlink_text.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace proctape::replay::detail {
namespace {

constexpr std::array<FlagName, 19> kLinkFlags = {{
    {0x1, "up"},          {0x2, "broadcast"},   {0x4, "debug"},     {0x8, "loopback"},   {0x10, "pointopoint"},
    {0x20, "notrailers"}, {0x40, "running"},    {0x80, "noarp"},    {0x100, "promisc"},  {0x200, "allmulti"},
    {0x400, "master"},    {0x800, "slave"},     {0x1000, "multicast"}, {0x2000, "portsel"}, {0x4000, "automedia"},
    {0x8000, "dynamic"},  {0x10000, "lower_up"}, {0x20000, "dormant"}, {0x40000, "echo"},
}};

}  // namespace

std::span<const FlagName> linkFlagNames() { return kLinkFlags; }

const char* operStateName(uint8_t state) {
  static constexpr std::array<const char*, 7> kNames = {"unknown", "notpresent", "down", "lowerlayerdown",
                                                        "testing", "dormant",    "up"};
  return state < kNames.size() ? kNames[state] : nullptr;
}

const char* scopeName(uint8_t scope) {
  switch (scope) {
    case 0: return "global";
    case 200: return "site";
    case 253: return "link";
    case 254: return "host";
    case 255: return "nowhere";
    default: return nullptr;
  }
}

const char* addressFamilyName(uint8_t family) {
  if (family == AF_INET) return "inet";
  if (family == AF_INET6) return "inet6";
  return nullptr;
}

const char* rtmName(uint16_t type) {
  switch (type) {
    case 16: return "NEWLINK";
    case 17: return "DELLINK";
    case 20: return "NEWADDR";
    case 21: return "DELADDR";
    default: return nullptr;
  }
}

void appendMac(Buffer& out, std::span<const uint8_t> bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out.append(':');
    out.appendHexBytes(bytes.subspan(i, 1));
  }
}

void appendIp(Buffer& out, uint8_t family, std::span<const uint8_t> bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  bool v4 = family == AF_INET && bytes.size() == 4;
  bool v6 = family == AF_INET6 && bytes.size() == 16;
  if ((v4 || v6) && ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text)) {
    out.append(std::string_view(text));
    return;
  }
  appendMac(out, bytes);
}

}  // namespace proctape::replay::detail
