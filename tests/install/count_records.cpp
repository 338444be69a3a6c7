// Reads a trace through the installed library and prints its record count.
#include <cstdio>

#include "proctape/format/reader.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto reader = proctape::format::TraceReader::open(argv[1]);
  if (!reader) {
    std::fprintf(stderr, "%s\n", reader.error().message.c_str());
    return 1;
  }
  size_t records = 0;
  proctape::format::Record record;
  while (reader->next(record)) ++records;
  std::printf("install: read %zu records from %s, %zu damage entries\n", records, argv[1], reader->damage().size());
  return records > 0 && reader->damage().empty() ? 0 : 1;
}
