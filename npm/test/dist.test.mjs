// Smoke test of the built files (skipped until `make build` has made dist/):
// the ESM build loads the real tabsync.wasm through its inlined Go glue and
// two instances in one process sync over Node's BroadcastChannel; the IIFE
// build defines TabSync with the public names and resolves the default wasm
// URL against its <script> src. Browser behaviour is tested in Chromium by the
// e2e suite; this only guards the build and the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { store } from './store.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const built = ['tabsync.mjs', 'tabsync.js', 'tabsync.wasm', 'tabsync-nopersist.wasm'].every((f) => existsSync(dist + f));
const skip = built ? false : 'dist/ not built (run `make build` at the repo root)';

async function until(check, ms = 3000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

test('the ESM build loads the wasm and two instances sync', { skip }, async () => {
  const realFetch = globalThis.fetch;
  const fetched = [];
  globalThis.fetch = async (url) => {
    fetched.push(String(url));
    const file = String(url).split('/').pop();
    return new Response(readFileSync(dist + file), { headers: { 'Content-Type': 'application/wasm' } });
  };
  try {
    const { createBroadcastSync } = await import(dist + 'tabsync.mjs');
    assert.equal(fetched.length, 0, 'nothing is fetched at import time');
    const a = store({ n: 0, draft: 'a' });
    const b = store({ n: 0, draft: 'b' });
    const errors = [];
    const config = { channelName: `dist-smoke-${process.pid}`, throttleMs: 0, excludeKeys: ['draft'], onError: (e) => errors.push(e) };
    const sa = createBroadcastSync(a, config);
    const sb = createBroadcastSync(b, config);
    sa.start();
    sb.start();
    assert.equal(sa.isActive(), true);
    await Promise.all([sa.ready, sb.ready]);
    assert.equal(fetched.length, 1, 'one fetch for the page');
    assert.match(fetched[0], /\/dist\/tabsync-nopersist\.wasm$/, 'no persist: the module without it, beside tabsync.mjs');
    assert.equal(sa.isActive(), true);
    a.setState({ n: 5, draft: 'changed' });
    assert.ok(await until(() => b.getState().n === 5), 'b received n');
    assert.equal(b.getState().draft, 'b', 'excluded key stays');
    assert.ok(await until(() => sa.getConnectedTabs() === 2));
    sa.stop();
    assert.equal(sa.isActive(), false);
    sa.destroy();
    sb.destroy();
    assert.deepEqual(errors, []);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('the IIFE build defines TabSync and takes the wasm URL from its script tag', { skip }, async () => {
  const fetched = [];
  const sandbox = {
    document: { currentScript: { src: 'https://cdn.example/tabsync@0.1.0/dist/tabsync.js' } },
    URL,
    console,
    fetch: async (url) => {
      fetched.push(String(url));
      return new Response('', { status: 404 });
    },
    WebAssembly,
    Promise,
    crypto,
    performance,
    TextEncoder,
    TextDecoder,
  };
  sandbox.globalThis = sandbox;
  sandbox.window = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(readFileSync(dist + 'tabsync.js', 'utf8'), sandbox);
  assert.deepEqual(Object.keys(sandbox.TabSync).sort(), ['IndexedDBSync', 'createBroadcastSync', 'createTableSync', 'init', 'isSupported']);
  sandbox.document.currentScript = null; // as after the script ran
  await assert.rejects(sandbox.TabSync.init(), /404/);
  assert.deepEqual(fetched, ['https://cdn.example/tabsync@0.1.0/dist/tabsync.wasm']);
});

// The three ways an app reaches tabsync expose the same public names and
// nothing else: the ESM entry's exports, the script-tag build's TabSync
// global, and the values the type declarations export (types aside).
// Internals (tabsync/react's lazy load) travel by src/private.js.
test('the ESM entry, the script-tag global and index.d.ts expose the same names', { skip }, async () => {
  const esm = Object.keys(await import(dist + 'tabsync.mjs')).sort();

  const sandbox = { document: { currentScript: null }, URL, console, WebAssembly, Promise, crypto, performance, TextEncoder, TextDecoder };
  sandbox.globalThis = sandbox;
  sandbox.window = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(readFileSync(dist + 'tabsync.js', 'utf8'), sandbox);
  const global = Object.keys(sandbox.TabSync).sort();

  const ts = (await import('typescript')).default;
  const program = ts.createProgram([dist + 'index.d.ts'], { noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dist + 'index.d.ts'));
  const declared = checker
    .getExportsOfModule(moduleSymbol)
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.name)
    .sort();

  const want = ['IndexedDBSync', 'createBroadcastSync', 'createTableSync', 'init', 'isSupported'];
  assert.deepEqual(esm, want, 'the ESM entry');
  assert.deepEqual(global, want, 'window.TabSync');
  assert.deepEqual(declared, want, 'index.d.ts');
});
