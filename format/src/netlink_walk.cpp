// The netlink message walk: one datagram into its messages, libmnl-style
// (an ok test before each message, a next step after it), with every length
// checked before the bytes it covers are read.
#include <optional>
#include <string>

#include "netlink_decoders.h"
#include "netlink_window.h"
#include "proctape/format/netlink.h"

namespace proctape::netlink {
namespace {

using detail::Window;

constexpr size_t kHeaderSize = 16;     // struct nlmsghdr
constexpr size_t kErrorCodeSize = 4;   // the int that opens an NLMSG_ERROR payload

// struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32. The caller
// has checked that the window holds 16 bytes.
MessageHeader readHeader(const Window& at) {
  MessageHeader header;
  header.length = at.get<uint32_t>(0);
  header.type = at.get<uint16_t>(4);
  header.flags = at.get<uint16_t>(6);
  header.seq = at.get<uint32_t>(8);
  header.portId = at.get<uint32_t>(12);
  return header;
}

// mnl_nlmsg_ok: a whole header, and a length that covers it and fits what is
// left. Returns the reason when not.
std::optional<std::string> checkMessage(const Window& rest) {
  if (!rest.holds(0, kHeaderSize))
    return std::to_string(rest.size()) + " bytes left, too few for a netlink message header (16)";
  uint32_t length = rest.get<uint32_t>(0);
  if (length < kHeaderSize) return "nlmsg_len " + std::to_string(length) + " is shorter than its own header (16)";
  if (length > rest.size())
    return "nlmsg_len " + std::to_string(length) + " exceeds the " + std::to_string(rest.size()) +
           " bytes left in the datagram";
  return std::nullopt;
}

// NLMSG_ERROR: an int (0 for an ack, else -errno), then the request's header.
// The header is there on every kernel, but a short one is not our fault to
// invent, so it stays absent when the payload does not hold it.
MessageBody decodeErrorMessage(const Window& payload) {
  if (!payload.holds(0, kErrorCodeSize))
    return payload.error(0, "NLMSG_ERROR payload is " + std::to_string(payload.size()) +
                                " bytes, too short for its error code (4)");
  NetlinkError error;
  error.error = payload.getS32(0);
  if (payload.holds(kErrorCodeSize, kHeaderSize)) error.original = readHeader(payload.sub(kErrorCodeSize));
  return error;
}

std::optional<Control> controlOf(uint16_t type) {
  switch (type) {
    case kNlmsgNoop: return Control{ControlType::noop};
    case kNlmsgDone: return Control{ControlType::done};
    case kNlmsgOverrun: return Control{ControlType::overrun};
    default: return std::nullopt;
  }
}

// The connector sends every message, cn_proc events included, with type
// NLMSG_DONE: there it means "one self-contained message", not end of dump.
// Only an empty DONE is the control message; any payload must be a cn_msg.
bool isConnectorMessage(uint32_t family, const MessageHeader& header, const Window& payload) {
  return family == kFamilyConnector && header.type == kNlmsgDone && !payload.empty();
}

MessageBody decodeBody(uint32_t family, const MessageHeader& header, const Window& payload) {
  if (isConnectorMessage(family, header, payload)) return detail::decodeConnectorMessage(payload);
  if (header.type == kNlmsgError) return decodeErrorMessage(payload);
  if (auto control = controlOf(header.type)) return *control;
  if (family == kFamilyRoute) return detail::decodeRouteMessage(header.type, payload);
  return OtherMessage{payload.copy()};
}

// mnl_nlmsg_next: the next message starts at the aligned end of this one. The
// last message's padding may be missing from the datagram, so clamp.
Window nextMessage(const Window& rest, uint32_t length) { return rest.sub(detail::align4(length)); }

}  // namespace

std::vector<Message> decodeDatagram(uint32_t family, format::ByteOrder order, std::span<const uint8_t> bytes) {
  std::vector<Message> messages;
  for (Window rest(bytes, order); !rest.empty();) {
    Message message;
    // A header that could be read is kept even when its length is a lie, so
    // the error can be reported against it.
    if (rest.holds(0, kHeaderSize)) message.header = readHeader(rest);
    if (auto problem = checkMessage(rest)) {
      message.body = rest.error(0, std::move(*problem));
      messages.push_back(std::move(message));
      break;
    }
    message.body = decodeBody(family, message.header, rest.sub(kHeaderSize, message.header.length - kHeaderSize));
    bool failed = std::holds_alternative<DecodeError>(message.body);
    messages.push_back(std::move(message));
    if (failed) break;  // lengths after a bad part cannot be trusted
    rest = nextMessage(rest, messages.back().header.length);
  }
  return messages;
}

bool decodeSingleProcEvent(format::ByteOrder order, std::span<const uint8_t> bytes, MessageHeader& header,
                           ProcEvent& event) {
  Window datagram(bytes, order);
  // checkMessage's test, without building its reason: this runs per frame.
  if (!datagram.holds(0, kHeaderSize)) return false;
  MessageHeader read = readHeader(datagram);
  if (read.length < kHeaderSize || read.length > bytes.size()) return false;
  // One message: the next one would start at or past the end.
  if (detail::align4(read.length) < bytes.size()) return false;
  Window payload = datagram.sub(kHeaderSize, read.length - kHeaderSize);
  if (!isConnectorMessage(kFamilyConnector, read, payload) || !detail::decodeKnownProcEvent(payload, event)) return false;
  header = read;
  return true;
}

}  // namespace proctape::netlink
