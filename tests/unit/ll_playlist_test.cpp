// The LL-HLS playlist writer and window (media/ll_playlist): rendering of parts, preload hint,
// server control and delta updates; the `_HLS_*` query rules; blocking-reload readiness; parts
// read while written; and the notifier blocked requests wait on.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>
#include <thread>

#include "reelhub/core/change_notifier.hpp"
#include "reelhub/media/ll_playlist.hpp"

namespace reelhub::media {
namespace {

using namespace std::chrono_literals;

WallClock::time_point date(int second) { return WallClock::time_point(std::chrono::seconds(1758848400 + second)); }

LowLatencyPart part(double seconds, bool independent, std::string bytes = "p") {
  return {seconds, independent, std::make_shared<const std::string>(std::move(bytes))};
}

/// A finished 1 s segment of five 0.2 s parts, the first starting with a keyframe.
LowLatencySegment segment(std::uint64_t n, std::uint32_t init = 1, bool discontinuity = false) {
  LowLatencySegment s;
  s.sequence = n;
  s.duration_seconds = 1.0;
  s.program_date_time = date(static_cast<int>(n));
  s.discontinuity = discontinuity;
  s.init = init;
  for (int i = 0; i < 5; ++i) s.parts.push_back(part(0.2, i == 0));
  s.data = std::make_shared<const std::string>("ppppp");
  return s;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

LowLatencyView view_of(std::uint64_t first, std::uint64_t segments, std::size_t open_parts) {
  LowLatencyView view;
  for (std::uint64_t n = first; n < first + segments; ++n) view.segments.push_back(segment(n));
  for (std::size_t i = 0; i < open_parts; ++i) view.open_parts.push_back(part(0.2, i == 0));
  view.next_sequence = first + segments;
  view.open_init = 1;
  view.target_duration = 1;
  view.part_target_seconds = 0.2;
  return view;
}

TEST(LowLatencyPlaylistTest, RendersPartsPreloadHintServerControlAndTheInitSegment) {
  const std::string text = render_low_latency_playlist(view_of(40, 4, 2));
  EXPECT_EQ(text.rfind("#EXTM3U\n#EXT-X-VERSION:9\n", 0), 0u) << text;
  EXPECT_NE(text.find("#EXT-X-TARGETDURATION:1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.0,PART-HOLD-BACK=0.600\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#EXT-X-PART-INF:PART-TARGET=0.200\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:40\n"), std::string::npos) << text;
  EXPECT_EQ(count(text, "#EXT-X-MAP:URI=\"init_1.mp4\""), 1u) << text;
  EXPECT_LT(text.find("#EXT-X-MAP"), text.find("#EXTINF")) << "the init comes before the first segment";
  EXPECT_EQ(count(text, "#EXTINF:1.000,\nsegment_"), 4u) << text;
  EXPECT_NE(text.find("segment_43.m4s\n"), std::string::npos) << text;
  // Parts: the open segment's two, and those of the finished segments that start within 3 target
  // durations of the end (43 at 1.4 s, 42 at 2.4 s; 41 at 3.4 s is out).
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=0.200,URI=\"part_44_0.m4s\",INDEPENDENT=YES\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=0.200,URI=\"part_44_1.m4s\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("part_41_"), std::string::npos) << "more than 3 target durations from the end: " << text;
  EXPECT_NE(text.find("part_42_0.m4s"), std::string::npos) << text;
  EXPECT_EQ(count(text, "#EXT-X-PART:"), 2u * 5u + 2u) << text;
  EXPECT_TRUE(text.ends_with("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part_44_2.m4s\"\n")) << text;
  EXPECT_NE(text.find("#EXT-X-PROGRAM-DATE-TIME:"), std::string::npos) << text;
}

TEST(LowLatencyPlaylistTest, AFullOpenSegmentHintsTheNextSegmentsFirstPart) {
  LowLatencyView view = view_of(40, 2, 5);  // five 0.2 s parts: the next keyframe cuts it
  view.hint_next_segment = true;
  EXPECT_TRUE(render_low_latency_playlist(view).ends_with("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part_43_0.m4s\"\n"));
}

TEST(LowLatencyPlaylistTest, AnEndedStreamHasEndlistAndNoHint) {
  LowLatencyView view = view_of(0, 2, 0);
  view.ended = true;
  const std::string text = render_low_latency_playlist(view);
  EXPECT_TRUE(text.ends_with("#EXT-X-ENDLIST\n")) << text;
  EXPECT_EQ(text.find("PRELOAD-HINT"), std::string::npos) << text;
}

TEST(LowLatencyPlaylistTest, ANewInitAfterAReconnectIsMappedAfterTheDiscontinuity) {
  LowLatencyView view = view_of(0, 2, 0);
  view.segments.push_back(segment(2, 2, true));
  view.next_sequence = 3;
  view.open_init = 2;
  view.open_parts.push_back(part(0.2, true));
  const std::string text = render_low_latency_playlist(view);
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init_2.mp4\"\n"), std::string::npos) << text;
  EXPECT_EQ(count(text, "#EXT-X-MAP"), 2u) << "the open segment shares init 2: " << text;
}

TEST(LowLatencyPlaylistTest, DeltaUpdateSkipsOnlyWhatLiesBeyondTheSkipBoundary) {
  LowLatencyView view = view_of(100, 12, 1);  // 12 s listed + 0.2 s open
  view.discontinuity_sequence = 3;
  EXPECT_EQ(skippable_segments(view), 6u) << "segments ending at least 6 s before the end";
  view.skipped = skippable_segments(view);
  const std::string text = render_low_latency_playlist(view);
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:100\n"), std::string::npos) << "still the first segment's number";
  EXPECT_NE(text.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=6\n"), std::string::npos) << text;
  EXPECT_LT(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:3"), text.find("#EXT-X-SKIP")) << text;
  EXPECT_EQ(text.find("segment_105.m4s"), std::string::npos) << text;
  EXPECT_NE(text.find("segment_106.m4s"), std::string::npos) << text;
  EXPECT_LT(text.find("#EXT-X-MAP"), text.find("segment_106.m4s")) << "the first listed segment has its map";
  EXPECT_EQ(count(text, "#EXTINF"), 6u) << text;

  const LowLatencyView short_window = view_of(0, 5, 0);
  EXPECT_EQ(skippable_segments(short_window), 0u) << "5 s listed: nothing lies beyond 6 s";
}

TEST(LowLatencyPlaylistTest, ReloadQueryFollowsTheSpec) {
  const auto ok = [](std::optional<std::string> msn, std::optional<std::string> part, std::optional<std::string> skip) {
    return std::holds_alternative<ReloadRequest>(parse_reload_request(msn, part, skip));
  };
  EXPECT_TRUE(ok(std::nullopt, std::nullopt, std::nullopt));
  EXPECT_TRUE(ok("12", std::nullopt, std::nullopt));
  EXPECT_TRUE(ok("12", "0", "YES"));
  EXPECT_TRUE(ok(std::nullopt, std::nullopt, "v2"));
  for (const char* bad : {"", "-1", "1.5", "abc", "+3", "99999999999999999999999"}) {
    EXPECT_FALSE(ok(bad, std::nullopt, std::nullopt)) << bad;
    EXPECT_FALSE(ok("1", bad, std::nullopt)) << bad;
  }
  EXPECT_FALSE(ok(std::nullopt, "1", std::nullopt)) << "_HLS_part needs _HLS_msn";
  EXPECT_FALSE(ok(std::nullopt, std::nullopt, "NO"));
  EXPECT_FALSE(ok(std::nullopt, std::nullopt, "yes"));
  const auto parsed = std::get<ReloadRequest>(parse_reload_request("7", "3", "v2"));
  EXPECT_EQ(parsed.msn, 7u);
  EXPECT_EQ(parsed.part, 3u);
  EXPECT_TRUE(parsed.skip);
}

TEST(LowLatencyPlaylistTest, NamesRoundTripAndNothingElseParses) {
  EXPECT_EQ(part_file_name(41, 3), "part_41_3.m4s");
  EXPECT_EQ(fmp4_segment_file_name(41), "segment_41.m4s");
  EXPECT_EQ(init_file_name(2), "init_2.mp4");
  const auto p = parse_low_latency_name("part_41_3.m4s");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, LowLatencyName::Kind::part);
  EXPECT_EQ(p->sequence, 41u);
  EXPECT_EQ(p->part, 3u);
  EXPECT_EQ(parse_low_latency_name("segment_41.m4s")->kind, LowLatencyName::Kind::segment);
  EXPECT_EQ(parse_low_latency_name("init_2.mp4")->kind, LowLatencyName::Kind::init);
  for (const char* bad : {"part_41.m4s", "part__3.m4s", "part_1_x.m4s", "segment_41.ts", "init_.mp4", "../init_1.mp4",
                          "segment_-1.m4s", "part_1_2_3.m4s", "stream.m3u8"})
    EXPECT_FALSE(parse_low_latency_name(bad)) << bad;
}

/// A window fed as the ingest session feeds it: init, chunks, parts, segments.
struct FedWindow {
  LowLatencyPlaylist window{1000ms, 200ms, 4, 1 << 20, 10};
  void feed_part(bool key, const std::string& bytes = "chunk") {
    window.append_chunk(bytes, key);
    window.end_part(0.2);
  }
  void feed_segment(std::uint64_t n) {
    for (int i = 0; i < 5; ++i) feed_part(i == 0);
    window.end_segment(n, 1.0, date(static_cast<int>(n)));
  }
};

TEST(LowLatencyWindowTest, BlockingReloadIsReadyExactlyWhenThePartIsListed) {
  FedWindow fed;
  fed.window.set_init("init");
  const ReloadRequest next{10, 0, false};
  EXPECT_EQ(fed.window.reload_state(next), ReloadState::wait) << "nothing yet";
  EXPECT_EQ(fed.window.reload_state({10, std::nullopt, false}), ReloadState::wait);
  fed.window.append_chunk("half", true);
  EXPECT_EQ(fed.window.reload_state(next), ReloadState::wait) << "being written is not listed";
  fed.window.end_part(0.2);
  EXPECT_EQ(fed.window.reload_state(next), ReloadState::ready);
  EXPECT_EQ(fed.window.reload_state({10, 1, false}), ReloadState::wait);
  EXPECT_EQ(fed.window.reload_state({10, 3, false}), ReloadState::wait);
  EXPECT_EQ(fed.window.reload_state({10, 4, false}), ReloadState::too_far) << "past the Advance Part Limit";
  EXPECT_EQ(fed.window.reload_state({11, 0, false}), ReloadState::wait);
  EXPECT_EQ(fed.window.reload_state({11, 3, false}), ReloadState::too_far);
  EXPECT_EQ(fed.window.reload_state({12, std::nullopt, false}), ReloadState::too_far) << "last + 2";
  for (int i = 1; i < 5; ++i) fed.feed_part(false);
  fed.window.end_segment(10, 1.0, date(10));
  EXPECT_EQ(fed.window.reload_state({10, std::nullopt, false}), ReloadState::ready);
  EXPECT_EQ(fed.window.reload_state({10, 7, false}), ReloadState::ready) << "its segment is complete";
  EXPECT_EQ(fed.window.reload_state({11, 0, false}), ReloadState::wait);
  fed.window.end();
  EXPECT_EQ(fed.window.reload_state({11, 0, false}), ReloadState::ready) << "an ended stream answers";
}

TEST(LowLatencyWindowTest, APartIsReadWhileWrittenAndServedWholeAfterwards) {
  FedWindow fed;
  EXPECT_TRUE(fed.window.part_is_coming(10, 0)) << "the hinted part";
  EXPECT_FALSE(fed.window.part_is_coming(10, 1));
  auto bytes = fed.window.part_bytes(10, 0, 0);
  EXPECT_TRUE(bytes.bytes.empty());
  EXPECT_FALSE(bytes.complete);
  EXPECT_FALSE(bytes.gone);
  fed.window.append_chunk("moof1", true);
  bytes = fed.window.part_bytes(10, 0, 0);
  EXPECT_EQ(bytes.bytes, "moof1");
  EXPECT_FALSE(bytes.complete);
  fed.window.append_chunk("moof2", false);
  bytes = fed.window.part_bytes(10, 0, 5);
  EXPECT_EQ(bytes.bytes, "moof2") << "from the offset already sent";
  fed.window.end_part(0.2);
  bytes = fed.window.part_bytes(10, 0, 10);
  EXPECT_TRUE(bytes.bytes.empty());
  EXPECT_TRUE(bytes.complete);
  EXPECT_EQ(*fed.window.part(10, 0), "moof1moof2");
  // The segment is cut before part 1 was begun: a request hinted to it will never be answered whole.
  EXPECT_TRUE(fed.window.part_is_coming(10, 1));
  EXPECT_TRUE(fed.window.part_is_coming(11, 0)) << "the first part of the next segment may be hinted";
  EXPECT_FALSE(fed.window.part_is_coming(11, 1));
  EXPECT_TRUE(fed.window.part_bytes(11, 0, 0).bytes.empty());
  EXPECT_FALSE(fed.window.part_bytes(11, 0, 0).gone) << "it comes after the cut";
  fed.window.end_segment(10, 0.2, date(10));
  EXPECT_TRUE(fed.window.part_bytes(10, 1, 0).gone);
  EXPECT_EQ(*fed.window.segment(10), "moof1moof2");
  EXPECT_EQ(*fed.window.part(10, 0), "moof1moof2");
}

TEST(LowLatencyWindowTest, HintsTheNextSegmentOnceTheOpenOneIsFull) {
  FedWindow fed;
  for (int i = 0; i < 4; ++i) fed.feed_part(i == 0);
  EXPECT_NE(fed.window.render(false)->find("URI=\"part_10_4.m4s\"\n"), std::string::npos);
  fed.window.append_chunk("c", false);
  EXPECT_NE(fed.window.render(false)->find("URI=\"part_10_4.m4s\"\n"), std::string::npos) << "being written";
  fed.window.end_part(0.2);
  EXPECT_NE(fed.window.render(false)->find("PRELOAD-HINT:TYPE=PART,URI=\"part_11_0.m4s\""), std::string::npos)
      << "1 s written: the next keyframe cuts";
}

TEST(LowLatencyWindowTest, TheWindowSlidesAndKeepsOnlyTheInitsItNeeds) {
  FedWindow fed;
  fed.window.set_init("first");
  for (std::uint64_t n = 10; n < 13; ++n) fed.feed_segment(n);
  fed.window.mark_discontinuity();
  fed.window.set_init("second");
  for (std::uint64_t n = 13; n < 18; ++n) fed.feed_segment(n);
  const std::string text = *fed.window.render(false);
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:14\n"), std::string::npos) << "4 listed: " << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), std::string::npos) << text;
  EXPECT_EQ(fed.window.segment(13), nullptr);
  EXPECT_EQ(fed.window.init(1), nullptr) << "no listed segment needs it";
  EXPECT_EQ(*fed.window.init(2), "second");
}

TEST(ChangeNotifierTest, WakesEachSubscriberOnceAndForgetsDroppedOnes) {
  auto notifier = std::make_shared<ChangeNotifier>();
  int a = 0, b = 0;
  auto sa = notifier->subscribe([&] { ++a; });
  {
    auto sb = notifier->subscribe([&] { ++b; });
    EXPECT_EQ(notifier->waiting(), 2u);
  }
  EXPECT_EQ(notifier->waiting(), 1u) << "a dropped subscription unregisters";
  notifier->notify();
  notifier->notify();
  EXPECT_EQ(a, 1) << "one-shot";
  EXPECT_EQ(b, 0);
  EXPECT_EQ(notifier->waiting(), 0u);
}

TEST(ChangeNotifierTest, ADroppedSubscriptionsCallbackDoesNotRunAfterTheDrop) {
  // The HTTP server drops a waiter's Subscription and may then destroy the io_context that the
  // waiter's callback posts to, while a publisher's thread is notifying: once the Subscription's
  // destructor has returned, its callback must not run.
  auto notifier = std::make_shared<ChangeNotifier>();
  std::promise<void> first_running, release_first;
  auto first = notifier->subscribe([&] {
    first_running.set_value();
    release_first.get_future().wait();
  });
  std::atomic<bool> dropped{false}, ran_after_drop{false};
  std::optional<ChangeNotifier::Subscription> second = notifier->subscribe([&] { ran_after_drop = dropped.load(); });
  std::thread notifying([&] { notifier->notify(); });
  first_running.get_future().wait();  // notify() is under way and has not reached `second` yet
  std::thread dropping([&] {
    second.reset();
    dropped = true;
  });
  // A right notifier holds the drop until notify() is done, so `dropped` stays false here; a
  // wrong one lets it through at once, and its callback then runs after the drop.
  const auto until = std::chrono::steady_clock::now() + 200ms;
  while (!dropped && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  release_first.set_value();
  notifying.join();
  dropping.join();
  EXPECT_TRUE(dropped);
  EXPECT_FALSE(ran_after_drop) << "the callback ran after its Subscription was destroyed";
}

}  // namespace
}  // namespace reelhub::media
