// A chat panel: the newest messages last, a form that sends over the realtime socket. Used by
// the live page (stream chat) and the room page (room chat with slow mode).

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, errorText } from "./api";

export interface ChatLine {
  id: string;
  username: string;
  text: string;
}

export function Chat({
  lines,
  send,
  label,
  note,
}: {
  lines: ChatLine[];
  send: (text: string) => Promise<unknown>;
  label: string;
  note?: string;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [lines.length]);
  async function submit(e: Event) {
    e.preventDefault();
    setError("");
    try {
      await send(text);
      setText("");
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 429 && err.retryAfter
          ? `${err.message} (wait ${err.retryAfter} s)`
          : errorText(err),
      );
    }
  }
  return (
    <section class="chat" aria-label={label}>
      <h2>{label}</h2>
      {note && <p class="muted">{note}</p>}
      <ol ref={list} class="chat-lines" aria-live="polite" data-testid="chat-lines">
        {lines.map((l) => (
          <li key={l.id}>
            <strong>{l.username}</strong> {l.text}
          </li>
        ))}
      </ol>
      <form class="row" onSubmit={submit}>
        <label class="grow">
          <span class="visually-hidden">Message</span>
          <input
            name="message"
            data-testid="chat-input"
            placeholder="Say something"
            required
            maxLength={500}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Send</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
