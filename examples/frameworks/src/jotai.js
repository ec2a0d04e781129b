// Jotai + React: three atoms; tabsync/jotai syncs the ones it is given,
// each under a key.
import { atom, useAtom } from 'jotai';
import { createRoot } from 'react-dom/client';
import { syncAtoms } from 'tabsync/jotai';
import { Demo, h } from './react-view.js';
import { initialState, newTodo, syncConfig, syncPanel } from './shared.js';

const init = initialState();
const countAtom = atom(init.count);
const todosAtom = atom(init.todos);
const draftAtom = atom(init.draft);
const sync = syncAtoms({ count: countAtom, todos: todosAtom, draft: draftAtom }, syncConfig('jotai'));

function App() {
  const [count, setCount] = useAtom(countAtom);
  const [todos, setTodos] = useAtom(todosAtom);
  const [draft, setDraft] = useAtom(draftAtom);
  return h(Demo, {
    count,
    todos,
    draft,
    inc: () => setCount((n) => n + 1),
    setDraft,
    add: () => setTodos((l) => [...l, newTodo(draft)]),
    toggle: (i) => setTodos((l) => l.map((t, j) => (j === i ? { ...t, done: !t.done } : t))),
  });
}

createRoot(document.getElementById('app')).render(h(App));
syncPanel(sync);
