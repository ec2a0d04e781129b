// The Worker variant of the bench (impl=tabsync-worker, issue 13's third
// point): tabsync's engine and its wasm module run in this dedicated Worker,
// where the Go collector's pauses do not stop the page. The page keeps the
// app's store and a thin proxy (bench.js, workerProxy): at the end of each
// task it posts the keys the task changed ({ set }), and it applies what this
// worker posts back ({ patch }).
//
// Here tabsync syncs a store of its own, a mirror of the page's: a { set }
// is a local change of the mirror (tabsync sends it at the end of this
// worker's task, as it would in the page), and each change tabsync makes to
// the mirror from another tab goes to the page as a { patch }. The worker
// also answers { wasmBytes } with the size of its wasm memory and, with the
// page's probe parameters, keeps the Go collector's pauses and mark phases
// (gctrace).
//
// An experiment, not part of the npm package: keys removed from the store
// (rather than set) and functions in it are not carried.
import { createStore } from 'zustand/vanilla';

const params = new URLSearchParams(location.search);
const channelName = params.get('ch') || 'bench';

// As in bench.js: GODEBUG=gctrace=1 (gc=1) and GOGC (gogc=N) through the Go
// class the loader takes; the collections' pauses and mark phases (ms).
const goEnv = {};
if (params.get('gc') === '1') goEnv.GODEBUG = 'gctrace=1';
if (params.get('gogc')) goEnv.GOGC = params.get('gogc');
if (Object.keys(goEnv).length > 0) {
  let traced;
  Object.defineProperty(globalThis, 'Go', {
    configurable: true,
    get: () => traced,
    set: (Go) => {
      traced = typeof Go !== 'function' ? Go : class extends Go {
        get env() { return this.traceEnv; }
        set env(v) { this.traceEnv = { ...v, ...goEnv }; }
      };
    },
  });
}
const gc = { on: false, pauses: [], marks: [] };
if (params.get('gc') === '1') {
  const log = console.log;
  const trace = /^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock/;
  console.log = (...args) => {
    if (typeof args[0] !== 'string' || !args[0].startsWith('gc ')) return log.apply(console, args);
    if (!gc.on) return undefined;
    for (const line of args[0].split('\n')) {
      const m = trace.exec(line);
      if (m) {
        gc.pauses.push(Number(m[1]), Number(m[3]));
        gc.marks.push(Number(m[2]));
      }
    }
    return undefined;
  };
}

// The wasm memory of the module, exported by Go as "mem".
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

const store = createStore(() => ({}));
let fromPage = false; // a { set } of the page is being applied
store.subscribe((state, prev) => {
  if (fromPage) return;
  const patch = {};
  let n = 0;
  for (const k in state) {
    if (state[k] !== prev[k]) {
      patch[k] = state[k];
      n++;
    }
  }
  if (n) postMessage({ patch });
});

// Messages from the page may come before tabsync is ready: the mirror takes
// them at once, and tabsync sends them when it starts (start() carries the
// changes made while the module loaded).
onmessage = (e) => {
  const m = e.data;
  if (m.set) {
    fromPage = true;
    try {
      store.setState(m.set);
    } finally {
      fromPage = false;
    }
  } else if (m.wasmBytes) {
    postMessage({ wasmBytes: wasmMemory ? wasmMemory.buffer.byteLength : 0 });
  } else if (m.probe === 'on') {
    Object.assign(gc, { on: true, pauses: [], marks: [] });
  } else if (m.probe === 'off') {
    gc.on = false;
    postMessage({ probe: { pauses: gc.pauses, marks: gc.marks } });
  }
};

const errorText = (e) => (e && e.phase ? `${e.phase}: ${e.message}` : String(e && e.message ? e.message : e));
try {
  const { createBroadcastSync } = await import('/tabsync/tabsync.mjs');
  const sync = createBroadcastSync(store, {
    channelName,
    throttleMs: 0,
    onError: (e) => postMessage({ error: errorText(e) }),
  });
  sync.start();
  await sync.ready;
  postMessage({ ready: true });
} catch (e) {
  postMessage({ error: errorText(e), fatal: true });
}
