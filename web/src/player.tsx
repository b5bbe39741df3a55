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
    const h = new Hls({ lowLatencyMode: !!live, liveSyncDurationCount: live ? 2 : 3, enableWorker: true });
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
    h.loadSource(src);
    h.attachMedia(video);
    return () => {
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
