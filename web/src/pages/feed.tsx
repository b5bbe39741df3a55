import { useEffect, useState } from "preact/hooks";
import { api, currentUser } from "../api";
import { navigate } from "../router";
import type { Video } from "../types";
import { ErrorText, Page, useAction, useLoad } from "../ui";

export function Feed() {
  const { data, error } = useLoad(() => api<{ videos: Video[] }>("/videos/feed?limit=48"), []);
  return (
    <Page title="Videos">
      {currentUser() && (
        <p>
          <a class="button" href="/upload">
            Upload a video
          </a>
        </p>
      )}
      <ErrorText text={error} />
      {data && data.videos.length === 0 && <p class="muted">No videos yet.</p>}
      <ul class="grid" aria-label="Videos">
        {data?.videos.map((v) => (
          <li key={v.id} class="card">
            <a href={`/watch/${v.id}`}>
              {v.thumbnail_url ? <img src={v.thumbnail_url} alt="" loading="lazy" /> : <div class="thumb" />}
              <span class="title">{v.title}</span>
            </a>
            <span class="muted">
              {v.username} · {v.views_count} views · {v.likes_count} likes
            </span>
          </li>
        ))}
      </ul>
    </Page>
  );
}

export function Upload() {
  const [title, setTitle] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [video, setVideo] = useState<Video | null>(null);
  const { run, error } = useAction();
  const [busy, setBusy] = useState(false);

  // The transcode runs in the background: poll its status until ready or failed.
  useEffect(() => {
    if (!video || video.status !== "processing") return;
    const timer = setTimeout(() => run(async () => setVideo(await api<Video>(`/videos/${video.id}`))), 1000);
    return () => clearTimeout(timer);
  }, [video]);

  const submit = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append("title", title);
    form.append("file", file);
    setBusy(true);
    void run(async () => setVideo(await api<Video>("/videos/upload", { form }))).finally(() => setBusy(false));
  };

  return (
    <Page title="Upload a video">
      <form class="stack narrow" onSubmit={submit}>
        <label>
          Title
          <input name="title" required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          Video file
          <input name="file" type="file" accept="video/*" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <ErrorText text={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </form>
      {video && (
        <p role="status" data-testid="upload-status" data-status={video.status}>
          {video.status === "processing" && `Processing… ${video.progress_percent}%`}
          {video.status === "failed" && `Failed: ${video.failure_reason ?? "unknown reason"}`}
          {video.status === "ready" && (
            <>
              Ready.{" "}
              <a href={`/watch/${video.id}`} onClick={(e) => (e.preventDefault(), navigate(`/watch/${video.id}`))}>
                Watch it
              </a>
            </>
          )}
        </p>
      )}
    </Page>
  );
}
