// Builds dist/ from src/ with esbuild:
//   dist/tabsync.mjs  ESM entry (wasm_exec.js inlined)
//   dist/react.mjs    the hook; imports ./tabsync.mjs, react stays external
//   dist/devtools.mjs config.devtools, imported by tabsync.mjs only when on
//   dist/{redux,pinia,vue,svelte,valtio,jotai}.mjs  the store adapters; each
//                     imports ./tabsync.mjs and ./adapter.mjs (what they
//                     share), its framework stays external
//   dist/tabsync.js   script-tag build defining window.TabSync (wasm_exec.js inlined)
//   dist/*.d.ts       copied from src/
// dist/tabsync.wasm, dist/tabsync-nopersist.wasm (each .gz/.br) and
// dist/wasm_exec.js are put there beforehand by
// `make build` at the repo root.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const src = join(root, 'src');
const wasmExec = join(dist, 'wasm_exec.js');
const helpers = join(root, '..', 'jsbridge', 'helpers.js');

if (!existsSync(wasmExec)) {
  console.error(
    `build: ${wasmExec} is missing.\n` +
      'It comes from the Go toolchain that builds tabsync.wasm: run `make build` at the repo root.',
  );
  process.exit(1);
}
if (!existsSync(helpers)) {
  console.error(`build: ${helpers} is missing; the wasm module refuses to start without it.`);
  process.exit(1);
}
// `npm pack` (prepack) must not ship a package without its wasm; a plain
// build only warns, so the wrapper can be rebuilt on its own.
const requireWasm = process.argv.includes('--require-wasm');
for (const f of ['tabsync.wasm', 'tabsync.wasm.gz', 'tabsync.wasm.br', 'tabsync-nopersist.wasm', 'tabsync-nopersist.wasm.gz', 'tabsync-nopersist.wasm.br']) {
  if (existsSync(join(dist, f))) continue;
  console[requireWasm ? 'error' : 'warn'](`build: dist/${f} is missing (run \`make build\` at the repo root)`);
  if (requireWasm) process.exit(1);
}

// Replace src/go-glue.js with the text of wasm_exec.js and jsbridge/helpers.js
// wrapped in a function: the glue then runs on the first load, not at import
// time; the Go class it defines is taken without leaving our copy on
// globalThis.Go; __tabsyncHelpers stays, as the module calls it while running.
// Each runs once: the store's module and the tables' both call prepareGlue,
// and the helpers hold the store module's exports and inbox, which a second
// evaluation would replace with empty ones (the store's sync then stopped).
const inlineGoGlue = {
  name: 'inline-wasm-glue',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]go-glue\.js$/ }, () => ({
      loader: 'js',
      contents: `// Inlined by build.mjs: Go's wasm_exec.js and jsbridge/helpers.js.
let GoClass = null;
export function prepareGlue() {
  if (GoClass) return GoClass;
  (function () {
${readFileSync(helpers, 'utf8')}
  })();
  const had = Object.prototype.hasOwnProperty.call(globalThis, 'Go');
  const previous = globalThis.Go;
  (function () {
${readFileSync(wasmExec, 'utf8')}
  })();
  GoClass = globalThis.Go;
  if (had) globalThis.Go = previous;
  else delete globalThis.Go;
  return GoClass;
}
`,
      watchFiles: [wasmExec, helpers],
    }));
  },
};

// Script-tag build: resolve the default wasm URL against the <script> src.
const scriptWasmUrl = {
  name: 'script-wasm-url',
  setup(build) {
    build.onResolve({ filter: /^\.\/wasm-url\.js$/ }, () => ({ path: join(src, 'wasm-url-script.js') }));
    build.onResolve({ filter: /^\.\/tables-wasm-url\.js$/ }, () => ({ path: join(src, 'tables-wasm-url-script.js') }));
    build.onResolve({ filter: /^\.\/devtools-load\.js$/ }, () => ({ path: join(src, 'devtools-load-script.js') }));
  },
};

// The hook must share the loader (and its single module) with the main entry.
const reactImportsMain = {
  name: 'react-imports-main',
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, () => ({ path: './tabsync.mjs', external: true }));
  },
};

// The main entry loads devtools.js only when asked for: a file of its own.
const devtoolsApart = {
  name: 'devtools-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/devtools\.js$/ }, () => ({ path: './devtools.mjs', external: true }));
  },
};

// The adapters, each a subpath export; their frameworks are peers.
const adapters = ['redux', 'pinia', 'vue', 'svelte', 'valtio', 'jotai'];
const frameworks = ['redux', 'pinia', 'vue', 'svelte', 'svelte/*', 'valtio', 'valtio/*', 'jotai', 'jotai/*'];

const common = {
  // Left for the app's bundler to replace (config.devtools 'auto'); esbuild
  // would otherwise put in "development" here, "production" when minifying.
  define: { 'process.env.NODE_ENV': 'process.env.NODE_ENV' },
  bundle: true,
  target: 'es2020',
  platform: 'browser',
  legalComments: 'inline',
  logLevel: 'warning',
  charset: 'utf8',
};

await esbuild.build({
  ...common,
  entryPoints: [join(src, 'index.js')],
  outfile: join(dist, 'tabsync.mjs'),
  format: 'esm',
  plugins: [inlineGoGlue, devtoolsApart],
});

await esbuild.build({
  ...common,
  entryPoints: [join(src, 'devtools.js')],
  outfile: join(dist, 'devtools.mjs'),
  format: 'esm',
});

// Each adapter imports the main entry, the shared adapter.mjs and (pinia)
// vue.mjs as files of their own, so an app with two adapters has one copy.
const adapterImports = {
  name: 'adapter-imports',
  setup(build) {
    build.onResolve({ filter: /^\.\/(index|adapter|vue)\.js$/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const name = args.path.slice(2, -3);
      return { path: `./${name === 'index' ? 'tabsync' : name}.mjs`, external: true };
    });
  },
};
for (const name of ['adapter', ...adapters]) {
  await esbuild.build({
    ...common,
    entryPoints: [join(src, `${name}.js`)],
    outfile: join(dist, `${name}.mjs`),
    format: 'esm',
    external: frameworks,
    plugins: [adapterImports],
  });
}

await esbuild.build({
  ...common,
  entryPoints: [join(src, 'react.js')],
  outfile: join(dist, 'react.mjs'),
  format: 'esm',
  external: ['react'],
  plugins: [reactImportsMain],
});

await esbuild.build({
  ...common,
  entryPoints: [join(src, 'iife.js')],
  outfile: join(dist, 'tabsync.js'),
  format: 'iife',
  globalName: 'TabSync',
  minify: true,
  plugins: [inlineGoGlue, scriptWasmUrl],
});

const declarations = ['index.d.ts', 'react.d.ts', 'tables.d.ts', ...adapters.map((a) => `${a}.d.ts`)];
for (const f of declarations) copyFileSync(join(src, f), join(dist, f));

// The bundlers' asset detection depends on this exact shape surviving the build.
const esm = readFileSync(join(dist, 'tabsync.mjs'), 'utf8');
for (const [f, re] of [
  ['tabsync.wasm', /new URL\(["']\.\/tabsync\.wasm["'], import\.meta\.url\)/],
  ['tabsync-nopersist.wasm', /new URL\(["']\.\/tabsync-nopersist\.wasm["'], import\.meta\.url\)/],
]) {
  if (!re.test(esm)) {
    console.error(`build: dist/tabsync.mjs lost the literal new URL("./${f}", import.meta.url)`);
    process.exit(1);
  }
}
if (!/new URL\(["']\.\/tabsync-tables\.wasm["'], import\.meta\.url\)/.test(esm)) {
  console.error('build: dist/tabsync.mjs lost the literal new URL("./tabsync-tables.wasm", import.meta.url)');
  process.exit(1);
}

for (const f of ['tabsync.mjs', 'react.mjs', 'devtools.mjs', 'adapter.mjs', ...adapters.map((a) => `${a}.mjs`), 'tabsync.js', ...declarations]) {
  console.log(`dist/${f}  ${statSync(join(dist, f)).size} bytes`);
}
