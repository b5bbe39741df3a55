// Ingest-to-listing: how long after the last frame of a segment (or, on an LL-HLS playlist, of a
// part) was stamped by the publisher (clock.mjs: the wall time its filter graph took the frame,
// just before the encoder) that segment or part appears in the playlist. The playlist is polled
// every --poll-ms over a keep-alive connection, or, when it says CAN-BLOCK-RELOAD=YES and lists
// parts, requested with _HLS_msn/_HLS_part for the next part (a blocking reload). Each newly
// listed media file is fetched (after its EXT-X-MAP init section for fMP4) and decoded by
// ffmpeg; the clock of its last frame is read from the gray pixels. Entries already listed on the
// first read are not counted (their listing time is unknown). Prints one JSON object:
//   { unit, mode, count, unreadable, p50_ms, p99_ms, max_ms }
//
//   node bench/latency/listing.mjs <playlist-url> [--seconds 30] [--poll-ms 20]

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { WIDTH, STRIP_HEIGHT, decodeClock, msSince, percentile } from './clock.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '30' }, 'poll-ms': { type: 'string', default: '20' } },
});
if (positionals.length !== 1) {
  console.error('usage: node listing.mjs <playlist-url> [--seconds 30] [--poll-ms 20]');
  process.exit(2);
}
const playlistUrl = new URL(positionals[0]);
const pollMs = Number(opts['poll-ms']);
const endAt = Date.now() + Number(opts.seconds) * 1000;

/// The parts of a media playlist this bench needs: media files in order with their (msn, part)
/// position and the init section (EXT-X-MAP) in effect for each, and whether blocking reloads
/// are offered.
function parsePlaylist(text) {
  const entries = [];
  let msn = 0;
  let part = 0;
  let map = null;
  let canBlock = false;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) canBlock = /CAN-BLOCK-RELOAD=YES/.test(line);
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)?.[1] ?? null;
    else if (line.startsWith('#EXT-X-PART:')) {
      entries.push({ kind: 'part', uri: /URI="([^"]+)"/.exec(line)[1], independent: /INDEPENDENT=YES/.test(line),
        map, msn, part: part++ });
    } else if (line !== '' && !line.startsWith('#')) {
      entries.push({ kind: 'segment', uri: line, map, msn: msn++ });
      part = 0;
    }
  }
  const hasParts = entries.some((e) => e.kind === 'part');
  const units = entries.filter((e) => e.kind === (hasParts ? 'part' : 'segment'));
  return { units, hasParts, canBlock, nextMsn: msn, nextPart: part };
}

/// The clock of the last decodable frame of `bytes` (an MPEG-TS segment, or init + fMP4 part).
function lastFrameClock(bytes) {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-map', '0:v:0',
      '-vf', `scale=${WIDTH}:-1,crop=${WIDTH}:${STRIP_HEIGHT}:0:0`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']);
    const chunks = [];
    ffmpeg.stdout.on('data', (c) => chunks.push(c));
    ffmpeg.stderr.resume();
    ffmpeg.stdin.on('error', () => {});  // ffmpeg may stop reading early on a broken file
    ffmpeg.stdin.end(bytes);
    ffmpeg.on('error', reject);
    ffmpeg.on('close', () => {
      const raw = Buffer.concat(chunks);
      const frameBytes = WIDTH * STRIP_HEIGHT;
      const frames = Math.floor(raw.length / frameBytes);
      if (frames === 0) { resolve(null); return; }
      const base = (frames - 1) * frameBytes;
      resolve(decodeClock((x, y) => raw[base + y * WIDTH + x]));
    });
  });
}

async function get(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const seen = new Set();
const latencies = [];
let unreadable = 0;
let first = true;
let mode = `polled every ${pollMs} ms`;
let unit = 'segment';
const inits = new Map();  // EXT-X-MAP URI -> its bytes
// Media files are fetched and decoded one after another, in listing order: a part that does not
// start with a keyframe decodes only after the parts before it from the last independent one.
let decoding = Promise.resolve();
let gop = null;  // the media since the last independent part, or null before the first one

// Fetches an entry's bytes at once, when it is listed: decoding lags behind the live edge, and by
// then a part may have left the playlist's window (and the server). Settles to {media, init} or
// {error}, so a failure surfaces when measure() reaches it, not as an unhandled rejection now.
function fetchEntry(entry) {
  const init = entry.map === null || inits.has(entry.map) ? Promise.resolve(null) : get(new URL(entry.map, playlistUrl));
  return Promise.all([get(new URL(entry.uri, playlistUrl)), init]).then(
    ([media, initBytes]) => ({ media, initBytes }),
    (error) => ({ error }),
  );
}

async function measure(entry, listedAt, fetched) {
  const { media, initBytes, error } = await fetched;
  if (error) throw error;
  if (initBytes !== null && !inits.has(entry.map)) inits.set(entry.map, initBytes);
  const init = entry.map === null ? [] : [inits.get(entry.map)];
  if (entry.kind === 'part') {
    if (entry.independent) gop = [];
    if (gop === null) return;  // joined in the middle of a segment: nothing to decode from
    gop.push(media);
  }
  const bytes = Buffer.concat([...init, ...(entry.kind === 'part' ? gop : [media])]);
  const value = await lastFrameClock(bytes);
  if (value === null) ++unreadable;
  else latencies.push(msSince(value, listedAt));
}

while (Date.now() < endAt) {
  const text = (await get(playlistUrl)).toString();
  const listedAt = Date.now();
  const p = parsePlaylist(text);
  if (p.hasParts) unit = 'part';
  for (const e of p.units) {
    if (seen.has(e.uri)) continue;
    seen.add(e.uri);
    if (first) continue;
    const fetched = fetchEntry(e);
    decoding = decoding.then(() => measure(e, listedAt, fetched));
  }
  first = false;
  if (p.hasParts && p.canBlock) {
    // The next read returns once the part after the last listed one exists.
    mode = 'blocking reload (_HLS_msn/_HLS_part)';
    playlistUrl.searchParams.set('_HLS_msn', String(p.nextMsn));
    playlistUrl.searchParams.set('_HLS_part', String(p.nextPart));
  } else {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
await decoding;
const round = (v) => (v === null ? null : Math.round(v));
console.log(JSON.stringify({
  unit, mode, count: latencies.length, unreadable,
  p50_ms: round(percentile(latencies, 50)),
  p99_ms: round(percentile(latencies, 99)),
  max_ms: round(percentile(latencies, 100)),
}));
