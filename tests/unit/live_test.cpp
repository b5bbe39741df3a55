// Pure parts of live streaming: streamid parsing, the playlist window and its rendering, the
// listener's handshake decisions, segment numbering on disk, and the limits on what one
// publisher may cost (segment and channel bytes, bitrate, channels per server).

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "reelhub/media/bitrate_window.hpp"
#include "reelhub/media/live_channel.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/srt_ingest.hpp"
#include "reelhub/media/stream_id.hpp"
#include "system.hpp"

namespace reelhub::media {
namespace {

using namespace std::chrono_literals;

constexpr const char* kId = "6f1c2a4e-7b1d-4c55-9e0a-2f4b7c8d9e10";

TEST(StreamIdTest, AcceptsPlainIdsAndTheAccessControlPublishForm) {
  struct Case {
    std::string input;
    std::optional<std::string> resource;
    std::optional<StreamIdError> error;
  };
  const std::vector<Case> cases = {
      {kId, kId, std::nullopt},
      {std::string("#!::r=") + kId + ",m=publish", kId, std::nullopt},
      {std::string("#!::m=publish,r=") + kId, kId, std::nullopt},
      {std::string("#!::u=alice,r=") + kId + ",m=publish", kId, std::nullopt},
      {"", std::nullopt, StreamIdError::empty},
      {std::string("#!::r=") + kId, std::nullopt, StreamIdError::not_publish},
      {std::string("#!::r=") + kId + ",m=request", std::nullopt, StreamIdError::not_publish},
      {std::string("#!::r=") + kId + ",m=publish,x=1", std::nullopt, StreamIdError::unsupported_key},
      {"#!::m=publish", std::nullopt, StreamIdError::malformed},
      {"#!::r=,m=publish", std::nullopt, StreamIdError::malformed},
      {"#!::garbage", std::nullopt, StreamIdError::malformed},
      {"a=b", std::nullopt, StreamIdError::malformed},
  };
  for (const Case& c : cases) {
    const ParsedStreamId parsed = parse_stream_id(c.input);
    EXPECT_EQ(parsed.error, c.error) << c.input;
    EXPECT_EQ(parsed.target ? std::optional(parsed.target->resource) : std::nullopt, c.resource) << c.input;
  }
}

LiveSegment segment(std::uint64_t n, double seconds, bool discontinuity = false) {
  return LiveSegment{n, seconds, WallClock::time_point(std::chrono::seconds(1758848400 + 2 * n)), discontinuity,
                     std::make_shared<const std::string>("ts" + std::to_string(n))};
}

TEST(PlaylistTest, RendersTheWindowWithDatesAndDiscontinuities) {
  PlaylistView view;
  view.target_duration = 2;
  view.segments = {segment(10, 2.0), segment(11, 1.96, true)};
  view.discontinuity_sequence = 3;
  EXPECT_EQ(render_playlist(view),
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
            "#EXT-X-PROGRAM-DATE-TIME:2025-09-26T01:00:20.000Z\n#EXTINF:2.000,\nsegment_10.ts\n"
            "#EXT-X-DISCONTINUITY\n"
            "#EXT-X-PROGRAM-DATE-TIME:2025-09-26T01:00:22.000Z\n#EXTINF:1.960,\nsegment_11.ts\n");
  view.ended = true;
  EXPECT_TRUE(render_playlist(view).ends_with("#EXT-X-ENDLIST\n"));
}

TEST(PlaylistTest, WindowSlidesKeepsRecentSegmentsAndCountsDiscontinuitiesLeavingIt) {
  LivePlaylist p(2000ms, 2, 3, 1 << 20, 0);
  EXPECT_FALSE(p.render().has_value()) << "no playlist before the first segment";
  p.append(segment(0, 2));
  p.mark_discontinuity();  // a reconnect: the next segment carries the tag
  p.append(segment(1, 2));
  p.append(segment(2, 2));
  EXPECT_EQ(p.next_sequence(), 3u);
  EXPECT_EQ(p.segments_listed(), 2u);
  auto text = *p.render();
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos);
  p.append(segment(3, 2));  // segment 1 (with the discontinuity) leaves the listed window
  text = *p.render();
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos);
  EXPECT_EQ(*p.segment(1), "ts1") << "kept in memory past the window";
  EXPECT_EQ(p.segment(0), nullptr) << "beyond `keep`: served from disk";
  p.append(segment(4, 4.2));  // a long GOP: the target duration must cover it
  EXPECT_NE(p.render()->find("#EXT-X-TARGETDURATION:5\n"), std::string::npos);
}

/// Counts what ingest reports; the listener's decisions need no publisher.
struct NullObserver : IngestObserver {
  void publisher_connected(const std::string&) override {}
  void publisher_disconnected(const std::string&, const std::string&) override {}
};

TEST(SrtListenerTest, DecidesFromTheChannelTableAlone) {
  testing::TempDir dir("reelhub-live");
  LiveChannels channels;
  NullObserver observer;
  metrics::Registry metrics;
  SrtIngestServer server(channels, observer, metrics, LiveOptions{});
  const std::string created = "11111111-2222-4333-8444-555555555555";
  channels.add_created(created);
  auto channel = std::make_shared<LiveChannel>(kId, "secret-passphrase", dir.path() / kId, LiveOptions{});
  channels.open(channel, 10);

  const auto refusal = [&](const std::string& sid) { return server.decide(sid, "10.0.0.1").refusal; };
  EXPECT_EQ(refusal(kId), std::nullopt);
  EXPECT_EQ(server.decide(std::string("#!::r=") + kId + ",m=publish", "10.0.0.1").channel, channel);
  EXPECT_EQ(refusal(created), Refusal::not_started);
  EXPECT_EQ(refusal("99999999-2222-4333-8444-555555555555"), Refusal::unknown_stream);
  EXPECT_EQ(refusal("../../etc"), Refusal::unknown_stream);
  EXPECT_EQ(refusal(std::string("#!::r=") + kId + ",m=request"), Refusal::not_publish_mode);
  EXPECT_EQ(refusal("#!::nonsense"), Refusal::malformed_stream_id);
  ASSERT_TRUE(channel->claim_publisher());
  EXPECT_EQ(refusal(kId), Refusal::busy);
  EXPECT_FALSE(channel->claim_publisher()) << "one publisher at a time";
  channel->release_publisher();
  EXPECT_EQ(refusal(kId), std::nullopt);

  // Distinct reject codes per reason, all in the application range (>= 1000).
  std::set<int> codes;
  for (Refusal r : {Refusal::malformed_stream_id, Refusal::not_publish_mode, Refusal::unknown_stream,
                    Refusal::not_started, Refusal::busy, Refusal::throttled}) {
    EXPECT_GE(refusal_code(r), 1000);
    codes.insert(refusal_code(r));
  }
  EXPECT_EQ(codes.size(), 6u);

  channels.close(kId);
  EXPECT_TRUE(channel->closed());
  EXPECT_FALSE(channel->claim_publisher()) << "a stopped stream takes no publisher";
  EXPECT_EQ(refusal(kId), Refusal::unknown_stream);
}

TEST(LiveChannelTest, ContinuesNumberingAfterSegmentsOnDiskAndCountsRecentViewers) {
  testing::TempDir dir("reelhub-live");
  const auto stream_dir = dir.path() / kId;
  std::filesystem::create_directories(stream_dir);
  for (const char* name : {"segment_3.ts", "segment_12.ts", "segment_x.ts", "other.txt", "segment_5.tsx"})
    std::ofstream(stream_dir / name) << "x";
  EXPECT_EQ(next_segment_number(stream_dir), 13u);
  EXPECT_EQ(next_segment_number(dir.path() / "missing"), 0u);

  LiveChannel channel(kId, "secret-passphrase", stream_dir, LiveOptions{.target_duration = 10000ms});
  EXPECT_EQ(channel.playlist().next_sequence(), 13u);
  channel.add_segment(CutSegment{2.0, WallClock::now(), "bytes"}, WallClock::now());
  EXPECT_TRUE(std::filesystem::exists(stream_dir / "segment_13.ts"));
  const auto text = *channel.playlist().render();
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos) << "resumed after a restart: " << text;

  channel.saw_viewer("a");
  channel.saw_viewer("b");
  channel.saw_viewer("a");
  EXPECT_EQ(channel.viewer_count(), 2);
}

TEST(LiveChannelTest, ViewerMapIsBounded) {
  testing::TempDir dir("reelhub-live");
  LiveChannel channel(kId, "secret-passphrase", dir.path() / kId, LiveOptions{.target_duration = 60000ms});
  for (std::size_t i = 0; i < LiveChannel::kMaxTrackedViewers + 1000; ++i) channel.saw_viewer(std::to_string(i));
  EXPECT_EQ(channel.viewer_count(), static_cast<int>(LiveChannel::kMaxTrackedViewers)) << "saturates at the cap";
}

TEST(LiveChannelTest, ViewersUnseenForTwoTargetDurationsAreForgotten) {
  testing::TempDir dir("reelhub-live");
  LiveChannel channel(kId, "secret-passphrase", dir.path() / kId, LiveOptions{.target_duration = 20ms});
  channel.saw_viewer("a");
  channel.saw_viewer("b");
  std::this_thread::sleep_for(60ms);  // time itself has to pass: two target durations, and some
  channel.saw_viewer("c");
  EXPECT_EQ(channel.viewer_count(), 1);
}

TEST(PlaylistTest, SegmentBytesInMemoryAreCappedOldestFirstWhileTheyStayListed) {
  LivePlaylist p(2000ms, 3, 5, 250, 0);
  const auto sized = [](std::uint64_t n, std::size_t bytes) {
    LiveSegment s = segment(n, 2);
    s.data = std::make_shared<const std::string>(bytes, 'x');
    return s;
  };
  p.append(sized(0, 100));
  p.append(sized(1, 100));
  EXPECT_EQ(p.bytes_in_memory(), 200u);
  p.append(sized(2, 100));  // 300 > 250: segment 0 gives its bytes up
  EXPECT_EQ(p.bytes_in_memory(), 200u);
  EXPECT_EQ(p.segment(0), nullptr) << "served from its file";
  EXPECT_NE(p.segment(1), nullptr);
  EXPECT_NE(p.render()->find("segment_0.ts"), std::string::npos) << "still listed";
  p.append(sized(3, 600));  // larger than the whole budget: nothing of it stays in memory either
  EXPECT_LE(p.bytes_in_memory(), 250u);
  EXPECT_EQ(p.segment(3), nullptr);
  EXPECT_NE(p.render()->find("segment_3.ts"), std::string::npos);
}

/// An H.264 stream description, as the ingest demuxer would hand the segmenter: no decoder is
/// involved, the segmenter copies packets.
struct FakeInput {
  FakeInput() : context(avformat_alloc_context()) {
    AVStream* video = avformat_new_stream(context.get(), nullptr);
    video->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    video->codecpar->codec_id = AV_CODEC_ID_H264;
    video->codecpar->width = 320;
    video->codecpar->height = 240;
    video->time_base = AVRational{1, 90000};
  }
  /// A frame of `bytes` (an Annex B access unit of filler) at `pts`.
  static PacketPtr frame(std::int64_t pts, bool key, int bytes) {
    PacketPtr p = make_packet();
    if (av_new_packet(p.get(), bytes) < 0) throw std::bad_alloc();
    std::memset(p->data, 0xAA, static_cast<std::size_t>(bytes));
    const std::uint8_t start[] = {0, 0, 0, 1, static_cast<std::uint8_t>(key ? 0x65 : 0x41)};
    std::memcpy(p->data, start, sizeof start);
    p->pts = p->dts = pts;
    p->duration = 1;
    p->flags = key ? AV_PKT_FLAG_KEY : 0;
    return p;
  }
  OutputFormatPtr context;  // freed like an output context: nothing was opened for it
};

constexpr std::size_t kCap = 1 << 20;

// Timestamps that crawl (one 90 kHz tick per frame) never reach a 2 s segment: without a byte
// limit one segment would hold everything the publisher sends.
TEST(LiveSegmenterTest, SlowTimestampsAreCutByBytesAtKeyframes) {
  FakeInput input;
  std::vector<CutSegment> cut;
  LiveSegmenter segmenter(*input.context, 0, -1, 2000ms, kCap, WallClock::now(),
                          [&](CutSegment s) { cut.push_back(std::move(s)); });
  constexpr int kFrameBytes = 20000, kGop = 10;  // 200 kB between keyframes
  for (int i = 0; i < 400; ++i) {  // 8 MB in all, 400 ticks of media time
    PacketPtr p = FakeInput::frame(i, i % kGop == 0, kFrameBytes);
    ASSERT_NO_THROW(segmenter.write(*p, WallClock::now())) << "frame " << i;
  }
  segmenter.finish();
  ASSERT_GE(cut.size(), 8u) << "8 MB in segments of 0.5..1 MiB";
  std::size_t total = 0;
  for (const CutSegment& s : cut) {
    EXPECT_LE(s.data.size(), kCap);
    EXPECT_LT(s.duration_seconds, 0.01) << "far below the 2 s target: bytes cut it";
    total += s.data.size();
  }
  EXPECT_GE(total, 400u * kFrameBytes) << "every frame is in a segment";
}

// One keyframe, then no other: the segment cannot be cut, so the publisher is refused before
// the segment passes the cap, and what it holds is still emitted.
TEST(LiveSegmenterTest, ASegmentWithoutKeyframesIsRefusedAtTheByteCap) {
  FakeInput input;
  std::vector<CutSegment> cut;
  LiveSegmenter segmenter(*input.context, 0, -1, 2000ms, kCap, WallClock::now(),
                          [&](CutSegment s) { cut.push_back(std::move(s)); });
  int written = 0;
  try {
    for (; written < 200; ++written) {  // 4 MB offered
      PacketPtr p = FakeInput::frame(written, written == 0, 20000);
      segmenter.write(*p, WallClock::now());
    }
    FAIL() << "4 MB without a keyframe were accepted into one segment";
  } catch (const SegmentLimitExceeded& e) {
    EXPECT_NE(std::string(e.what()).find("segment limit"), std::string::npos) << e.what();
  }
  EXPECT_LT(written, 60) << "refused at about 1 MiB";
  EXPECT_TRUE(cut.empty());
  segmenter.finish();
  ASSERT_EQ(cut.size(), 1u) << "what was published stays";
  EXPECT_LE(cut[0].data.size(), kCap);
  EXPECT_GT(cut[0].data.size(), kCap * 9 / 10) << "refused near the cap, not before";
}

TEST(BitrateWindowTest, AveragesOverTheWindowAndForgetsWhatLeftIt) {
  const auto t0 = BitrateWindow::Clock::time_point{};
  BitrateWindow w(4000ms, 16, t0);
  double kbps = 0;
  // 1250 bytes every 10 ms = 1000 kbit/s for 8 s.
  for (int ms = 0; ms < 8000; ms += 10) kbps = w.add(1250, t0 + std::chrono::milliseconds(ms));
  EXPECT_NEAR(kbps, 1000, 1000 / 16.0 + 1) << "one bin of the window is partial";
  // A burst at start-up is spread over the whole window.
  BitrateWindow fresh(4000ms, 16, t0);
  EXPECT_NEAR(fresh.add(500'000, t0 + 100ms), 1000, 1) << "500 kB over 4 s";
  // Silence longer than the window forgets everything.
  EXPECT_NEAR(w.add(0, t0 + 20s), 0, 1e-9);
  EXPECT_NEAR(w.add(2000, t0 + 20s + 10ms), 4, 1e-9);
}

TEST(LiveChannelsTest, OpensNoMoreChannelsThanTheCapacity) {
  testing::TempDir dir("reelhub-live");
  LiveChannels channels;
  const auto channel = [&](const std::string& id) {
    return std::make_shared<LiveChannel>(id, "secret-passphrase", dir.path() / id, LiveOptions{});
  };
  const std::string a = "11111111-2222-4333-8444-555555555551", b = "11111111-2222-4333-8444-555555555552";
  EXPECT_TRUE(channels.open(channel(a), 1));
  EXPECT_FALSE(channels.open(channel(b), 1)) << "full";
  EXPECT_EQ(channels.find(b), nullptr);
  EXPECT_TRUE(channels.open(channel(a), 1)) << "the same stream again takes no new place";
  channels.close(a);
  EXPECT_TRUE(channels.open(channel(b), 1));
}

}  // namespace
}  // namespace reelhub::media
