#pragma once
// Copies a publisher's packets (H.264/HEVC + AAC, as demuxed from MPEG-TS) into fragmented MP4
// (CMAF) with libavformat's mp4 muxer in frag_custom mode: the caller decides where a fragment
// ends, and each flush returns that fragment's bytes (moof + mdat). LL-HLS parts are made of
// these fragments. No re-encoding; ADTS audio goes through aac_adtstoasc as MP4 requires.

#include <string>
#include <vector>

#include "reelhub/media/ffmpeg.hpp"

namespace reelhub::media {

class Fmp4Fragmenter {
 public:
  /// `input`: the demuxer whose streams `video_index` (or -1) and `audio_index` (or -1) are copied.
  Fmp4Fragmenter(const AVFormatContext& input, int video_index, int audio_index);
  ~Fmp4Fragmenter();
  Fmp4Fragmenter(const Fmp4Fragmenter&) = delete;
  Fmp4Fragmenter& operator=(const Fmp4Fragmenter&) = delete;

  /// Adds a packet of one of the copied input streams (input time base) to the open fragment;
  /// `packet` is left as it was. Throws std::runtime_error on a muxer error.
  void write(const AVPacket& packet);

  struct Flushed {
    std::string init;      // ftyp + moov, on the first flush only (empty afterwards)
    std::string fragment;  // moof + mdat of what was written since the last flush
  };
  /// Ends the open fragment. The init segment comes with the first flush that has a packet of
  /// every track (or after kMaxHeldFlushes without one): the moov is written then (delay_moov),
  /// because the AAC configuration MP4 needs comes with the first audio packet, and the tracks'
  /// start times are aligned only while the moov is unwritten. Until then flush() returns
  /// nothing and the fragment grows.
  Flushed flush();
  static constexpr int kMaxHeldFlushes = 50;

 private:
  static int on_write(void* opaque, std::uint8_t* buf, int size);
  void mux(AVPacket& packet, int input_index);

  OutputFormatPtr muxer_;
  IOContextPtr io_;
  BitstreamFilterPtr adts_to_asc_;  // null without audio
  int audio_input_ = -1;
  std::vector<int> output_index_;  // input index -> output index, -1 when not copied
  std::vector<AVRational> input_time_base_;
  std::vector<std::int64_t> default_duration_;  // per input stream, in its time base; 0 unknown
  PacketPtr scratch_;
  std::string out_;  // bytes the muxer wrote since the last flush
  bool init_taken_ = false;
  std::vector<bool> seen_;  // per output stream: a packet of it was written
  int held_flushes_ = 0;
};

}  // namespace reelhub::media
