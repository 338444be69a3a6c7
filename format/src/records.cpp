#include "proctape/format/records.h"

#include <algorithm>

namespace proctape::format {

bool ProcessInfo::has(InfoField field) const {
  return std::none_of(misses.begin(), misses.end(), [field](const Miss& miss) {
    return miss.field == field || miss.field == InfoField::all;
  });
}

const char* toString(RecordKind kind) {
  switch (kind) {
    case RecordKind::meta: return "meta";
    case RecordKind::frame: return "frame";
    case RecordKind::processInfo: return "process_info";
    case RecordKind::snapshot: return "snapshot";
    case RecordKind::gap: return "gap";
    case RecordKind::clocks: return "clocks";
  }
  return "?";
}

const char* toString(GapReason reason) {
  switch (reason) {
    case GapReason::kernelOverrun: return "kernel_overrun";
    case GapReason::queueOverflow: return "queue_overflow";
    case GapReason::truncatedDatagram: return "truncated_datagram";
    case GapReason::other: return "other";
  }
  return "?";
}

const char* toString(InfoField field) {
  switch (field) {
    case InfoField::argv: return "argv";
    case InfoField::exe: return "exe";
    case InfoField::cwd: return "cwd";
    case InfoField::comm: return "comm";
    case InfoField::ids: return "ids";
    case InfoField::cgroup: return "cgroup";
    case InfoField::startTime: return "start_time";
    case InfoField::all: return "all";
  }
  return "?";
}

const char* toString(MissReason reason) {
  switch (reason) {
    case MissReason::gone: return "gone";
    case MissReason::zombie: return "zombie";
    case MissReason::permission: return "permission";
    case MissReason::reused: return "reused";
    case MissReason::other: return "other";
    case MissReason::replaced: return "replaced";
  }
  return "?";
}

const char* toString(InfoReason reason) {
  switch (reason) {
    case InfoReason::exec: return "exec";
    case InfoReason::snapshot: return "snapshot";
    case InfoReason::other: return "other";
  }
  return "?";
}

}  // namespace proctape::format
