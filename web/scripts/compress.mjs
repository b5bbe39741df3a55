// Writes a .br and a .gz beside every compressible file of the build (node's zlib, best
// levels), so Reelhub sends them as they are by Accept-Encoding, with no work per request.
// A variant that does not save at least 5 % is not written.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { readdirSync, readFileSync, statSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? "dist";
const compressible = /\.(html|js|mjs|css|svg|json|txt|webmanifest)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let written = 0;
for (const path of files(root)) {
  if (!compressible.test(path)) continue;
  const bytes = readFileSync(path);
  const variants = {
    ".br": brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }),
    ".gz": gzipSync(bytes, { level: 9 }),
  };
  for (const [suffix, packed] of Object.entries(variants)) {
    if (packed.length <= bytes.length * 0.95) {
      writeFileSync(path + suffix, packed);
      written++;
    } else {
      rmSync(path + suffix, { force: true });
    }
  }
}
console.log(`compress: ${written} precompressed files in ${root}`);
