#include "proctape/analyze/model.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <ostream>

namespace proctape::analyze {

const char* toString(ProcessFlag flag) {
  static constexpr std::array<const char*, kProcessFlagCount> kNames = {
      "start_before_trace", "start_unknown", "open",       "end_unknown",         "possibly_incomplete",
      "session_leader",     "traced",        "credentials_changed", "coredump", "threads_outlived_leader",
      "duplicate_exit",
  };
  for (int i = 0; i < kProcessFlagCount; ++i)
    if (uint32_t(flag) == (1u << i)) return kNames[size_t(i)];
  return "?";
}

std::optional<int64_t> Process::durationNs() const {
  if (!startNs || !endNs || *endNs < *startNs) return std::nullopt;
  return *endNs - *startNs;
}

const Image* Process::lastImage() const {
  if (!execs.empty()) return execs.back().image;
  return inherited;
}

void ExecList::push_back(const Exec& exec) {
  if (size_ == 0)
    first_ = exec;
  else
    more_.push_back(exec);
  ++size_;
}

void ExecList::popFront() {
  if (size_ == 0) return;
  if (!more_.empty()) {
    first_ = more_.front();
    more_.erase(more_.begin());
  } else {
    first_ = Exec{};
  }
  --size_;
}

Process& ProcessList::emplace_back() {
  if (size_ % kBlock == 0) blocks_.emplace_back().reserve(kBlock);
  ++size_;
  return blocks_.back().emplace_back();
}

std::ostream& operator<<(std::ostream& out, const Text& text) {
  return text ? out << '"' << *text << '"' : out << "(none)";
}

// --- Argv: each argument as its length (LEB128: 7 bits a byte, low first), then its bytes.

namespace {

size_t lengthBytes(size_t n) {
  size_t bytes = 1;
  for (; n >= 0x80; n >>= 7) ++bytes;
  return bytes;
}

}  // namespace

Argv::Argv(const std::vector<std::string>& args) : count_(uint32_t(args.size())) {
  size_t total = 0;
  for (const auto& arg : args) total += lengthBytes(arg.size()) + arg.size();
  if (args.empty()) return;
  data_ = std::make_unique_for_overwrite<uint8_t[]>(total);
  bytes_ = uint32_t(total);
  uint8_t* at = data_.get();
  for (const auto& arg : args) {
    size_t n = arg.size();
    for (; n >= 0x80; n >>= 7) *at++ = uint8_t(n | 0x80);
    *at++ = uint8_t(n);
    std::memcpy(at, arg.data(), arg.size());
    at += arg.size();
  }
}

Argv::Argv(const Argv& other) : bytes_(other.bytes_), count_(other.count_) {
  if (!other.data_) return;
  data_ = std::make_unique_for_overwrite<uint8_t[]>(bytes_);
  std::memcpy(data_.get(), other.data_.get(), bytes_);
}

Argv& Argv::operator=(const Argv& other) {
  if (this != &other) *this = Argv(other);
  return *this;
}

std::string_view Argv::Iterator::operator*() const {
  size_t n = 0;
  const uint8_t* at = at_;
  for (unsigned shift = 0;; shift += 7) {
    n |= size_t(*at & 0x7f) << shift;
    if (!(*at++ & 0x80)) break;
  }
  return {reinterpret_cast<const char*>(at), n};
}

Argv::Iterator& Argv::Iterator::operator++() {
  std::string_view arg = **this;
  at_ = reinterpret_cast<const uint8_t*>(arg.data() + arg.size());
  if (--left_ == 0) at_ = nullptr;
  return *this;
}

std::vector<std::string> Argv::strings() const {
  std::vector<std::string> out;
  out.reserve(count_);
  for (std::string_view arg : *this) out.emplace_back(arg);
  return out;
}

bool operator==(const Argv& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (std::string_view arg : a)
    if (arg != b[i++]) return false;
  return true;
}

std::ostream& operator<<(std::ostream& out, const Argv& argv) {
  out << '{';
  bool first = true;
  for (std::string_view arg : argv) {
    out << (first ? "\"" : ", \"") << arg << '"';
    first = false;
  }
  return out << '}';
}

std::optional<int64_t> Model::wallNs(int64_t monotonicNs) const {
  if (anchors.empty()) return std::nullopt;
  auto after = std::upper_bound(anchors.begin(), anchors.end(), monotonicNs,
                                [](int64_t t, const format::ClockAnchor& a) { return t < a.monotonicNs; });
  const format::ClockAnchor& anchor = after == anchors.begin() ? anchors.front() : *(after - 1);
  if (anchor.realtimeNs == 0) return std::nullopt;
  return anchor.realtimeNs + (monotonicNs - anchor.monotonicNs);
}

}  // namespace proctape::analyze
