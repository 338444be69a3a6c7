#include "zstd_sink.h"

namespace proctape::format {

ZstdFrameSink::ZstdFrameSink(ZSTD_CCtx* cctx, int level, size_t pledgedBytes, std::vector<uint8_t>& out)
    : cctx_(cctx), out_(out) {
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setPledgedSrcSize(cctx_, pledgedBytes);
  out_.resize(ZSTD_compressBound(pledgedBytes));
}

bool ZstdFrameSink::pump(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
  for (;;) {
    if (pos_ == out_.size()) out_.resize(out_.size() * 2 + 4096);
    ZSTD_outBuffer ob{out_.data(), out_.size(), pos_};
    size_t left = ZSTD_compressStream2(cctx_, &ob, &in, mode);
    pos_ = ob.pos;
    if (ZSTD_isError(left)) {
      error_ = ZSTD_getErrorName(left);
      return false;
    }
    bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
    if (done) return true;
  }
}

void ZstdFrameSink::write(const void* buffer, size_t size) {
  if (!error_.empty()) return;
  ZSTD_inBuffer in{buffer, size, 0};
  pump(in, ZSTD_e_continue);
}

size_t ZstdFrameSink::finish() {
  if (!error_.empty()) return 0;
  ZSTD_inBuffer in{nullptr, 0, 0};
  if (!pump(in, ZSTD_e_end)) return 0;
  return pos_;
}

}  // namespace proctape::format
