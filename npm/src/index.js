// tabsync: multi-tab state sync. This file is the public ESM entry; the sync
// engine itself is Go compiled to WebAssembly, loaded on first use.
import { loadModule } from './loader.js';
import { createInstance } from './instance.js';
import { LAZY } from './private.js';
import { loadDevtools } from './devtools-load.js';

export { createTableSync, IndexedDBSync } from './tables.js';

let initUrl; // the wasmUrl given to the first init() that passed one

/**
 * Load the wasm module. Optional: createBroadcastSync() calls it too. Only the
 * first load counts: later calls return the same promise (a wasmUrl given
 * after loading started is ignored). After a failed load, a new call retries.
 * init() loads the full module; init({ persist: false }) the smaller one
 * without IndexedDB persistence, which createBroadcastSync() picks when the
 * first instance's config does not set persist.
 */
export function init(options = {}) {
  if (options && options.wasmUrl != null && initUrl === undefined) initUrl = options.wasmUrl;
  return loadModule(initUrl, !(options && options.persist === false)).then(() => undefined);
}

/** Feature checks, pure JS: nothing is loaded. */
export function isSupported() {
  return {
    broadcastChannel: typeof BroadcastChannel === 'function',
    webLocks: safe(
      () => typeof navigator !== 'undefined' && !!navigator.locks && typeof navigator.locks.request === 'function',
    ),
    // Touching indexedDB can throw (sandboxed iframes, some private modes).
    indexedDB: safe(() => typeof indexedDB !== 'undefined' && indexedDB !== null),
  };
}

function safe(check) {
  try {
    return Boolean(check());
  } catch {
    return false;
  }
}

/**
 * Create a sync instance for a zustand-shaped store. Returns at once; the wasm
 * loads in the background and calls made meanwhile are replayed in order.
 */
export function createBroadcastSync(store, config) {
  validate(store, config);
  // tabsync/react asks, through a symbol-keyed config entry that is no public
  // name, to load the module on the first command rather than at once, so a
  // render on the server or a discarded StrictMode render fetches nothing.
  const eager = config[LAZY] !== true;
  const tabId = newTabId();
  // The module is chosen by the first instance that loads it: with persist
  // set (to anything but false), the full one.
  const persist = config.persist != null && config.persist !== false;
  const load = () => loadModule(initUrl, persist);
  if (!devtoolsOn(config.devtools)) return createInstance(store, config, tabId, load, { eager });
  const [tapped, tappedConfig, close] = devtoolsTap(store, config, tabId);
  const sync = createInstance(tapped, tappedConfig, tabId, load, { eager });
  const destroy = sync.destroy;
  sync.destroy = () => {
    destroy();
    close();
  };
  return sync;
}

// config.devtools: true, or 'auto' where the bundler says development
// (process.env.NODE_ENV, which bundlers replace; without one it is off).
function devtoolsOn(option) {
  if (option !== 'auto') return option === true;
  try {
    return process.env.NODE_ENV !== 'production';
  } catch {
    return false;
  }
}

// The store and config seen by the core, with DevTools hooks around them;
// devtools.js, loaded only here, receives the events.
function devtoolsTap(store, config, tabId) {
  let on = null;
  let closed = false;
  const tap = (event, arg) => on && on(event, arg);
  // devtools.js hears the messages on a channel of its own, made here, before
  // the instance's: a message reaches a tab's channels in the order they were
  // made, so it notes a message's arrival before the instance applies it,
  // however late devtools.mjs loads.
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(config.channelName) : null;
  loadDevtools().then(
    (m) => {
      // destroy() before devtools.mjs came: nothing to show
      if (!closed) on = m.attach(store, config, tabId, channel);
    },
    (err) => console.error('tabsync: loading devtools failed', err),
  );
  const user = config.onRemoteUpdate;
  return [
    {
      getState: () => store.getState(),
      setState(patch, replace) {
        tap('apply', patch);
        try {
          store.setState(patch, replace);
        } finally {
          tap('applied', patch);
        }
      },
      subscribe: (listener) =>
        store.subscribe((next, prev) => {
          tap('change');
          listener(next, prev);
        }),
    },
    {
      ...config,
      onRemoteUpdate(keys, source) {
        tap('remote', [keys, source]);
        if (typeof user === 'function') user(keys, source);
      },
    },
    () => {
      tap('close');
      closed = true;
      if (channel) channel.close();
    },
  ];
}

function validate(store, config) {
  if (config === null || typeof config !== 'object') {
    throw new TypeError('tabsync: createBroadcastSync(store, config) needs a config object');
  }
  if (typeof config.channelName !== 'string' || config.channelName === '') {
    throw new TypeError('tabsync: config.channelName must be a non-empty string');
  }
  // A React-bound zustand store is a function with the methods on it.
  const ok =
    store !== null &&
    (typeof store === 'object' || typeof store === 'function') &&
    typeof store.getState === 'function' &&
    typeof store.setState === 'function' &&
    typeof store.subscribe === 'function';
  if (!ok) {
    throw new TypeError('tabsync: store must have getState, setState and subscribe (a zustand store works)');
  }
}

/** A random id: crypto.randomUUID() where present (secure contexts only). */
function newTabId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // fall through
    }
  }
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
