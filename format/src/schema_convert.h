// Copies between the C++ record values and their Cap'n Proto form.
//
// Readers come from untrusted files: enum values are clamped to known ones,
// and capnp's own checks (bounds, NUL-terminated text) throw kj::Exception,
// which the chunk decoder turns into a damage report.
#pragma once

#include "proctape.capnp.h"
#include "proctape/format/records.h"

namespace proctape::format {

void fillMeta(schema::Meta::Builder out, const Meta& meta);
void fillClockAnchor(schema::ClockAnchor::Builder out, const ClockAnchor& anchor);
void fillProcessInfo(schema::ProcessInfo::Builder out, const ProcessInfo& info);
void fillSnapshot(schema::Snapshot::Builder out, const Snapshot& snapshot);
void fillGap(schema::Gap::Builder out, const Gap& gap);

Meta readMeta(schema::Meta::Reader in);
ClockAnchor readClockAnchor(schema::ClockAnchor::Reader in);
ProcessInfo readProcessInfo(schema::ProcessInfo::Reader in);
// The same into an existing record, reusing the capacity of its strings and
// lists: the chunk decoder refills recycled records without allocating.
void readProcessInfoInto(schema::ProcessInfo::Reader in, ProcessInfo& info);
Snapshot readSnapshot(schema::Snapshot::Reader in);
Gap readGap(schema::Gap::Reader in);

}  // namespace proctape::format
