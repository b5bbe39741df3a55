import { useState } from "preact/hooks";
import { api, currentUser } from "../api";
import { Player } from "../player";
import { navigate } from "../router";
import type { Comment, Room, Video } from "../types";
import { ErrorText, Page, useAction, useLoad, when } from "../ui";

export function Watch({ id }: { id: string }) {
  const { data: video, error, setData } = useLoad(() => api<Video>(`/videos/${id}`), [id]);
  const comments = useLoad(() => api<{ comments: Comment[] }>(`/videos/${id}/comments?limit=50`), [id]);
  const [text, setText] = useState("");
  const { run, error: actionError } = useAction();
  const [viewed, setViewed] = useState(false);
  const user = currentUser();

  // One view per page visit, when playback really starts (the server dedupes per viewer per hour).
  async function countView() {
    if (viewed || !video) return;
    setViewed(true);
    try {
      const r = await api<{ views_count: number }>(`/videos/${id}/view`, { method: "POST" });
      setData({ ...video, views_count: r.views_count });
    } catch {
      /* a view that was not counted changes nothing the viewer sees */
    }
  }

  const toggleLike = () =>
    run(async () => {
      if (!video) return;
      const r = await api<{ liked: boolean; likes_count: number }>(`/videos/${id}/${video.liked ? "unlike" : "like"}`, {
        method: "POST",
      });
      setData({ ...video, liked: r.liked, likes_count: r.likes_count });
    });

  const comment = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const c = await api<Comment>(`/videos/${id}/comments`, { json: { text } });
      comments.setData({ comments: [c, ...(comments.data?.comments ?? [])] });
      setText("");
    });
  };

  const watchTogether = () =>
    run(async () => {
      const room = await api<Room>("/api/rooms", { json: { video_id: id } });
      navigate(`/room/${room.id}`);
    });

  if (error) return <Page title="Video"><ErrorText text={error} /></Page>;
  if (!video) return <Page title="Video"><p class="muted">Loading…</p></Page>;
  return (
    <Page title={video.title}>
      {video.hls_url ? (
        <Player src={video.hls_url} label={video.title} onPlaying={countView} />
      ) : (
        <p class="muted">This video is {video.status}.</p>
      )}
      <div class="row wrap">
        <span>
          by {video.username} · <span data-testid="views">{video.views_count}</span> views
        </span>
        <button type="button" aria-pressed={!!video.liked} onClick={toggleLike} disabled={!user}>
          {video.liked ? "♥ Liked" : "♡ Like"} ({video.likes_count})
        </button>
        {user && (
          <button type="button" onClick={watchTogether}>
            Watch together
          </button>
        )}
      </div>
      {video.description && <p>{video.description}</p>}
      <ErrorText text={actionError} />
      <h2>Comments</h2>
      {user ? (
        <form class="row" onSubmit={comment}>
          <label class="grow">
            <span class="visually-hidden">Your comment</span>
            <input
              name="comment"
              placeholder="Add a comment"
              required
              maxLength={2000}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Post</button>
        </form>
      ) : (
        <p>
          <a href={`/login?next=/watch/${id}`}>Log in</a> to like and comment.
        </p>
      )}
      <ErrorText text={comments.error} />
      <ul class="list" aria-label="Comments">
        {comments.data?.comments.map((c) => (
          <li key={c.id}>
            <strong>{c.username}</strong> <span class="muted">{when(c.created_at)}</span>
            <p>{c.text}</p>
          </li>
        ))}
      </ul>
    </Page>
  );
}
