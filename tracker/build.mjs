// Builds the shipped tracker from src/hearth.js with the pinned esbuild and writes it where
// the Go binary embeds it. `node build.mjs --check` rebuilds in memory and fails when the
// embedded file differs (CI runs it), so the shipped file always is this source's build.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const out = new URL('../internal/tracker/hearth.js', import.meta.url);
const limit = 8 * 1024;

const result = await build({
  entryPoints: [new URL('src/hearth.js', import.meta.url).pathname],
  bundle: false,
  minify: true,
  target: 'es2017',
  charset: 'utf8',
  legalComments: 'none',
  write: false,
});
const code = result.outputFiles[0].contents;
const gz = gzipSync(code, { level: 9 }).length;
console.log(`tracker: ${code.length} bytes minified, ${gz} bytes gzipped (limit ${limit})`);
if (gz > limit) {
  console.error(`tracker: ${gz} bytes gzipped is over the ${limit}-byte limit`);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  let shipped = Buffer.alloc(0);
  try {
    shipped = readFileSync(out);
  } catch { /* missing counts as different */ }
  if (!shipped.equals(Buffer.from(code))) {
    console.error('tracker: internal/tracker/hearth.js is not the build of tracker/src/hearth.js; run `make tracker` and commit it');
    process.exit(1);
  }
  console.log('tracker: the embedded file is the build of the source');
} else {
  writeFileSync(out, code);
  console.log(`tracker: wrote ${out.pathname}`);
}
