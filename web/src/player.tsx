// The video player: hls.js where MediaSource exists (Chromium, Firefox), the browser's own HLS
// elsewhere (Safari). `low_latency` turns on hls.js's LL-HLS mode for live playlists; the
// playlist URL always comes from the API's JSON (hls_url, or hls_ll_url for live), so a new playlist needs no change here.

// The light build: no subtitles, alternate audio or DRM, none of which Reelhub serves.
import Hls, { type Level } from "hls.js/light";
import { useEffect, useRef, useState } from "preact/hooks";
import type { MutableRef } from "preact/hooks";

export interface PlayerProps {
  src: string;
  live?: boolean;
  autoplay?: boolean;
  muted?: boolean;
  /// false: the page drives playback itself (a watch-together room), so no native controls.
  controls?: boolean;
  label: string;
  /// Receives the video element (a page that drives playback itself reads and sets it).
  videoRef?: MutableRef<HTMLVideoElement | null>;
  onPlaying?: () => void;
}

function rungName(level: Level): string {
  return level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbit/s`;
}

export function Player({ src, live, autoplay, muted, controls = true, label, videoRef, onPlaying }: PlayerProps) {
  const own = useRef<HTMLVideoElement>(null);
  const hls = useRef<Hls | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [level, setLevel] = useState(-1);
  const [error, setError] = useState("");

  useEffect(() => {
    const video = own.current!;
    if (videoRef) videoRef.current = video;
    setError("");
    setLevels([]);
    const direct = /\.mp4($|\?)/.test(src);
    if (direct || !Hls.isSupported()) {
      video.src = src;
      return () => video.removeAttribute("src");
    }
    // Live: the playlist says how far behind to play (PART-HOLD-BACK on the LL-HLS playlist, three
    // target durations otherwise); a liveSync* setting here would override it. Up to 1.5x speed
    // catches up to it — at hls.js's default of 1x a player that started further back stays there.
    const h = new Hls(live ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, enableWorker: true } : { enableWorker: true });
    hls.current = h;
    h.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
      setLevels(data.levels);
      setLevel(-1);
    });
    h.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        // A live playlist may not exist yet (no segment written): try again shortly.
        setError(live ? "Waiting for the stream…" : "Network error loading the video");
        setTimeout(() => h.loadSource(src), 2000);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        h.recoverMediaError();
      } else {
        setError("This video cannot be played");
      }
    });
    h.on(Hls.Events.FRAG_BUFFERED, () => setError(""));
    // hls.js speeds up only within one target duration of its target latency; further behind (a
    // slow start, a stall) it would stay there: jump to the live edge, at most every 5 s.
    let jumpedAt = -Infinity;
    const keepLive = () => {
      const details = h.latestLevelDetails;
      if (!details?.live || h.targetLatency === null || h.liveSyncPosition === null) return;
      if (h.latency <= h.targetLatency + details.targetduration || video.readyState < 3) return;
      if (performance.now() - jumpedAt < 5000) return;
      jumpedAt = performance.now();
      video.currentTime = h.liveSyncPosition;
    };
    if (live) video.addEventListener("timeupdate", keepLive);
    h.loadSource(src);
    h.attachMedia(video);
    return () => {
      video.removeEventListener("timeupdate", keepLive);
      h.destroy();
      hls.current = null;
    };
  }, [src, live]);

  function choose(index: number) {
    setLevel(index);
    if (hls.current) hls.current.currentLevel = index;  // -1: automatic
  }

  return (
    <div class="player">
      <video
        ref={own}
        controls={controls}
        playsInline
        autoplay={autoplay}
        muted={muted}
        aria-label={label}
        onPlaying={onPlaying}
      />
      <div class="player-bar">
        {levels.length > 0 && (
          <label>
            Quality{" "}
            <select
              data-testid="quality"
              value={String(level)}
              onChange={(e) => choose(Number((e.target as HTMLSelectElement).value))}
            >
              <option value="-1">Auto</option>
              {levels.map((l, i) => (
                <option value={String(i)} key={i}>
                  {rungName(l)}
                </option>
              ))}
            </select>
          </label>
        )}
        {error && (
          <span class="muted" role="status">
            {error}
          </span>
        )}
      </div>
    </div>
  );
}
