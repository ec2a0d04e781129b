// tabsync: multi-tab state sync. This file is the public ESM entry; the sync
// engine itself is Go compiled to WebAssembly, loaded on first use.
import { loadModule } from './loader.js';
import { createInstance } from './instance.js';

export { createTableSync, IndexedDBSync } from './tables.js';

let initUrl; // the wasmUrl given to the first init() that passed one

/**
 * Load the wasm module. Optional: createBroadcastSync() calls it too. Only the
 * first load counts: later calls return the same promise (a wasmUrl given
 * after loading started is ignored). After a failed load, a new call retries.
 */
export function init(options = {}) {
  if (options && options.wasmUrl != null && initUrl === undefined) initUrl = options.wasmUrl;
  return loadModule(initUrl).then(() => undefined);
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
  return _createBroadcastSync(store, config, true);
}

/**
 * Internal (used by tabsync/react, not part of the API): `eager` false defers
 * loading the module until the first command, so a render on the server or a
 * discarded StrictMode render fetches nothing.
 * @internal
 */
export function _createBroadcastSync(store, config, eager) {
  validate(store, config);
  return createInstance(store, config, newTabId(), () => loadModule(initUrl), { eager });
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
