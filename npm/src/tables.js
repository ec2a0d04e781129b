// Tables across devices: createTableSync and IndexedDBSync (TABLES.md). The
// table sync is its own wasm module, tabsync-tables.wasm, loaded on first
// use, so pages that only sync a store never fetch it.
import { prepareGlue } from './go-glue.js';
import { defaultTablesWasmUrl } from './tables-wasm-url.js';

// The module's contract with these hooks (tablebridge.APIVersion): 2 since
// onEvent and send read their text from the module's memory.
const API_VERSION = 2;
const DEFAULTS = { serverUrl: 'ws://localhost:8081/sync', dbName: 'sync-db' };

let loading = null; // Promise<api>

function registered() {
  const api = globalThis.__tabsyncTables;
  return api && api.version === API_VERSION && typeof api.create === 'function' ? api : null;
}

function loadTables(wasmUrl) {
  if (!loading) {
    loading = load(wasmUrl);
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

async function load(wasmUrl) {
  const existing = registered();
  if (existing) return existing;
  if (typeof WebAssembly !== 'object' || typeof fetch !== 'function') {
    throw new Error('tabsync: WebAssembly and fetch are required');
  }
  const url = wasmUrl != null && wasmUrl !== '' ? wasmUrl : defaultTablesWasmUrl();
  const Go = prepareGlue();
  const go = new Go();
  const ready = new Promise((resolve) => {
    globalThis.__tabsyncTablesOnReady = () => resolve();
  });
  const res = await fetch(url);
  if (!res.ok) throw new Error(`tabsync: fetching ${url} failed: HTTP ${res.status}`);
  const type = (res.headers.get('Content-Type') || '').split(';')[0].trim().toLowerCase();
  const { instance } =
    type === 'application/wasm' && typeof WebAssembly.instantiateStreaming === 'function'
      ? await WebAssembly.instantiateStreaming(res, go.importObject)
      : await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject);
  const exited = go.run(instance).then(
    () => {
      throw new Error('tabsync: the tables wasm module exited before it was ready');
    },
    (err) => {
      throw new Error(`tabsync: the tables wasm module failed: ${(err && err.message) || err}`, { cause: err });
    },
  );
  await Promise.race([ready, exited]);
  exited.catch((err) => console.error(err));
  const api = registered();
  if (!api) throw new Error(`tabsync: the tables module did not register version ${API_VERSION}`);
  // set, delete and the socket's messages enter Go through the module's
  // export (see putGo), not a js.FuncOf each.
  api.exports = instance.exports;
  return api;
}

// The module's export, tabsynctables(op, id, arg, n) (tablebridge/export_js.go):
// op 0 returns the address of an inbox of n bytes in the module's memory;
// 1 a server message of socket arg, 2 a server's binary message, 3 set and
// 4 delete numbered arg, each reading n bytes of the inbox (putGo). It
// returns -1 for an instance stopped, 1 when the module has goroutines to
// run (the handle's kick lets them), else 0.
const OP_MESSAGE = 1;
const OP_BINARY = 2;
const OP_SET = 3;
const OP_DELETE = 4;
const INBOX_KEEP = 8192;

let encoder = null;
let keptAddr = -1; // the inbox the module keeps, and a view of it
let keptView = null;

// putGo writes a, b and c into the module's inbox in UTF-8, behind the
// byte lengths of a and b (two little-endian uint32s), and returns the
// count written, negated when it is the inbox made for this one call
// (more than INBOX_KEEP bytes asked). A view is made again when the
// memory has grown (its ArrayBuffer is then a new one).
function putGo(x, a, b, c) {
  if (encoder === null) encoder = new TextEncoder();
  const most = 8 + 3 * (a.length + b.length + c.length);
  let view;
  if (most > INBOX_KEEP) {
    const addr = x.tabsynctables(0, 0, 0, most);
    view = new Uint8Array(x.mem.buffer, addr, most);
  } else {
    if (keptAddr < 0) keptAddr = x.tabsynctables(0, 0, 0, 0);
    if (keptView === null || keptView.buffer !== x.mem.buffer) keptView = new Uint8Array(x.mem.buffer, keptAddr, INBOX_KEEP);
    view = keptView;
  }
  const la = encoder.encodeInto(a, view.subarray(8)).written;
  const lb = encoder.encodeInto(b, view.subarray(8 + la)).written;
  const n = 8 + la + lb + encoder.encodeInto(c, view.subarray(8 + la + lb)).written;
  view[0] = la; view[1] = la >>> 8; view[2] = la >>> 16; view[3] = la >>> 24;
  view[4] = lb; view[5] = lb >>> 8; view[6] = lb >>> 16; view[7] = lb >>> 24;
  return most > INBOX_KEEP ? -n : n;
}

let decoder = null;

// textOf reads the n bytes of UTF-8 text the module left at address at in
// its memory, for hooks.onEvent and hooks.send: a string made by the module
// would cost it a call into JavaScript and a reference to finalize.
function textOf(x, at, n) {
  if (decoder === null) decoder = new TextDecoder();
  return decoder.decode(new Uint8Array(x.mem.buffer, at, n));
}

// listen is the module's hooks.listen: the socket's message listener,
// which the module removes when it drops the socket.
function listen(x, handle, ws, id, sock) {
  const f = (ev) => {
    const d = ev.data;
    const r =
      typeof d === 'string' ? x.tabsynctables(OP_MESSAGE, id, sock, putGo(x, '', '', d)) : x.tabsynctables(OP_BINARY, id, sock, 0);
    if (r > 0) handle().kick();
  };
  ws.addEventListener('message', f);
  return f;
}

/** IndexedDB tables kept in step across tabs and devices through tabsync-server. */
export class IndexedDBSync {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('tabsync: IndexedDBSync(options) needs an options object');
    }
    const o = { ...DEFAULTS, ...options };
    for (const name of ['serverUrl', 'dbName']) {
      if (typeof o[name] !== 'string' || o[name] === '') {
        throw new TypeError(`tabsync: options.${name} must be a non-empty string`);
      }
    }
    if (o.token != null && typeof o.token !== 'string') throw new TypeError('tabsync: options.token must be a string');
    if (o.tables != null && (!Array.isArray(o.tables) || o.tables.some((t) => typeof t !== 'string'))) {
      throw new TypeError('tabsync: options.tables must be an array of table names');
    }
    if (o.onError != null && typeof o.onError !== 'function') {
      throw new TypeError('tabsync: options.onError must be a function');
    }
    this.serverUrl = o.serverUrl;
    this.dbName = o.dbName;
    this._options = o;
    this._tabId = newId();
    this._starting = null;
    this._handle = null; // the module's handle once started: writes then enter it at once, with no await before
    this._status = 'offline';
    this._pending = 0;
    this._waiters = [];
    this._writes = new Map(); // a write's number -> [resolve, reject], until the module settles it
    this._lastWrite = 0;
  }

  /** 'offline' | 'connecting' | 'online': this browser's connection, in every tab. */
  get status() {
    return this._status;
  }

  /** This browser's local writes the server has not acknowledged yet. */
  get pending() {
    return this._pending;
  }

  _start() {
    if (!this._starting) {
      const starting = loadTables(this._options.wasmUrl).then(async (api) => {
        const o = this._options;
        const x = api.exports;
        if (!x || typeof x.tabsynctables !== 'function') {
          throw new Error('tabsync: the tables module was loaded without its exports (load it through this package)');
        }
        this._exports = x;
        const handle = api.create(
          {
            serverUrl: o.serverUrl,
            dbName: o.dbName,
            token: o.token == null ? undefined : o.token,
            tables: o.tables || [],
            tabId: this._tabId,
            clientId: newId(),
          },
          {
            // The event's and the frame's text are in the module's memory
            // (tablebridge/wire_js.go, textArgs); the event is one JSON array.
            onEvent: (at, n) => dispatch(JSON.parse(textOf(x, at, n))),
            send: (ws, at, n) => ws.send(textOf(x, at, n)),
            onStatus: (status, pending) => {
              this._status = status;
              this._pending = pending;
              if (status !== 'connecting') {
                const w = this._waiters;
                this._waiters = [];
                w.forEach((f) => f());
              }
            },
            onError: (err) => this._report(err),
            onSettled: (n, opId, error) => {
              const w = this._writes.get(n);
              if (!w) return;
              this._writes.delete(n);
              if (error === '') w[0](opId);
              else w[1](new Error(`tabsync: ${error}`));
            },
            listen: (ws, id, sock) => listen(x, () => handle, ws, id, sock),
          },
        );
        await handle.start();
        if (this._starting === starting) this._handle = handle; // not disconnected meanwhile
        return handle;
      });
      this._starting = starting;
      starting.catch(() => {
        if (this._starting === starting) this._starting = null;
      });
    }
    return this._starting;
  }

  _report(err) {
    const f = this._options.onError;
    if (typeof f !== 'function') {
      console.warn(`tabsync: ${err.phase}: ${err.message}`);
      return;
    }
    try {
      f(err);
    } catch (e) {
      console.error('tabsync: onError threw', e);
    }
  }

  /**
   * Start syncing. Resolves once this browser is connected and subscribed,
   * or once it is known to be offline (see status); writes work either way.
   */
  async connect() {
    await this._start();
    if (this._status !== 'connecting') return;
    await new Promise((resolve) => this._waiters.push(resolve));
  }

  /** Stop syncing in this tab; another tab of this browser takes over the connection. */
  disconnect() {
    const starting = this._starting;
    this._starting = null;
    this._handle = null;
    this._status = 'offline';
    if (starting) starting.then((h) => h.stop(), () => {});
  }

  /** Write value to key: resolves once it is stored locally with its outbox entry. */
  async set(table, key, value) {
    checkName(table, key);
    let json;
    try {
      json = JSON.stringify(value);
      structuredClone(value);
    } catch (e) {
      throw new TypeError(`tabsync: the value of ${JSON.stringify(key)} cannot be stored: ${(e && e.message) || e}`);
    }
    if (typeof json !== 'string') {
      throw new TypeError(`tabsync: the value of ${JSON.stringify(key)} cannot be stored: JSON has no form for it`);
    }
    const h = this._handle || (await this._start());
    await this._write(h, OP_SET, table, key, json);
  }

  // _write enters the module through its export; the promise settles
  // through onSettled once the write is committed with its outbox entry.
  _write(h, op, table, key, json) {
    return new Promise((resolve, reject) => {
      const x = this._exports;
      // An int32, as the export's parameter is: it wraps after 2^31 writes
      // as the number onSettled brings back does.
      const n = (this._lastWrite = (this._lastWrite + 1) | 0);
      this._writes.set(n, [resolve, reject]);
      const r = x.tabsynctables(op, h.id, n, putGo(x, table, key, json));
      if (r < 0) {
        this._writes.delete(n);
        reject(new Error('tabsync: this instance was disconnected'));
      } else if (r > 0) h.kick();
    });
  }

  /** Delete key: resolves once the delete is stored locally with its outbox entry. */
  async delete(table, key) {
    checkName(table, key);
    const h = this._handle || (await this._start());
    await this._write(h, OP_DELETE, table, key, '');
  }

  /** The value of key in this browser (pending writes included), or undefined. */
  async get(table, key) {
    checkName(table, key);
    // At once once started, as set and delete are: a get made before a
    // write reads the value before it.
    const h = this._handle || (await this._start());
    const v = h.get(table, key);
    return v === undefined ? undefined : JSON.parse(v);
  }

  /** Every key of table in this browser: { key: value, ... }. */
  async getAll(table) {
    checkName(table, '-');
    const h = this._handle || (await this._start());
    const all = h.getAll(table);
    const out = {};
    for (const k of Object.keys(all)) out[k] = JSON.parse(all[k]);
    return out;
  }
}

/** createTableSync(options) is new IndexedDBSync(options). */
export function createTableSync(options) {
  return new IndexedDBSync(options);
}

function checkName(table, key) {
  if (typeof table !== 'string' || table === '') throw new TypeError('tabsync: the table name must be a non-empty string');
  if (typeof key !== 'string' || key === '') throw new TypeError('tabsync: the key must be a non-empty string');
}

// dispatch fires idb-sync-update for an event of the module: the array
// [table, operation, key, origin, opId, version, timestamp, value], the
// value (parsed already) absent for a delete.
function dispatch([table, operation, key, origin, opId, version, timestamp, value]) {
  if (typeof window === 'undefined' || typeof CustomEvent !== 'function') return;
  const op = { operation, key };
  if (operation === 'set') op.value = value;
  const meta = { opId, timestamp };
  if (version > 0) meta.tableVersion = version;
  try {
    window.dispatchEvent(new CustomEvent('idb-sync-update', { detail: { table, op, origin, meta } }));
  } catch (e) {
    console.error('tabsync: an idb-sync-update listener threw', e);
  }
}

function newId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // not a secure context
    }
  }
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
