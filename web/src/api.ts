// The REST API (docs/openapi.yaml) with the signed-in user's tokens. The access token is sent as
// a Bearer token; a 401 is retried once after a refresh (the refresh token rotates).

export interface User {
  id: number;
  username: string;
  email?: string;
  role: "viewer" | "streamer" | "admin";
}

interface Session {
  access_token: string;
  refresh_token: string;
  user: User;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const storageKey = "reelhub.session";
type Listener = (user: User | null) => void;
const listeners = new Set<Listener>();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

let session: Session | null = load();

function save(next: Session | null) {
  session = next;
  if (next) localStorage.setItem(storageKey, JSON.stringify(next));
  else localStorage.removeItem(storageKey);
  for (const l of listeners) l(next?.user ?? null);
}

export const currentUser = (): User | null => session?.user ?? null;
export const accessToken = (): string | null => session?.access_token ?? null;
export function onUserChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

async function toError(res: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; error?: string; retry_after?: number; details?: unknown } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON: the status says enough */
  }
  let message = body.message ?? body.error ?? res.statusText;
  if (body.details && typeof body.details === "object") {
    const fields = Object.entries(body.details as Record<string, string[]>)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`)
      .join("; ");
    if (fields) message += ` (${fields})`;
  }
  return new ApiError(res.status, body.code ?? String(res.status), message, body.retry_after);
}

let refreshing: Promise<boolean> | null = null;

async function refresh(): Promise<boolean> {
  if (!session) return false;
  refreshing ??= (async () => {
    const res = await fetch("/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: session!.refresh_token }),
    });
    if (!res.ok) {
      save(null);
      return false;
    }
    const body = await res.json();
    save({ ...session!, access_token: body.access_token, refresh_token: body.refresh_token });
    return true;
  })().finally(() => (refreshing = null));
  return refreshing;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

export async function api<T>(path: string, options: RequestOptions = {}, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (session) headers.Authorization = `Bearer ${session.access_token}`;
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  const res = await fetch(path, { method: options.method ?? (body ? "POST" : "GET"), headers, body });
  if (res.status === 401 && session && !retried && (await refresh())) return api<T>(path, options, true);
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function register(username: string, email: string, password: string, role: string) {
  await api("/auth/register", { json: { username, email, password, role } });
}

export async function login(login: string, password: string) {
  const field = login.includes("@") ? "email" : "username";
  const body = await api<Session>("/auth/login", { json: { [field]: login, password } });
  save({ access_token: body.access_token, refresh_token: body.refresh_token, user: body.user });
}

export async function logout() {
  try {
    if (session) await api("/auth/logout", { json: { refresh_token: session.refresh_token } });
  } finally {
    save(null);
  }
}

/// A fresh key per user action, so a retried payment is recognised (Idempotency-Key).
/// (crypto.randomUUID needs a secure context; a LAN address over http is not one.)
export function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
