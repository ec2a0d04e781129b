// config.devtools with the built package and the real wasm in Node: 'auto'
// follows process.env.NODE_ENV as read when the instance is created (a
// bundler replaces it), true turns it on anywhere, and the measures and
// extension actions appear. The browser test (e2e/adapters_test.go
// TestDevtools) checks the same in Chromium, and that devtools.mjs is not
// fetched when off. Skipped until `make build` has made dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { store } from './store.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const built = ['tabsync.mjs', 'devtools.mjs', 'tabsync.wasm'].every((f) => existsSync(dist + f));
const skip = built ? false : 'dist/ not built (run `make build` at the repo root)';

async function until(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
}

test('devtools: true and auto in development show updates; auto in production and off do not', { skip }, async (t) => {
  globalThis.fetch = async () =>
    new Response(readFileSync(dist + 'tabsync.wasm'), { headers: { 'Content-Type': 'application/wasm' } });
  const { createBroadcastSync } = await import(dist + 'tabsync.mjs');
  const connected = [];
  const actions = {};
  globalThis.__REDUX_DEVTOOLS_EXTENSION__ = {
    connect({ name }) {
      connected.push(name);
      actions[name] = [];
      return { init() {}, send: (a) => actions[name].push(a), subscribe() {}, unsubscribe() {} };
    },
  };
  const measures = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => measures.push(e.name)));
  observer.observe({ entryTypes: ['measure'] });
  const env = process.env.NODE_ENV;
  t.after(() => {
    observer.disconnect();
    delete globalThis.__REDUX_DEVTOOLS_EXTENSION__;
    if (env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = env;
  });

  const channelName = `devtools-${process.pid}`;
  const make = (devtools) => {
    const st = store({ n: 0 });
    const sync = createBroadcastSync(st, { channelName, throttleMs: 0, devtools });
    sync.store = st;
    return sync;
  };
  process.env.NODE_ENV = 'production';
  const off = [make(false), make('auto')];
  process.env.NODE_ENV = 'development';
  const a = make('auto');
  const b = make(true);
  const all = [...off, a, b];
  t.after(() => all.forEach((s) => s.destroy()));
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.ready));
  const name = (s) => `tabsync ${channelName} ${s.getTabId().slice(-6)}`;
  assert.ok(await until(() => connected.length === 2), 'the two instances with devtools on connect');
  assert.deepEqual(connected.sort(), [name(a), name(b)].sort(), 'off, and auto in production, never connect');
  assert.ok(await until(() => all.every((s) => s.getConnectedTabs() === 4)));

  a.store.setState({ n: 1 });
  assert.ok(await until(() => b.store.getState().n === 1 && off[0].store.getState().n === 1));
  assert.ok(await until(() => actions[name(b)].some((x) => x.type === 'tabsync/applied')));
  assert.deepEqual(
    actions[name(a)].filter((x) => x.type === 'tabsync/sent' && x.message === 'STATE_UPDATE'),
    [{ type: 'tabsync/sent', message: 'STATE_UPDATE', keys: ['n'] }],
  );
  assert.deepEqual(actions[name(b)].filter((x) => x.type === 'tabsync/applied'), [
    { type: 'tabsync/applied', keys: ['n'], source: a.getTabId() },
  ]);
  assert.ok(await until(() => ['tabsync:send', 'tabsync:receive', 'tabsync:apply'].every((m) => measures.includes(m))), measures.join());
  // Two applying instances with devtools on would give two apply measures.
  assert.equal(measures.filter((m) => m === 'tabsync:apply').length, 1, 'only b measures its apply');
});
