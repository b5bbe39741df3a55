// hls.js in headless Chromium, playing one HLS playlist: the player of the browser tests
// (tests/browser/) and of bench/latency. Debian's `chromium` is driven by npm `puppeteer-core`;
// hls.js comes from the repository's node_modules, served with the player page by a small HTTP
// server on 127.0.0.1 (no CDN: the machine may have no internet). The page's origin differs from
// the stream's, so the stream's server must answer with Access-Control-Allow-Origin (Reelhub does).

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);

// The page: a muted video element and `window.player`, which starts hls.js and keeps what the
// callers read back (fatal errors, stalls). A stall is a `waiting` event after playback began,
// until the next `playing`.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>reelhub hls player</title>
<script src="/hls.min.js"></script></head>
<body style="margin:0;background:#000">
<video id="video" muted playsinline autoplay width="640" height="360"></video>
<script>
window.player = {
  errors: [], fatal: null, stalls: [], stallStart: null, started: false, jumps: 0,
  start(url, lowLatency) {
    const video = document.getElementById('video');
    if (!Hls.isSupported()) { this.fatal = 'hls.js: MediaSource is not supported in this browser'; return; }
    // Up to 1.5x speed to reach the playlist's hold-back (PART-HOLD-BACK, or three target
    // durations): at hls.js's default of 1x, a player that started further back stays there.
    const hls = new Hls({ lowLatencyMode: lowLatency, enableWorker: true, maxLiveSyncPlaybackRate: 1.5 });
    this.hls = hls;
    hls.on(Hls.Events.ERROR, (_, d) => {
      const what = d.type + '/' + d.details + (d.response ? ' (HTTP ' + d.response.code + ')' : '');
      this.errors.push(what);
      if (d.fatal) this.fatal = what;
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => { this.fatal = 'play(): ' + e; }));
    video.addEventListener('playing', () => {
      this.started = true;
      if (this.stallStart !== null) {
        this.stalls.push({ at: this.stallStart, ms: performance.now() - this.stallStart });
        this.stallStart = null;
      }
    });
    video.addEventListener('waiting', () => {
      if (this.started && this.stallStart === null) this.stallStart = performance.now();
    });
    // hls.js speeds up only within one target duration of its target latency; further behind (a
    // slow start, a stall) it would stay there: jump to the live edge, at most every 5 s. The web
    // client's player (web/src/player.tsx) follows the same rule.
    let jumpedAt = -Infinity;
    video.addEventListener('timeupdate', () => {
      const details = hls.latestLevelDetails;
      if (!details || !details.live || hls.targetLatency === null || hls.liveSyncPosition === null) return;
      if (hls.latency <= hls.targetLatency + details.targetduration || video.readyState < 3) return;
      if (performance.now() - jumpedAt < 5000) return;
      jumpedAt = performance.now();
      this.jumps += 1;
      video.currentTime = hls.liveSyncPosition;
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  },
};
</script></body></html>`;

/// Serves the player page at / and hls.js at /hls.min.js; resolves to the server once listening.
async function servePage() {
  const hlsJs = await readFile(require.resolve('hls.js/dist/hls.min.js'));
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(hlsJs);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/// Opens the player on `url` (an HLS playlist). Returns { page, close }; `page.evaluate` reads
/// `window.player` and the video element (#video).
export async function openPlayer(url, { lowLatency = false } = {}) {
  const server = await servePage();
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: process.env.REELHUB_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: [
        '--autoplay-policy=no-user-gesture-required',
        '--mute-audio',
        // The tests run as root in containers, where Chromium's sandbox cannot start.
        '--no-sandbox',
        // /dev/shm is small in containers; Chromium then crashes decoding video.
        '--disable-dev-shm-usage',
      ],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 640, height: 360 });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.evaluate((u, ll) => window.player.start(u, ll), url, lowLatency);
    return {
      page,
      async close() {
        await browser.close();
        server.close();
      },
    };
  } catch (e) {
    if (browser) await browser.close();
    server.close();
    throw e;
  }
}

/// Resolves when `predicate` (evaluated in the page) returns a truthy value; rejects after
/// `timeoutMs`, or as soon as hls.js reports a fatal error.
export async function waitInPage(page, predicate, timeoutMs, what) {
  try {
    await page.waitForFunction(
      `window.player.fatal !== null || (${predicate})`, { timeout: timeoutMs, polling: 100 });
  } catch (e) {
    throw new Error(`${what}: not within ${timeoutMs} ms (${e.message}); ${await describe(page)}`);
  }
  const fatal = await page.evaluate(() => window.player.fatal);
  if (fatal !== null) throw new Error(`${what}: hls.js stopped with a fatal error: ${fatal}; ${await describe(page)}`);
}

/// The player's state, for failure messages.
export async function describe(page) {
  return page.evaluate(() => {
    const v = document.getElementById('video');
    return `currentTime ${v.currentTime.toFixed(2)}, readyState ${v.readyState}, paused ${v.paused}, ` +
      `errors [${window.player.errors.join(', ')}], stalls ${window.player.stalls.length}`;
  });
}
