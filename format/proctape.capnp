# proctape trace schema.
#
# A trace file is a sequence of zstd frames. Skippable frames carry the file
# header, one small header per chunk, and the index; every regular zstd frame
# is one chunk: a single unpacked Cap'n Proto message whose root is `Chunk`.
# So `zstd -dc trace.pt | capnp decode proctape.capnp Chunk` prints a whole
# trace with stock tools.
#
# Rules: fields are only ever added, never renumbered, renamed in meaning or
# removed. A change that old readers cannot ignore bumps the major version in
# the file header instead.

@0xbd7e711bb02fb4aa;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("proctape::schema");

struct Chunk {
  seq @0 :UInt64;               # 0-based position of this chunk in its file
  records @1 :List(Record);     # in the order the recorder produced them
}

struct Record {
  timeNs @0 :Int64;             # capture time, CLOCK_MONOTONIC nanoseconds
  union {
    meta @1 :Meta;
    frames @2 :FrameBatch;      # timeNs is the time of the batch's first frame
    processInfo @3 :ProcessInfo;
    snapshot @4 :Snapshot;
    gap @5 :Gap;
    clocks @6 :ClockAnchor;
  }
}

struct Meta {
  formatMajor @0 :UInt16;
  formatMinor @1 :UInt16;
  traceUuid @2 :Data;           # 16 bytes, shared by every segment of a recording
  hostname @3 :Text;
  kernelRelease @4 :Text;       # uname -r
  kernelVersion @5 :Text;       # uname -v
  machine @6 :Text;             # uname -m
  bootId @7 :Text;              # /proc/sys/kernel/random/boot_id
  byteOrder @8 :ByteOrder;      # of the recording machine: frames are in it
  recorder @9 :Recorder;
  sources @10 :List(Source);
  clocks @11 :ClockAnchor;
  segmentIndex @12 :UInt32;     # 0 for a single file, else position in the rotation
  commandPid @13 :Int32;        # pid of the command the recorder ran (command mode), 0 if none:
                                # analyses scope to its subtree by default
}

enum ByteOrder {
  little @0;
  big @1;
}

struct Recorder {
  name @0 :Text;
  version @1 :Text;
  commandLine @2 :List(Text);
}

struct Source {
  id @0 :UInt16;                # what FrameBatch.sourceId and Gap.sourceId refer to
  netlinkFamily @1 :UInt32;     # NETLINK_ROUTE = 0, NETLINK_CONNECTOR = 11, ...
  groups @2 :List(UInt32);      # multicast groups joined (numbers, not bit masks)
  description @3 :Text;
}

# Three clocks read back to back, so CLOCK_MONOTONIC capture times can be
# mapped to wall-clock time even when the realtime clock is stepped mid-trace.
struct ClockAnchor {
  monotonicNs @0 :Int64;
  realtimeNs @1 :Int64;
  boottimeNs @2 :Int64;
}

# A run of raw netlink datagrams from one source, stored column-wise.
#
# Frame i's capture time is Record.timeNs + timeDeltasNs[0] + ... + timeDeltasNs[i]
# (timeDeltasNs[0] is always 0).
#
# layout = concatenated: data holds the frames back to back; frame i is
#   data[ends[i-1] .. ends[i]) with ends[-1] = 0.
# layout = shuffled: every frame is frameSize bytes and ends is empty. data is
#   the byte-transposed matrix (as in Blosc's shuffle): byte j of frame i is at
#   data[j * count + i]. To undo it, read column j as count bytes and
#   interleave. It stores the same bytes, only reordered, so that the fields
#   that barely change between frames sit next to each other and compress well.
struct FrameBatch {
  sourceId @0 :UInt16;
  count @1 :UInt32;
  layout @2 :FrameLayout;
  frameSize @3 :UInt32;
  data @4 :Data;
  ends @5 :List(UInt32);
  timeDeltasNs @6 :List(Int32);
}

enum FrameLayout {
  concatenated @0;
  shuffled @1;
}

# What /proc said about one process at one moment (Record.timeNs).
struct ProcessInfo {
  pid @0 :Int32;                # the task the read was about
  tgid @1 :Int32;
  ppid @2 :Int32;
  argv @3 :List(Text);          # meaningful only if `argv` is not in misses
  exe @4 :Text;
  cwd @5 :Text;
  comm @6 :Text;
  ruid @7 :UInt32;
  euid @8 :UInt32;
  rgid @9 :UInt32;
  egid @10 :UInt32;
  cgroup @11 :Text;
  startTimeTicks @12 :UInt64;   # /proc/PID/stat field 22: clock ticks after boot
  reason @13 :InfoReason;
  misses @14 :List(Miss);       # fields that could not be read, and why
}

enum InfoReason {
  exec @0;                      # read right after an exec event
  snapshot @1;                  # part of the process table at start
  other @2;
}

struct Miss {
  field @0 :InfoField;
  reason @1 :MissReason;
  errno @2 :Int32;              # the errno seen, 0 if none applied
}

enum InfoField {
  argv @0;
  exe @1;
  cwd @2;
  comm @3;
  ids @4;                       # ruid/euid/rgid/egid and ppid (from status)
  cgroup @5;
  startTime @6;
  all @7;                       # nothing could be read at all
}

enum MissReason {
  gone @0;                      # the process exited before it was read
  zombie @1;                    # it was a zombie: cmdline empty, exe/cwd gone
  permission @2;
  reused @3;                    # the pid belonged to another process by then
  other @4;
  replaced @5;                  # the process exec'd again (or a new one took its pid and exec'd) before
                                # /proc was read: what it showed was a later image's (format 1.1)
}

struct Snapshot {
  processes @0 :List(ProcessInfo);
}

struct Gap {
  sourceId @0 :UInt16;
  lostCount @1 :UInt64;         # meaningful only when countKnown
  countKnown @2 :Bool;
  reason @3 :GapReason;
  detail @4 :Text;
}

enum GapReason {
  kernelOverrun @0;             # recv failed with ENOBUFS
  queueOverflow @1;             # the recorder's own hand-off queue was full
  truncatedDatagram @2;         # a datagram larger than the receive buffer
  other @3;
}

# The index, written once at a clean close inside a skippable frame (so
# `zstd -dc` never shows it). Readers use it to seek; they never need it.
struct Index {
  chunks @0 :List(IndexEntry);
}

struct IndexEntry {
  offset @0 :UInt64;            # file offset of the chunk's header frame
  seq @1 :UInt64;
  firstTimeNs @2 :Int64;
  lastTimeNs @3 :Int64;
  recordCount @4 :UInt32;       # records, counting each frame of a batch
  compressedSize @5 :UInt32;    # bytes of the chunk's zstd frame
}
