// The pure parts of turning live segments into a recording: which files are segments and in
// what order, and how the timeline decides to rebase timestamps across publisher reconnects.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "reelhub/media/recording.hpp"
#include "system.hpp"

namespace reelhub::media {
namespace {

constexpr std::int64_t kSecond = 90000;
constexpr std::int64_t kFrame = 3600;  // 25 fps at 90 kHz

TEST(RecordingsSegmentNumber, AcceptsOnlySegmentNames) {
  const std::vector<std::pair<std::string, std::optional<std::int64_t>>> cases = {
      {"segment_0.ts", 0},
      {"segment_7.ts", 7},
      {"segment_123456.ts", 123456},
      {"segment_007.ts", 7},
      {"segment_.ts", std::nullopt},
      {"segment_-1.ts", std::nullopt},
      {"segment_+1.ts", std::nullopt},
      {"segment_1a.ts", std::nullopt},
      {"segment_1.ts.part", std::nullopt},
      {"segment_1.mp4", std::nullopt},
      {"Segment_1.ts", std::nullopt},
      {"stream.m3u8", std::nullopt},
      {"segment_99999999999999999999.ts", std::nullopt},  // beyond int64
      {"", std::nullopt},
  };
  for (const auto& [name, expected] : cases) EXPECT_EQ(segment_number(name), expected) << name;
}

TEST(RecordingsSegmentOrder, NumericNotLexicalWithGapsAndStrangers) {
  testing::TempDir dir("reelhub-segments");
  for (const char* name : {"segment_10.ts", "segment_9.ts", "segment_100.ts", "segment_2.ts", "stream.m3u8",
                           ".segment_3.ts.part"}) {
    std::ofstream(dir.path() / name) << "x";
  }
  std::filesystem::create_directory(dir.path() / "segment_5.ts");  // a directory is no segment
  std::vector<std::string> names;
  for (const auto& path : ordered_segments(dir.path())) names.push_back(path.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"segment_2.ts", "segment_9.ts", "segment_10.ts", "segment_100.ts"}));
  EXPECT_TRUE(ordered_segments(dir.path() / "missing").empty());
}

/// Places `count` packets of one stream from `first_dts` on, `step` apart; returns their output dts.
std::vector<std::int64_t> run(Timeline& timeline, std::size_t stream, std::int64_t first_dts, int count,
                              std::int64_t step = kFrame, std::int64_t duration = kFrame) {
  std::vector<std::int64_t> out;
  for (int i = 0; i < count; ++i) out.push_back(timeline.place(stream, first_dts + i * step, duration).value());
  return out;
}

TEST(RecordingsTimeline, StartsAtZeroAndKeepsContinuousTimestamps) {
  Timeline timeline(kSecond);
  EXPECT_EQ(run(timeline, 0, 126000, 3), (std::vector<std::int64_t>{0, kFrame, 2 * kFrame}));
  // The next segment of the same run goes on where the last one ended: nothing moves.
  EXPECT_EQ(run(timeline, 0, 126000 + 3 * kFrame, 2), (std::vector<std::int64_t>{3 * kFrame, 4 * kFrame}));
  EXPECT_EQ(timeline.end(), 5 * kFrame);
}

TEST(RecordingsTimeline, ClockResetContinuesWhereTheOutputEnded) {
  Timeline timeline(kSecond);
  run(timeline, 0, 126000, 50);  // 2 s
  const std::int64_t end = timeline.end();
  EXPECT_EQ(end, 50 * kFrame);
  // The publisher reconnected: its clock starts over at the same value.
  EXPECT_EQ(run(timeline, 0, 126000, 2), (std::vector<std::int64_t>{end, end + kFrame}));
}

TEST(RecordingsTimeline, ForwardJumpBeyondToleranceIsClosed) {
  Timeline timeline(kSecond);
  run(timeline, 0, 0, 25);
  const std::int64_t end = timeline.end();
  EXPECT_EQ(timeline.place(0, 1000 * kSecond, kFrame), end);
}

TEST(RecordingsTimeline, SmallGapWithinToleranceIsKept) {
  Timeline timeline(kSecond);
  run(timeline, 0, 0, 25);
  const std::int64_t end = timeline.end();
  // Half a second of lost packets is real time that passed, not a new clock.
  EXPECT_EQ(timeline.place(0, end + kSecond / 2, kFrame), end + kSecond / 2);
}

TEST(RecordingsTimeline, AudioAndVideoKeepTheirOffsetAcrossAReset) {
  Timeline timeline(kSecond);
  constexpr std::int64_t kAudio = 1920;  // 1024 samples at 48 kHz
  // Audio starts 0.1 s before video in both runs; the first packet read is the video's.
  timeline.start_at(126000 - 9000);
  const auto video = timeline.place(0, 126000, kFrame).value();
  const auto audio = timeline.place(1, 126000 - 9000, kAudio).value();
  EXPECT_EQ(audio, 0) << "the origin is the earliest start, not the first packet";
  EXPECT_EQ(video, 9000);
  run(timeline, 0, 126000 + kFrame, 49);
  run(timeline, 1, 126000 - 9000 + kAudio, 100, kAudio, kAudio);
  // Second run: video first, then audio, both from the same reset clock.
  const auto video2 = timeline.place(0, 126000, kFrame).value();
  EXPECT_EQ(video2, 9000 + 50 * kFrame);
  // The old run's audio lasted beyond the new run's first audio: what overlaps is dropped...
  EXPECT_FALSE(timeline.place(1, 126000 - 9000, kAudio, Timeline::Overlap::drop));
  // ...and the rest keeps its distance to the video: the reset shifts both streams alike.
  const auto audio2 = timeline.place(1, 126000 - 9000 + 10 * kAudio, kAudio, Timeline::Overlap::drop);
  EXPECT_EQ(audio2, video2 - 9000 + 10 * kAudio);
}

TEST(RecordingsTimeline, TimestampsOfAStreamStrictlyIncrease) {
  Timeline timeline(kSecond);
  run(timeline, 0, 0, 10);
  // A small step back (within the tolerance) cannot be rebased, yet MP4 needs increasing dts.
  const auto before = timeline.place(0, 10 * kFrame, kFrame).value();
  EXPECT_EQ(timeline.place(0, 10 * kFrame - 100, kFrame, Timeline::Overlap::squeeze), before + 1);
  EXPECT_FALSE(timeline.place(0, 10 * kFrame - 50, kFrame, Timeline::Overlap::drop));
}

TEST(RecordingsTimeline, PacketsWithoutDurationLastAsLongAsTheStreamsStep) {
  Timeline timeline(kSecond);
  run(timeline, 0, 0, 50, kFrame, 0);
  EXPECT_EQ(timeline.end(), 50 * kFrame) << "the last packet counts one frame interval";
  // After a reset the next packet follows one interval after the last, not on top of it.
  EXPECT_EQ(timeline.place(0, 0, 0), 50 * kFrame);
}

}  // namespace
}  // namespace reelhub::media
