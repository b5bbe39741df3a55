// Transcode throughput: Reelhub's one-decode ladder (media::transcode_to_hls) against the ffmpeg
// CLI doing the same ladder with the same encoder settings (one decode, split filter), on the
// same clip and machine. Prints wall times, their ratio, and CPU-seconds per minute of video
// for each rung.
//
//   transcode_bench INPUT WORK_DIR    (bench/transcode/run makes the clip and calls this)

#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/transcode.hpp"

namespace {

namespace fs = std::filesystem;
using reelhub::media::Rung;

struct Usage {
  double wall = 0;
  double cpu = 0;  // user + system, seconds
};

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

double cpu_of(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

/// Runs a shell command and measures it (wall clock, CPU of the children it waited for).
Usage run_measured(const std::string& command) {
  const double cpu_before = cpu_of(RUSAGE_CHILDREN);
  const auto started = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  Usage u{std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
          cpu_of(RUSAGE_CHILDREN) - cpu_before};
  if (rc != 0) {
    std::fprintf(stderr, "command failed (%d): %s\n", rc, command.c_str());
    std::exit(1);
  }
  return u;
}

std::string rung_size(const Rung& rung) {
  // The clip is 16:9 landscape: the same sizes transcode_to_hls computes.
  return std::to_string(rung.short_side * 16 / 9 / 2 * 2) + ":" + std::to_string(rung.short_side);
}

/// The ffmpeg output options of one rung, mirroring open_x264() and the HLS muxer options.
std::string rung_output(const Rung& rung, int gop, const fs::path& dir, bool audio) {
  const int level = rung.level;
  char opts[1024];
  std::snprintf(opts, sizeof opts,
                " -c:v libx264 -preset veryfast -profile:v high -level:v %d.%d -b:v %dk -maxrate %dk -bufsize %dk"
                " -g %d -keyint_min %d -x264-params scenecut=0:open-gop=0 -threads 1%s"
                " -f hls -hls_time 4 -hls_playlist_type vod -hls_list_size 0 -hls_flags independent_segments"
                " -hls_segment_filename %s/segment_%%d.ts %s/index.m3u8",
                level / 10, level % 10, rung.video_kbps, rung.video_kbps * 6 / 5, rung.video_kbps * 2, gop, gop,
                audio ? " -c:a aac -b:a 128k -ar 48000 -ac 2" : "", dir.c_str(), dir.c_str());
  return opts;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT WORK_DIR\n", argv[0]);
    return 2;
  }
  av_log_set_level(AV_LOG_ERROR);  // the figures, not the encoders' statistics
  const fs::path input = argv[1];
  const fs::path work = argv[2];
  fs::remove_all(work);
  fs::create_directories(work);

  const reelhub::media::VideoProbe probe = reelhub::media::probe_video(input);
  const double fps = 30;  // the run script makes a 30 fps clip
  const int gop = static_cast<int>(4 * fps);
  const auto ladder = reelhub::media::ladder_for(std::min(probe.width, probe.height));

  // Reelhub: one process, one decode, three encoders, plus thumbnail and preview.
  const double cpu_before = cpu_of(RUSAGE_SELF);
  const auto started = std::chrono::steady_clock::now();
  const reelhub::media::TranscodeOptions options{.segment_seconds = 4, .threads = 1, .preset = "veryfast"};
  const auto result = reelhub::media::transcode_to_hls(input, work / "reelhub", options, nullptr);
  const Usage ours{std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                   cpu_of(RUSAGE_SELF) - cpu_before};

  // ffmpeg CLI: the same ladder in one command, one decode, split filter.
  std::string filter = "[0:v]fps=30,format=yuv420p,split=" + std::to_string(ladder.size());
  for (std::size_t i = 0; i < ladder.size(); ++i) filter += "[s" + std::to_string(i) + "]";
  std::string outputs;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    const std::string n = std::to_string(i);
    filter += ";[s" + n + "]scale=" + rung_size(ladder[i]) + ",setsar=1[o" + n + "]";
    const fs::path dir = work / "ffmpeg" / ladder[i].name;
    fs::create_directories(dir);
    outputs += " -map '[o" + n + "]'" + (probe.has_audio ? std::string(" -map 0:a") : std::string()) +
               rung_output(ladder[i], gop, dir, probe.has_audio);
  }
  const std::string base = "ffmpeg -v error -y -threads 1 -i '" + input.string() + "'";
  const Usage cli = run_measured(base + " -filter_complex '" + filter + "'" + outputs);

  // Per rung, for CPU-seconds per minute of video: ffmpeg one rung at a time (its decode and
  // scaling included), next to the CPU Reelhub's encoder for that rung used.
  std::printf("clip: %s, %dx%d, %.1f s, %s\n", input.filename().c_str(), probe.width, probe.height,
              result.duration_seconds, probe.has_audio ? "with audio" : "no audio");
  std::printf("ladder (preset veryfast, 1 thread per encoder, GOP %d, 4 s segments)\n\n", gop);
  std::printf("%-34s %10s %10s\n", "", "wall s", "CPU s");
  std::printf("%-34s %10.2f %10.2f\n", "reelhub transcode_to_hls", ours.wall, ours.cpu);
  std::printf("%-34s %10.2f %10.2f\n", "ffmpeg CLI (split filter)", cli.wall, cli.cpu);
  std::printf("ratio reelhub / ffmpeg wall time: %.2f (CPU %.2f)\n\n", ours.wall / cli.wall, ours.cpu / cli.cpu);

  const double minutes = result.duration_seconds / 60;
  std::printf("%-8s %-10s %22s %26s\n", "rung", "size", "reelhub encoder CPU s", "ffmpeg rung alone CPU s");
  std::printf("%-8s %-10s %22s %26s\n", "", "", "per minute of video", "per minute of video");
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    const fs::path dir = work / "ffmpeg-single" / ladder[i].name;
    fs::create_directories(dir);
    const Usage single =
        run_measured(base + " -vf fps=30,format=yuv420p,scale=" + rung_size(ladder[i]) + ",setsar=1 -an" +
                     rung_output(ladder[i], gop, dir, false));
    const auto& v = result.variants[i];
    std::printf("%-8s %-10s %22.2f %26.2f\n", v.name.c_str(),
                (std::to_string(v.width) + "x" + std::to_string(v.height)).c_str(), v.encode_cpu_seconds / minutes,
                single.cpu / minutes);
  }
  return 0;
}
