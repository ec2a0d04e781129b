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
