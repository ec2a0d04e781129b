// The demo's zustand store. Actions live in the state, as usual with zustand:
// tabsync never sends function values.
import { create } from 'zustand';
import { initialState, newTodo } from '../../shared/demo.js';

export const useStore = create((set, get) => ({
  ...initialState,
  setTheme: (theme) => set({ theme }),
  setLocale: (locale) => set({ locale }),
  setFontSize: (fontSize) => set({ fontSize }),
  inc: () => set((s) => ({ count: s.count + 1 })),
  dec: () => set((s) => ({ count: s.count - 1 })),
  reset: () => set({ count: 0 }),
  setDraft: (draft) => set({ draft }),
  addTodo: () => {
    const text = get().draft.trim();
    if (text) set((s) => ({ todos: [...s.todos, newTodo(text)], draft: '' }));
  },
  toggleTodo: (id) => set((s) => ({ todos: s.todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)) })),
  deleteTodo: (id) => set((s) => ({ todos: s.todos.filter((t) => t.id !== id) })),
}));

// The event log of this tab: a separate store that is not synced, so the
// sync callbacks (read once, at mount) can write to it from anywhere.
import { pushLog } from '../../shared/demo.js';

export const useLog = create((set) => ({
  lines: [],
  add: (kind, text) => set((s) => ({ lines: pushLog(s.lines, kind, text) })),
  clear: () => set({ lines: [] }),
}));
