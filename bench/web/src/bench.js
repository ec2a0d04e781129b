// The page side of `make bench`. Each tab runs one implementation of
// cross-tab state sync, chosen by the URL, over a zustand store:
//
//   impl=bc        a plain BroadcastChannel: each setState posts its changed
//                  keys, the other tabs setState what arrives (the physical
//                  limit: no library does less)
//   impl=tabsync   tabsync (createBroadcastSync, throttleMs 0)
//   impl=bcl       the same few lines as bc over the npm broadcast-channel
//   impl=zst       the npm zustand-sync-tabs middleware
//   impl=floor     no sync: the Go floor (tools/sizefloor/jsonly) loaded by
//                  tabsync's loader, for the start-up figure
//
// and, for the leader figures, role=elect with impl=tabsync, bcl-locks or
// bcl-msg (broadcast-channel's elector with Web Locks, or with its message
// protocol when the page hides navigator.locks).
//
// The loops that are timed run here, in the page, so that no DevTools round
// trip lies inside a measured interval. Times are taken on the clock that
// every tab of the browser shares, performance.timeOrigin + performance.now()
// (the Go side checks that it agrees across tabs). The Go program drives the
// page through window.bench and reads the figures back.
import { createStore } from 'zustand/vanilla';
import { syncTabs } from 'zustand-sync-tabs';
import { BroadcastChannel as PeerChannel, createLeaderElection } from 'broadcast-channel';

const params = new URLSearchParams(location.search);
const impl = params.get('impl') || 'bc';
const channelName = params.get('ch') || 'bench';
const role = params.get('role') || 'sync';
const persist = params.get('persist') === '1';
const id = Math.random().toString(36).slice(2, 10);

const now = () => performance.timeOrigin + performance.now();
// The page's own timers go through the browser's setTimeout, never through
// the probe's wrapper below.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const sleep = (ms) => new Promise((resolve) => realSetTimeout(resolve, ms));

// The main-thread probe of figure 9 (probe=1): every callback tabsync runs
// on the main thread, timed while on: the channel's message listeners, the
// microtasks (its end-of-task flush) and the timers (its own, and the Go
// runtime's, in which the collector's background work runs), and the Long
// Tasks API's tasks of 50 ms or more. With gc=1 the Go runtime prints a
// line per collection (GODEBUG=gctrace=1), from which the two
// stop-the-world pauses of each cycle and its mark phase are kept.
// Each callback over 16 ms is also kept (when it ran, how long, its kind),
// and with gc=1 each collection's interval, so that probeOff can tell how
// much of a slow callback a collection took.
const probe = {
  on: false, t0: 0, t1: 0, tasks: 0, max: 0, maxWarm: 0, over16: 0, slow: [], cycles: [],
  long: [], pauses: [], marks: [], markCPU: [], endedCPU: 0, preMax: 0,
};
// The first callbacks of a fresh tab run code for the first time (V8
// compiles a wasm function at its first call, and JavaScript's too): the
// longest after these is kept apart (maxWarm).
const probeWarmUp = 100;
// timed wraps fn so that each of its calls is timed while the probe is on.
const timed = (fn, kind) => function (...args) {
  if (!probe.on) {
    // Before the probe is on (the page's start-up): only the longest.
    const t = performance.now();
    try {
      return fn.apply(this, args);
    } finally {
      probe.preMax = Math.max(probe.preMax, performance.now() - t);
    }
  }
  const t = performance.now();
  const cpu0 = probe.endedCPU;
  try {
    return fn.apply(this, args);
  } finally {
    const d = performance.now() - t;
    probe.tasks++;
    if (d > probe.max) probe.max = d;
    if (probe.tasks > probeWarmUp && d > probe.maxWarm) probe.maxWarm = d;
    if (d > 16) {
      probe.over16++;
      // endedGCMs: the CPU time of the collections that ended inside this
      // callback (gctrace prints a cycle's line at its end, synchronously).
      probe.slow.push({ at: t, ms: d, kind, n: probe.tasks, endedGCMs: probe.endedCPU - cpu0 });
    }
  }
};
if (params.get('probe') === '1') {
  const wrapped = new WeakMap();
  const { addEventListener: add, removeEventListener: remove } = BroadcastChannel.prototype;
  BroadcastChannel.prototype.addEventListener = function (type, fn, ...rest) {
    if (typeof fn !== 'function') return add.call(this, type, fn, ...rest);
    if (!wrapped.has(fn)) wrapped.set(fn, timed(fn, 'channel'));
    return add.call(this, type, wrapped.get(fn), ...rest);
  };
  BroadcastChannel.prototype.removeEventListener = function (type, fn, ...rest) {
    return remove.call(this, type, wrapped.get(fn) || fn, ...rest);
  };
  const queue = globalThis.queueMicrotask.bind(globalThis);
  globalThis.queueMicrotask = (fn) => queue(timed(fn, 'microtask'));
  globalThis.setTimeout = (fn, ...rest) => realSetTimeout(typeof fn === 'function' ? timed(fn, 'timer') : fn, ...rest);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.long.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask' });
  } catch {
    probe.long = null; // no Long Tasks API
  }
}
// With gc=1, GODEBUG=gctrace=1 beside whatever the loader sets (GOGC); with
// gogc=N (bench -gogc), GOGC=N instead of the loader's: the Go glue defines
// globalThis.Go when tabsync loads its module, and the loader assigns go.env
// after new Go(), through the setter of this subclass.
const goEnv = {};
let goStartedAt = 0;
if (params.get('gc') === '1') goEnv.GODEBUG = 'gctrace=1';
if (params.get('gogc')) goEnv.GOGC = params.get('gogc');
if (Object.keys(goEnv).length > 0) {
  let traced;
  Object.defineProperty(globalThis, 'Go', {
    configurable: true,
    get: () => traced,
    set: (Go) => {
      // The loader puts back what was there before (nothing) once it has
      // taken the class.
      traced = typeof Go !== 'function' ? Go : class extends Go {
        get env() { return this.traceEnv; }
        set env(v) { this.traceEnv = { ...v, ...goEnv }; }
        // gctrace times a cycle from the runtime's start ("@1.234s").
        run(instance) {
          goStartedAt = performance.now();
          return super.run(instance);
        }
      };
    },
  });
}
if (params.get('gc') === '1') {
  const log = console.log;
  const trace = /^gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, ([\d.]+)\+([\d.]+)\/([\d.]+)\/([\d.]+)\+([\d.]+) ms cpu/;
  console.log = (...args) => {
    if (typeof args[0] !== 'string' || !args[0].startsWith('gc ')) return log.apply(console, args);
    if (!probe.on) return undefined;
    for (const line of args[0].split('\n')) {
      const m = trace.exec(line);
      if (m) {
        const [from, pause1, mark, pause2] = [1, 2, 3, 4].map((i) => Number(m[i]));
        probe.pauses.push(pause1, pause2);
        probe.marks.push(mark);
        const at = goStartedAt + from * 1000;
        probe.cycles.push({ from: at, to: at + pause1 + mark + pause2 });
        // The CPU the cycle took: its two pauses, and its marking by the
        // allocating code (assists), the background worker and the idle
        // worker (the runtime's gctrace fields).
        const [stw1, assist, bg, idle, stw2] = [5, 6, 7, 8, 9].map((i) => Number(m[i]));
        probe.markCPU.push({ assist, bg, idle, stw: stw1 + stw2 });
        probe.endedCPU += stw1 + assist + bg + idle + stw2;
      }
    }
    return undefined;
  };
}

// The wasm memory of tabsync, for the memory figure: the Go module exports
// it as "mem". Wrapped before anything can instantiate a module.
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

const errors = [];
const restore = { createAt: 0, readyAt: 0, at: 0 };
function noteError(e) {
  if (errors.length < 50) errors.push(e && e.phase ? `${e.phase}: ${e.message}` : String(e));
}

// channelSync is what a developer writes by hand over a channel: on a local
// setState, post the keys whose value changed; apply what comes in.
function channelSync(store, post, listen) {
  let applying = false;
  store.subscribe((state, prev) => {
    if (applying) return;
    const out = {};
    let n = 0;
    for (const k in state) {
      const v = state[k];
      if (v !== prev[k] && typeof v !== 'function') {
        out[k] = v;
        n++;
      }
    }
    if (n) post(out);
  });
  listen((data) => {
    applying = true;
    try {
      store.setState(data);
    } finally {
      applying = false;
    }
  });
}

// workerProxy is the page's side of the Worker variant (impl=tabsync-worker,
// worker.js): the store stays here, tabsync runs in a dedicated Worker. The
// keys the page's tasks change go to the worker once per task, in a
// microtask (as tabsync batches them itself); the worker's patches, the
// other tabs' changes, are applied with setState. The worker's messages are
// timed by the probe as tabsync's callbacks are.
async function workerProxy() {
  const store = createStore(() => ({}));
  const q = new URLSearchParams({ ch: channelName });
  for (const k of ['gc', 'gogc']) if (params.get(k)) q.set(k, params.get(k));
  const worker = new Worker(new URL('./worker.js?' + q, import.meta.url), { type: 'module' });
  let applying = false;
  let pending = null;
  store.subscribe((state, prev) => {
    if (applying) return;
    for (const k in state) {
      const v = state[k];
      if (v !== prev[k] && typeof v !== 'function') {
        if (!pending) {
          pending = {};
          queueMicrotask(() => {
            const set = pending;
            pending = null;
            worker.postMessage({ set });
          });
        }
        pending[k] = v;
      }
    }
  });
  const replies = new Map(); // what the page waits for from the worker, by kind
  const ready = new Promise((resolve, reject) => replies.set('ready', { resolve, reject }));
  worker.addEventListener('message', timed((e) => {
    const m = e.data;
    if (m.patch) {
      applying = true;
      try {
        store.setState(m.patch);
      } finally {
        applying = false;
      }
      return;
    }
    if (m.error) {
      noteError(m.error);
      if (m.fatal && replies.has('ready')) replies.get('ready').reject(new Error(m.error));
      return;
    }
    for (const kind of ['ready', 'wasmBytes', 'probe']) {
      if (m[kind] !== undefined && replies.has(kind)) {
        replies.get(kind).resolve(m[kind]);
        replies.delete(kind);
      }
    }
  }, 'worker'));
  worker.addEventListener('error', (e) => noteError('worker: ' + (e.message || 'failed to load')));
  // ask posts a question to the worker and resolves with its answer.
  const ask = (kind, message) => new Promise((resolve) => {
    replies.set(kind, { resolve });
    worker.postMessage(message);
  });
  workerAsk = ask;
  await ready;
  return { store, set: store.setState };
}
// workerAsk(kind, message) asks the worker of the Worker variant.
let workerAsk = null;

// setUp creates the store and its sync; it returns { store, set }.
async function setUp() {
  switch (impl) {
    case 'bc': {
      const store = createStore(() => ({}));
      const ch = new BroadcastChannel(channelName);
      channelSync(store, (m) => ch.postMessage(m), (apply) => (ch.onmessage = (e) => apply(e.data)));
      return { store, set: store.setState };
    }
    case 'bcl': {
      const store = createStore(() => ({}));
      const ch = new PeerChannel(channelName);
      channelSync(store, (m) => ch.postMessage(m).catch(noteError), (apply) => (ch.onmessage = apply));
      return { store, set: store.setState };
    }
    case 'zst': {
      // The middleware syncs what goes through the set it hands to the
      // store's creator, not store.setState: write through an action.
      const store = createStore(syncTabs((set) => ({ $set: (p) => set(p) }), { name: channelName, exclude: ['$set'] }));
      return { store, set: (p) => store.getState().$set(p) };
    }
    case 'tabsync': {
      const { createBroadcastSync } = await import('/tabsync/tabsync.mjs');
      const store = createStore(() => ({}));
      // For the persistence figure: when the filler data first shows up.
      restore.createAt = now();
      store.subscribe((state) => {
        if (!restore.at && Array.isArray(state.f9)) restore.at = now();
      });
      const config = { channelName, throttleMs: 0, onError: noteError, debug: params.get('debug') === '1' };
      if (persist) config.persist = { dbName: 'bench-' + channelName };
      const sync = createBroadcastSync(store, config);
      sync.start();
      await sync.ready;
      restore.readyAt = now();
      window.tabsyncInstance = sync;
      return { store, set: store.setState, sync };
    }
    case 'tabsync-worker':
      return workerProxy();
  }
  if (impl === 'floor') {
    // The Go floor of start-up: a module that imports only syscall/js,
    // loaded and started by tabsync's own loader (init waits until it
    // registers).
    const { init } = await import('/tabsync/tabsync.mjs');
    await init({ wasmUrl: '/floor/floor.wasm' });
    return { store: createStore(() => ({})), set: () => {} };
  }
  throw new Error('unknown impl ' + impl);
}

// Election pages: start an elector and note when this tab becomes leader.
const leader = { startedAt: 0, leaderAt: 0, grantedAt: 0 };
let isLeader = () => false;
async function setUpElection() {
  // When the browser grants this tab the election's Web Lock (tabsync's is
  // named after the channel, broadcast-channel's too): the handover splits
  // into the browser's part, up to the grant, and the library's, after.
  if (navigator.locks) {
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (name, ...rest) => {
      const cb = rest.pop();
      return request(name, ...rest, (lock) => {
        if (lock && name.endsWith(channelName)) leader.grantedAt = now();
        return cb(lock);
      });
    };
  }
  if (impl === 'tabsync') {
    const { createBroadcastSync } = await import('/tabsync/tabsync.mjs');
    const store = createStore(() => ({}));
    const sync = createBroadcastSync(store, {
      channelName,
      throttleMs: 0,
      enableLeaderElection: true,
      onError: noteError,
      // 'leader' is reported the moment this tab becomes leader.
      onSyncStateChange: (state) => {
        if (state === 'leader' && !leader.leaderAt) leader.leaderAt = now();
      },
    });
    sync.start();
    window.tabsyncInstance = sync;
    isLeader = () => sync.isLeader();
    await sync.ready;
    // The election starts once the module has loaded (figure 6 measures
    // the load): from here, as broadcast-channel's from its
    // createLeaderElection. A lock granted before is counted as at once.
    leader.startedAt = now();
    if (leader.leaderAt) leader.leaderAt = leader.startedAt;
    return;
  }
  if (impl === 'bcl-msg') {
    // broadcast-channel picks Web Locks whenever navigator.locks exists.
    Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true });
  }
  const ch = new PeerChannel(channelName);
  leader.startedAt = now();
  const elector = createLeaderElection(ch);
  isLeader = () => elector.isLeader;
  elector.awaitLeadership().then(() => (leader.leaderAt = now()), noteError);
}

let sut = null; // { store, set, sync? }
const ack = new BroadcastChannel('bench-ack-' + channelName);
const acks = { waiting: null, from: new Set() };
let acking = false;
const recv = { k: [], applied: 0, firstT: 0, lastT: 0, counting: false };

function record() {
  sut.store.subscribe((state, prev) => {
    if (recv.counting) {
      recv.applied++;
      recv.lastT = now();
      if (!recv.firstT) recv.firstT = recv.lastT;
    }
    const v = state.k;
    if (v !== prev.k && typeof v === 'number') {
      recv.k[v] = now();
      if (acking) ack.postMessage({ id, v });
    }
  });
  ack.onmessage = (e) => {
    const m = e.data;
    if (m.ping !== undefined) {
      ack.postMessage({ pong: m.ping, to: m.from, id, t: now() });
      return;
    }
    if (m.pong !== undefined) {
      if (m.to === id && clock.onPong) clock.onPong(m);
      return;
    }
    if (acks.waiting && m.v === acks.waiting.v) {
      acks.from.add(m.id);
      if (acks.from.size >= acks.waiting.want) acks.waiting.resolve(true);
    }
  };
}

const clock = { onPong: null };

// fillerState builds `keys` keys f0.. holding about `bytes` bytes of JSON in
// all: arrays of small records, the shape of real app data.
function fillerState(bytes, keys = 10) {
  const state = {};
  const per = Math.max(1, Math.round(bytes / keys / 56));
  for (let k = 0; k < keys; k++) {
    const items = [];
    for (let i = 0; i < per; i++) items.push({ id: i, name: 'item-' + k + '-' + i, done: i % 3 === 0, n: i * 7 });
    state['f' + k] = items;
  }
  return state;
}

window.bench = {
  id,
  impl,
  errors,
  now,
  ready: null,
  leader,
  restore,
  isLeader: () => isLeader(),

  // The time this page took from navigation start to ready, in ms.
  readyAt: 0,

  // Whether the page is cross-origin isolated (5 µs timers, not 100 µs).
  isolated: self.crossOriginIsolated,

  // Waits until `want` receivers have applied value v of key k, or timeoutMs.
  waitAcks(v, want, timeoutMs) {
    return new Promise((resolve) => {
      acks.from = new Set();
      const timer = setTimeout(() => resolve(false), timeoutMs);
      acks.waiting = {
        v,
        want,
        resolve: (ok) => {
          clearTimeout(timer);
          acks.waiting = null;
          resolve(ok);
        },
      };
    });
  },

  // Receivers call this before a paced run.
  startAcking() {
    acking = true;
    recv.k = [];
    return id;
  },
  stopAcking() {
    acking = false;
  },

  // pace sets k to 0..n-1, one change at a time: each waits until the
  // `receivers` other tabs have applied the previous one, then for an idle
  // macrotask. It returns the send times; the receivers keep their
  // receive times (received()).
  async pace(n, receivers, timeoutMs = 2000) {
    const sent = [];
    let missed = 0;
    const deadline = now() + 120000;
    for (let i = 0; i < n && now() < deadline; i++) {
      await sleep(0);
      const done = bench.waitAcks(i, receivers, timeoutMs);
      sent[i] = now();
      sut.set({ k: i });
      if (!(await done)) missed++;
    }
    return { sent, missed };
  },
  received() {
    return recv.k.map((t) => t || 0);
  },

  // Estimates, by a ping-pong over a plain BroadcastChannel, the offset of
  // another tab's clock from this one's (theirs minus ours), from the
  // exchange with the shortest round trip.
  async clockOffset(other, rounds = 30) {
    let best = { rtt: Infinity, offset: 0 };
    for (let r = 0; r < rounds; r++) {
      const t0 = now();
      const pong = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 1000);
        clock.onPong = (m) => {
          if (m.id !== other) return;
          clearTimeout(timer);
          resolve(m);
        };
        ack.postMessage({ ping: r, from: id });
      });
      const t2 = now();
      if (pong && t2 - t0 < best.rtt) best = { rtt: t2 - t0, offset: pong.t - (t0 + t2) / 2 };
      await sleep(1);
    }
    clock.onPong = null;
    return best;
  },

  // burst sets n changes with no pause, cycling over `keys` keys b0..; it
  // returns the time it started and ended and the state it left.
  // from: the first value, so that a second burst changes every key too.
  burst(n, keys = 100, from = 0) {
    const t0 = now();
    for (let i = from; i < from + n; i++) sut.set({ ['b' + (i % keys)]: i });
    return { t0, t1: now() };
  },
  // tasks is burst spread over tasks of perTask changes each (a task
  // posted through a MessageChannel, which browsers do not clamp as they
  // clamp timers), as an app's event handlers make them.
  async tasks(n, perTask, keys = 100, from = 0) {
    const t0 = now();
    const mc = new MessageChannel();
    const nextTask = () => new Promise((resolve) => {
      mc.port1.onmessage = () => resolve();
      mc.port2.postMessage(0);
    });
    for (let i = from; i < from + n; i++) {
      sut.set({ ['b' + (i % keys)]: i });
      if ((i - from + 1) % perTask === 0) await nextTask();
    }
    mc.port1.close();
    return { t0, t1: now() };
  },
  // awaitBurst resolves once this tab holds the final state of a burst(n,
  // keys) made elsewhere, or once it has applied nothing for stallMs; with
  // how many store updates it saw, when the last one was, and how many
  // keys differ from the final state.
  awaitBurst(n, keys, stallMs, from = 0) {
    recv.applied = 0;
    recv.firstT = 0;
    recv.lastT = 0;
    recv.counting = true;
    const want = {};
    for (let i = Math.max(from, from + n - keys); i < from + n; i++) want['b' + (i % keys)] = i;
    const started = now();
    return new Promise((resolve) => {
      const check = () => {
        const got = bench.snapshot('b', keys);
        let differ = 0;
        for (const k in want) if (got[k] !== want[k]) differ++;
        // Before the first change arrives, wait four times as long.
        const idle = recv.lastT ? now() - recv.lastT : (now() - started) / 4;
        if (differ === 0 || idle > stallMs) {
          recv.counting = false;
          resolve({ applied: recv.applied, lastT: recv.lastT, differ });
          return;
        }
        realSetTimeout(check, 20);
      };
      check();
    });
  },
  // probeOn starts the main-thread probe (see probe); probeOff stops it
  // and returns its figures: the callbacks timed, the longest (and the
  // longest after the first probeWarmUp), those over
  // 16 ms (and of those, the ones a collection overlapped; the five
  // longest with their kind and the collection's share), the Long Tasks (count and longest, null
  // without the API), and the collector's pauses and mark phases (ms).
  probeOn() {
    Object.assign(probe, {
      on: true, t0: performance.now(), tasks: 0, max: 0, maxWarm: 0, over16: 0, slow: [], cycles: [], pauses: [], marks: [], markCPU: [], endedCPU: 0,
    });
    if (probe.long) probe.long = [];
    return true;
  },
  probeOff() {
    probe.on = false;
    probe.t1 = performance.now();
    const long = probe.long && probe.long.filter((e) => e.at >= probe.t0 && e.at < probe.t1);
    // gcMs: how much of each slow callback a collection's interval covers
    // (its stop-the-world pauses and its mark phase, which the runtime's
    // one thread runs inside whatever callback it is in).
    const slow = probe.slow.map((c) => {
      let gcMs = 0;
      for (const y of probe.cycles) gcMs += Math.max(0, Math.min(c.at + c.ms, y.to) - Math.max(c.at, y.from));
      return { ...c, gcMs };
    }).sort((a, b) => b.ms - a.ms);
    return {
      tasks: probe.tasks, maxMs: probe.max, maxWarmMs: probe.maxWarm, over16: probe.over16, over16gc: slow.filter((c) => c.gcMs > 0).length,
      slow: slow.slice(0, 5),
      longTasks: long ? long.length : -1, longMaxMs: long ? Math.max(0, ...long.map((e) => e.ms)) : -1,
      pauses: probe.pauses, marks: probe.marks, markCPU: probe.markCPU, preMaxMs: probe.preMax,
    };
  },
  snapshot(prefix, keys) {
    const s = sut.store.getState();
    const out = {};
    for (let i = 0; i < keys; i++) out[prefix + i] = s[prefix + i];
    return out;
  },

  // fill sets the filler keys to about `bytes` bytes; hasFill says
  // whether they have arrived.
  fill(bytes) {
    const f = fillerState(bytes);
    sut.set(f);
    return { items: f.f9.length, json: JSON.stringify(f).length };
  },
  hasFill(items) {
    const f9 = sut.store.getState().f9;
    return Array.isArray(f9) && f9.length === items;
  },

  // writeSeries writes key c<r> = tag at times t0 + r*gap for r < n,
  // spinning for the last few ms so that two tabs write at the same
  // instant; it returns the times it wrote.
  // It returns the times it wrote, and for each round whether this tab had
  // already received the other tab's write of the key when it wrote (then
  // the writes were not concurrent).
  writeSeries(t0, n, gap, tag) {
    return new Promise((resolve) => {
      const at = [];
      const seen = [];
      const step = (r) => {
        if (r >= n) return resolve({ at, seen });
        const due = t0 + r * gap;
        // Timers run late on a busy machine: wake early and spin.
        const wait = due - now() - 30;
        setTimeout(() => {
          while (now() < due) {}
          const key = 'c' + r;
          seen[r] = sut.store.getState()[key] !== undefined;
          at[r] = now();
          sut.set({ [key]: tag + '-' + r });
          step(r + 1);
        }, Math.max(0, wait));
      };
      step(0);
    });
  },

  // Memory of this tab beyond the JS heap (which the Go side reads over
  // DevTools): the wasm linear memory, if any.
  wasmBytes() {
    return wasmMemory ? wasmMemory.buffer.byteLength : 0;
  },
  // The worker's wasm memory, for the Worker variant (0 for the others).
  workerWasmBytes() {
    return workerAsk ? workerAsk('wasmBytes', { wasmBytes: true }) : Promise.resolve(0);
  },
  // The JS heap of the Worker variant's worker (0 for the others), from
  // performance.measureUserAgentSpecificMemory (cross-origin isolated
  // pages only): DevTools' heap usage covers the page's isolate, not the
  // worker's. Chromium answers at its next collection, within about 20 s.
  async workerHeapBytes() {
    if (!workerAsk) return 0;
    const m = await performance.measureUserAgentSpecificMemory();
    let bytes = 0;
    for (const b of m.breakdown) {
      if (b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')) bytes += b.bytes;
    }
    return bytes;
  },
  // The worker's probe, for the Worker variant: the Go collector's pauses
  // and mark phases in the worker. workerProbe('on') starts it.
  workerProbe(state) {
    if (!workerAsk) return Promise.resolve(null);
    if (state === 'on') {
      workerAsk('probe-on', { probe: 'on' });
      return Promise.resolve(true);
    }
    return workerAsk('probe', { probe: 'off' });
  },

  set(partial) {
    sut.set(partial);
  },

  stats() {
    return window.tabsyncInstance ? window.tabsyncInstance.getStats() : null;
  },
};

bench.ready = (async () => {
  if (role === 'elect') {
    await setUpElection();
  } else {
    sut = await setUp();
    record();
  }
  bench.readyAt = performance.now();
  return true;
})();
bench.ready.catch(noteError);
