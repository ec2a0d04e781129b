// Plain-JS demo: a hand-written zustand-shaped store synced with
// window.TabSync (the script-tag build loaded by index.html).
import {
  LOCALES, initialState, greeting, newTodo, shortId, applyLook, demoConfig, pushLog, describeError,
} from '../shared/demo.js';

// --- A tiny store with zustand's shape: getState, setState, subscribe --------
function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    getState: () => state,
    setState(partial, replace = false) {
      const next = typeof partial === 'function' ? partial(state) : partial;
      if (Object.is(next, state)) return;
      const prev = state;
      state = replace ? next : { ...state, ...next };
      listeners.forEach((l) => l(state, prev));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const store = createStore({ ...initialState });
const $ = (id) => document.getElementById(id);

// --- Event log ----------------------------------------------------------------
let logLines = [];
function log(kind, text) {
  logLines = pushLog(logLines, kind, text);
  renderLog();
}
function renderLog() {
  const ol = $('log');
  ol.replaceChildren(
    ...logLines.map((l) => {
      const li = document.createElement('li');
      li.dataset.kind = l.kind;
      li.dataset.testid = 'log-line';
      const time = document.createElement('time');
      time.textContent = l.time;
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = l.kind;
      const text = document.createElement('span');
      text.textContent = l.text;
      li.append(time, kind, text);
      return li;
    }),
  );
}

// --- Sync -----------------------------------------------------------------------
const sync = window.TabSync.createBroadcastSync(
  store,
  demoConfig({
    onRemoteUpdate: (keys, source) => log('remote', `${keys.join(', ')} from …${shortId(source)}`),
    onSyncStateChange: (state) => {
      log('state', state);
      renderTabInfo();
    },
    onError: (err) => {
      log('error', describeError(err));
      // Only a failed start (the wasm did not load) means this tab is not syncing.
      if (err.phase === 'start') $('sync-dot').dataset.state = 'error';
    },
  }),
);
window.demo = { store, sync };

sync.start();
sync.ready.then(
  () => {
    log('info', 'wasm loaded, sync started');
    renderTabInfo();
  },
  () => {}, // reported through onError already
);

// --- Rendering --------------------------------------------------------------------
function renderTabInfo() {
  $('tab-id').textContent = shortId(sync.getTabId());
  $('tab-id').title = sync.getTabId();
  const leader = sync.isLeader();
  const badge = $('leader-badge');
  badge.dataset.leader = String(leader);
  badge.textContent = leader ? '👑 leader' : 'follower';
  $('tab-count').textContent = String(sync.getConnectedTabs());
  const dot = $('sync-dot');
  if (dot.dataset.state !== 'error') dot.dataset.state = sync.isActive() ? 'active' : 'idle';
  $('toggle-sync').textContent = sync.isActive() ? 'Stop sync' : 'Start sync';
}

function renderTodos(todos) {
  const ul = $('todo-list');
  if (todos.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Nothing to do. Add something, then look at another tab.';
    ul.replaceChildren(li);
    return;
  }
  ul.replaceChildren(
    ...todos.map((t) => {
      const li = document.createElement('li');
      li.dataset.testid = 'todo-item';
      li.dataset.id = t.id;
      li.dataset.done = String(t.done);
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = t.done;
      box.dataset.testid = 'todo-toggle';
      box.setAttribute('aria-label', `done: ${t.text}`);
      box.addEventListener('change', () => toggleTodo(t.id));
      const text = document.createElement('span');
      text.className = 'text';
      text.dataset.testid = 'todo-text';
      text.textContent = t.text;
      const del = document.createElement('button');
      del.className = 'ghost';
      del.dataset.testid = 'todo-delete';
      del.setAttribute('aria-label', `delete: ${t.text}`);
      del.textContent = '✕';
      del.addEventListener('click', () => deleteTodo(t.id));
      li.append(box, text, del);
      return li;
    }),
  );
}

function render(state, prev) {
  if (!prev || state.theme !== prev.theme || state.fontSize !== prev.fontSize) applyLook(state);
  $('theme').value = state.theme;
  $('locale').value = state.locale;
  $('greeting').textContent = greeting(state.locale);
  document.documentElement.lang = state.locale;
  $('font-size').value = String(state.fontSize);
  $('font-size-value').textContent = `${state.fontSize}px`;
  $('counter-value').textContent = String(state.count);
  if (!prev || state.todos !== prev.todos) renderTodos(state.todos);
  // Do not fight the user's caret: only write the input when it differs.
  if ($('todo-input').value !== state.draft) $('todo-input').value = state.draft;
}

// --- Actions ---------------------------------------------------------------------
const addTodo = () => {
  const text = store.getState().draft.trim();
  if (!text) return;
  store.setState((s) => ({ todos: [...s.todos, newTodo(text)], draft: '' }));
};
const toggleTodo = (id) =>
  store.setState((s) => ({ todos: s.todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)) }));
const deleteTodo = (id) => store.setState((s) => ({ todos: s.todos.filter((t) => t.id !== id) }));

// --- Wiring ------------------------------------------------------------------------
$('locale').replaceChildren(
  ...Object.entries(LOCALES).map(([code, l]) => new Option(l.name, code)),
);
$('theme').addEventListener('change', (e) => store.setState({ theme: e.target.value }));
$('locale').addEventListener('change', (e) => store.setState({ locale: e.target.value }));
$('font-size').addEventListener('input', (e) => store.setState({ fontSize: Number(e.target.value) }));
$('inc').addEventListener('click', () => store.setState((s) => ({ count: s.count + 1 })));
$('dec').addEventListener('click', () => store.setState((s) => ({ count: s.count - 1 })));
$('reset').addEventListener('click', () => store.setState({ count: 0 }));
$('todo-input').addEventListener('input', (e) => store.setState({ draft: e.target.value }));
$('todo-form').addEventListener('submit', (e) => {
  e.preventDefault();
  addTodo();
});
$('toggle-sync').addEventListener('click', () => {
  if (sync.isActive()) sync.stop();
  else sync.start();
  log('info', sync.isActive() ? 'sync started' : 'sync stopped');
  renderTabInfo();
});
$('force-leader').addEventListener('click', () => {
  sync.forceLeader();
  log('info', 'forceLeader()');
  renderTabInfo();
});
$('log-clear').addEventListener('click', () => {
  logLines = [];
  renderLog();
});

store.subscribe(render);
render(store.getState(), null);
renderTabInfo();
renderLog();
// No callback reports tab-count changes: poll the two cheap synchronous calls.
setInterval(renderTabInfo, 500);
