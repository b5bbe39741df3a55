// History routing without a library: the client's pages live at paths no API route takes
// (/watch, /now, /on-air, /studio, /rooms, /room, /inbox, /login, /signup, /upload), so a reload
// of any page gets index.html from the server's fallback.

import { useEffect, useState } from "preact/hooks";

export function navigate(to: string) {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return path;
}

/// "/watch/:id" against "/watch/42" → {id: "42"}; null when it does not match.
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  // Trailing slashes do not count: "/" and "" are the same page, as are "/rooms/" and "/rooms".
  const segments = (x: string) => x.replace(/\/+$/, "").split("/");
  const p = segments(pattern);
  const s = segments(path);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

/// Same-origin links navigate inside the app (keyboard and middle-click keep working).
export function interceptLinks() {
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest("a");
    if (!a || a.target || a.origin !== location.origin || a.hasAttribute("download")) return;
    if (a.hash && a.pathname === location.pathname) return;  // in-page links (skip to content)
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}
