import { useEffect } from "preact/hooks";
import { api, currentUser } from "../api";
import { realtime } from "../realtime";
import type { Notification } from "../types";
import { ErrorText, Page, useAction, useLoad, when } from "../ui";

/// One line for a notification: its words and where it leads.
function describe(n: Notification): { text: string; href?: string } {
  const d = n.data as Record<string, string | number | undefined>;
  switch (n.type) {
    case "room_invite":
      return { text: `${d.inviter_username ?? "Someone"} invited you to watch together`, href: d.room_id ? `/room/${d.room_id}` : undefined };
    case "stream_live":
      return { text: `${d.username ?? "A channel you follow"} is live`, href: d.stream_id ? `/on-air/${d.stream_id}` : undefined };
    case "donation":
      return { text: `${d.donor_username ?? "Someone"} donated to your stream` };
    case "new_subscriber":
      return { text: `${d.subscriber_username ?? "Someone"} subscribed to you` };
    case "direct_message":
      return { text: "New direct message" };
    case "chat_invite":
      return { text: `${d.inviter_username ?? "Someone"} invited you to “${d.title ?? "a chat"}”` };
    default:
      return { text: n.type };
  }
}

export function Inbox() {
  const action = useAction();
  const { data, error, reload } = useLoad(
    () => api<{ notifications: Notification[]; unread_count: number }>("/notifications?limit=50"),
    [],
  );
  useEffect(
    () =>
      realtime.onPersonal((e) => {
        if (e.type === "notification.new") reload();
      }),
    [],
  );
  if (!currentUser())
    return (
      <Page title="Notifications">
        <p>
          <a href="/login?next=/inbox">Log in</a> to see your notifications.
        </p>
      </Page>
    );

  const markAll = () =>
    action.run(async () => {
      await api("/notifications/read-all", { method: "POST" });
      reload();
    });
  async function markRead(n: Notification) {
    await api(`/notifications/${n.id}/read`, { method: "POST" }).catch(() => undefined);
  }

  return (
    <Page title="Notifications">
      <ErrorText text={error || action.error} />
      {data && (
        <p>
          {data.unread_count} unread{" "}
          {data.unread_count > 0 && (
            <button type="button" onClick={markAll}>
              Mark all read
            </button>
          )}
        </p>
      )}
      {data && data.notifications.length === 0 && <p class="muted">Nothing yet.</p>}
      <ul class="list" aria-label="Notifications">
        {data?.notifications.map((n) => {
          const { text, href } = describe(n);
          return (
            <li key={n.id} class={n.is_read ? "" : "unread"}>
              {href ? (
                <a href={href} onClick={() => void markRead(n)}>
                  {text}
                </a>
              ) : (
                text
              )}{" "}
              <span class="muted">{when(n.created_at)}</span>
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
