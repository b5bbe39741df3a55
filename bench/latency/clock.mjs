// The wall clock in the picture: how the publisher draws it (an ffmpeg filter chain) and how a
// reader decodes it from pixels (the browser's canvas, or frames ffmpeg decoded to gray).
//
// Every frame is stamped with the wall time at which ffmpeg's filter graph took it (with -re,
// the moment the frame "is captured"): `setpts` replaces its timestamp with time(0) in
// microseconds, the drawbox filters read it back as `t`, and a last `setpts` restores a regular
// 25 fps timeline for the encoder. The value drawn is V = (Unix time in ms) mod 2^32, a 49.7-day
// wrap that a reader on the same machine undoes by taking its own clock mod 2^32.
//
// Layout, on the top 120 rows of a 640x360 frame: 16 columns x 3 rows of 40x40 cells, white = 1,
// black = 0. Rows 0 and 1: bits 0-15 and 16-31 of V. Row 2: columns 0-7 the bits of V mod 251 (a
// check: a misread frame is dropped, not counted), columns 8-15 reference cells white, black,
// white, ... from which the reader takes its threshold. Cells this large survive H.264 at any
// sensible bitrate; the reader averages the middle half of each cell.

export const WIDTH = 640;
export const HEIGHT = 360;
export const CELL = 40;
export const COLUMNS = 16;
export const STRIP_HEIGHT = 3 * CELL;
const CHECK_MODULUS = 251;
const WRAP = 2 ** 32;

/// The -vf chain that stamps frames of a 640x360 source at `fps` frames per second.
export function filterChain(fps) {
  const value = `mod(floor(t*1000),${WRAP})`;
  const cell = (col, row, bitOf) =>
    `drawbox=x=${col * CELL}:y=${row * CELL}:w=${CELL}:h=${CELL}:color=white:t=fill:enable='${bitOf}'`;
  const boxes = [`drawbox=x=0:y=0:w=${WIDTH}:h=${STRIP_HEIGHT}:color=black:t=fill`];
  for (let bit = 0; bit < 32; ++bit) {
    boxes.push(cell(bit % COLUMNS, Math.floor(bit / COLUMNS), `mod(floor(${value}/${2 ** bit}),2)`));
  }
  for (let bit = 0; bit < 8; ++bit) {
    boxes.push(cell(bit, 2, `mod(floor(mod(${value},${CHECK_MODULUS})/${2 ** bit}),2)`));
  }
  for (let col = 8; col < COLUMNS; col += 2) boxes.push(cell(col, 2, '1'));
  return [
    `scale=${WIDTH}:${HEIGHT}`,
    'settb=1/1000000',
    "setpts='time(0)/TB'",
    ...boxes,
    `setpts='N/${fps}/TB'`,
    `settb=1/${fps}`,
  ].join(',');
}

/// Decodes the clock from `luma(x, y)` (0-255, any monotonic brightness) over the strip in
/// frame pixels. Returns V, or null when the frame is not readable (no contrast, check fails).
export function decodeClock(luma) {
  const cellLevel = (col, row) => {
    let sum = 0;
    let n = 0;
    for (let y = row * CELL + CELL / 4; y < (row + 1) * CELL - CELL / 4; y += 2) {
      for (let x = col * CELL + CELL / 4; x < (col + 1) * CELL - CELL / 4; x += 2) {
        sum += luma(x, y);
        ++n;
      }
    }
    return sum / n;
  };
  let white = 0;
  let black = 0;
  for (let col = 8; col < COLUMNS; col += 2) {
    white += cellLevel(col, 2) / 4;
    black += cellLevel(col + 1, 2) / 4;
  }
  if (white - black < 64) return null;
  const threshold = (white + black) / 2;
  const bits = (row, from, count) => {
    let v = 0;
    for (let i = 0; i < count; ++i) if (cellLevel(from + i, row) > threshold) v += 2 ** i;
    return v;
  };
  const value = bits(0, 0, 16) + bits(1, 0, 16) * 2 ** 16;
  return bits(2, 0, 8) === value % CHECK_MODULUS ? value : null;
}

/// Milliseconds from the clock value `value` to the wall time `nowMs` (Unix ms).
export function msSince(value, nowMs) {
  return (((nowMs % WRAP) - value) % WRAP + WRAP) % WRAP;
}

/// Nearest-rank percentile `p` (0-100) of `values`; null when empty.
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

// (This file is also loaded into the player page, where there is no `process`.)
if (typeof process !== 'undefined' && import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'filter') {
  // `node clock.mjs filter FPS`: the chain for a shell script's ffmpeg command line.
  process.stdout.write(filterChain(Number(process.argv[3] ?? 25)));
}
