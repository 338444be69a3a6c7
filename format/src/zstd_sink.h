// Compresses a Cap'n Proto message straight into one zstd frame, without
// first copying its segments into a flat buffer.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <kj/io.h>
#include <string>
#include <vector>

namespace proctape::format {

class ZstdContext {
 public:
  ZstdContext() : cctx_(ZSTD_createCCtx()) {}
  ZstdContext(const ZstdContext&) = delete;
  ZstdContext& operator=(const ZstdContext&) = delete;
  ~ZstdContext() { ZSTD_freeCCtx(cctx_); }
  ZSTD_CCtx* get() const { return cctx_; }

 private:
  ZSTD_CCtx* cctx_;
};

// A kj::OutputStream that feeds one zstd frame of exactly `pledgedBytes`
// (checksum on, content size recorded) into `out`.
class ZstdFrameSink final : public kj::OutputStream {
 public:
  ZstdFrameSink(ZSTD_CCtx* cctx, int level, size_t pledgedBytes, std::vector<uint8_t>& out);
  void write(const void* buffer, size_t size) override;
  using kj::OutputStream::write;
  // Ends the frame. Returns the compressed size, or 0 with error() set.
  size_t finish();
  const std::string& error() const { return error_; }

 private:
  bool pump(ZSTD_inBuffer& in, ZSTD_EndDirective mode);

  ZSTD_CCtx* cctx_;
  std::vector<uint8_t>& out_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace proctape::format
