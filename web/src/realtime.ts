// One WebSocket per tab to GET /ws (docs/realtime.md): authenticate, requests answered by `id`,
// topic subscriptions that survive reconnects (resubscribed with their last offset and epoch),
// and the clock offset from time.sync.

import { accessToken, ApiError, onUserChange } from "./api";

export interface TopicEvent {
  type: string;
  topic: string;
  data: Record<string, unknown>;
  offset: number;
  epoch: string;
}
type EventListener = (e: TopicEvent) => void;

interface Pending {
  resolve: (frame: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

interface Topic {
  listeners: Set<EventListener>;
  offset?: number;
  epoch?: string;
}

class Realtime {
  private socket: WebSocket | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private topics = new Map<string, Topic>();
  private personal = new Set<EventListener>();
  private retryMs = 500;
  private closedOnPurpose = false;
  private connectedBefore = false;
  /// Server clock minus this clock, in ms (time.sync); 0 until measured.
  offsetMs = 0;

  constructor() {
    onUserChange((user) => {
      if (!user) this.close();
    });
  }

  /// Opens and authenticates the socket if needed.
  connect(): Promise<void> {
    if (this.ready) return this.ready;
    const token = accessToken();
    if (!token) return Promise.reject(new ApiError(401, "unauthorized", "Log in first"));
    this.closedOnPurpose = false;
    this.ready = new Promise<void>((resolve, reject) => {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.onopen = () => socket.send(JSON.stringify({ type: "authenticate", token: accessToken() }));
      socket.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Record<string, unknown>;
        if (frame.type === "authenticated") {
          this.retryMs = 500;
          // After a reconnect the topics are taken up again where they were left; on the first
          // connection each subscribe() sends its own request.
          if (this.connectedBefore) this.resubscribe();
          this.connectedBefore = true;
          resolve();
          return;
        }
        this.dispatch(frame);
      };
      socket.onclose = () => {
        reject(new ApiError(503, "unavailable", "Realtime connection closed"));
        for (const p of this.pending.values()) p.reject(new ApiError(503, "unavailable", "Realtime connection closed"));
        this.pending.clear();
        this.ready = null;
        this.socket = null;
        if (!this.closedOnPurpose && accessToken() && (this.topics.size > 0 || this.personal.size > 0)) {
          setTimeout(() => void this.connect().catch(() => undefined), this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, 10_000);
        }
      };
    });
    return this.ready;
  }

  close() {
    this.closedOnPurpose = true;
    this.socket?.close();
  }

  /// Sends a request and resolves with its answer (rejects with the error frame as an ApiError).
  async request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.connect();
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket!.send(JSON.stringify({ ...message, id }));
    });
  }

  /// Listens to a topic (subscribing on first use); returns the unsubscribe function.
  subscribe(topic: string, listener: EventListener): () => void {
    let t = this.topics.get(topic);
    if (!t) {
      t = { listeners: new Set() };
      this.topics.set(topic, t);
      void this.request({ type: "subscribe", topic }).catch(() => undefined);
    }
    t.listeners.add(listener);
    return () => {
      const entry = this.topics.get(topic);
      if (!entry) return;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        this.topics.delete(topic);
        if (this.socket?.readyState === WebSocket.OPEN) void this.request({ type: "unsubscribe", topic }).catch(() => undefined);
      }
    };
  }

  /// Events of the user's own topic (notifications), joined on authentication.
  onPersonal(listener: EventListener): () => void {
    this.personal.add(listener);
    void this.connect().catch(() => undefined);
    return () => this.personal.delete(listener);
  }

  /// Estimates the server clock offset: five samples, the one with the smallest round trip wins.
  async syncClock(): Promise<void> {
    let best = { rtt: Infinity, offset: 0 };
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const answer = await this.request({ type: "time.sync", t0 });
      const t3 = Date.now();
      const t1 = Number(answer.t1);
      const t2 = Number(answer.t2);
      const rtt = t3 - t0 - (t2 - t1);
      if (rtt < best.rtt) best = { rtt, offset: (t1 - t0 + (t2 - t3)) / 2 };
      await new Promise((r) => setTimeout(r, 100));
    }
    this.offsetMs = best.offset;
  }

  serverNow(): number {
    return Date.now() + this.offsetMs;
  }

  private resubscribe() {
    for (const [topic, t] of this.topics) {
      const resume = t.offset !== undefined ? { offset: t.offset, epoch: t.epoch } : {};
      void this.request({ type: "subscribe", topic, ...resume }).catch(() => undefined);
    }
  }

  private dispatch(frame: Record<string, unknown>) {
    const id = frame.id === undefined ? undefined : String(frame.id);
    if (id && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      if (frame.type === "error")
        p.reject(
          new ApiError(Number(frame.code), String(frame.error), String(frame.message), frame.retry_after as number | undefined),
        );
      else p.resolve(frame);
      return;
    }
    const topic = typeof frame.topic === "string" ? frame.topic : undefined;
    if (!topic) return;
    const event = frame as unknown as TopicEvent;
    const t = this.topics.get(topic);
    if (t) {
      t.offset = event.offset;
      t.epoch = event.epoch;
      for (const l of t.listeners) l(event);
    } else if (topic.startsWith("user:")) {
      for (const l of this.personal) l(event);
    }
  }
}

export const realtime = new Realtime();
