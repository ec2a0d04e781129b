// Wrapper logic that needs no wasm. The queue/replay tests use a fake module
// API (the real one is tested in Chromium elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBroadcastSync, isSupported, init } from '../src/index.js';
import { createInstance } from '../src/instance.js';
import { store as fakeStore } from './store.mjs';

// A fake module: records every handle call.
function fakeApi() {
  const calls = [];
  const created = [];
  const api = {
    version: 1,
    supported: () => ({ broadcastChannel: true, webLocks: true, indexedDB: true }),
    create(store, config, tabId) {
      created.push({ store, config, tabId });
      let active = false;
      return {
        start: () => (calls.push(['start']), (active = true)),
        stop: () => (calls.push(['stop']), (active = false)),
        isActive: () => active,
        isLeader: () => true,
        getTabId: () => tabId,
        requestState: () => calls.push(['requestState']),
        broadcastState: (...a) => calls.push(['broadcastState', ...a]),
        getConnectedTabs: () => 3,
        forceLeader: () => calls.push(['forceLeader']),
        getStats: () => ({ sent: 5, received: 0, applied: 0, conflicts: 0, dropped: 0, droppedByReason: {} }),
        destroy: () => calls.push(['destroy']),
      };
    },
  };
  return { api, calls, created };
}

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('channelName missing, empty or not a string throws a TypeError at once', () => {
  const store = fakeStore();
  for (const config of [{}, { channelName: '' }, { channelName: 42 }, { channelName: null }]) {
    assert.throws(() => createBroadcastSync(store, config), TypeError);
  }
  assert.throws(() => createBroadcastSync(store), TypeError);
  assert.throws(() => createBroadcastSync(store, null), TypeError);
});

test('a store without getState/setState/subscribe throws a TypeError', () => {
  assert.throws(() => createBroadcastSync({}, { channelName: 'c' }), TypeError);
  assert.throws(() => createBroadcastSync(null, { channelName: 'c' }), TypeError);
  assert.throws(() => createBroadcastSync({ getState() {}, setState() {} }, { channelName: 'c' }), TypeError);
});

test('a React-bound zustand store (a function with the methods) is accepted', () => {
  const s = fakeStore();
  const hook = Object.assign(() => s.getState(), s);
  const { api } = fakeApi();
  const inst = createInstance(hook, { channelName: 'c' }, 't', () => api);
  assert.equal(typeof inst.start, 'function');
});

test('isSupported returns three booleans and loads nothing', () => {
  const s = isSupported();
  assert.deepEqual(Object.keys(s).sort(), ['broadcastChannel', 'indexedDB', 'webLocks']);
  for (const v of Object.values(s)) assert.equal(typeof v, 'boolean');
});

test('calls before the module loads are queued and replayed in order', async () => {
  const { api, calls, created } = fakeApi();
  const d = deferred();
  const config = { channelName: 'c' };
  const store = fakeStore();
  const inst = createInstance(store, config, 'tab-1', () => d.promise);
  const keys = ['a'];
  inst.start();
  inst.requestState();
  inst.broadcastState(keys);
  keys.push('mutated-later');
  inst.forceLeader();
  inst.broadcastState();
  assert.deepEqual(calls, []);
  // Defaults before load.
  assert.equal(inst.isActive(), true);
  assert.equal(inst.isLeader(), false);
  assert.equal(inst.getConnectedTabs(), 1);
  assert.deepEqual(inst.getStats(), { sent: 0, received: 0, applied: 0, conflicts: 0, dropped: 0, droppedByReason: {} });

  d.resolve(api);
  await inst.ready;
  assert.equal(created.length, 1);
  assert.equal(created[0].store, store);
  assert.equal(created[0].config, config);
  assert.equal(created[0].tabId, 'tab-1');
  assert.deepEqual(calls, [['start'], ['requestState'], ['broadcastState', ['a']], ['forceLeader'], ['broadcastState']]);
  // After load, queries go to the handle and commands run at once.
  assert.equal(inst.isLeader(), true);
  assert.equal(inst.getConnectedTabs(), 3);
  assert.equal(inst.getStats().sent, 5);
  inst.stop();
  assert.equal(inst.isActive(), false);
  assert.deepEqual(calls.at(-1), ['stop']);
});

test('the replayed start() gets the state at start() and the changes made since, with their times', async () => {
  const { api } = fakeApi();
  const args = [];
  const create = api.create;
  api.create = (...a) => {
    const h = create(...a);
    const start = h.start;
    h.start = (arg) => (args.push(arg), start());
    return h;
  };
  const d = deferred();
  const store = fakeStore({ a: 1, b: 1, c: 1, d: 1 });
  store.setState({ a: 2 }); // before start(): the initial state
  const inst = createInstance(store, { channelName: 'c' }, 't', () => d.promise);
  inst.start();
  const t0 = Date.now();
  store.setState({ b: 2 });
  await new Promise((r) => setTimeout(r, 15));
  store.setState({ c: 2, b: 3 });
  store.setState({ d: 2 });
  store.setState({ d: 1 }); // back to the value at start(): no change
  inst.stop();
  inst.start();
  d.resolve(api);
  await inst.ready;
  assert.equal(args.length, 2, 'start() replayed twice');
  const [early, second] = args;
  assert.equal(second, undefined, 'only the first replayed start() carries them');
  assert.deepEqual(early.state, { a: 2, b: 1, c: 1, d: 1 });
  assert.deepEqual(early.keys, ['b', 'c'], 'in the order of their last change; d changed back');
  assert.equal(early.at[0], early.at[1], 'b and c last changed in one setState');
  assert.ok(early.at[0] >= t0 + 10 && early.at[0] <= Date.now(), `the time of the last change: ${early.at[0] - t0} ms`);
});

test('changes before load are recorded from start() until the load or destroy()', async () => {
  const { api } = fakeApi();
  const store = fakeStore({ n: 0 });
  let subscribed = 0;
  const subscribe = store.subscribe;
  store.subscribe = (l) => {
    subscribed++;
    const off = subscribe(l);
    return () => (subscribed--, off());
  };
  const d = deferred();
  const inst = createInstance(store, { channelName: 'c' }, 't', () => d.promise);
  store.setState({ n: 1 });
  assert.equal(subscribed, 0, 'nothing listens before start()');
  inst.start();
  assert.equal(subscribed, 1, 'start() before load records the changes');
  inst.destroy();
  assert.equal(subscribed, 0, 'destroy() stops recording');
  const loaded = createInstance(store, { channelName: 'c' }, 't2', () => d.promise);
  loaded.start();
  assert.equal(subscribed, 1);
  d.resolve(api);
  await Promise.all([inst.ready, loaded.ready]);
  assert.equal(subscribed, 0, 'the recorder is gone once the module has the store (this fake never subscribes)');
});

test('stop() makes isActive() false at once, before and after load', async () => {
  const { api, calls } = fakeApi();
  const d = deferred();
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => d.promise);
  assert.equal(inst.isActive(), false);
  inst.start();
  assert.equal(inst.isActive(), true);
  inst.stop();
  assert.equal(inst.isActive(), false);
  d.resolve(api);
  await inst.ready;
  assert.deepEqual(calls, [['start'], ['stop']]);
  assert.equal(inst.isActive(), false);
  inst.start();
  assert.equal(inst.isActive(), true);
  inst.stop();
  assert.equal(inst.isActive(), false);
});

test('an instance never started creates no handle; ready resolves after load', async () => {
  const { api, created } = fakeApi();
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => Promise.resolve(api));
  await inst.ready;
  assert.equal(created.length, 0);
  inst.stop(); // nothing to stop
  assert.equal(created.length, 0);
  inst.start();
  assert.equal(created.length, 1);
  assert.equal(inst.isActive(), true);
});

test('lazy instances load nothing until the first command', async () => {
  const { api } = fakeApi();
  let loads = 0;
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => (loads++, api), { eager: false });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(loads, 0);
  inst.start();
  await inst.ready;
  assert.equal(loads, 1);
  assert.equal(inst.isActive(), true);
});

test('destroy before load: no handle is created, nothing replays', async () => {
  const { api, created, calls } = fakeApi();
  const d = deferred();
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => d.promise);
  inst.start();
  inst.destroy();
  assert.equal(inst.isActive(), false);
  d.resolve(api);
  await inst.ready;
  assert.equal(created.length, 0);
  assert.deepEqual(calls, []);
  inst.start(); // ignored after destroy
  assert.equal(inst.isActive(), false);
});

test('destroy after load stops and destroys the handle', async () => {
  const { api, calls } = fakeApi();
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => Promise.resolve(api));
  inst.start();
  await inst.ready;
  inst.destroy();
  assert.deepEqual(calls, [['start'], ['stop'], ['destroy']]);
  assert.equal(inst.isActive(), false);
});

test('stop then destroy (the React hook on unmount) stops once', async () => {
  const { api, calls } = fakeApi();
  const inst = createInstance(fakeStore(), { channelName: 'c' }, 't', () => Promise.resolve(api));
  inst.start();
  await inst.ready;
  inst.stop();
  inst.destroy();
  inst.destroy(); // idempotent
  assert.deepEqual(calls, [['start'], ['stop'], ['destroy']]);
});

test('a load failure rejects ready (without an unhandled rejection) and reaches onError with phase start', async () => {
  const errors = [];
  const inst = createInstance(
    fakeStore(),
    { channelName: 'c', onError: (e) => errors.push(e) },
    'tab-x',
    () => Promise.reject(new Error('404')),
  );
  inst.start();
  await assert.rejects(inst.ready, /404/);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].phase, 'start');
  assert.equal(errors[0].tabId, 'tab-x');
  assert.match(errors[0].message, /404/);
  assert.equal(inst.isActive(), false);
});

test('an unobserved failing ready does not cause an unhandledRejection', async () => {
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  createInstance(fakeStore(), { channelName: 'c' }, 't', () => Promise.reject(new Error('nope')));
  await new Promise((r) => setTimeout(r, 20));
  process.off('unhandledRejection', onUnhandled);
  assert.equal(unhandled, 0);
});

test('a throwing handle method goes to onError, not to the caller', async () => {
  const errors = [];
  const api = {
    version: 1,
    create: () => ({
      start() {
        throw new Error('boom');
      },
      isActive: () => false,
    }),
  };
  const inst = createInstance(fakeStore(), { channelName: 'c', onError: (e) => errors.push(e) }, 't', () => api);
  await inst.ready;
  assert.doesNotThrow(() => inst.start());
  assert.equal(errors[0].phase, 'start');
});

test('getTabId works at once, is stable, and differs between instances', () => {
  const store = fakeStore();
  const a = createBroadcastSync(store, { channelName: 'c', onError() {} });
  const b = createBroadcastSync(store, { channelName: 'c', onError() {} });
  assert.equal(typeof a.getTabId(), 'string');
  assert.match(a.getTabId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(a.getTabId(), a.getTabId());
  assert.notEqual(a.getTabId(), b.getTabId());
});

test('the instance has every method of the spec', () => {
  const inst = createBroadcastSync(fakeStore(), { channelName: 'c', onError() {} });
  for (const m of [
    'start',
    'stop',
    'isActive',
    'isLeader',
    'getTabId',
    'requestState',
    'broadcastState',
    'getConnectedTabs',
    'forceLeader',
    'getStats',
    'destroy',
  ]) {
    assert.equal(typeof inst[m], 'function', m);
  }
  assert.ok(inst.ready instanceof Promise);
});

test('with a module already registered on globalThis, init() and createBroadcastSync use it', async () => {
  const { api, calls, created } = fakeApi();
  globalThis.__tabsync = api;
  try {
    // init() is idempotent: later calls (and their wasmUrl) share the first load.
    const first = init({ wasmUrl: '/a.wasm' });
    const second = init({ wasmUrl: '/b.wasm' });
    assert.equal(await first, undefined);
    assert.equal(await second, undefined);
    const inst = createBroadcastSync(fakeStore(), { channelName: 'c' });
    inst.start();
    await inst.ready;
    assert.equal(created.length, 1);
    assert.equal(created[0].tabId, inst.getTabId());
    assert.deepEqual(calls, [['start']]);
  } finally {
    delete globalThis.__tabsync;
  }
});

test('ready waits for a start() that restores persisted state', async () => {
  const { api, calls } = fakeApi();
  const restore = deferred();
  const create = api.create;
  api.create = (...a) => {
    const h = create(...a);
    const start = h.start;
    h.start = () => (start(), restore.promise);
    return h;
  };
  const d = deferred();
  const inst = createInstance(fakeStore(), { channelName: 'c', persist: true }, 't', () => d.promise);
  inst.start();
  let resolved = false;
  inst.ready.then(() => (resolved = true));
  d.resolve(api);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(calls, [['start']]);
  assert.equal(resolved, false, 'not before the restore');
  restore.resolve();
  await inst.ready;
  assert.equal(resolved, true);
});
