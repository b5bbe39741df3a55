import { useEffect, useRef, useState } from "preact/hooks";
import { api, currentUser, errorText } from "../api";
import { Chat, type ChatLine } from "../chat";
import { Player } from "../player";
import { realtime } from "../realtime";
import { navigate } from "../router";
import type { Participant, Playback, Room, RoomMessage, Video } from "../types";
import { CopyField, ErrorText, Page, useLoad } from "../ui";

export function Rooms() {
  const { data, error } = useLoad(() => api<{ rooms: Room[] }>("/api/rooms?limit=50"), []);
  return (
    <Page title="Watch together">
      <p class="muted">Open a video and press “Watch together” to start a room.</p>
      <ErrorText text={error} />
      <ul class="list" aria-label="Rooms">
        {data?.rooms.map((r) => (
          <li key={r.id}>
            <a href={`/room/${r.id}`}>{r.title}</a>{" "}
            <span class="muted">
              hosted by {r.host.username} · {r.participant_count} watching{r.private ? " · private" : ""}
            </span>
          </li>
        ))}
      </ul>
    </Page>
  );
}

/// Where the room's player should be now (docs/realtime.md, "Playback sync"), in seconds.
function expectedPosition(p: Playback, serverNowMs: number): number {
  return p.position + (p.state === "playing" ? (p.rate * (serverNowMs - p.updated_at_ms)) / 1000 : 0);
}

/// The client correction policy of docs/realtime.md: under 100 ms nothing; up to 2 s a ±5 %
/// rate change until back under 100 ms; beyond, a seek (plus what a seek takes). Never sends
/// anything to the room: a member's buffering is its own business.
const kTolerance = 0.1;
const kSeekBeyond = 2;
const kSeekCost = 0.15;
function correct(video: HTMLVideoElement, p: Playback, serverNowMs: number) {
  const expected = expectedPosition(p, serverNowMs);
  if (p.state === "paused") {
    if (!video.paused) video.pause();
    video.playbackRate = p.rate;
    if (Math.abs(video.currentTime - expected) > kTolerance) video.currentTime = expected;
    return;
  }
  if (video.paused) {
    video.play().catch(() => {
      // Autoplay with sound refused before any user gesture: play muted, the user can unmute.
      video.muted = true;
      void video.play().catch(() => undefined);
    });
  }
  if (video.seeking || video.readyState < 2) return;  // a buffering member catches up afterwards
  const drift = expected - video.currentTime;  // > 0: behind
  if (Math.abs(drift) > kSeekBeyond) {
    video.currentTime = expected + kSeekCost;
    video.playbackRate = p.rate;
  } else if (Math.abs(drift) > kTolerance) {
    video.playbackRate = p.rate * (drift > 0 ? 1.05 : 0.95);
  } else {
    video.playbackRate = p.rate;
  }
}

function Controls({ roomId, video }: { roomId: string; video: HTMLVideoElement | null }) {
  const [to, setTo] = useState("0");
  const [error, setError] = useState("");
  const send = (m: Record<string, unknown>) =>
    realtime.request({ room_id: roomId, ...m }).then(
      () => setError(""),
      (e) => setError(errorText(e)),
    );
  return (
    <div class="row wrap" role="group" aria-label="Playback control">
      <button type="button" onClick={() => send({ type: "play" })}>
        Play
      </button>
      <button type="button" onClick={() => send({ type: "pause" })}>
        Pause
      </button>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void send({ type: "seek", position: Number(to) });
        }}
      >
        <label>
          Position (s)
          <input name="position" type="number" min="0" step="0.1" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit">Seek</button>
      </form>
      <label>
        Speed
        <select onChange={(e) => void send({ type: "rate", rate: Number(e.currentTarget.value) })} defaultValue="1">
          {[0.5, 1, 1.25, 1.5, 2].map((r) => (
            <option value={String(r)} key={r}>
              {r}×
            </option>
          ))}
        </select>
      </label>
      <span class="muted">{video ? `${video.currentTime.toFixed(1)} s` : ""}</span>
      <ErrorText text={error} />
    </div>
  );
}

function Invite({ room }: { room: Room }) {
  const [name, setName] = useState("");
  const [result, setResult] = useState("");
  async function invite(e: Event) {
    e.preventDefault();
    setResult("");
    try {
      const found = await api<{ users: { id: number; username: string }[] }>(
        `/users/search?q=${encodeURIComponent(name)}&limit=10`,
      );
      const user = found.users.find((u) => u.username.toLowerCase() === name.toLowerCase()) ?? found.users[0];
      if (!user) throw new Error(`No user called ${name}`);
      await api(`/api/rooms/${room.id}/invite`, { json: { user_id: user.id } });
      setResult(`Invited ${user.username}: they get a notification with the link.`);
      setName("");
    } catch (err) {
      setResult(errorText(err));
    }
  }
  return (
    <section aria-label="Invite">
      <h2>Invite</h2>
      <CopyField label="Room link" value={`${location.origin}/room/${room.id}`} testid="room-link" />
      <form class="row" onSubmit={invite}>
        <label class="grow">
          Username
          <input name="invitee" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit">Invite</button>
      </form>
      {result && <p role="status">{result}</p>}
    </section>
  );
}

export function RoomPage({ id }: { id: string }) {
  const me = currentUser();
  const [room, setRoom] = useState<Room | null>(null);
  const [src, setSrc] = useState("");
  const [participants, setParticipants] = useState<Participant[]>([]);
  const [chat, setChat] = useState<ChatLine[]>([]);
  const [slowMode, setSlowMode] = useState(0);
  const [closed, setClosed] = useState("");
  const [error, setError] = useState("");
  const playback = useRef<Playback | null>(null);
  const video = useRef<HTMLVideoElement | null>(null);
  const [, tick] = useState(0);

  useEffect(() => {
    if (!me) return;
    let stop = false;
    const line = (m: RoomMessage): ChatLine => ({ id: m.id, username: m.username, text: m.text });
    let unsubscribe = () => {};
    // Only participants may subscribe: join first.
    const listen = () => realtime.subscribe(`room:${id}`, (e) => {
      const d = e.data;
      if (e.type === "playback") {
        playback.current = d as unknown as Playback;
        if (video.current) correct(video.current, playback.current, realtime.serverNow());
      } else if (e.type === "participant.joined") {
        setParticipants((ps) => [
          ...ps.filter((p) => p.id !== d.user_id),
          { id: Number(d.user_id), username: String(d.username), seat: d.seat as Participant["seat"], can_control: false },
        ]);
      } else if (e.type === "participant.left" || e.type === "participant.kicked") {
        setParticipants((ps) => ps.filter((p) => p.id !== d.user_id));
        if (d.user_id === me.id && e.type === "participant.kicked") setClosed("You were removed from the room.");
      } else if (e.type === "participant.control") {
        setParticipants((ps) => ps.map((p) => (p.id === d.user_id ? { ...p, can_control: Boolean(d.can_control) } : p)));
      } else if (e.type === "message.created") {
        setChat((c) => [...c.slice(-199), line(d.message as unknown as RoomMessage)]);
      } else if (e.type === "message.deleted") {
        setChat((c) => c.filter((m) => m.id !== d.message_id));
      } else if (e.type === "room.slow_mode") {
        setSlowMode(Number(d.slow_mode_seconds));
      } else if (e.type === "room.closed") {
        setClosed(`The room was closed (${String(d.reason).replace("_", " ")}).`);
      }
    });
    (async () => {
      try {
        const joined = await api<Room>(`/api/rooms/${id}/join`, { method: "POST" });
        if (stop) return;
        unsubscribe = listen();
        await realtime.syncClock();
        playback.current = joined.playback;
        setRoom(joined);
        setParticipants(joined.participants);
        setSlowMode(joined.slow_mode_seconds);
        setChat((joined.messages?.messages ?? []).slice().reverse().map(line));
        if (joined.playing.type === "video") {
          const v = await api<Video>(`/videos/${joined.playing.id}`);
          setSrc(v.hls_url ?? "");
        } else {
          setSrc(`/api/v1/recordings/${joined.playing.id}/video`);
        }
      } catch (e) {
        setError(errorText(e));
      }
    })();
    // Between events the position is checked about twice a second.
    const timer = setInterval(() => {
      if (video.current && playback.current) correct(video.current, playback.current, realtime.serverNow());
      tick((n) => n + 1);
    }, 500);
    return () => {
      stop = true;
      clearInterval(timer);
      unsubscribe();
    };
  }, [id]);

  if (!me)
    return (
      <Page title="Room">
        <p>
          <a href={`/login?next=/room/${id}`}>Log in</a> to join this room.
        </p>
      </Page>
    );
  if (error) return <Page title="Room"><ErrorText text={error} /></Page>;
  if (!room) return <Page title="Room"><p class="muted">Joining…</p></Page>;
  const isHost = room.host.id === me.id;
  const canControl = isHost || participants.some((p) => p.id === me.id && p.can_control);

  async function leave() {
    try {
      await api(`/api/rooms/${id}/leave`, { method: "POST" });
    } finally {
      navigate("/rooms");
    }
  }

  return (
    <Page title={room.title}>
      {closed && <p role="alert">{closed}</p>}
      <div class="two-columns">
        <div>
          {src && (
            <Player
              src={src}
              controls={false}
              label={room.title}
              videoRef={video}
            />
          )}
          <p class="muted" data-testid="room-state">
            {playback.current?.state ?? ""}
          </p>
          {canControl ? <Controls roomId={id} video={video.current} /> : <p class="muted">The host controls playback.</p>}
          <h2>Participants</h2>
          <ul class="list" aria-label="Participants" data-testid="participants">
            {participants.map((p) => (
              <li key={p.id}>
                {p.username} <span class="muted">{p.seat === "host" ? "host" : p.can_control ? "can control" : ""}</span>
                {isHost && p.id !== me.id && (
                  <button
                    type="button"
                    onClick={() => void realtime.request({ type: "room.control", room_id: id, user_id: p.id, allowed: !p.can_control })}
                  >
                    {p.can_control ? "Withdraw control" : "Let control"}
                  </button>
                )}
              </li>
            ))}
          </ul>
          {isHost && <Invite room={room} />}
          <p>
            <button type="button" onClick={leave}>
              {isHost ? "Close the room" : "Leave the room"}
            </button>
          </p>
        </div>
        <div>
          {isHost && (
            <label>
              Slow mode{" "}
              <select
                value={String(slowMode)}
                onChange={(e) =>
                  void realtime.request({ type: "room.slow_mode", room_id: id, seconds: Number(e.currentTarget.value) })
                }
              >
                {[0, 5, 10, 30, 60].map((s) => (
                  <option value={String(s)} key={s}>
                    {s === 0 ? "off" : `${s} s`}
                  </option>
                ))}
              </select>
            </label>
          )}
          <Chat
            label="Room chat"
            lines={chat}
            note={slowMode > 0 ? `Slow mode: one message every ${slowMode} s.` : undefined}
            send={(text) => realtime.request({ type: "room.message", room_id: id, text })}
          />
        </div>
      </div>
    </Page>
  );
}
