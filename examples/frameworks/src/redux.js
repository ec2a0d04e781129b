// Redux Toolkit + React: the store syncs its `demo` slice through the
// tabsync/redux enhancer; remote updates arrive as tabsync/remote actions.
import { configureStore, createSlice } from '@reduxjs/toolkit';
import { useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { tabsyncEnhancer } from 'tabsync/redux';
import { Demo, h } from './react-view.js';
import { initialState, newTodo, syncConfig, syncPanel } from './shared.js';

const { count, todos, draft } = initialState();
const slice = (name, initial, reducers) => createSlice({ name, initialState: initial, reducers });
const counter = slice('count', count, { inc: (n) => n + 1 });
const list = slice('todos', todos, {
  add: (l, { payload }) => void l.push(newTodo(payload)),
  toggle: (l, { payload }) => void (l[payload].done = !l[payload].done),
});
const input = slice('draft', draft, { set: (_, { payload }) => payload });

const store = configureStore({
  reducer: { count: counter.reducer, todos: list.reducer, draft: input.reducer },
  enhancers: (defaults) => defaults().concat(tabsyncEnhancer(syncConfig('redux'))),
});
window.store = store;

function App() {
  const s = useSyncExternalStore(store.subscribe, store.getState);
  return h(Demo, {
    ...s,
    inc: () => store.dispatch(counter.actions.inc()),
    setDraft: (v) => store.dispatch(input.actions.set(v)),
    add: () => store.dispatch(list.actions.add(s.draft)),
    toggle: (i) => store.dispatch(list.actions.toggle(i)),
  });
}

createRoot(document.getElementById('app')).render(h(App));
syncPanel(store.tabsync);
