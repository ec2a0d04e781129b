// What the framework adapters share (bundled into each of dist/redux.mjs,
// pinia.mjs, vue.mjs, svelte.mjs, valtio.mjs and jotai.mjs; not public).
//
// The sync core wants a zustand-shaped store whose values are compared by
// identity. Vue, Pinia, Valtio and Svelte 5 state is mutated in place, so
// mutableStore keeps a plain snapshot of it: the first level is a fresh
// object per change, a value deep-equal to the last snapshot's keeps that
// value (so only changed keys differ), and nothing of the framework (proxies,
// refs, functions, getters) is in it. What the core applies is written back
// as a copy, and the snapshot then holds the very values the core applied,
// so a framework that notifies later (a microtask, an effect) causes no echo.
import { createBroadcastSync } from './index.js';

const isPlain = (v) => {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const p = Object.getPrototypeOf(v);
  return p === null || p === Object.prototype;
};

/**
 * A deep copy of the plain objects and arrays in v, without functions or
 * getters; other values go through unwrap (a Vue ref, a reactive Map), or
 * as they are.
 */
export function snap(v, unwrap) {
  if (!isPlain(v)) return unwrap && v !== null && typeof v === 'object' ? unwrap(v) : v;
  const out = Array.isArray(v) ? [] : {};
  for (const k of Object.keys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d && d.get) continue;
    const x = v[k];
    if (typeof x !== 'function') out[k] = snap(x, unwrap);
  }
  return out;
}

/** Deep equality of plain objects and arrays; anything else by identity. */
export function eq(a, b) {
  if (Object.is(a, b)) return true;
  if (!isPlain(a) || !isPlain(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && eq(a[k], b[k]));
}

/**
 * A zustand-shaped store over mutable framework state.
 * @param read   () => the framework's state object (a proxy is fine)
 * @param write  (patch) => void: put these top-level values into it
 * @param watch  (onChange) => unwatch: called once the core subscribes,
 *               unwatch once it unsubscribes (destroy())
 * @param unwrap optional, for values that are not plain objects
 */
export function mutableStore(read, write, watch, unwrap) {
  const listeners = new Set();
  let last = {};
  let applying = false;
  let paused = false;
  let unwatch = null;
  const detach = () => {
    if (unwatch) unwatch();
    unwatch = null;
  };
  const fresh = () => {
    const next = snap(read(), unwrap);
    for (const k in next) if (eq(next[k], last[k])) next[k] = last[k];
    return next;
  };
  const emit = (next) => {
    const prev = last;
    last = next;
    listeners.forEach((l) => l(next, prev));
  };
  const changed = () => {
    if (!applying) emit(fresh());
  };
  last = fresh();
  return {
    getState: fresh,
    setState(patch) {
      if (typeof patch === 'function') patch = patch(fresh());
      applying = true;
      try {
        write(snap(patch, unwrap));
      } finally {
        applying = false;
      }
      emit(Object.assign(fresh(), patch));
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!unwatch && !paused) {
        last = fresh();
        unwatch = watch(changed);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) detach();
      };
    },
    // While the instance is stopped, nothing watches the framework; on
    // start, what changed meanwhile is reported as one change.
    pause() {
      paused = true;
      detach();
    },
    resume() {
      paused = false;
      if (!unwatch && listeners.size > 0) {
        unwatch = watch(changed);
        changed();
      }
    },
  };
}

/**
 * createBroadcastSync(store, config), started; its stop() and start() also
 * detach and reattach the framework listener (store.pause/resume).
 */
export function connect(store, config) {
  const sync = createBroadcastSync(store, config);
  const { start, stop } = sync;
  sync.start = () => {
    start();
    store.resume();
  };
  sync.stop = () => {
    stop();
    store.pause();
  };
  start();
  return sync;
}
