// jssize.mjs DIST checks the size budget of the adapters (README.md, Size):
// each file as an app's bundler ships it, minified by esbuild and gzipped
// (level 9), at most its budget in bytes. The adapters share adapter.mjs
// (and the core, tabsync.mjs, which the wasm budget covers); pinia.mjs also
// imports vue.mjs. Run by tools/sizecheck.sh.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = process.argv[2] && resolve(process.argv[2]);
if (!dist) {
  console.error('usage: node tools/jssize.mjs DIST');
  process.exit(2);
}
const esbuild = createRequire(join(dist, '..', 'package.json'))('esbuild');

// Bytes gzipped; what each file adds to an app that imports it.
const budgets = {
  'adapter.mjs': 760,
  'redux.mjs': 600,
  'pinia.mjs': 400,
  'vue.mjs': 300,
  'svelte.mjs': 400,
  'valtio.mjs': 300,
  'jotai.mjs': 400,
  'react.mjs': 600,
  'devtools.mjs': 900,
};

let over = 0;
for (const [file, budget] of Object.entries(budgets)) {
  const { code } = esbuild.transformSync(readFileSync(join(dist, file), 'utf8'), { minify: true, format: 'esm' });
  const size = gzipSync(code, { level: 9 }).length;
  const ok = size <= budget;
  if (!ok) over++;
  console.log(`sizecheck: ${file.padEnd(13)} ${String(size).padStart(4)} B minified+gzipped (budget ${budget} B)${ok ? '' : '  OVER'}`);
}
if (over > 0) {
  console.error(`sizecheck: ${over} file(s) over their budget; see README.md, Size`);
  process.exit(1);
}
