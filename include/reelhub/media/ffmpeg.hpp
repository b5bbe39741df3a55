#pragma once
// Owning handles for the libav* objects Reelhub uses (avatars, live ingest, recordings,
// transcoding), so every error path frees what it allocated, plus readable AVERROR text for
// messages and logs.

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
}

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace reelhub::media {

/// "Invalid data found when processing input" for AVERROR_INVALIDDATA, and so on.
inline std::string av_error_string(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(errnum, buf, sizeof buf);
  return buf;
}

struct InputFormatDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
/// From avformat_open_input(). A custom `pb` is not freed here: it belongs to an IOContextPtr,
/// which must therefore be declared before (and so outlive) this handle.
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;

struct OutputFormatDeleter {
  void operator()(AVFormatContext* ctx) const {
    // Close the file libavformat opened for us (avio_open); never a caller's custom AVIOContext.
    if (ctx->pb != nullptr && !(ctx->flags & AVFMT_FLAG_CUSTOM_IO) &&
        (ctx->oformat == nullptr || !(ctx->oformat->flags & AVFMT_NOFILE))) {
      avio_closep(&ctx->pb);
    }
    avformat_free_context(ctx);
  }
};
/// From avformat_alloc_output_context2(). Set AVFMT_FLAG_CUSTOM_IO when `pb` is an IOContextPtr.
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;

struct CodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

struct SwsContextDeleter {
  void operator()(SwsContext* ctx) const { sws_freeContext(ctx); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

struct IOContextDeleter {
  void operator()(AVIOContext* ctx) const {
    // libavformat may have replaced the buffer we allocated, so free the current one.
    av_freep(&ctx->buffer);
    avio_context_free(&ctx);
  }
};
/// A custom AVIOContext (memory, SRT socket, ...) together with its buffer.
using IOContextPtr = std::unique_ptr<AVIOContext, IOContextDeleter>;

struct DictionaryDeleter {
  void operator()(AVDictionary* dict) const { av_dict_free(&dict); }
};
/// Options for libav* calls. Those calls take an AVDictionary** and replace it with the options
/// they did not use: pass a released pointer and reset() the handle with what comes back.
using DictionaryPtr = std::unique_ptr<AVDictionary, DictionaryDeleter>;

struct FilterGraphDeleter {
  void operator()(AVFilterGraph* graph) const { avfilter_graph_free(&graph); }
};
/// Owns the graph and every filter context created in it (buffer sources and sinks included).
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphDeleter>;

struct FilterInOutDeleter {
  void operator()(AVFilterInOut* inout) const { avfilter_inout_free(&inout); }
};
/// The open ends handed to avfilter_graph_parse_ptr(), which consumes what it links.
using FilterInOutPtr = std::unique_ptr<AVFilterInOut, FilterInOutDeleter>;

struct BitstreamFilterDeleter {
  void operator()(AVBSFContext* ctx) const { av_bsf_free(&ctx); }
};
/// From av_bsf_alloc() (aac_adtstoasc for MP4 output of MPEG-TS audio).
using BitstreamFilterPtr = std::unique_ptr<AVBSFContext, BitstreamFilterDeleter>;

inline FramePtr make_frame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

inline PacketPtr make_packet() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

inline CodecContextPtr make_codec_context(const AVCodec* codec) {
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw std::bad_alloc();
  return ctx;
}

using IOReadFn = int (*)(void* opaque, std::uint8_t* buf, int size);
using IOWriteFn = int (*)(void* opaque, std::uint8_t* buf, int size);
using IOSeekFn = std::int64_t (*)(void* opaque, std::int64_t offset, int whence);

/// Allocates a custom AVIOContext with a `buffer_size` buffer; callbacks may be null.
/// `opaque` must outlive the returned context.
inline IOContextPtr make_io_context(std::size_t buffer_size, bool writable, void* opaque, IOReadFn read,
                                    IOWriteFn write, IOSeekFn seek) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_size));
  if (buffer == nullptr) throw std::bad_alloc();
  AVIOContext* ctx =
      avio_alloc_context(buffer, static_cast<int>(buffer_size), writable ? 1 : 0, opaque, read, write, seek);
  if (ctx == nullptr) {
    av_free(buffer);
    throw std::bad_alloc();
  }
  return IOContextPtr(ctx);
}

/// "<what>: <AVERROR text>", for the errors a muxer or filter call returns.
inline std::runtime_error av_failure(const char* what, int err) {
  std::string message = what;
  message += ": ";
  message += av_error_string(err);
  return std::runtime_error(message);
}

/// A muxer of `format` whose output goes to `write(opaque, ...)` (memory) through a custom
/// AVIOContext: the live segmenters. `io` is the muxer's `pb`, which the muxer never frees.
struct MemoryMuxer {
  OutputFormatPtr muxer;
  IOContextPtr io;
};
inline MemoryMuxer make_memory_muxer(const char* format, void* opaque, IOWriteFn write) {
  AVFormatContext* ctx = nullptr;
  if (const int err = avformat_alloc_output_context2(&ctx, nullptr, format, nullptr); err < 0)
    throw av_failure(format, err);
  MemoryMuxer out{OutputFormatPtr(ctx), make_io_context(64 * 1024, true, opaque, nullptr, write, nullptr)};
  out.muxer->pb = out.io.get();
  out.muxer->flags |= AVFMT_FLAG_CUSTOM_IO;
  return out;
}

}  // namespace reelhub::media
