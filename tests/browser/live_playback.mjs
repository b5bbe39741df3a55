// hls.js in headless Chromium plays a live HLS playlist: the video element's currentTime must
// advance by ADVANCE_S seconds of media. With --low-latency, hls.js runs in lowLatencyMode and
// the playlist as it parsed it must be a low-latency one (parts, blocking reload), so a playlist
// that lost its LL-HLS tags fails even though it still plays. Run by
// tests/browser/live_playback_test.cpp against a Reelhub stream that real ffmpeg publishes;
// usable by hand against any playlist:
//
//   node tests/browser/live_playback.mjs <playlist-url> [--low-latency]
//
// Exit status 0 when it played, 1 with the player's state on stderr when it did not.

import { openPlayer, waitInPage, describe } from '../support/hls_player.mjs';

const ADVANCE_S = 4;
const START_TIMEOUT_MS = 30_000;
const ADVANCE_TIMEOUT_MS = (ADVANCE_S + 10) * 1000;

const [url, flag] = process.argv.slice(2);
if (!url || (flag !== undefined && flag !== '--low-latency')) {
  console.error('usage: node live_playback.mjs <playlist-url> [--low-latency]');
  process.exit(2);
}

const player = await openPlayer(url, { lowLatency: flag === '--low-latency' });
try {
  const started = 'document.getElementById("video").currentTime > 0';
  await waitInPage(player.page, started, START_TIMEOUT_MS, 'playback start');
  const from = await player.page.evaluate(() => document.getElementById('video').currentTime);
  await waitInPage(player.page, `document.getElementById("video").currentTime >= ${from + ADVANCE_S}`,
    ADVANCE_TIMEOUT_MS, `currentTime advancing ${ADVANCE_S} s from ${from.toFixed(2)}`);
  if (flag === '--low-latency') {
    const ll = await player.page.evaluate(() => {
      const details = window.player.hls.latestLevelDetails;
      return { parts: details?.partList?.length ?? 0, canBlockReload: details?.canBlockReload === true };
    });
    if (ll.parts === 0 || !ll.canBlockReload) {
      throw new Error(`hls.js did not see a low-latency playlist: ${ll.parts} parts listed, ` +
        `CAN-BLOCK-RELOAD ${ll.canBlockReload}; ${await describe(player.page)}`);
    }
  }
  console.log(`played ${url}${flag ? ' (low-latency mode)' : ''}: ${await describe(player.page)}`);
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await player.close();
}
