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

  // watch is an instance's JavaScript side (docs/WASM-CONTRACT.md, The
  // boundary): it subscribes to the store, reads the messages of the
  // channel, builds the messages the engine sends and applies the remote
  // patches, so that each message crosses into Go once, as numbers and one
  // string, and each message sent or patch applied crosses out of Go once.
  // Values stay here, in slots (see slot) that the engine refers to by
  // number.
  //
  // Go is called through the module's export (see exports), tabsync(op,
  // id, n), id naming the instance, and after every kickEvery-th call kick,
  // a js.FuncOf that does nothing: entering Go through it runs Go's
  // scheduler, which an export call does not, so that the goroutines the
  // calls started run (an instance that persists: every call, as its
  // writes wait on IndexedDB in goroutines) and the collector's background
  // mark workers get their turn between messages rather than leaving the
  // marking to the allocations inside the export calls (with none, the
  // collector's mark phase ran twice as long: docs/BENCHMARKS.md).
  //
  // The store's listener batches the local changes: Go hears of the
  // changes of one task once, at its end (a microtask), as tabsync(2, id,
  // n), n bytes of the inbox (see putGo) holding the time and record:
  // record lists each changed key, the slot of its value now, the value's
  // kind (conflict.Kind), its structured-clone size and depth (measured up
  // to maxBytes and maxDepth), five lines each; with eager set, next and
  // base hold the state now and before the task's first change meanwhile. A key changed and changed
  // back within the task is left out, and so is a key whose value is still
  // the one a remote patch put there (by this instance or another on the
  // same store): sent back, an object value (a new clone in each tab) would
  // echo between the tabs for ever. A getter of the state that throws is
  // told as tabsync(3, id, 0) with thrown holding what it threw.
  // With eager set (the config has shouldSync, which judges each change
  // on its own), every change is told at once. state is the store's
  // state now, for stores whose listeners get no previous state.
  // While apply hands a remote patch to the store's setState, the patch's
  // own keys are no local change even if the store altered them on the
  // way (that could echo for ever); keys a store subscriber derives from
  // them are.
  // A store whose subscribe throws syncs nothing of its own: failed holds
  // what it threw. selfTab and app are the tab's id and appVersion.
  watch(store, eager, state, maxBytes, maxDepth, selfTab, app, id, kick, kickEvery) {
    let calls = 0; // export calls, for kickEvery
    const helpers = globalThis.__tabsyncHelpers;
    if (helpers.exports === null) {
      throw new Error('__tabsyncHelpers.exports is not set: load tabsync.wasm through the tabsync npm package, which sets it');
    }
    let applied = helpers.appliedByStore.get(store);
    if (applied === undefined) {
      applied = new Map(); // key -> the value a patch put there
      helpers.appliedByStore.set(store, applied);
    }
    let last = state; // the store's state as last seen
    let base;
    let pending = null; // Set of changed keys, or null
    let applying = null; // the patch being applied
    let queued = false;
    let channel = null;
    let listener = null;
    const rc = { self: selfTab, app, maxBytes, maxDepth };
    // A task's changes, for the inbox (see put).
    const local = { check: 0, typ: 0, seq: 0, a: 0, b: 0, flags: 0, record: '' };
    // The entries of the message being received, for apply(mask).
    const cur = { keys: [], slots: [] };
    // threw tells Go what a getter of the state threw.
    const threw = (err) => {
      self.thrown = err;
      helpers.exports.tabsync(3, id, 0);
      self.thrown = undefined;
      helpers.drainGo();
      if (kick !== undefined && ++calls % kickEvery === 0) kick();
    };
    const flush = () => {
      queued = false;
      if (pending === null) return;
      const before = base;
      const list = pending;
      pending = null;
      base = undefined;
      const objects = last !== null && typeof last === 'object' && before !== null && typeof before === 'object';
      let record = '';
      for (const k of list) {
        try {
          const v = last === null || last === undefined ? undefined : last[k];
          let same = false;
          if (objects) {
            try {
              same = Object.is(v, before[k]) && (k in last) === (k in before);
            } catch {
              // a getter of the earlier state threw: the key changed
            }
          }
          if (same) continue;
          if (applied.size > 0 && applied.has(k)) {
            if (applied.get(k) === v) continue;
            applied.delete(k); // changed since: a local change
          }
          const kind = helpers.kindCode(v);
          let size = 8 * 4096 + 1;
          if (kind === 4 || (v !== null && typeof v === 'object')) size = helpers.sizeOf(v, maxBytes, maxDepth);
          if (record !== '') record += '\n';
          record += helpers.esc(k) + '\n' + helpers.slot(v) + '\n' + kind + '\n' + Math.floor(size / 4096) + '\n' + (size % 4096);
        } catch (err) {
          threw(err); // a getter or proxy of the state threw
          return;
        }
      }
      if (record === '') return;
      local.record = record;
      if (eager) {
        self.next = last;
        self.base = before;
      }
      helpers.exports.tabsync(2, id, helpers.putGo(Date.now(), local));
      self.next = self.base = undefined;
      helpers.drainGo();
      if (kick !== undefined && ++calls % kickEvery === 0) kick();
    };
    // The store calls it: a throw would go to whoever called setState.
    const onChange = (next, prev) => {
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
        threw(err); // a getter of the state threw
        return;
      }
      if (pending === null) return;
      if (eager) flush();
      else if (!queued) {
        queued = true;
        queueMicrotask(flush);
      }
    };
    let unsubscribe;
    let failed;
    try {
      unsubscribe = store.subscribe(onChange);
    } catch (err) {
      failed = err;
    }
    // setState hands a patch to the store. An undefined value is a removed
    // key: a store whose setState takes zustand's replace flag gets the
    // state without it; any other store gets the key set to undefined.
    const setState = (patch) => {
      let gone = null;
      for (const k of Object.keys(patch)) {
        if (patch[k] === undefined) (gone || (gone = [])).push(k);
      }
      const now = gone !== null && store.setState.length >= 2 ? store.getState() : null;
      if (now === null || typeof now !== 'object') {
        store.setState(patch);
        return;
      }
      const next = Object.assign({}, now, patch);
      for (const k of gone) delete next[k];
      store.setState(next, true);
    };
    // setPatch hands a patch to the store; 0, or what setState threw.
    const setPatch = (patch) => {
      if (failed !== undefined) {
        try {
          setState(patch);
        } catch (err) {
          return err;
        }
        return 0;
      }
      flush(); // what this tab changed first, it changed first
      for (const k of Object.keys(patch)) applied.set(k, patch[k]);
      applying = patch;
      try {
        setState(patch);
      } catch (err) {
        return err;
      } finally {
        applying = null;
        try {
          last = store.getState();
        } catch {
          // the next change reads it again
        }
      }
      return 0;
    };
    const self = {
      failed,
      flush,
      thrown: undefined, // what a getter or setState threw, for Go to read
      next: undefined, // with eager, the states of the task's changes, for Go to read
      base: undefined,
      // apply sets the entries of the message being received that mask
      // names (bit i: entry i), the engine's usual answer.
      apply(mask) {
        const patch = {};
        for (let i = 0; i < cur.keys.length && mask > 0; i++, mask = Math.floor(mask / 2)) {
          if (mask % 2 === 1) patch[cur.keys[i]] = helpers.values[cur.slots[i]];
        }
        return setPatch(patch);
      },
      // applyRecord sets any patch: record lists each key and its value,
      // a slot or 'a' and the index of the value among extra.
      applyRecord(record, ...extra) {
        const f = record.split('\n');
        const patch = {};
        for (let i = 0; i + 1 < f.length; i += 2) patch[helpers.unesc(f[i])] = helpers.ref(f[i + 1], extra);
        return setPatch(patch);
      },
      // connect listens to channel for the instance: each message is read
      // here (helpers.decode), written into the inbox (see putGo) and
      // reaches Go as tabsync(1, id, n), n bytes of the inbox. Go answers
      // with the patch to apply, a mask for apply, when nothing else is
      // left to do, or -1. A throw of the store's setState is told as
      // tabsync(3, id, 1) with thrown holding it. What this tab changed
      // before the message came is told first. Returns the listener.
      connect(ch) {
        channel = ch;
        const o = { check: 0, typ: 0, seq: 0, a: 0, b: 0, flags: 0, record: '' };
        listener = (ev) => {
          flush();
          helpers.decode(ev.data, rc, o, cur);
          const x = helpers.exports;
          const mask = x.tabsync(1, id, helpers.putGo(Date.now(), o));
          helpers.drainGo();
          if (mask >= 0) {
            const err = self.apply(mask);
            if (err !== 0) {
              self.thrown = err;
              x.tabsync(3, id, 1);
              self.thrown = undefined;
              helpers.drainGo();
            }
          }
          if (kick !== undefined && ++calls % kickEvery === 0) kick();
        };
        channel.addEventListener('message', listener);
        return listener;
      },
      disconnect() {
        if (channel !== null) channel.removeEventListener('message', listener);
        channel = null;
      },
      // send posts a message the engine built (helpers.encode's
      // arguments), for drainGo. Returns 0, or what postMessage threw.
      send(typ, seq, a, b, flags, record) {
        if (channel === null) return 0;
        try {
          channel.postMessage(helpers.encode(rc, typ, seq, a, b, flags, record));
        } catch (err) {
          return err;
        }
        return 0;
      },
      unsubscribe() {
        pending = null;
        // Destroy releases the kick next: a listener or flush that is
        // inside the export now (the instance destroyed from a callback)
        // must not call it when the export returns.
        kick = undefined;
        helpers.posters.delete(id);
        if (typeof unsubscribe === 'function') unsubscribe();
      },
    };
    helpers.posters.set(id, self);
    return self;
  },

  // The outbox (jsbridge/outbox_js.go): every message the engine sends is
  // left in Go's memory and posted here, by the watcher that called the
  // export after the call returned (so postMessage never runs inside a
  // call from wasm), or when Go calls drainGo for a message sent outside
  // an export. tabsync(4, 0, 0) returns the address of the next message,
  // or 0 when none is left: eight little-endian float64s (the sending
  // instance's id, the message's number, then send's typ, seq, a, b and
  // flags, and the record's length in bytes), then the record in UTF-8.
  // A message whose postMessage threw goes back to Go as tabsync(5, id,
  // number) with the watcher's thrown holding the error; Go leaves out
  // the values that cannot be cloned and queues the rest, which this loop
  // posts. posters holds each instance's watcher by id.
  posters: new Map(),
  decoder: null,
  drainGo() {
    const h = globalThis.__tabsyncHelpers;
    const x = h.exports;
    for (let at; (at = x.tabsync(4, 0, 0)) !== 0;) {
      const d = new DataView(x.mem.buffer, at, 64);
      const id = d.getFloat64(0, true);
      const w = h.posters.get(id);
      if (w === undefined) continue; // destroyed
      if (h.decoder === null) h.decoder = new TextDecoder();
      const record = h.decoder.decode(new Uint8Array(x.mem.buffer, at + 64, d.getFloat64(56, true)));
      const err = w.send(d.getFloat64(16, true), d.getFloat64(24, true), d.getFloat64(32, true), d.getFloat64(40, true), d.getFloat64(48, true), record);
      if (err !== 0) {
        w.thrown = err;
        x.tabsync(5, id, d.getFloat64(8, true));
        w.thrown = undefined;
      }
    }
  },

  // exports are the module's exports (WebAssembly.Instance.exports), which
  // the npm loader sets before it runs the module: the watcher calls Go
  // through exports.tabsync(op, id, n) (jsbridge/export_js.go), which
  // crosses with no js.FuncOf machinery, and writes Go's inbox in
  // exports.mem.
  //
  // The inbox carries a received message, or a task's local changes, into
  // Go as bytes: putGo(now, o) writes seven numbers (now and o's check,
  // typ, seq, a, b, flags; little-endian float64s) and then o.record in
  // UTF-8 into the inbox, and returns the bytes written. tabsync(0, 0, n)
  // returns the address of an inbox that holds n bytes: the one Go keeps
  // for up to 8 KB, whose address does not change (asked once), or one made
  // for a larger record, whose count putGo returns negated. The views are
  // made again when the memory has grown (its ArrayBuffer is then a new
  // one, the old one detached).
  exports: null,
  encoder: null,
  goAddr: -1,
  goBuffer: null,
  goNumbers: null,
  goRecord: null,
  putGo(now, o) {
    const h = globalThis.__tabsyncHelpers;
    const x = h.exports;
    if (h.encoder === null) h.encoder = new TextEncoder();
    const r = o.record;
    const need = 56 + 3 * r.length;
    let nums = h.goNumbers;
    let rest = h.goRecord;
    const buffer = x.mem.buffer;
    if (need > 8192) {
      const addr = x.tabsync(0, 0, need);
      nums = new Float64Array(x.mem.buffer, addr, 7);
      rest = new Uint8Array(x.mem.buffer, addr + 56, need - 56);
    } else if (buffer !== h.goBuffer) {
      if (h.goAddr < 0) h.goAddr = x.tabsync(0, 0, 0);
      h.goBuffer = x.mem.buffer; // after the call, which may grow the memory
      nums = h.goNumbers = new Float64Array(h.goBuffer, h.goAddr, 7);
      rest = h.goRecord = new Uint8Array(h.goBuffer, h.goAddr + 56, 8192 - 56);
    }
    nums[0] = now; nums[1] = o.check; nums[2] = o.typ; nums[3] = o.seq;
    nums[4] = o.a; nums[5] = o.b; nums[6] = o.flags;
    const n = 56 + h.encoder.encodeInto(r, rest).written;
    return need > 8192 ? -n : n;
  },

  // appliedByStore holds, for each store, the values remote patches put
  // there, by key (see watch): shared by the instances syncing that store.
  appliedByStore: new WeakMap(),

  // The slots: values the engine refers to by number. slot(v) puts v in
  // a free slot; sweep(live) frees every slot but the live ones (a string
  // of slot numbers separated by commas), which Go calls when it has
  // handed out enough new slots since the last sweep.
  values: [],
  free: [],
  slot(v) {
    const h = globalThis.__tabsyncHelpers;
    const i = h.free.length > 0 ? h.free.pop() : h.values.length;
    h.values[i] = v;
    return i;
  },
  slotValue(i) {
    return globalThis.__tabsyncHelpers.values[i];
  },
  sweep(live) {
    const h = globalThis.__tabsyncHelpers;
    const keep = new Uint8Array(h.values.length);
    if (live !== '') for (const n of live.split(',')) keep[Number(n)] = 1;
    h.free = [];
    for (let i = h.values.length - 1; i >= 0; i--) {
      if (keep[i] === 0) {
        h.values[i] = undefined;
        h.free.push(i);
      }
    }
    return h.values.length - h.free.length;
  },
  // ref reads a value reference of a record: a slot, or 'a' and an index
  // into extra.
  ref(r, extra) {
    return r.charCodeAt(0) === 97 ? extra[Number(r.slice(1))] : globalThis.__tabsyncHelpers.values[Number(r)];
  },

  // esc and unesc keep a record's lines apart: a newline in a key or any
  // free text is written \n, a backslash \\.
  esc(s) {
    return s.indexOf('\n') < 0 && s.indexOf('\\') < 0 ? s : s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  },
  unesc(s) {
    return s.indexOf('\\') < 0 ? s : s.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  },

  // kindCode is conflict.Kind's number for v: undefined 0, null 1,
  // boolean 2, number 3, string 4, array 5, plain object 6, function 7,
  // anything else 8.
  kindCode(v) {
    switch (typeof v) {
      case 'undefined': return 0;
      case 'boolean': return 2;
      case 'number': return 3;
      case 'string': return 4;
      case 'function': return 7;
      case 'object': {
        if (v === null) return 1;
        const k = globalThis.__tabsyncHelpers.kindOf(v);
        return k === 1 ? 5 : k === 2 ? 6 : 8;
      }
      default: return 8;
    }
  },

  // types are the message types by protocol.Type, checks the rules a
  // received message may break by protocol.Check (jsbridge tests that Go
  // has them in the same order).
  types: ['', 'STATE_UPDATE', 'STATE_REQUEST', 'STATE_RESPONSE', 'LEADER_ELECTION', 'LEADER_ANNOUNCE', 'TAB_PING', 'TAB_PONG', 'HEARTBEAT'],
  checks: ['accepted', 'notObject', 'typeNotString', 'typeUnknown', 'tabNotId', 'ownTab',
    'versionNotNumber', 'versionUnknown', 'seqNotPositive', 'appNotString', 'appForeign', 'payloadTooBig',
    'payloadTooDeep', 'payloadNotObject', 'noPayload', 'noReq', 'noAddressee', 'stateNotObject', 'seenNotObject',
    'forbiddenKey', 'keyVersionNotString', 'keyVersionMalformed', 'keyLineageMalformed', 'keyLineageNotString',
    'toNotId', 'startedNotTime', 'digestNotShort', 'filterNotShort', 'termNotInteger', 'priorityNotInteger', 'noLeader',
    'goneNotObject', 'keyGoneNotString', 'keyGoneMalformed', 'threw'],

  // decode reads a received message as protocol.Decode does, for the
  // receiver rc ({self, app, maxBytes, maxDepth}), into o: check is 0 or
  // the number of the rule it broke (o.num and the record's text line
  // carrying what the report quotes), typ and seq, a (started or term), b
  // (priority), flags (1 more, 2 leaving), and record, the lines tab, req,
  // to, digest, filter, leader, text, then five for each entry of a state
  // message: key, version, lineage ('' for none, '=' and the lineage;
  // then, for a key with removed fields, '|' and them),
  // slot, kind. Versions are parsed in Go, which may yet reject the
  // message; for a rule broken at a key, the record holds the entries
  // before it (and its version), so that Go reports what Decode would
  // have. cur gets the entries' keys and slots.
  decode(raw, rc, o, cur) {
    const h = globalThis.__tabsyncHelpers;
    o.check = 0; o.typ = 0; o.seq = 0; o.a = 0; o.b = 0; o.flags = 0; o.record = '';
    cur.keys.length = 0;
    cur.slots.length = 0;
    let tab = '';
    let req = '';
    let to = '';
    let digest = '';
    let filter = '';
    let leader = '';
    let entries = '';
    const clip = (s) => (s.length > 41 ? s.slice(0, 41) : s);
    const done = (check, text = '', num = 0) => {
      o.check = check;
      if (check === 7 || check === 1) o.a = num;
      o.record = tab + '\n' + req + '\n' + to + '\n' + h.esc(digest) + '\n' + h.esc(filter) + '\n' + leader + '\n' + h.esc(text) + entries;
    };
    const isID = (s) => s.length > 0 && s.length <= 64 && /^[A-Za-z0-9_-]+$/.test(s);
    // readID: undefined reads as '', anything else must be an id; null
    // for a bad one.
    const readID = (obj, name) => {
      if (obj === null) return '';
      const v = obj[name];
      if (v === undefined) return '';
      return typeof v === 'string' && isID(v) ? v : null;
    };
    const readInt = (v) => typeof v === 'number' && v === Math.trunc(v) && Math.abs(v) <= 9007199254740991;
    const short = (v) => v === undefined || (typeof v === 'string' && h.shortString(v));
    try {
      const k = h.kindCode(raw);
      if (k !== 6) return done(1, '', k);
      const tv = raw.type;
      if (typeof tv !== 'string') return done(2);
      const typ = h.types.indexOf(tv);
      if (typ <= 0) return done(3, clip(tv));
      o.typ = typ;
      const t = readID(raw, 'tabId');
      if (t === null || t === '') return done(4);
      tab = t;
      if (tab === rc.self) return done(5);
      const v = raw.v;
      if (typeof v !== 'number') return done(6);
      if (v !== 1) return done(7, '', v);
      const seq = raw.seq;
      if (!readInt(seq) || seq <= 0) return done(8);
      o.seq = seq;
      const av = raw.appVersion;
      let app = '';
      if (typeof av === 'string') app = av;
      else if (av !== undefined && av !== null) return done(9);
      if (app !== rc.app) return done(10, clip(app));
      let p = raw.payload;
      const pk = h.kindCode(p);
      if (pk === 0 || pk === 1) {
        p = null;
      } else if (pk === 6) {
        const r = h.sizeOf(p, rc.maxBytes, rc.maxDepth);
        if (Math.floor(r / 4096) > rc.maxBytes) return done(11);
        if (r % 4096 > rc.maxDepth) return done(12);
      } else {
        return done(13);
      }
      const get = (name) => (p === null ? undefined : p[name]);
      switch (typ) {
        case 1: case 3: { // STATE_UPDATE, STATE_RESPONSE
          if (p === null) return done(14);
          if (typ === 3) {
            const r = readID(p, 'req');
            if (r === null || r === '') return done(15);
            req = r;
            const a = readID(p, 'to');
            if (a === null || a === '') return done(16);
            to = a;
            if (get('more') === true) o.flags |= 1;
          }
          const state = p.state;
          const meta = p.meta;
          let seen = p.seen;
          let gone = p.gone;
          if (h.kindCode(state) !== 6 || h.kindCode(meta) !== 6) return done(17);
          const sk = h.kindCode(seen);
          if (sk === 0) seen = null;
          else if (sk !== 6) return done(18);
          const gk = h.kindCode(gone);
          if (gk === 0) gone = null;
          else if (gk !== 6) return done(31);
          for (const key of Object.keys(meta)) {
            if (key === '__proto__' || key === 'constructor' || key === 'prototype') return done(19, key);
            const mv = meta[key];
            if (typeof mv !== 'string') return done(20, clip(key));
            let lineage = '';
            if (seen !== null) {
              const lv = seen[key];
              if (typeof lv === 'string') {
                // A bar would end the lineage early (removed fields
                // follow one); a space keeps a lineage holding one as
                // malformed as it is.
                lineage = '=' + h.esc(lv.indexOf('|') < 0 ? lv : lv.replace(/\|/g, ' '));
              } else if (lv !== undefined) {
                // Go checks the version first.
                entries += '\n' + h.esc(key) + '\n' + h.esc(mv) + '\n\n-1\n0';
                return done(23, clip(key));
              }
            }
            if (gone !== null) {
              const gv = gone[key];
              if (typeof gv === 'string') {
                lineage += '|' + h.esc(gv);
              } else if (gv !== undefined) {
                // Go checks the version and the lineage first.
                entries += '\n' + h.esc(key) + '\n' + h.esc(mv) + '\n' + lineage + '\n-1\n0';
                return done(32, clip(key));
              }
            }
            const value = state[key];
            const slot = h.slot(value);
            cur.keys.push(key);
            cur.slots.push(slot);
            entries += '\n' + h.esc(key) + '\n' + h.esc(mv) + '\n' + lineage + '\n' + slot + '\n' + h.kindCode(value);
          }
          break;
        }
        case 2: { // STATE_REQUEST
          const r = readID(p, 'req');
          if (r === null || r === '') return done(15);
          req = r;
          const a = readID(p, 'to');
          if (a === null) return done(24);
          to = a;
          break;
        }
        case 6: case 7: { // TAB_PING, TAB_PONG
          const started = get('started');
          if (!readInt(started)) return done(25);
          o.a = started;
          if (typ === 7) {
            const a = readID(p, 'to');
            if (a === null || a === '') return done(16);
            to = a;
            break;
          }
          const d = get('digest');
          if (!short(d)) return done(26);
          const f = get('filter');
          if (!short(f)) return done(27);
          digest = d === undefined ? '' : d;
          filter = f === undefined ? '' : f;
          if (get('leaving') === true) o.flags |= 2;
          break;
        }
        default: { // LEADER_ELECTION, LEADER_ANNOUNCE, HEARTBEAT
          const term = get('term');
          if (!readInt(term) || term < 0) return done(28);
          o.a = term;
          if (typ === 4) {
            const pr = get('priority');
            if (!readInt(pr)) return done(29);
            o.b = pr;
            break;
          }
          const l = readID(p, 'leader');
          if (l === null || l === '') return done(30);
          leader = l;
        }
      }
    } catch (err) {
      // A getter threw: no message the channel delivers has one.
      tab = ''; req = ''; to = ''; digest = ''; filter = ''; leader = ''; entries = '';
      return done(34, String(err && err.message || err));
    }
    return done(0);
  },

  // shortString reports whether s is at most 256 bytes in UTF-8, as Go
  // reads it (a lone surrogate becomes U+FFFD, 3 bytes).
  shortString(s) {
    if (s.length > 256) return false;
    if (s.length <= 85) return true;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    return n <= 256;
  },

  // encode builds the message the engine sends (protocol.Encode's form)
  // from send's arguments: typ, seq, a (started or term), b (priority),
  // flags (1 more, 2 leaving), record (the lines req, to, digest, filter,
  // leader, then four for each entry: key, version, lineage (then '|' and
  // the removed fields, if any), value
  // reference: a slot, as the outbox puts every value in one).
  encode(rc, typ, seq, a, b, flags, record) {
    const h = globalThis.__tabsyncHelpers;
    const msg = { type: h.types[typ], tabId: rc.self, v: 1, seq };
    if (rc.app !== '') msg.appVersion = rc.app;
    const f = record.split('\n');
    const p = {};
    switch (typ) {
      case 1: case 3: {
        if (typ === 3) {
          p.req = f[0];
          p.to = f[1];
          if (flags & 1) p.more = true;
        }
        const state = {};
        const meta = {};
        let seen;
        let gone;
        for (let i = 5; i + 3 < f.length; i += 4) {
          const k = h.unesc(f[i]);
          state[k] = h.values[Number(f[i + 3])];
          meta[k] = f[i + 1];
          // The lineage, then '|' and the removed fields, if any.
          const l = f[i + 2];
          const bar = l.indexOf('|');
          const lineage = bar < 0 ? l : l.slice(0, bar);
          if (lineage !== '') {
            if (seen === undefined) seen = {};
            seen[k] = lineage;
          }
          if (bar >= 0) {
            if (gone === undefined) gone = {};
            gone[k] = h.unesc(l.slice(bar + 1));
          }
        }
        p.state = state;
        p.meta = meta;
        if (seen !== undefined) p.seen = seen;
        if (gone !== undefined) p.gone = gone;
        break;
      }
      case 2:
        p.req = f[0];
        if (f[1] !== '') p.to = f[1];
        break;
      case 6: case 7:
        p.started = a;
        if (typ === 7) {
          p.to = f[1];
          break;
        }
        if (f[2] !== '') p.digest = h.unesc(f[2]);
        if (f[3] !== '') p.filter = h.unesc(f[3]);
        if (flags & 2) p.leaving = true;
        break;
      case 4:
        p.term = a;
        p.priority = b;
        break;
      default:
        p.term = a;
        p.leader = f[4];
    }
    msg.payload = p;
    return msg;
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
