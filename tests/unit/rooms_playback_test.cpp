// The server-held playback state of watch-together rooms: extrapolation to a moment, and changes.

#include <gtest/gtest.h>

#include <chrono>

#include "modules/rooms/model.hpp"

namespace reelhub::rooms {
namespace {

using namespace std::chrono_literals;
const auto kStart = std::chrono::system_clock::time_point(1700000000s);

TEST(RoomPlayback, PlayingAdvancesByRateAndPausedStays) {
  const Playback playing{.playing = true, .position = 120, .rate = 1.5, .updated_at = kStart};
  const Playback later = playing.at(kStart + 2s);
  EXPECT_DOUBLE_EQ(later.position, 123.0);
  EXPECT_EQ(later.updated_at, kStart + 2s);
  EXPECT_TRUE(later.playing);

  const Playback paused{.playing = false, .position = 120, .rate = 1, .updated_at = kStart};
  EXPECT_DOUBLE_EQ(paused.at(kStart + 10s).position, 120.0);
  // A clock that went back never moves the position backwards.
  EXPECT_DOUBLE_EQ(playing.at(kStart - 1s).position, 120.0);
}

TEST(RoomPlayback, ChangesApplyAtTheirMoment) {
  const Playback start{.playing = false, .position = 0, .rate = 1, .updated_at = kStart};
  Playback p = apply(start.at(kStart + 1s), {.action = PlaybackAction::seek, .value = 120});
  EXPECT_DOUBLE_EQ(p.position, 120.0);
  EXPECT_FALSE(p.playing);
  p = apply(p.at(kStart + 2s), {.action = PlaybackAction::play, .value = 0});
  EXPECT_TRUE(p.playing);
  EXPECT_DOUBLE_EQ(p.position, 120.0);
  p = apply(p.at(kStart + 4s), {.action = PlaybackAction::rate, .value = 2});
  EXPECT_DOUBLE_EQ(p.position, 122.0);
  p = apply(p.at(kStart + 5s), {.action = PlaybackAction::pause, .value = 0});
  EXPECT_DOUBLE_EQ(p.position, 124.0);
  EXPECT_FALSE(p.playing);
  EXPECT_EQ(p.updated_at, kStart + 5s);
  EXPECT_STREQ(playback_action_name(PlaybackAction::seek), "seek");
}

}  // namespace
}  // namespace reelhub::rooms
