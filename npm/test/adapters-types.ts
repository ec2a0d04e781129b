// Compiled by test/types.test.mjs (tsc --noEmit): the adapters' declarations
// accept ordinary use with each framework and reject misuse (each line after
// a ts-expect-error comment).
import { combineReducers, createStore, legacy_createStore } from 'redux';
import { configureStore, createSlice } from '@reduxjs/toolkit';
import { createPinia, defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { writable } from 'svelte/store';
import { proxy } from 'valtio/vanilla';
import { atom, createStore as createJotaiStore } from 'jotai/vanilla';
import type { BroadcastSyncInstance } from '../src/index.js';
import { REMOTE, syncRedux, tabsyncEnhancer, withTabsync } from '../src/redux.js';
import { tabsyncPlugin } from '../src/pinia.js';
import { syncReactive } from '../src/vue.js';
import { syncState, syncWritable } from '../src/svelte.js';
import { syncProxy } from '../src/valtio.js';
import { syncAtoms } from '../src/jotai.js';

// Redux: a wrapped root reducer, and the enhancer with Redux Toolkit.
const counter = createSlice({
  name: 'counter',
  initialState: { value: 0 },
  reducers: { inc: (s) => void (s.value += 1) },
});
const root = combineReducers({ counter: counter.reducer, draft: (s: string = '') => s });
const plain = legacy_createStore(withTabsync(root));
const viaStore: BroadcastSyncInstance<ReturnType<typeof root>> = syncRedux(plain, {
  channelName: 'redux',
  syncKeys: ['counter'],
  excludeKeys: ['draft'],
});
// @ts-expect-error: not a key of the state
syncRedux(plain, { channelName: 'redux', syncKeys: ['nope'] });
const rtk = configureStore({
  reducer: root,
  enhancers: (defaults) => defaults().concat(tabsyncEnhancer({ channelName: 'rtk', devtools: 'auto' })),
});
rtk.tabsync.stop();
rtk.dispatch(counter.actions.inc());
const remoteType: 'tabsync/remote' = REMOTE;
void createStore;

// Pinia: option and setup stores opt in with `sync`.
const pinia = createPinia();
pinia.use(tabsyncPlugin({ channelPrefix: 'app:', throttleMs: 50 }));
const useCart = defineStore('cart', {
  state: () => ({ items: [] as string[], draft: '' }),
  sync: { excludeKeys: ['draft'] },
});
const useSettings = defineStore(
  'settings',
  () => {
    const theme = ref('light');
    return { theme };
  },
  { sync: true },
);
const cart = useCart(pinia);
cart.$tabsync?.getStats().sent.toFixed();
void useSettings;

// Vue: reactive() and ref().
const state = reactive({ count: 0, todos: [] as { text: string; done: boolean }[] });
syncReactive(state, { channelName: 'vue', excludeKeys: ['todos'] }).destroy();
const boxed = ref({ theme: 'dark' });
syncReactive(boxed, { channelName: 'vue-ref', conflictStrategy: 'merge', persist: true });
// @ts-expect-error: a number is not a store
syncReactive(3, { channelName: 'x' });

// Svelte: a writable, and a $state object.
const settings = writable({ theme: 'light', size: 14 });
syncWritable(settings, { channelName: 'svelte', syncKeys: ['theme'] });
// @ts-expect-error: not a key of the writable's value
syncWritable(settings, { channelName: 'svelte', syncKeys: ['colour'] });
syncState({ count: 1 }, { channelName: 'svelte5' });

// Valtio.
const v = proxy({ count: 0, draft: '' });
syncProxy(v, { channelName: 'valtio', excludeKeys: ['draft'], onRemoteUpdate: (keys, from) => void [keys, from] });

// Jotai: chosen atoms, in the default store or a given one.
const countAtom = atom(0);
const nameAtom = atom('x');
const s = syncAtoms({ count: countAtom, name: nameAtom }, { channelName: 'jotai', excludeKeys: ['name'] });
s.broadcastState(['count']);
syncAtoms({ count: countAtom }, { channelName: 'jotai2' }, createJotaiStore());
// @ts-expect-error: not one of the atoms' keys
syncAtoms({ count: countAtom }, { channelName: 'jotai', syncKeys: ['name'] });
// @ts-expect-error: a read-only atom cannot take remote values
syncAtoms({ doubled: atom((get) => get(countAtom) * 2) }, { channelName: 'jotai' });
void viaStore;
void remoteType;
