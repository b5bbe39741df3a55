// Shared by the browser scripts: chromium via puppeteer-core, fresh browser contexts (separate
// storage: separate users), sign-up through the UI, polling for conditions, screenshots, the
// API from node for set-up, and a console-error watch (the client must log no errors).

import puppeteer from "puppeteer-core";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

export const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error("usage: node <script>.mjs <base url> <artifact dir>");
  process.exit(2);
}

export function step(text) {
  console.log(`[${new Date().toISOString().slice(11, 23)}] ${text}`);
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/// Polls `fn` (async) until it returns a truthy value; throws with `what` after `ms`.
export async function until(what, fn, ms = 30_000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export async function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--autoplay-policy=no-user-gesture-required",
      "--disable-dev-shm-usage",
      "--mute-audio",
    ],
  });
}

const consoleErrors = [];

/// A page in a fresh context (its own cookies and localStorage), watched for console errors.
export async function newPage(browser, name, viewport = { width: 1280, height: 800 }) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  page.on("pageerror", (e) => consoleErrors.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = m.text();
    const url = m.location()?.url ?? "";
    // A live playlist answers 404 until the first segment exists; hls.js retries. The browser
    // logs each such response, which is the protocol working, not a client error.
    if (text.startsWith("Failed to load resource") && /\/hls\/[^/]+\/(stream|ll)\.m3u8/.test(url)) return;
    consoleErrors.push(`${name}: console error: ${text} ${url}`);
  });
  return page;
}

export function assertNoConsoleErrors() {
  check(consoleErrors.length === 0, `no console errors, got:\n${consoleErrors.join("\n")}`);
}

export async function screenshot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  step(`screenshot ${path}`);
}

export function unique(prefix) {
  return `${prefix}_${Math.random().toString(16).slice(2, 10)}`;
}

export async function go(page, path) {
  await page.goto(base + path, { waitUntil: "domcontentloaded" });
}

export async function type(page, selector, text) {
  await page.waitForSelector(selector, { visible: true });
  await page.click(selector, { count: 3 });
  await page.type(selector, text);
}

export async function clickButton(page, text) {
  const button = await page.waitForSelector(`::-p-xpath(//button[normalize-space()=${JSON.stringify(text)}])`, {
    visible: true,
  });
  await button.click();
}

export async function textOf(page, selector) {
  return page.$eval(selector, (e) => e.textContent ?? "").catch(() => "");
}

/// Signs up through the UI (which logs in too); returns the user's name and password.
export async function signUp(page, role = "viewer") {
  const username = unique(role === "streamer" ? "streamer" : "viewer");
  const password = "correct horse battery";
  await go(page, "/signup");
  await type(page, "input[name=username]", username);
  await type(page, "input[name=email]", `${username}@example.com`);
  await type(page, "input[name=password]", password);
  await page.select("select[name=role]", role);
  await clickButton(page, "Create account");
  await until(`${username} logged in`, async () => (await textOf(page, "[data-testid=whoami]")) === username);
  return { username, password };
}

export async function logIn(page, username, password) {
  await go(page, "/login");
  await type(page, "input[name=login]", username);
  await type(page, "input[name=password]", password);
  await clickButton(page, "Log in");
  await until(`${username} logged in`, async () => (await textOf(page, "[data-testid=whoami]")) === username);
}

/// The REST API from node, for set-up the scenario is not about.
export async function api(path, { token, json, form, method } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const res = await fetch(base + path, { method: method ?? (body ? "POST" : "GET"), headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method ?? "GET"} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function apiUser(role = "viewer") {
  const username = unique(role === "streamer" ? "streamer" : "viewer");
  const password = "correct horse battery";
  await api("/auth/register", { json: { username, email: `${username}@example.com`, password, role } });
  const login = await api("/auth/login", { json: { username, password } });
  return { username, password, token: login.access_token, id: login.user.id };
}

/// A clip from ffmpeg's test sources (H.264 + AAC in MP4).
export function makeClip({ seconds = 4, size = "1280x720", fps = 15 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "reelhub-clip-"));
  const path = join(dir, "clip.mp4");
  execFileSync("ffmpeg", [
    "-v", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`,
    "-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`,
    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", path,
  ]);
  return path;
}

/// Uploads `clip` as `user` over the API and waits until it is ready; returns the video.
export async function uploadReady(user, clip, title = "Test pattern") {
  const form = new FormData();
  form.append("title", title);
  form.append("file", new Blob([readFileSync(clip)], { type: "video/mp4" }), "clip.mp4");
  const video = await api("/videos/upload", { token: user.token, form });
  return until("the video to be ready", async () => {
    const v = await api(`/videos/${video.id}`, { token: user.token });
    if (v.status === "failed") throw new Error(`transcode failed: ${v.failure_reason}`);
    return v.status === "ready" && v;
  }, 180_000, 500);
}

/// The current time of the page's (first) video element.
export async function currentTime(page, selector = "video") {
  return page.$eval(selector, (v) => v.currentTime);
}

/// Waits until the video plays: its currentTime advances by `by` seconds.
export async function expectPlaying(page, label, by = 1) {
  await page.waitForSelector("video");
  const start = await until(`${label}: video has data`, async () => {
    const t = await currentTime(page);
    return t > 0 ? t : false;
  }, 60_000);
  await until(`${label}: currentTime advances`, async () => (await currentTime(page)) >= start + by, 60_000);
  step(`${label}: currentTime went from ${start.toFixed(2)} to ${(await currentTime(page)).toFixed(2)}`);
}

const require = createRequire(import.meta.url);
export const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/// axe-core on the page as it is: the serious and critical violations.
export async function axeViolations(page) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/// Runs `scenario(browser)`, closes the browser, exits 0 on success and 1 with the error.
export async function main(scenario) {
  const browser = await launch();
  let code = 0;
  try {
    await scenario(browser);
    assertNoConsoleErrors();
    step("passed");
  } catch (e) {
    console.error(e?.stack ?? String(e));
    code = 1;
  } finally {
    await browser.close().catch(() => undefined);
  }
  process.exit(code);
}
