// Test doubles for the Go tests of jsbridge, written in JavaScript because
// that is what the module meets in a page: a zustand-shaped store, a
// recorder for the config's callbacks, and a raw BroadcastChannel that
// watches (or writes garbage onto) a channel. The tests evaluate this file
// once, after helpers.js, and reach it as globalThis.__tabsyncTest.
globalThis.__tabsyncTest = {
  // createStore behaves like zustand's vanilla createStore: setState takes
  // a partial or an updater, shallow-merges it (or replaces the state when
  // replace is true), and calls every listener once with (state, prevState).
  // With { noPrevState: true } listeners get only the state, like some
  // hand-written stores; with { notifyLater: true } it notifies in a
  // microtask, like stores that batch. It counts setState calls and
  // notifications, and throws from setState while throwOnSet is set.
  createStore(initial, opts = {}) {
    let state = initial;
    const listeners = new Set();
    const api = {
      setStateCalls: 0,
      notifications: 0,
      throwOnSet: '',
      getState: () => state,
      setState(partial, replace) {
        api.setStateCalls++;
        if (api.throwOnSet) throw new Error(api.throwOnSet);
        const next = typeof partial === 'function' ? partial(state) : partial;
        if (Object.is(next, state)) return;
        const prev = state;
        state = replace || typeof next !== 'object' || next === null ? next : Object.assign({}, state, next);
        api.notifications++;
        const notify = () => {
          for (const l of listeners) {
            if (opts.noPrevState) l(state);
            else l(state, prev);
          }
        };
        if (opts.notifyLater) queueMicrotask(notify);
        else notify();
      },
      subscribe(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      listeners: () => listeners.size,
    };
    return api;
  },

  // record adds to config callbacks that keep what they are given in
  // log.errors, log.states and log.remote, and returns log. A callback the
  // config already has is left alone.
  record(config) {
    const log = { errors: [], states: [], remote: [] };
    const add = (name, f) => { if (!(name in config)) config[name] = f; };
    add('onError', (e) => { log.errors.push(e); });
    add('onSyncStateChange', (s) => { log.states.push(s); });
    add('onRemoteUpdate', (keys, source) => { log.remote.push({ keys, source }); });
    return log;
  },

  // watch opens its own BroadcastChannel on name and keeps every message
  // posted there by others.
  watch(name) {
    const ch = new BroadcastChannel(name);
    const w = {
      messages: [],
      types: () => w.messages.map((m) => m && m.type),
      post: (m) => ch.postMessage(m),
      close: () => ch.close(),
    };
    ch.onmessage = (ev) => { w.messages.push(ev.data); };
    return w;
  },

  // captureConsole replaces console[method] with a recorder of its calls'
  // first argument, until restore() is called.
  captureConsole(method) {
    const orig = console[method];
    const c = {
      lines: [],
      restore: () => { console[method] = orig; },
    };
    console[method] = (...args) => { c.lines.push(args.map(String).join(' ')); };
    return c;
  },
};
