import { useEffect, useState } from "preact/hooks";
import { api, currentUser, formatMoney } from "../api";
import { Player } from "../player";
import type { Balance, Stream, StreamStatus, Transaction } from "../types";
import { CopyField, ErrorText, Page, useAction, useLoad } from "../ui";
import { DonationList, useStreamEvents } from "./live";

/// OBS's "Custom" service with SRT takes the whole srt:// URL as its server and no key; the
/// streamid part is shown on its own for encoders that ask for a key.
function obsSettings(srtUrl: string) {
  const key = new URL(srtUrl.replace(/^srt:/, "http:")).searchParams.get("streamid") ?? "";
  return { server: srtUrl, key };
}

function Ingest({ stream }: { stream: Stream }) {
  const [status, setStatus] = useState<StreamStatus | null>(null);
  useEffect(() => {
    let stop = false;
    async function poll() {
      try {
        const s = await api<StreamStatus>(`/stream/${stream.stream_id}/status`);
        if (!stop) setStatus(s);
      } catch {
        /* the next poll tries again */
      }
      if (!stop) timer = setTimeout(poll, 2000);
    }
    let timer = setTimeout(poll, 0);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [stream.stream_id]);
  if (!status) return null;
  const i = status.ingest;
  return (
    <dl class="figures" aria-label="Ingest" data-testid="ingest">
      <dt>Status</dt>
      <dd data-testid="ingest-status">{status.status}</dd>
      <dt>Uptime</dt>
      <dd>{status.uptime_seconds} s</dd>
      <dt>Viewers</dt>
      <dd>{status.viewer_count}</dd>
      <dt>Segments</dt>
      <dd>{status.hls_files_count}</dd>
      {i && (
        <>
          <dt>Bitrate</dt>
          <dd>{i.receive_mbps.toFixed(2)} Mbit/s</dd>
          <dt>RTT</dt>
          <dd>{i.rtt_ms.toFixed(1)} ms</dd>
          <dt>Lost / dropped</dt>
          <dd>
            {i.packets_lost} / {i.packets_dropped}
          </dd>
          <dt>Segment lag</dt>
          <dd>{i.segment_lag_ms.toFixed(0)} ms</dd>
        </>
      )}
      {status.status_reason && (
        <>
          <dt>Last change</dt>
          <dd>{status.status_reason}</dd>
        </>
      )}
    </dl>
  );
}

/// `donations`: how many arrived while the page is open; each one reloads the figures.
function Earnings({ donations }: { donations: number }) {
  const { data } = useLoad(
    () =>
      Promise.all([
        api<{ balances: Balance[] }>("/payments/balance"),
        api<{ transactions: Transaction[] }>("/payments/transactions?limit=10"),
      ]),
    [donations],
  );
  if (!data) return null;
  const [balances, txs] = data;
  const received = txs.transactions.filter((t) => t.kind === "donation" && t.direction === "in");
  return (
    <section aria-label="Earnings">
      <h2>Earnings</h2>
      <p data-testid="earnings">
        {balances.balances.map((b) => `${formatMoney(b.earnings, b.currency)} earned`).join(" · ")}
      </p>
      {received.length > 0 && (
        <ul class="list">
          {received.map((t) => (
            <li key={t.id}>
              {formatMoney(t.amount, t.currency)} {t.message ? `“${t.message}”` : ""}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function StreamPanel({
  stream,
  onChange,
  onDonations,
}: {
  stream: Stream;
  onChange: (s: Stream) => void;
  onDonations: (count: number) => void;
}) {
  const { run, error } = useAction();
  const events = useStreamEvents(stream.stream_id, stream.viewer_count);
  useEffect(() => onDonations(events.donations.length), [events.donations.length]);
  const status = events.status && events.status !== "deleted" ? (events.status as Stream["status"]) : stream.status;

  const act = (action: "start" | "stop") =>
    run(async () => {
      await api(`/api/streams/${stream.stream_id}/${action}`, { method: "POST" });
      onChange(await api<Stream>(`/api/streams/${stream.stream_id}`));
    });
  const obs = stream.srt_url ? obsSettings(stream.srt_url) : null;
  return (
    <section aria-label={`Stream ${stream.title}`} class="panel">
      <h2>{stream.title}</h2>
      <p>
        Status: <strong data-testid="stream-status">{status}</strong>{" "}
        {status === "created" && (
          <button type="button" onClick={() => act("start")}>
            Start stream
          </button>
        )}
        {(status === "waiting" || status === "active") && (
          <>
            <button type="button" onClick={() => act("stop")}>
              Stop stream
            </button>{" "}
            <a href={`/on-air/${stream.stream_id}`}>Open the live page</a>
          </>
        )}
      </p>
      <ErrorText text={error} />
      {obs && status !== "stopped" && (
        <div class="stack">
          <h3>OBS settings</h3>
          <p class="muted">
            Settings → Stream → Service “Custom…”; paste the server URL. OBS needs no stream key for SRT (it is in the
            URL); other encoders may ask for the stream id below. Keyframe interval: 2 s.
          </p>
          <CopyField label="Server URL" value={obs.server} testid="srt-url" />
          <CopyField label="Stream key (stream id)" value={obs.key} testid="stream-key" />
        </div>
      )}
      {(status === "waiting" || status === "active") && (
        <>
          <h3>Preview</h3>
          <Player src={stream.hls_ll_url} live autoplay muted label="Live preview" />
          <Ingest stream={stream} />
        </>
      )}
      <DonationList donations={events.donations} />
    </section>
  );
}

export function Studio() {
  const user = currentUser();
  const streams = useLoad(() => api<{ streams: Stream[] }>("/api/streams?limit=20"), []);
  const [selected, setSelected] = useState<Stream | null>(null);
  const [title, setTitle] = useState("");
  const { run, error } = useAction();
  const [donations, setDonations] = useState(0);

  const select = (id: string) => run(async () => setSelected(await api<Stream>(`/api/streams/${id}`)));

  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const created = await api<{ stream_id: string }>("/api/streams", { json: { name: title, title } });
      setTitle("");
      streams.reload();
      setSelected(await api<Stream>(`/api/streams/${created.stream_id}`));
    });
  };

  if (!user || user.role === "viewer")
    return (
      <Page title="Studio">
        <p>The studio is for streamer accounts. {user ? "" : <a href="/login?next=/studio">Log in</a>}</p>
      </Page>
    );
  return (
    <Page title="Studio">
      <form class="row wrap" onSubmit={create}>
        <label class="grow">
          New stream title
          <input name="stream-title" required maxLength={100} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <button type="submit">Create stream</button>
      </form>
      <ErrorText text={error || streams.error} />
      {selected && (
        <StreamPanel
          key={selected.stream_id}
          stream={selected}
          onChange={(s) => {
            setSelected(s);
            streams.reload();
          }}
          onDonations={setDonations}
        />
      )}
      <Earnings donations={donations} />
      <h2>Your streams</h2>
      <ul class="list" aria-label="Your streams">
        {streams.data?.streams.map((s) => (
          <li key={s.stream_id} class="row">
            <span class="grow">
              {s.title} <span class="muted">({s.status})</span>
            </span>
            <button type="button" onClick={() => select(s.stream_id)} aria-label={`Manage ${s.title}`}>
              Manage
            </button>
          </li>
        ))}
      </ul>
    </Page>
  );
}
