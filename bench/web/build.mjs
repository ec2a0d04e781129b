// Bundles src/bench.js with the peer libraries from node_modules (installed
// from package-lock.json) into dist/bench.js, one ES module for the page,
// and src/worker.js into dist/worker.js, the Worker variant's worker.
// tabsync is not bundled: the page imports the package's own build from
// /tabsync/, as an app would.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
await esbuild.build({
  // worker.js: the Worker variant's worker (impl=tabsync-worker).
  entryPoints: [join(web, 'src', 'bench.js'), join(web, 'src', 'worker.js')],
  outdir: join(web, 'dist'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  external: ['/tabsync/*'],
  logLevel: 'warning',
});
console.log('bench/web/dist/bench.js, bench/web/dist/worker.js');
