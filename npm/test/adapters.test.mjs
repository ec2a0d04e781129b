// The adapters with the real frameworks and the real wasm, two "tabs" in one
// Node process syncing over Node's BroadcastChannel (as dist.test.mjs does
// for the core). The browser tests (e2e/adapters_test.go) run the example
// apps in Chromium; these check each adapter's contract quickly: a change
// reaches the other side, a remote apply is not echoed (messages counted on
// the channel), excluded keys, functions and getters stay local, nothing of
// the framework goes on the wire, and stop() and destroy() detach the
// framework listener (counted in the framework's own bookkeeping where it
// has one), also when stop() comes before the module has loaded. Skipped
// until `make build` has made dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const built = ['tabsync.mjs', 'adapter.mjs', 'tabsync.wasm'].every((f) => existsSync(dist + f));
const skip = built ? false : 'dist/ not built (run `make build` at the repo root)';

if (built) {
  globalThis.fetch = async () =>
    new Response(readFileSync(dist + 'tabsync.wasm'), { headers: { 'Content-Type': 'application/wasm' } });
}

async function until(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
}
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

let n = 0;
/** A fresh channel, and every STATE_UPDATE on it (its payload), by sender. */
function channel(t) {
  const name = `adapters-${process.pid}-${n++}`;
  const bc = new BroadcastChannel(name);
  const updates = [];
  bc.onmessage = ({ data }) => {
    if (data && data.type === 'STATE_UPDATE') updates.push({ tabId: data.tabId, state: data.payload.state });
  };
  t.after(() => bc.close());
  return { name, updates, from: (sync) => updates.filter((m) => m.tabId === sync.getTabId()) };
}

/**
 * The checks every adapter passes. make(channelName, i) returns
 * { sync, set(count), count(), setDraft(s), draft(), wire? } for "tab" i,
 * with keys count and draft synced except draft (excludeKeys).
 */
async function contract(t, make) {
  const ch = channel(t);
  const a = make(ch.name, 0);
  const b = make(ch.name, 1);
  t.after(() => {
    a.sync.destroy();
    b.sync.destroy();
  });
  await Promise.all([a.sync.ready, b.sync.ready]);
  assert.ok(await until(() => a.sync.getConnectedTabs() === 2 && b.sync.getConnectedTabs() === 2), 'both see two tabs');

  a.set(5);
  assert.ok(await until(() => b.count() === 5), 'b gets the change');
  b.setDraft('b only');
  await settle();
  assert.equal(a.draft(), '', 'the excluded key stays local');
  assert.equal(ch.from(b.sync).length, 0, 'b echoed nothing back');
  for (const m of ch.updates) {
    assert.deepEqual(Object.keys(m.state), ['count'], 'only the changed synced key travels');
    assert.equal(typeof m.state.count, 'number');
  }

  b.set(7);
  assert.ok(await until(() => a.count() === 7), 'a gets b\'s change');
  await settle();
  assert.equal(ch.from(a.sync).length, 1, 'a sent once, no echo of b\'s change');
  assert.equal(ch.from(b.sync).length, 1);

  // Stopped: the framework listener is detached, a remote change does not
  // reach the store, and start() attaches it again and catches up.
  a.sync.stop();
  assert.equal(a.attached(), 0, 'stop() detached the framework listener');
  b.set(8);
  await settle();
  assert.equal(a.count(), 7, 'a stopped: b\'s change does not reach its store');
  a.sync.start();
  assert.equal(a.attached(), 1, 'start() attached it again');
  assert.ok(await until(() => a.count() === 8), 'a started again: it takes what it missed');

  // Stopped again: a local change is not sent; start() sends it.
  a.sync.stop();
  assert.equal(a.attached(), 0, 'the second stop() detached it too');
  a.set(9);
  await settle();
  assert.equal(b.count(), 8, 'a stopped: its change stays');
  assert.equal(ch.from(a.sync).length, 1, 'a stopped: nothing sent');
  a.sync.start();
  assert.equal(a.attached(), 1);
  assert.ok(await until(() => b.count() === 9), 'the change made while stopped goes out on start');
  await settle();
  assert.equal(ch.from(a.sync).length, 2, 'one update for it');

  a.sync.destroy();
  assert.equal(a.attached(), 0, 'destroy() detached the framework listener');
  a.set(10);
  b.set(11);
  await settle();
  assert.equal(b.count(), 11, 'a destroyed: its change stays');
  assert.equal(a.count(), 10, 'a destroyed: b\'s change does not reach its store');
  assert.equal(ch.from(a.sync).length, 2);
  a.sync.start();
  assert.equal(a.attached(), 0, 'start() after destroy() attaches nothing');
  b.sync.destroy();
}

/**
 * The effects Vue has subscribed to a reactive dependency (a Dep: a ref's,
 * or a reactive object's key's as toRef(object, key).dep reads it anew, since
 * Vue drops a key's Dep when its last subscriber goes): its list of
 * subscribers, which a watch joins and leaves when stopped.
 */
function vueSubscribers(dep) {
  let n = 0;
  for (let link = dep && dep.subs; link; link = link.prevSub) n++;
  return n;
}

/**
 * Counts the listeners of a valtio proxy: valtio's subscribe() adds its
 * listener with the proxy's own addListener (the third entry of its internal
 * state) and calls what that returns to remove it, so both are wrapped.
 * Returns a function that reads the count.
 */
function countValtioListeners(unstable_getInternalStates, state) {
  const { proxyStateMap } = unstable_getInternalStates();
  const [target, ensureVersion, addListener] = proxyStateMap.get(state);
  let listeners = 0;
  proxyStateMap.set(state, [
    target,
    ensureVersion,
    (listener) => {
      listeners++;
      const remove = addListener(listener);
      return () => {
        listeners--;
        remove();
      };
    },
  ]);
  return () => listeners;
}

test('redux: an enhancer, remote updates as tabsync/remote actions', { skip }, async (t) => {
  const { createStore, combineReducers, compose } = await import('redux');
  const { tabsyncEnhancer, REMOTE } = await import(dist + 'redux.mjs');
  const dispatched = [];
  const subs = [0, 0];
  // Inside tabsync's enhancer: sees what it dispatches and subscribes.
  const spy = (i) => (create) => (reducer, preloaded) => {
    const store = create(reducer, preloaded);
    return {
      ...store,
      dispatch(action) {
        if (action.type === REMOTE) dispatched.push([i, action]);
        return store.dispatch(action);
      },
      subscribe(listener) {
        subs[i]++;
        const off = store.subscribe(listener);
        return () => {
          subs[i]--;
          off();
        };
      },
    };
  };
  await contract(t, (channelName, i) => {
    const reducer = combineReducers({
      count: (s = 0, a) => (a.type === 'set' ? a.count : s),
      draft: (s = '', a) => (a.type === 'draft' ? a.draft : s),
    });
    const enhancer = compose(tabsyncEnhancer({ channelName, throttleMs: 0, excludeKeys: ['draft'] }), spy(i));
    const store = createStore(reducer, enhancer);
    return {
      sync: store.tabsync,
      set: (count) => store.dispatch({ type: 'set', count }),
      count: () => store.getState().count,
      setDraft: (draft) => store.dispatch({ type: 'draft', draft }),
      draft: () => store.getState().draft,
      attached: () => subs[i],
    };
  });
  assert.deepEqual(subs, [0, 0], 'destroy() unsubscribed from both stores');
  const remote = dispatched.filter(([, a]) => a.payload.source !== '');
  assert.deepEqual(
    remote.map(([i, a]) => [i, a.payload.keys, a.payload.state]),
    [
      [1, ['count'], { count: 5 }],
      [0, ['count'], { count: 7 }],
      [0, ['count'], { count: 8 }], // what a missed while stopped
      [1, ['count'], { count: 9 }],
    ],
    'one tabsync/remote action per applied update',
  );
  for (const [, a] of remote) assert.match(a.payload.source, /^[0-9a-f-]{36}$/, 'the source tab id');
});

test('vue: reactive() with a nested ref, a getter and a function', { skip }, async (t) => {
  const { reactive, ref, nextTick, toRef } = await import('vue');
  const { syncReactive } = await import(dist + 'vue.mjs');
  await contract(t, (channelName) => {
    const state = reactive({
      count: 0,
      draft: '',
      get twice() {
        return this.count * 2;
      },
      greet() {},
    });
    return {
      sync: syncReactive(state, { channelName, throttleMs: 0, excludeKeys: ['draft'] }),
      set: (c) => (state.count = c),
      count: () => state.count,
      setDraft: (d) => (state.draft = d),
      draft: () => state.draft,
      // tabsync's deep watch is the one effect that tracks state.count.
      attached: () => vueSubscribers(toRef(state, 'count').dep),
    };
  });
  // A ref of an object, deep changes included; a nested ref is unwrapped.
  const ch = channel(t);
  const a = ref({ todos: [{ text: 'x', done: false }], inner: ref(1) });
  const b = ref({ todos: [], inner: 0 });
  const sa = syncReactive(a, { channelName: ch.name, throttleMs: 0 });
  const sb = syncReactive(b, { channelName: ch.name, throttleMs: 0 });
  await Promise.all([sa.ready, sb.ready]);
  await until(() => sa.getConnectedTabs() === 2);
  assert.equal(vueSubscribers(a.dep), 1, 'the watch of the ref is its one subscriber');
  a.value.todos[0].done = true;
  assert.ok(await until(() => b.value.todos.length === 1 && b.value.todos[0].done === true), 'a deep change travels');
  a.value.inner = 4;
  assert.ok(await until(() => b.value.inner === 4), 'the unwrapped ref value travels');
  await nextTick();
  await settle();
  assert.equal(ch.from(sb).length, 0, 'b echoed nothing');
  sa.stop();
  assert.equal(vueSubscribers(a.dep), 0, 'stop() stopped the watch of the ref');
  sa.start();
  assert.equal(vueSubscribers(a.dep), 1, 'start() watches it again');
  sa.destroy();
  sb.destroy();
  assert.equal(vueSubscribers(a.dep) + vueSubscribers(b.dep), 0, 'destroy() stopped both watches');
});

test('pinia: option and setup stores opt in with sync', { skip }, async (t) => {
  const { createApp, ref, computed, toRef } = await import('vue');
  const { createPinia, defineStore } = await import('pinia');
  const { tabsyncPlugin } = await import(dist + 'pinia.mjs');
  await contract(t, (channelName) => {
    const pinia = createPinia();
    pinia.use(tabsyncPlugin({ throttleMs: 0 }));
    createApp({}).use(pinia);
    const store = defineStore('contract', {
      state: () => ({ count: 0, draft: '' }),
      sync: { channelName, excludeKeys: ['draft'] },
    })(pinia);
    return {
      sync: store.$tabsync,
      set: (c) => (store.count = c),
      count: () => store.count,
      setDraft: (d) => (store.draft = d),
      draft: () => store.draft,
      // The watch behind tabsync's $subscribe is the one effect that tracks
      // the store's state (pinia.state.value[id]).
      attached: () => vueSubscribers(toRef(pinia.state.value.contract, 'count').dep),
    };
  });
  const prefix = `pinia-${process.pid}-`;
  const tab = () => {
    const pinia = createPinia();
    pinia.use(tabsyncPlugin({ channelPrefix: prefix, throttleMs: 0 }));
    createApp({}).use(pinia);
    const useCart = defineStore('cart', {
      state: () => ({ count: 0, draft: '' }),
      getters: { twice: (s) => s.count * 2 },
      actions: {
        set(c) {
          this.count = c;
        },
      },
      sync: { excludeKeys: ['draft'] },
    });
    const useTheme = defineStore(
      'theme',
      () => {
        const theme = ref('light');
        const dark = computed(() => theme.value === 'dark');
        return { theme, dark, toggle: () => (theme.value = dark.value ? 'light' : 'dark') };
      },
      { sync: true },
    );
    const usePlain = defineStore('plain', { state: () => ({ x: 1 }) });
    return { cart: useCart(pinia), theme: useTheme(pinia), plain: usePlain(pinia) };
  };
  const watch = new BroadcastChannel(`${prefix}pinia:cart`);
  t.after(() => watch.close());
  const a = tab();
  const b = tab();
  assert.equal(a.plain.$tabsync, undefined, 'a store without sync is left alone');
  await Promise.all([a.cart.$tabsync.ready, b.cart.$tabsync.ready, a.theme.$tabsync.ready, b.theme.$tabsync.ready]);
  await until(() => a.cart.$tabsync.getConnectedTabs() === 2);
  const seen = [];
  watch.onmessage = ({ data }) => data.type === 'STATE_UPDATE' && seen.push({ tabId: data.tabId, state: data.payload.state });
  a.cart.set(3);
  a.cart.draft = 'mine';
  assert.ok(await until(() => b.cart.count === 3 && b.cart.twice === 6), 'option store: state and getter follow');
  a.theme.toggle();
  assert.ok(await until(() => b.theme.theme === 'dark' && b.theme.dark), 'setup store follows');
  await settle();
  assert.equal(b.cart.draft, '', 'excluded key stays');
  assert.deepEqual(
    seen.map((m) => [m.tabId === a.cart.$tabsync.getTabId(), Object.keys(m.state)]),
    [[true, ['count']]],
    'one message on the cart channel, from a, with count only: no getter, no echo',
  );
  a.cart.$dispose();
  assert.equal(a.cart.$tabsync.isActive(), false, '$dispose destroys the instance');
  for (const s of [a.theme, b.cart, b.theme]) s.$tabsync.destroy();
});

test('svelte: a writable', { skip }, async (t) => {
  const { writable } = await import('svelte/store');
  const { syncWritable } = await import(dist + 'svelte.mjs');
  await contract(t, (channelName) => {
    // The test's own subscription, then tabsync's: the writable counts them.
    let subscribers = 0;
    const store = writable({ count: 0, draft: '' });
    const subscribe = store.subscribe;
    store.subscribe = (run) => {
      subscribers++;
      const off = subscribe(run);
      return () => {
        subscribers--;
        off();
      };
    };
    let value;
    const unsub = store.subscribe((v) => (value = v));
    t.after(unsub);
    return {
      attached: () => subscribers - 1,
      sync: syncWritable(store, { channelName, throttleMs: 0, excludeKeys: ['draft'] }),
      set: (count) => store.update((s) => ({ ...s, count })),
      count: () => value.count,
      setDraft: (draft) => store.update((s) => ({ ...s, draft })),
      draft: () => value.draft,
    };
  });
});

test('valtio: a proxy, snapshots out and Object.assign in', { skip }, async (t) => {
  const { proxy, subscribe, unstable_getInternalStates } = await import('valtio/vanilla');
  const { syncProxy } = await import(dist + 'valtio.mjs');
  await contract(t, (channelName) => {
    const state = proxy({ count: 0, draft: '', nested: { list: [1] } });
    return {
      attached: countValtioListeners(unstable_getInternalStates, state),
      sync: syncProxy(state, { channelName, throttleMs: 0, excludeKeys: ['draft', 'nested'] }),
      set: (c) => (state.count = c),
      count: () => state.count,
      setDraft: (d) => (state.draft = d),
      draft: () => state.draft,
    };
  });
  // A remote object value becomes proxied state and is not sent back.
  const ch = channel(t);
  const a = proxy({ todos: [] });
  const b = proxy({ todos: [] });
  const sa = syncProxy(a, { channelName: ch.name, throttleMs: 0 });
  const sb = syncProxy(b, { channelName: ch.name, throttleMs: 0 });
  await Promise.all([sa.ready, sb.ready]);
  await until(() => sa.getConnectedTabs() === 2);
  let bChanges = 0;
  subscribe(b, () => bChanges++);
  a.todos.push({ text: 'x' });
  assert.ok(await until(() => b.todos.length === 1), 'b gets the pushed item');
  b.todos[0].text = 'y';
  assert.ok(await until(() => a.todos[0].text === 'y'), 'a deep change on the applied value travels back');
  await settle();
  assert.equal(ch.from(sb).length, 1, 'b sent its own change only');
  assert.equal(ch.from(sa).length, 1, 'a did not echo');
  assert.ok(bChanges >= 2);
  sa.destroy();
  sb.destroy();
});

test('jotai: chosen atoms', { skip }, async (t) => {
  const { atom, createStore } = await import('jotai/vanilla');
  const { INTERNAL_getBuildingBlocksRev4, INTERNAL_KEY_mountedMap } = await import('jotai/vanilla/internals');
  const { syncAtoms } = await import(dist + 'jotai.mjs');
  const countAtom = atom(0);
  const draftAtom = atom('');
  await contract(t, (channelName) => {
    const store = createStore();
    return {
      sync: syncAtoms({ count: countAtom, draft: draftAtom }, { channelName, throttleMs: 0, excludeKeys: ['draft'] }, store),
      set: (c) => store.set(countAtom, c),
      count: () => store.get(countAtom),
      setDraft: (d) => store.set(draftAtom, d),
      draft: () => store.get(draftAtom),
      // The store's listeners of countAtom (its mounted entry, dropped when
      // the last one goes): store.sub adds one, its unsubscribe removes it.
      attached: () => INTERNAL_getBuildingBlocksRev4(store)[INTERNAL_KEY_mountedMap].get(countAtom)?.l.size ?? 0,
    };
  });
});

test('stop() before the module has loaded: no framework listener until start(), which sends what changed meanwhile (redux, valtio)', { skip }, async (t) => {
  const { createStore, compose } = await import('redux');
  const { tabsyncEnhancer } = await import(dist + 'redux.mjs');
  const { proxy, unstable_getInternalStates } = await import('valtio/vanilla');
  const { syncProxy } = await import(dist + 'valtio.mjs');
  // Every instance gets the module asynchronously (also when another has
  // loaded it), so a stop() right after the adapter started it comes first.
  // Redux: the store's subscribers, counted by an enhancer inside tabsync's.
  let ch = channel(t);
  let subs = 0;
  const spy = (create) => (reducer, preloaded) => {
    const store = create(reducer, preloaded);
    return {
      ...store,
      subscribe(listener) {
        subs++;
        const off = store.subscribe(listener);
        return () => {
          subs--;
          off();
        };
      },
    };
  };
  const reducer = (s = { count: 0 }, a) => (a.type === 'set' ? { count: a.count } : s);
  const rb = createStore(reducer, tabsyncEnhancer({ channelName: ch.name, throttleMs: 0 }));
  const ra = createStore(reducer, compose(tabsyncEnhancer({ channelName: ch.name, throttleMs: 0 }), spy));
  t.after(() => [ra, rb].forEach((s) => s.tabsync.destroy()));
  ra.tabsync.stop();
  assert.equal(subs, 0, 'stop() detached the store listener');
  ra.dispatch({ type: 'set', count: 1 }); // before the load
  await Promise.all([ra.tabsync.ready, rb.tabsync.ready]);
  await settle();
  assert.equal(subs, 0, 'the module loaded while stopped: no store listener');
  ra.dispatch({ type: 'set', count: 2 }); // after it
  await settle();
  assert.equal(rb.getState().count, 0, 'nothing sent while stopped');
  ra.tabsync.start();
  assert.equal(subs, 1, 'start() attached it');
  assert.ok(await until(() => rb.getState().count === 2), `the change made while stopped goes out on start: ${rb.getState().count}`);
  await settle();
  assert.equal(ch.from(ra.tabsync).length, 1, 'once');

  // Valtio: the proxy's listeners, counted at its addListener.
  ch = channel(t);
  const va = proxy({ count: 0 });
  const vb = proxy({ count: 0 });
  const listeners = countValtioListeners(unstable_getInternalStates, va);
  const sb = syncProxy(vb, { channelName: ch.name, throttleMs: 0 });
  const sa = syncProxy(va, { channelName: ch.name, throttleMs: 0 });
  t.after(() => [sa, sb].forEach((s) => s.destroy()));
  sa.stop();
  assert.equal(listeners(), 0, 'stop() detached the proxy listener');
  va.count = 1;
  await Promise.all([sa.ready, sb.ready]);
  await settle();
  assert.equal(listeners(), 0, 'the module loaded while stopped: no proxy listener');
  va.count = 2;
  await settle();
  assert.equal(vb.count, 0, 'nothing sent while stopped');
  sa.start();
  assert.equal(listeners(), 1, 'start() attached it');
  assert.ok(await until(() => vb.count === 2), `the change made while stopped goes out on start: ${vb.count}`);
  await settle();
  assert.equal(ch.from(sa).length, 1, 'once');
});

test('strategies through the adapters: merge (vue) and first-write-wins (redux) on concurrent writes', { skip }, async (t) => {
  const { reactive } = await import('vue');
  const { syncReactive } = await import(dist + 'vue.mjs');
  const { createStore } = await import('redux');
  const { tabsyncEnhancer } = await import(dist + 'redux.mjs');

  // merge: both tabs add a different field to one object at once; merge
  // deep-merges the two objects (see docs/API.md), so both fields stay.
  let ch = channel(t);
  const va = reactive({ settings: {} });
  const vb = reactive({ settings: {} });
  const config = { channelName: ch.name, throttleMs: 0, conflictStrategy: 'merge' };
  const sa = syncReactive(va, config);
  const sb = syncReactive(vb, config);
  t.after(() => [sa, sb].forEach((s) => s.destroy()));
  await Promise.all([sa.ready, sb.ready]);
  assert.ok(await until(() => sa.getConnectedTabs() === 2 && sb.getConnectedTabs() === 2));
  va.settings = { theme: 'dark' };
  vb.settings = { size: 16 };
  const both = (s) => s.theme === 'dark' && s.size === 16;
  assert.ok(
    await until(() => both(va.settings) && both(vb.settings)),
    `both tabs hold the merge: ${JSON.stringify([va.settings, vb.settings])}`,
  );
  assert.ok(sa.getStats().conflicts + sb.getStats().conflicts >= 1, 'decided as a conflict');

  // first-write-wins: both tabs write count at once; they end equal.
  ch = channel(t);
  const reducer = (s = { count: 0 }, a) => (a.type === 'set' ? { count: a.count } : s);
  const ra = createStore(reducer, tabsyncEnhancer({ channelName: ch.name, throttleMs: 0, conflictStrategy: 'first-write-wins' }));
  const rb = createStore(reducer, tabsyncEnhancer({ channelName: ch.name, throttleMs: 0, conflictStrategy: 'first-write-wins' }));
  t.after(() => [ra, rb].forEach((s) => s.tabsync.destroy()));
  await Promise.all([ra.tabsync.ready, rb.tabsync.ready]);
  assert.ok(await until(() => ra.tabsync.getConnectedTabs() === 2 && rb.tabsync.getConnectedTabs() === 2));
  ra.dispatch({ type: 'set', count: 1 });
  rb.dispatch({ type: 'set', count: 2 });
  await settle(300);
  assert.equal(ra.getState().count, rb.getState().count, 'both tabs end with the same value');
  assert.ok(ra.tabsync.getStats().conflicts + rb.tabsync.getStats().conflicts >= 1, 'decided as a conflict');
});

test('package.json exports each adapter with its types, ships its files, and lists its framework as an optional peer', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const peers = { redux: 'redux', pinia: 'pinia', vue: 'vue', svelte: 'svelte', valtio: 'valtio', jotai: 'jotai' };
  for (const [name, peer] of Object.entries(peers)) {
    assert.deepEqual(pkg.exports[`./${name}`], { types: `./dist/${name}.d.ts`, import: `./dist/${name}.mjs` });
    assert.ok(pkg.files.includes(`dist/${name}.mjs`) && pkg.files.includes(`dist/${name}.d.ts`), `${name} is shipped`);
    assert.ok(pkg.peerDependencies[peer], `${peer} is a peer`);
    assert.equal(pkg.peerDependenciesMeta[peer].optional, true, `${peer} is optional`);
    assert.equal(pkg.dependencies?.[peer], undefined, `${peer} is not a dependency`);
  }
  for (const f of ['dist/adapter.mjs', 'dist/devtools.mjs']) assert.ok(pkg.files.includes(f), `${f} is shipped`);
});
