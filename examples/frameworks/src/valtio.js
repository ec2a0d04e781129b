// Valtio + React: a proxy() synced by tabsync/valtio; the view reads a
// snapshot with useSnapshot.
import { createRoot } from 'react-dom/client';
import { proxy, useSnapshot } from 'valtio';
import { syncProxy } from 'tabsync/valtio';
import { Demo, h } from './react-view.js';
import { initialState, newTodo, syncConfig, syncPanel } from './shared.js';

const state = proxy(initialState());
window.state = state;
const sync = syncProxy(state, syncConfig('valtio'));

function App() {
  const s = useSnapshot(state);
  return h(Demo, {
    ...s,
    inc: () => state.count++,
    setDraft: (v) => (state.draft = v),
    add: () => state.todos.push(newTodo(state.draft)),
    toggle: (i) => (state.todos[i].done = !state.todos[i].done),
  });
}

createRoot(document.getElementById('app')).render(h(App));
syncPanel(sync);
