// Helpers the wasm module calls on the hot path, where a walk in JavaScript
// costs one call across the Go/JS boundary instead of one per property.
// The npm wrapper installs them as globalThis.__tabsyncHelpers before it runs
// the module (so no eval is needed, and strict CSP pages work); the Go tests
// of jsbridge install this same file.
globalThis.__tabsyncHelpers = {
  // changedKeys lists the own keys whose values differ (!==) between two
  // states, including keys present in only one of them: 0 for none, the key
  // itself for one (the common case, and each array or string returned
  // costs the Go side a finalizer, see kindOf), an array for more.
  changedKeys(next, prev) {
    const out = [];
    const isObj = (v) => v !== null && typeof v === 'object';
    if (next === prev) {
      // nothing changed
    } else if (!isObj(next) || !isObj(prev)) {
      out.push(...(isObj(next) ? Object.keys(next) : isObj(prev) ? Object.keys(prev) : []));
    } else {
      for (const k of Object.keys(next)) {
        if (!Object.is(next[k], prev[k])) out.push(k);
      }
      for (const k of Object.keys(prev)) {
        if (!(k in next)) out.push(k);
      }
    }
    return out.length === 0 ? 0 : out.length === 1 ? out[0] : out;
  },

  // watch subscribes to the store for one instance and batches its local
  // changes: the store's listener runs here, in JavaScript, and Go hears
  // of the changes of one task once, at its end (a microtask), as
  // notify(next, base, keys): the state now, the state before the task's
  // first change, and the keys that differ between them (as changedKeys
  // answers). A key changed and changed back within the task is left out.
  // A getter of the state that throws is told as notify(undefined,
  // undefined, 0, thrown).
  // With eager set (the config has shouldSync, which judges each change
  // on its own), every change is told at once. state is the store's
  // state now, for stores whose listeners get no previous state.
  // While apply(patch) hands a remote patch to the store's setState, the
  // patch's own keys are no local change even if the store altered them
  // on the way (that could echo for ever); keys a store subscriber
  // derives from them are.
  // Returns { apply, flush, receiver, unsubscribe }; subscribe's throw
  // goes to the caller.
  watch(store, notify, eager, state) {
    const helpers = globalThis.__tabsyncHelpers;
    let last = state; // the store's state as last seen
    let base;
    let pending = null; // Set of changed keys, or null
    let applying = null; // the patch being applied
    let queued = false;
    const flush = () => {
      queued = false;
      if (pending === null) return;
      const keys = [];
      const before = base;
      const list = pending;
      pending = null;
      base = undefined;
      const objects = last !== null && typeof last === 'object' && before !== null && typeof before === 'object';
      for (const k of list) {
        let same = false;
        if (objects) {
          try {
            same = Object.is(last[k], before[k]) && (k in last) === (k in before);
          } catch {
            // a getter threw: the engine reads the key and says so
          }
        }
        if (!same) keys.push(k);
      }
      if (keys.length > 0) notify(last, before, keys.length === 1 ? keys[0] : keys);
    };
    // The store calls it: a throw would go to whoever called setState.
    const listener = (next, prev) => {
      try {
        if (prev === undefined) prev = last;
        last = next;
        const changed = helpers.changedKeys(next, prev);
        if (changed === 0) return;
        const list = typeof changed === 'string' ? [changed] : changed;
        for (const k of list) {
          if (applying !== null && Object.prototype.hasOwnProperty.call(applying, k)) continue;
          if (pending === null) {
            pending = new Set();
            base = prev;
          }
          pending.add(k);
        }
      } catch (err) {
        notify(undefined, undefined, 0, err); // a getter of the state threw
        return;
      }
      if (pending === null) return;
      if (eager) flush();
      else if (!queued) {
        queued = true;
        queueMicrotask(flush);
      }
    };
    const unsubscribe = store.subscribe(listener);
    return {
      apply(patch) {
        flush(); // what this tab changed first, it changed first
        applying = patch;
        try {
          store.setState(patch);
        } finally {
          applying = null;
          last = store.getState();
        }
      },
      flush,
      // receiver wraps a BroadcastChannel message listener: what this
      // tab changed before the message came is told first, and the
      // listener gets the message's data, not the event.
      receiver(onData) {
        return (ev) => {
          flush();
          onData(ev.data);
        };
      },
      unsubscribe() {
        pending = null;
        if (typeof unsubscribe === 'function') unsubscribe();
      },
    };
  },

  // keysOf is Object.keys(o) answered as changedKeys answers: 0, the key
  // itself, or an array.
  keysOf(o) {
    const k = Object.keys(o);
    return k.length === 0 ? 0 : k.length === 1 ? k[0] : k;
  },

  // kindOf tells an object apart in one call: 1 for an array, 2 for a plain
  // object (its prototype is null or Object.prototype), 0 for anything
  // else. It returns a number because every object or string a call returns
  // costs the Go side a finalizer, which is most of the hot path's time.
  kindOf(v) {
    if (Array.isArray(v)) return 1;
    const p = Object.getPrototypeOf(v);
    return p === null || p === Object.prototype ? 2 : 0;
  },

  // equal reports whether a and b hold the same value, as Go's
  // conflict.DeepEqual defines it: scalars by value (NaN equal to NaN),
  // arrays and plain objects by their elements and own keys, anything else
  // (dates, maps, class instances) never, and nothing deeper than 64 levels.
  equal(a, b, depth = 0) {
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
      return typeof a === typeof b && typeof a !== 'function' && Object.is(a, b) || (a === 0 && b === 0);
    }
    if (depth >= 64) return false;
    const h = globalThis.__tabsyncHelpers;
    const kind = h.kindOf(a);
    if (kind === 0 || kind !== h.kindOf(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k) || !h.equal(a[k], b[k], depth + 1)) return false;
    }
    return true;
  },

  // sizeOf estimates the structured-clone size of v in bytes and how deeply
  // it nests, stopping once limit bytes or maxDepth levels are passed, so
  // that measuring a hostile value costs at most about limit steps. Returns
  // bytes * 4096 + depth (depth at most 4095), one number rather than an
  // array for the reason given at kindOf. Shared and cyclic references are
  // counted on each visit, bounded by the same budget.
  sizeOf(v, limit, maxDepth) {
    let bytes = 0;
    let deepest = 0;
    const stack = [v, 1];
    while (stack.length > 0 && bytes <= limit && deepest <= maxDepth) {
      const depth = stack.pop();
      const x = stack.pop();
      if (depth > deepest) deepest = depth;
      switch (typeof x) {
        case 'string':
          bytes += 4 + x.length * 2;
          continue;
        case 'object':
          break;
        default:
          bytes += 8;
          continue;
      }
      if (x === null) { bytes += 1; continue; }
      if (ArrayBuffer.isView(x)) { bytes += x.byteLength + 16; continue; }
      if (x instanceof ArrayBuffer) { bytes += x.byteLength + 16; continue; }
      if (x instanceof Map) {
        bytes += 16;
        for (const [k, e] of x) { stack.push(k, depth + 1, e, depth + 1); if (stack.length > limit) break; }
        continue;
      }
      if (x instanceof Set) {
        bytes += 16;
        for (const e of x) { stack.push(e, depth + 1); if (stack.length > limit) break; }
        continue;
      }
      bytes += 16;
      for (const k of Object.keys(x)) {
        bytes += 4 + k.length * 2;
        stack.push(x[k], depth + 1);
        if (bytes > limit) break;
      }
    }
    return bytes * 4096 + Math.min(deepest, 4095);
  },
  // config reads the user's config object in one call, for parseConfig in
  // config_js.go: every field typed, with its default, and problems, every
  // problem found, so that one report names them all. strategies lists the
  // conflictStrategy names; strategy is the index of the one given, or -1.
  // The store's problems come last.
  // Reading a property runs the application's getters: a throw goes to the
  // caller.
  config(cfg, strategies, store) {
    const problems = [];
    const bad = (msg) => { problems.push(msg); };
    const done = () => {
      if (typeof store !== 'function' && (typeof store !== 'object' || store === null)) {
        bad('store must be an object with getState, setState and subscribe');
      } else {
        for (const name of ['getState', 'setState', 'subscribe']) {
          if (typeof store[name] !== 'function') bad('store has no ' + name + ' function');
        }
      }
      return o;
    };
    const o = {
      problems, channelName: '', syncKeys: null, excludeKeys: null, throttleMs: 100, debounceMs: 0,
      strategy: -1, customResolver: undefined, shouldSync: undefined, onRemoteUpdate: undefined,
      onSyncStateChange: undefined, onError: undefined, debug: false, appVersion: '',
      maxMessageBytes: 0, enableLeaderElection: false, leaderHeartbeatMs: 0, leaderElection: '',
      persist: false, persistDB: '', persistVersion: 1, persistMigrate: undefined,
    };
    if (cfg === null || typeof cfg !== 'object') {
      bad('config must be an object');
      return done();
    }
    const isSet = (v) => v !== undefined && v !== null;
    const v = cfg.channelName;
    if (typeof v !== 'string' || v === '') bad('channelName must be a non-empty string');
    else o.channelName = v;
    const keyList = (name) => {
      const v = cfg[name];
      if (!isSet(v)) return null;
      if (!Array.isArray(v)) { bad(name + ' must be an array of key names'); return null; }
      const out = [];
      for (let i = 0; i < v.length; i++) {
        const k = v[i];
        if (typeof k !== 'string') { bad(name + ' must hold only strings'); return null; }
        out.push(k);
      }
      return out;
    };
    const number = (name, def, unit = 'milliseconds') => {
      const v = cfg[name];
      if (!isSet(v)) return def;
      if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
        bad(name + ' must be a number of ' + unit + ', 0 or more');
        return def;
      }
      return v;
    };
    const fn = (name) => {
      const v = cfg[name];
      if (!isSet(v)) return undefined;
      if (typeof v !== 'function') { bad(name + ' must be a function'); return undefined; }
      return v;
    };
    o.syncKeys = keyList('syncKeys');
    o.excludeKeys = keyList('excludeKeys');
    o.throttleMs = number('throttleMs', 100);
    o.debounceMs = number('debounceMs', 0);
    const strategy = cfg.conflictStrategy;
    if (isSet(strategy)) {
      if (typeof strategy !== 'string') bad('conflictStrategy must be a string');
      else if (strategy !== '') {
        o.strategy = strategies.indexOf(strategy);
        if (o.strategy < 0) bad('conflictStrategy ' + JSON.stringify(strategy) + ' is not one of ' + strategies.join(', '));
      }
    }
    o.customResolver = fn('customResolver');
    if (strategy === 'custom' && o.customResolver === undefined) {
      bad("conflictStrategy 'custom' needs a customResolver(local, remote) function");
    }
    o.shouldSync = fn('shouldSync');
    o.onRemoteUpdate = fn('onRemoteUpdate');
    o.onSyncStateChange = fn('onSyncStateChange');
    o.onError = fn('onError');
    o.debug = Boolean(cfg.debug);
    const app = cfg.appVersion;
    if (isSet(app)) {
      if (typeof app !== 'string') bad('appVersion must be a string');
      else o.appVersion = app;
    }
    o.maxMessageBytes = number('maxMessageBytes', 0, 'bytes');
    o.enableLeaderElection = Boolean(cfg.enableLeaderElection);
    o.leaderHeartbeatMs = number('leaderHeartbeatMs', 0);
    const mode = cfg.leaderElection;
    if (isSet(mode)) {
      if (typeof mode !== 'string') bad("leaderElection must be 'auto', 'locks' or 'heartbeat'");
      else if (mode === 'auto' || mode === 'locks' || mode === 'heartbeat') o.leaderElection = mode;
      else bad("leaderElection must be 'auto', 'locks' or 'heartbeat', not '" + mode + "'");
    }
    o.persistDB = 'tabsync:' + o.channelName;
    const p = cfg.persist;
    if (typeof p === 'boolean') {
      o.persist = p;
    } else if (p !== null && typeof p === 'object') {
      o.persist = true;
      const db = p.dbName;
      if (isSet(db)) {
        if (typeof db !== 'string' || db === '') bad('persist.dbName must be a non-empty string');
        else o.persistDB = db;
      }
      const version = p.version;
      if (isSet(version)) {
        const f = typeof version === 'number' ? version : 0;
        if (f < 1 || f > 2 ** 31 || f !== Math.trunc(f)) bad('persist.version must be a whole number, 1 or more');
        else o.persistVersion = f;
      }
      const migrate = p.migrate;
      if (isSet(migrate)) {
        if (typeof migrate !== 'function') bad('persist.migrate must be a function (state, fromVersion) => state');
        else o.persistMigrate = migrate;
      }
    } else if (isSet(p)) {
      bad('persist must be a boolean or an object { dbName, version, migrate }');
    }
    return done();
  },

  // supported reports the browser features tabsync uses: it is
  // __tabsync.supported() (docs/WASM-CONTRACT.md).
  supported() {
    const isObj = (v) => typeof v === 'object' && v !== null;
    return {
      broadcastChannel: typeof globalThis.BroadcastChannel === 'function',
      webLocks: isObj(globalThis.navigator) && isObj(globalThis.navigator.locks),
      indexedDB: isObj(globalThis.indexedDB),
    };
  },

  // lifecycle follows the page lifecycle events an instance acts on:
  // notify(event, flag) for visibilitychange (flag: the page is hidden),
  // pagehide, freeze, resume and pageshow (flag: persisted). It returns a
  // function that stops it, or undefined where there is no window or
  // document (a worker).
  lifecycle(notify) {
    if (typeof window !== 'object' || typeof document !== 'object') return undefined;
    const on = [[document, 'visibilitychange'], [window, 'pagehide'], [document, 'freeze'],
      [document, 'resume'], [window, 'pageshow']];
    const handler = (ev) => notify(ev.type,
      ev.type === 'pageshow' ? Boolean(ev.persisted) : document.visibilityState === 'hidden');
    for (const [target, event] of on) target.addEventListener(event, handler);
    return () => { for (const [target, event] of on) target.removeEventListener(event, handler); };
  },

  // handle builds an instance's Handle (docs/WASM-CONTRACT.md) around call,
  // the instance's one Go function: call(method, arg). One function rather
  // than one per method keeps the module smaller.
  handle(call) {
    const h = {};
    for (const name of ['start', 'stop', 'destroy', 'isActive', 'isLeader', 'forceLeader',
      'getTabId', 'getConnectedTabs', 'requestState', 'broadcastState', 'getStats']) {
      h[name] = (arg) => call(name, arg);
    }
    return h;
  },

  // leaderLock carries out leader election's Web Locks operations for one
  // instance (see package leader): name is the channel's lock, selfName a
  // lock this instance alone holds while it runs, so that query() can tell
  // this document's client id. notify(event, arg) reports 'granted', 'lost'
  // (stolen by another tab), 'held' (arg: whether the lock is still ours,
  // answering query) and 'error' (arg: the message). Nothing here waits:
  // a held lock's callback returns a promise that release() resolves.
  leaderLock(name, selfName, notify) {
    const locks = navigator.locks;
    let gen = 0; // the current request; older ones are cancelled
    let abort = null; // cancels the queued request
    let release = null; // releases the held lock
    let selfAsked = false;
    let selfRelease = null;
    const cancel = () => {
      gen++;
      if (abort) { abort.abort(); abort = null; }
      if (release) { release(); release = null; }
    };
    const ask = (steal) => {
      const g = ++gen;
      const opts = { mode: 'exclusive' };
      if (steal) {
        opts.steal = true;
      } else {
        abort = new AbortController();
        opts.signal = abort.signal;
      }
      locks.request(name, opts, () => {
        if (g !== gen) return undefined; // cancelled meanwhile: give it back
        abort = null;
        return new Promise((resolve) => {
          release = resolve;
          notify('granted');
        });
      }).then(() => {}, (err) => {
        if (g !== gen) return; // one we cancelled
        release = null;
        if (err && err.name === 'AbortError') notify('lost');
        else notify('error', String(err && err.message || err));
      });
    };
    const holdSelf = () => {
      if (selfAsked) return;
      selfAsked = true;
      locks.request(selfName, () => {
        if (!selfAsked) return undefined; // released meanwhile
        return new Promise((resolve) => { selfRelease = resolve; });
      }).catch(() => {});
    };
    return {
      request() { cancel(); holdSelf(); ask(false); },
      steal() { cancel(); holdSelf(); ask(true); },
      release() {
        cancel();
        selfAsked = false;
        if (selfRelease) { selfRelease(); selfRelease = null; }
      },
      query() {
        const g = gen;
        locks.query().then((state) => {
          if (g !== gen) { notify('held', false); return; } // asked or released since
          const held = state.held || [];
          const me = held.find((l) => l.name === selfName);
          const holder = held.find((l) => l.name === name);
          // Without our own client id, trust what we know.
          const ours = me && holder ? holder.clientId === me.clientId : release !== null;
          notify('held', Boolean(ours && release !== null));
        }, (err) => notify('error', String(err && err.message || err)));
      },
    };
  },
};
