// The page the e2e tests drive. It loads the built npm package (the ESM entry
// by default, the script-tag build with ?build=iife) and zustand's vanilla
// store, and puts helpers on window. Nothing syncs until a test calls
// setup(config, initialState); whatever the tabsync callbacks receive is
// recorded in window.calls.
const params = new URLSearchParams(location.search);

async function loadLibrary() {
  if (params.get('build') !== 'iife') return import('/tabsync/tabsync.mjs');
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/tabsync/tabsync.js';
    s.onload = resolve;
    s.onerror = () => reject(new Error('loading /tabsync/tabsync.js failed'));
    document.head.append(s);
  });
  return window.TabSync;
}

// The wasm memory of tabsync, for the soak test's memory figures: the Go
// module exports it as "mem". Wrapped before anything instantiates a module.
let wasmMemory = null;
for (const name of ['instantiate', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  WebAssembly[name] = async function (...args) {
    const result = await original.apply(this, args);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    if (instance && instance.exports.mem instanceof WebAssembly.Memory) wasmMemory = instance.exports.mem;
    return result;
  };
}
window.wasmBytes = () => (wasmMemory ? wasmMemory.buffer.byteLength : 0);

// The prototypes' own properties before anything ran, for clean().
const pristine = {
  object: Object.getOwnPropertyNames(Object.prototype),
  array: Object.getOwnPropertyNames(Array.prototype),
};

const lib = await loadLibrary();
// The tests reuse a tab for setups with and without persist, so the page
// loads the full module at once (an app whose instances differ calls init()
// the same way, docs/WASM-CONTRACT.md, Two modules). The module without
// persistence is the one e2e/package_test.go's app loads, and the jsbridge
// tests run built as it (make wasm-test).
await lib.init();
const { createStore } = await import('/zustand/vanilla.mjs');

Object.assign(window, {
  lib,
  store: null,
  sync: null,
  calls: { errors: [], remote: [], states: [], stateAt: [], resolver: 0 },

  // setup creates a zustand store holding initial and syncs it with config
  // (channelName included), replacing what an earlier setup made. It
  // resolves with the tab id once the instance is ready.
  async setup(config, initial = {}) {
    if (window.sync) window.sync.destroy();
    calls.errors = [];
    calls.remote = [];
    calls.states = [];
    calls.stateAt = [];
    calls.resolver = 0;
    window.store = createStore(() => ({ ...initial }));
    const user = config.customResolver;
    window.sync = lib.createBroadcastSync(store, {
      ...config,
      customResolver: user && ((local, remote) => {
        calls.resolver++;
        return user(local, remote);
      }),
      onError: (e) => calls.errors.push({ phase: e.phase, message: e.message, tabId: e.tabId }),
      onRemoteUpdate: (keys, source) => calls.remote.push({ keys: [...keys], source }),
      onSyncStateChange: (s) => {
        calls.states.push(s);
        calls.stateAt.push(Date.now()); // when, on the clock all tabs share
      },
    });
    sync.start();
    await sync.ready;
    return sync.getTabId();
  },

  // reset destroys what setup and watch made, leaving the page as loaded,
  // so that another test can use the tab.
  reset() {
    if (window.sync) sync.destroy();
    if (window.watcher) watcher.close();
    window.sync = window.store = window.watcher = window.wire = null;
  },

  // set calls store.setState(partial) and returns the time of the write.
  set(partial) {
    store.setState(partial);
    return Date.now();
  },

  // setAfter waits (spinning: a few ms at most) until Date.now() > t, then
  // sets partial, so that this write is later than one made at t in any tab.
  setAfter(t, partial) {
    while (Date.now() <= t);
    return set(partial);
  },

  // burst sets key to 0, 1, ... n-1, one value per task, gapMs apart, and
  // resolves once the last is set.
  async burst(key, n, gapMs) {
    for (let i = 0; i < n; i++) {
      store.setState({ [key]: i });
      await new Promise((r) => setTimeout(r, gapMs));
    }
    return n - 1;
  },

  // state returns the store's state as JSON can carry it: functions,
  // symbols and DOM nodes are named rather than dropped.
  state() {
    return snapshot(store.getState());
  },

  // canon returns JSON of v with object keys sorted, to compare values
  // whatever order their keys were set in.
  canon(v) {
    return JSON.stringify(v, (k, x) =>
      x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]]))
        : x);
  },

  stats() {
    return sync.getStats();
  },

  // watch listens to the channel with a plain BroadcastChannel, as a
  // developer would from the console, and keeps every message in wire.
  watch(channelName) {
    if (window.watcher) watcher.close();
    window.wire = [];
    window.watcher = new BroadcastChannel(channelName);
    watcher.onmessage = (e) => wire.push(e.data);
  },

  // attack posts messages on the channel from a BroadcastChannel of its
  // own, as any script of the origin can (the page's tabsync instance
  // receives them like messages from another tab). It returns how many
  // the browser refused to clone, which never leave this script.
  attack(channelName, messages) {
    const ch = new BroadcastChannel(channelName);
    let refused = 0;
    for (const m of messages) {
      try {
        ch.postMessage(m);
      } catch {
        refused++;
      }
    }
    ch.close();
    return refused;
  },

  // hit attacks with the messages make() returns and waits (timeoutMs at
  // most) until the instance has counted want (reason → count) more drops.
  // It resolves with the stats and the state before and after, and whether
  // the prototypes are still clean.
  async hit(channelName, make, want, timeoutMs) {
    const before = sync.getStats();
    const stateBefore = canon(store.getState());
    const refused = attack(channelName, make());
    const reached = (s) => Object.entries(want).every(([r, n]) => s.droppedByReason[r] - before.droppedByReason[r] >= n);
    const t0 = Date.now();
    while (!reached(sync.getStats()) && Date.now() - t0 < timeoutMs) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return { refused, before, after: sync.getStats(), stateBefore, stateAfter: canon(store.getState()), clean: clean() };
  },

  // clean reports whether no prototype was polluted.
  clean() {
    return Object.getOwnPropertyNames(Object.prototype).every((k) => pristine.object.includes(k)) &&
      Object.getOwnPropertyNames(Array.prototype).every((k) => pristine.array.includes(k)) &&
      ({}).polluted === undefined && [].polluted === undefined && Object.prototype.constructor === Object;
  },

  // post puts raw messages on the channel, as another tab would.
  post(channelName, ...messages) {
    const ch = new BroadcastChannel(channelName);
    for (const m of messages) ch.postMessage(m);
    ch.close();
  },
});

// The soak test (soak_test.go). Each synced tab writes random keys of
// soakKeys at random intervals; an observer tab watches the channel and
// keeps, for every key, the value of the write with the latest clock seen
// on the wire: under last-write-wins, the value every tab must end with.
window.soak = {
  keys: ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'],
  writes: 0,
  timer: 0,

  // start writes a random key every minMs to maxMs.
  start(minMs, maxMs) {
    const tab = sync.getTabId().slice(-6);
    const next = () => {
      soak.timer = setTimeout(() => {
        const k = soak.keys[Math.floor(Math.random() * soak.keys.length)];
        store.setState({ [k]: { by: tab, n: ++soak.writes } });
        next();
      }, minMs + Math.random() * (maxMs - minMs));
    };
    next();
  },

  stop() {
    clearTimeout(soak.timer);
    return soak.writes;
  },

  // state is the synced keys of the store.
  state() {
    const s = store.getState();
    return Object.fromEntries(soak.keys.filter((k) => k in s).map((k) => [k, s[k]]));
  },

  // observe starts the observer on channelName.
  observe(channelName) {
    const best = {}; // key → {wall, logical, tab, value}
    soak.best = best;
    soak.seen = { updates: 0, responses: 0, entries: 0 };
    const ch = new BroadcastChannel(channelName);
    soak.observer = ch;
    ch.onmessage = ({ data: m }) => {
      if (m.type !== 'STATE_UPDATE' && m.type !== 'STATE_RESPONSE') return;
      soak.seen[m.type === 'STATE_UPDATE' ? 'updates' : 'responses']++;
      for (const [k, version] of Object.entries(m.payload.meta)) {
        soak.seen.entries++;
        const [wall, logical, ...tab] = version.split('|')[0].split('.');
        const c = { wall: Number(wall), logical: Number(logical), tab: tab.join('.'), value: m.payload.state[k] };
        const b = best[k];
        const later = !b || c.wall > b.wall || (c.wall === b.wall && (c.logical > b.logical ||
          (c.logical === b.logical && c.tab > b.tab)));
        if (later) best[k] = c;
      }
    };
  },

  // expected is what the observer says every tab must hold.
  expected() {
    return Object.fromEntries(Object.entries(soak.best).map(([k, b]) => [k, b.value]));
  },
};

// Latency measurement (see latency_test.go). The echoing tab answers each
// new value of ping, once its store has it, with the same value as pong (a
// local write, from a microtask after the store's notification); on the
// plain channel it posts each message back. Both record the one-way time
// from the sender's timestamp on the clock the tabs share
// (performance.timeOrigin + performance.now()).
window.latency = {
  oneWay: { sync: [], raw: [] },

  echo(rawChannel) {
    const now = () => performance.timeOrigin + performance.now();
    store.subscribe((s, prev) => {
      if (s.ping === prev.ping) return;
      latency.oneWay.sync.push(now() - s.sentAt);
      queueMicrotask(() => store.setState({ pong: s.ping }));
    });
    const raw = new BroadcastChannel(rawChannel);
    raw.onmessage = (e) => {
      latency.oneWay.raw.push(now() - e.data.sentAt);
      raw.postMessage({ i: e.data.i });
    };
  },

  // measure makes n changes, one at a time, each answered before the next,
  // alternating with n plain BroadcastChannel round trips, and resolves
  // with the round-trip times in ms. A round trip that takes longer than
  // timeoutMs rejects.
  async measure(n, rawChannel, timeoutMs) {
    const raw = new BroadcastChannel(rawChannel);
    const rtt = { sync: [], raw: [] };
    const within = (what, p) =>
      Promise.race([
        p,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs)),
      ]);
    try {
      for (let i = 1; i <= n; i++) {
        let unsubscribe;
        const echoed = new Promise((resolve) => {
          unsubscribe = store.subscribe((s) => s.pong === i && resolve());
        });
        let t0 = performance.now();
        store.setState({ ping: i, sentAt: performance.timeOrigin + t0 });
        await within(`tabsync change ${i}`, echoed);
        rtt.sync.push(performance.now() - t0);
        unsubscribe();

        const back = new Promise((resolve) => {
          raw.onmessage = (e) => e.data.i === i && resolve();
        });
        t0 = performance.now();
        raw.postMessage({ i, sentAt: performance.timeOrigin + t0 });
        await within(`BroadcastChannel message ${i}`, back);
        rtt.raw.push(performance.now() - t0);
      }
    } finally {
      raw.close();
    }
    return rtt;
  },
};

function snapshot(v, depth = 0) {
  if (typeof v === 'function') return '[function]';
  if (typeof v === 'symbol') return '[symbol]';
  if (v instanceof Node) return '[node]';
  if (v === null || typeof v !== 'object' || depth > 20) return v;
  if (Array.isArray(v)) return v.map((x) => snapshot(x, depth + 1));
  const out = {};
  for (const k of Object.keys(v)) out[k] = snapshot(v[k], depth + 1);
  return out;
}

window.pageReady = true;
