// Loads tabsync.wasm once per page and hands back the API object the module
// registers as globalThis.__tabsync (see docs/WASM-CONTRACT.md).
import { prepareGlue } from './go-glue.js';
import { defaultWasmUrl } from './wasm-url.js';

const CONTRACT_VERSION = 1;

let loading = null; // Promise<api> of the current (or finished) load

function registeredApi() {
  const api = globalThis.__tabsync;
  return api && api.version === CONTRACT_VERSION && typeof api.create === 'function' ? api : null;
}

/**
 * Start loading the module (first call) or return the load already under way.
 * A failed load is forgotten so that a later call may try again. persist: the
 * first call's config sets persist, so the full module is fetched; otherwise
 * tabsync-nopersist.wasm, a third smaller. A wasmUrl given is fetched as is.
 */
export function loadModule(wasmUrl, persist = true) {
  if (!loading) {
    loading = load(wasmUrl, persist);
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/** The loaded API, or null while loading / before the first load. */
export function loadedApi() {
  return registeredApi();
}

async function load(wasmUrl, persist) {
  // Already there (another copy of the wrapper loaded it, or a test put a fake
  // in place): use it as is.
  const existing = registeredApi();
  if (existing) return existing;

  if (typeof WebAssembly !== 'object' || typeof fetch !== 'function') {
    throw new Error('tabsync: WebAssembly and fetch are required');
  }
  const url = wasmUrl != null && wasmUrl !== '' ? wasmUrl : defaultWasmUrl(persist);
  // The download and the compile start first: they run off the main thread
  // while the glue below is evaluated, and a <link rel="preload"> of the same
  // URL (as="fetch" crossorigin, docs/WASM-CONTRACT.md) is taken up here.
  const compiled = compile(url);
  compiled.catch(() => {}); // awaited below; not unhandled if the glue throws first
  const Go = prepareGlue(); // also installs globalThis.__tabsyncHelpers
  const go = new Go();
  // Go's collector runs when the heap has grown by GOGC percent since the
  // last collection (default 100). A tab's live heap is small (2 to 3 MB),
  // and the wasm memory never shrinks once grown: at 25 a tab holds 5.9 MB
  // after 10,000 changes instead of 10.5 MB (make bench, figure 7), for
  // collections four times as frequent and as short.
  go.env = { GOGC: '25' };

  // The module calls __tabsyncOnReady once __tabsync is in place.
  const registered = new Promise((resolve) => {
    globalThis.__tabsyncOnReady = () => resolve();
  });

  const instance = await WebAssembly.instantiate(await compiled, go.importObject);
  // helpers.js calls the module's exports on the hot path (a message
  // received, a task's local changes): no js.FuncOf call per message
  // (docs/WASM-CONTRACT.md, The boundary).
  globalThis.__tabsyncHelpers.exports = instance.exports;
  // run() settles only when the Go program exits, which a healthy module never does.
  const exited = go.run(instance).then(
    () => {
      throw new Error('tabsync: the wasm module exited before it was ready');
    },
    (err) => {
      throw new Error(`tabsync: the wasm module failed: ${errorMessage(err)}`, { cause: err });
    },
  );
  await Promise.race([registered, exited]);
  // A module that dies after it was ready has nobody left to tell but the console.
  exited.catch((err) => console.error(err));
  const api = registeredApi();
  if (!api) {
    throw new Error(`tabsync: the wasm module did not register globalThis.__tabsync version ${CONTRACT_VERSION}`);
  }
  return api;
}

// compile fetches and compiles the module, streaming: V8 compiles the bytes
// as they arrive, and Chromium keeps the compiled code of a module compiled
// this way in its code cache, reused by the next load of the same response
// (docs/BENCHMARKS.md, figure 6).
async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) {
    throw new Error(`tabsync: fetching ${url} failed: HTTP ${res.status}`);
  }
  // Streaming compilation needs the server to say application/wasm; with any
  // other type it throws, so read the whole body instead.
  const type = (res.headers.get('Content-Type') || '').split(';')[0].trim().toLowerCase();
  if (type === 'application/wasm' && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

export function errorMessage(err) {
  if (err && typeof err.message === 'string') return err.message;
  return String(err);
}
