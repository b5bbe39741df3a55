import { useEffect, useState } from "preact/hooks";
import { api, currentUser, formatMoney, idempotencyKey } from "../api";
import { Chat, type ChatLine } from "../chat";
import { Player } from "../player";
import { realtime } from "../realtime";
import type { Balance, Stream } from "../types";
import { ErrorText, Page, useAction, useLoad } from "../ui";

export function LiveNow() {
  const { data, error } = useLoad(() => api<{ streams: Stream[] }>("/live/streams?limit=50"), []);
  return (
    <Page title="Live now">
      <ErrorText text={error} />
      {data && data.streams.length === 0 && <p class="muted">Nobody is live right now.</p>}
      <ul class="grid" aria-label="Live streams">
        {data?.streams.map((s) => (
          <li key={s.stream_id} class="card">
            <a href={`/on-air/${s.stream_id}`}>
              <div class="thumb live-badge">LIVE</div>
              <span class="title">{s.title}</span>
            </a>
            <span class="muted">
              {s.username} · {s.viewer_count} watching
            </span>
          </li>
        ))}
      </ul>
    </Page>
  );
}

export interface Donation {
  transaction_id: string;
  donor_username: string;
  amount: number;
  currency: string;
  message?: string | null;
}

/// The stream's realtime events for a page: viewer count, status, donations, chat.
export function useStreamEvents(streamId: string, initialViewers: number) {
  const [viewers, setViewers] = useState(initialViewers);
  const [status, setStatus] = useState<string | null>(null);
  const [donations, setDonations] = useState<Donation[]>([]);
  const [chat, setChat] = useState<ChatLine[]>([]);
  useEffect(() => setViewers(initialViewers), [initialViewers]);
  useEffect(() => {
    if (!currentUser()) return;
    return realtime.subscribe(`stream:${streamId}`, (e) => {
      if (e.type === "viewer_count") setViewers(Number(e.data.viewer_count));
      else if (e.type === "stream_status") setStatus(String(e.data.status));
      else if (e.type === "donation") setDonations((d) => [e.data as unknown as Donation, ...d]);
      else if (e.type === "stream.message") {
        const m = e.data.message as { id: string; username: string; text: string };
        setChat((c) => [...c.slice(-199), { id: m.id, username: m.username, text: m.text }]);
      }
    });
  }, [streamId]);
  return { viewers, status, donations, chat };
}

export function DonationList({ donations }: { donations: Donation[] }) {
  if (donations.length === 0) return null;
  return (
    <ul class="list" aria-label="Donations" data-testid="donations">
      {donations.map((d) => (
        <li key={d.transaction_id}>
          <strong>{d.donor_username}</strong> donated {formatMoney(d.amount, d.currency)}
          {d.message ? `: ${d.message}` : ""}
        </li>
      ))}
    </ul>
  );
}

function Donate({ stream }: { stream: Stream }) {
  const balances = useLoad(() => api<{ balances: Balance[] }>("/payments/balance"), []);
  const [amount, setAmount] = useState("5.00");
  const [message, setMessage] = useState("");
  const { run, error } = useAction();
  const [done, setDone] = useState("");
  const wallet = balances.data?.balances[0];
  const currency = wallet?.currency ?? "USD";

  // The sandbox provider: test money, approved at once (a real provider's checkout page would
  // confirm through its webhook instead).
  const topUp = () =>
    run(async () => {
      const topup = await api<{ id: string }>("/payments/topup", {
        json: { amount: 5000, currency, provider: "sandbox" },
        headers: { "Idempotency-Key": idempotencyKey() },
      });
      await api(`/payments/sandbox/checkout/${topup.id}/approve`, { method: "POST" });
      balances.reload();
    });

  const donate = (e: Event) => {
    e.preventDefault();
    setDone("");
    const minor = Math.round(Number(amount) * 100);
    void run(async () => {
      await api("/live/donate", {
        json: { stream_id: stream.stream_id, amount: minor, currency, ...(message ? { message } : {}) },
        headers: { "Idempotency-Key": idempotencyKey() },
      });
      setDone(`Thank you! You donated ${formatMoney(minor, currency)}.`);
      setMessage("");
      balances.reload();
    });
  };

  return (
    <section aria-label="Donate">
      <h2>Support {stream.username}</h2>
      <p>
        Wallet: <span data-testid="wallet">{wallet ? formatMoney(wallet.wallet, wallet.currency) : "…"}</span>{" "}
        <button type="button" onClick={topUp}>
          Top up {formatMoney(5000, currency)} (sandbox)
        </button>
      </p>
      <form class="row wrap" onSubmit={donate}>
        <label>
          Amount ({currency})
          <input name="amount" type="number" min="0.01" step="0.01" required value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        </label>
        <label class="grow">
          Message
          <input name="donation-message" maxLength={200} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <button type="submit">Donate</button>
      </form>
      <ErrorText text={error} />
      {done && <p role="status">{done}</p>}
    </section>
  );
}

export function OnAir({ id }: { id: string }) {
  const { data: stream, error } = useLoad(() => api<Stream>(`/api/streams/${id}`), [id]);
  const events = useStreamEvents(id, stream?.viewer_count ?? 0);
  const user = currentUser();
  if (!user)
    return (
      <Page title="Live">
        <p>
          <a href={`/login?next=/on-air/${id}`}>Log in</a> to watch live streams.
        </p>
      </Page>
    );
  if (error) return <Page title="Live"><ErrorText text={error} /></Page>;
  if (!stream) return <Page title="Live"><p class="muted">Loading…</p></Page>;
  const status = events.status ?? stream.status;
  return (
    <Page title={stream.title}>
      <div class="two-columns">
        <div>
          {status === "stopped" ? (
            <p>This stream has ended.</p>
          ) : (
            <Player src={stream.hls_ll_url} live autoplay muted label={`${stream.title} (live)`} />
          )}
          <p>
            {stream.username} · <span data-testid="viewers">{events.viewers}</span> watching · {status}
          </p>
          {user.id !== stream.user_id && status !== "stopped" && <Donate stream={stream} />}
          <DonationList donations={events.donations} />
        </div>
        <Chat
          label="Live chat"
          lines={events.chat}
          send={(text) => realtime.request({ type: "stream.message", stream_id: id, text })}
        />
      </div>
    </Page>
  );
}
