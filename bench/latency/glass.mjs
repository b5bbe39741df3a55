// Glass-to-glass latency of one HLS playlist whose picture carries the wall clock (clock.mjs):
// hls.js in headless Chromium (tests/support/hls_player.mjs) plays it; for every frame the
// browser presents, requestVideoFrameCallback gives the time it is shown, the frame is drawn to a
// canvas and the clock read off it. Prints one JSON object:
//   { frames, unreadable, p50_ms, p99_ms, max_ms, stalls, stall_ms, hls_latency_s, hls_target_latency_s, jumps_to_live }
//
//   node bench/latency/glass.mjs <playlist-url> [--low-latency] [--seconds 30] [--warmup 6]
//
// --warmup: seconds of playback before the window (hls.js settles on its live position).

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openPlayer, waitInPage } from '../../tests/support/hls_player.mjs';
import { WIDTH, STRIP_HEIGHT, percentile } from './clock.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'low-latency': { type: 'boolean', default: false },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '6' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node glass.mjs <playlist-url> [--low-latency] [--seconds 30] [--warmup 6]');
  process.exit(2);
}
const seconds = Number(opts.seconds);
const warmup = Number(opts.warmup);

const player = await openPlayer(positionals[0], { lowLatency: opts['low-latency'] });
try {
  const { page } = player;
  const clockSource = await readFile(new URL('./clock.mjs', import.meta.url), 'utf8');
  await page.addScriptTag({ type: 'module', content: `${clockSource}\nwindow.clock = { decodeClock, msSince };` });
  await waitInPage(page, 'window.player.started && window.clock !== undefined', 30_000, 'playback start');

  const result = await page.evaluate(async (warmupS, windowS, width, height) => {
    const video = document.getElementById('video');
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const from = performance.now() + warmupS * 1000;
    const to = from + windowS * 1000;
    const latencies = [];
    let unreadable = 0;
    await new Promise((resolve) => {
      const onFrame = (_, meta) => {
        const shown = meta.expectedDisplayTime;
        if (shown >= to) { resolve(); return; }
        if (shown >= from) {
          ctx.drawImage(video, 0, 0, width, height, 0, 0, width, height);
          const pixels = ctx.getImageData(0, 0, width, height).data;
          // Luma of sRGB (BT.601 weights): the drawn cells are grey levels, any weighting works.
          const value = window.clock.decodeClock((x, y) => {
            const i = (y * width + x) * 4;
            return 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
          });
          if (value === null) ++unreadable;
          else latencies.push(window.clock.msSince(value, performance.timeOrigin + shown));
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      // A player that stops presenting frames altogether must not hang the bench.
      setTimeout(resolve, (warmupS + windowS) * 1000 + 15_000);
    });
    const now = performance.now();
    const stalls = window.player.stalls.filter((s) => s.at >= from && s.at < to)
      .map((s) => Math.min(s.ms, to - s.at));
    const open = window.player.stallStart;
    if (open !== null && open < to) stalls.push(Math.min(now, to) - Math.max(open, from));
    return { latencies, unreadable, stalls, hlsLatency: window.player.hls.latency,
      hlsTarget: window.player.hls.targetLatency, jumps: window.player.jumps, fatal: window.player.fatal };
  }, warmup, seconds, WIDTH, STRIP_HEIGHT);

  if (result.fatal !== null) throw new Error(`hls.js stopped with a fatal error: ${result.fatal}`);
  const round = (v) => (v === null ? null : Math.round(v));
  console.log(JSON.stringify({
    frames: result.latencies.length,
    unreadable: result.unreadable,
    p50_ms: round(percentile(result.latencies, 50)),
    p99_ms: round(percentile(result.latencies, 99)),
    max_ms: round(percentile(result.latencies, 100)),
    stalls: result.stalls.length,
    stall_ms: Math.round(result.stalls.reduce((a, b) => a + b, 0)),
    hls_latency_s: Number(result.hlsLatency.toFixed(2)),
    hls_target_latency_s: result.hlsTarget === null ? null : Number(result.hlsTarget.toFixed(2)),
    jumps_to_live: result.jumps,
  }));
} catch (e) {
  console.error(`glass: ${e.message}`);
  process.exitCode = 1;
} finally {
  await player.close();
}
