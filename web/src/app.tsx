import { useEffect, useRef, useState } from "preact/hooks";
import { currentUser, logout, onUserChange, type User } from "./api";
import { matchPath, navigate, usePath } from "./router";
import { Login, Signup } from "./pages/auth";
import { Feed, Upload } from "./pages/feed";
import { Watch } from "./pages/watch";
import { LiveNow, OnAir } from "./pages/live";
import { Studio } from "./pages/studio";
import { RoomPage, Rooms } from "./pages/rooms";
import { Inbox } from "./pages/inbox";
import { realtime } from "./realtime";
import type { JSX } from "preact";

const routes: [string, (p: Record<string, string>) => JSX.Element][] = [
  ["/", () => <Feed />],
  ["/login", () => <Login />],
  ["/signup", () => <Signup />],
  ["/upload", () => <Upload />],
  ["/watch/:id", (p) => <Watch id={p.id} />],
  ["/now", () => <LiveNow />],
  ["/on-air/:id", (p) => <OnAir id={p.id} />],
  ["/studio", () => <Studio />],
  ["/rooms", () => <Rooms />],
  ["/room/:id", (p) => <RoomPage id={p.id} />],
  ["/inbox", () => <Inbox />],
];

function NotFound() {
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        <a href="/">Back to the videos</a>
      </p>
    </section>
  );
}

/// Unread notifications in the header, kept current by `notification.new` events.
function useUnread(user: User | null) {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    if (!user) return;
    return realtime.onPersonal((e) => {
      if (e.type === "notification.new") setUnread((n) => n + 1);
    });
  }, [user?.id]);
  return [unread, () => setUnread(0)] as const;
}

export function App() {
  const path = usePath();
  const [user, setUser] = useState(currentUser());
  useEffect(() => onUserChange(setUser), []);
  const [unread, clearUnread] = useUnread(user);
  const firstPath = useRef(path);
  useEffect(() => {
    if (path === "/inbox") clearUnread();
    // After a navigation focus moves to the new page's heading, so keyboard and screen reader
    // users land there (not on the first load: there the skip link comes first).
    if (path !== firstPath.current) {
      firstPath.current = "";
      document.querySelector<HTMLElement>("main h1")?.focus();
    }
  }, [path]);

  let page: JSX.Element = <NotFound />;
  for (const [pattern, render] of routes) {
    const params = matchPath(pattern, path);
    if (params) {
      page = render(params);
      break;
    }
  }
  const link = (href: string, text: string) => (
    <a href={href} aria-current={path === href ? "page" : undefined}>
      {text}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <a class="brand" href="/">
            Reelhub
          </a>
          {link("/", "Videos")}
          {link("/now", "Live")}
          {link("/rooms", "Rooms")}
          {user && user.role !== "viewer" && link("/studio", "Studio")}
          {user && (
            <a href="/inbox" aria-current={path === "/inbox" ? "page" : undefined}>
              Notifications{unread > 0 ? ` (${unread})` : ""}
            </a>
          )}
          <span class="grow" />
          {user ? (
            <>
              <span class="muted" data-testid="whoami">
                {user.username}
              </span>
              <button type="button" onClick={() => void logout().then(() => navigate("/"))}>
                Log out
              </button>
            </>
          ) : (
            <>
              {link("/login", "Log in")}
              {link("/signup", "Sign up")}
            </>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
