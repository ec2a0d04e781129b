// React demo: a zustand store synced with useBroadcastSync from tabsync/react.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { init } from 'tabsync';
import { useBroadcastSync } from 'tabsync/react';
import { useStore, useLog } from './store.js';
import { LOCALES, FONT_MIN, FONT_MAX, greeting, shortId, applyLook, demoConfig, describeError } from '../../shared/demo.js';

// Bundled, import.meta.url points at this bundle, not at the package: say
// where the dev server mounts npm/dist. (Failures also reach onError.)
init({ wasmUrl: '/tabsync/tabsync.wasm' }).catch(() => {});

const log = (kind, text) => useLog.getState().add(kind, text);

// Read once, at mount, by useBroadcastSync.
const syncConfig = demoConfig({
  onRemoteUpdate: (keys, source) => log('remote', `${keys.join(', ')} from …${shortId(source)}`),
  onSyncStateChange: (state) => log('state', state),
  onError: (err) => log('error', describeError(err)),
});

function TabBar({ sync }) {
  const leader = sync.isLeader();
  const active = sync.isActive();
  // Only a failed start (the wasm did not load) means this tab is not syncing.
  const hasError = useLog((s) => s.lines.some((l) => l.kind === 'error' && l.text.startsWith('[start]')));
  return (
    <div className="tabbar" data-testid="tabbar">
      <span className="dot" id="sync-dot" data-state={hasError ? 'error' : active ? 'active' : 'idle'} title="sync status" />
      <span className="label">tab</span>
      <span className="pill">
        <code id="tab-id" data-testid="tab-id" title={sync.getTabId()}>{shortId(sync.getTabId())}</code>
      </span>
      <span className="pill badge" id="leader-badge" data-testid="leader-badge" data-leader={String(leader)}>
        {leader ? '👑 leader' : 'follower'}
      </span>
      <span className="pill">
        <span id="tab-count" data-testid="tab-count">{sync.getConnectedTabs()}</span>&nbsp;<span className="label">tabs</span>
      </span>
    </div>
  );
}

function Settings() {
  const { theme, locale, fontSize, setTheme, setLocale, setFontSize } = useStore();
  return (
    <section className="card" aria-labelledby="settings-h">
      <h2 id="settings-h">⚙️ Settings <span className="tag">synced</span></h2>
      <p className="greeting" id="greeting" data-testid="greeting">{greeting(locale)}</p>
      <div className="field">
        <label htmlFor="theme">Theme</label>
        <select id="theme" data-testid="theme" value={theme} onChange={(e) => setTheme(e.target.value)}>
          <option value="light">☀️ Light</option>
          <option value="dark">🌙 Dark</option>
        </select>
        <span />
      </div>
      <div className="field">
        <label htmlFor="locale">Language</label>
        <select id="locale" data-testid="locale" value={locale} onChange={(e) => setLocale(e.target.value)}>
          {Object.entries(LOCALES).map(([code, l]) => (
            <option key={code} value={code}>{l.name}</option>
          ))}
        </select>
        <span />
      </div>
      <div className="field">
        <label htmlFor="font-size">Font size</label>
        <input
          type="range" id="font-size" data-testid="font-size" min={FONT_MIN} max={FONT_MAX} step="1"
          value={fontSize} onChange={(e) => setFontSize(Number(e.target.value))}
        />
        <output id="font-size-value" data-testid="font-size-value" htmlFor="font-size">{fontSize}px</output>
      </div>
    </section>
  );
}

function Counter() {
  const count = useStore((s) => s.count);
  const { inc, dec, reset } = useStore.getState();
  return (
    <section className="card" aria-labelledby="counter-h">
      <h2 id="counter-h">🔢 Shared counter <span className="tag">synced</span></h2>
      <div className="counter">
        <button id="dec" data-testid="dec" aria-label="decrement" onClick={dec}>−</button>
        <span className="value" id="counter-value" data-testid="counter-value">{count}</span>
        <button id="inc" data-testid="inc" aria-label="increment" onClick={inc}>+</button>
      </div>
      <p className="center"><button id="reset" data-testid="reset" onClick={reset}>Reset</button></p>
    </section>
  );
}

function Todos() {
  const todos = useStore((s) => s.todos);
  const draft = useStore((s) => s.draft);
  const { setDraft, addTodo, toggleTodo, deleteTodo } = useStore.getState();
  return (
    <section className="card todos-card" aria-labelledby="todo-h">
      <h2 id="todo-h">✅ Todos <span className="tag">synced</span></h2>
      <form className="todo-form" id="todo-form" onSubmit={(e) => (e.preventDefault(), addTodo())}>
        <input
          type="text" id="todo-input" data-testid="todo-input" placeholder="What needs doing?" autoComplete="off"
          value={draft} onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="primary" id="todo-add" data-testid="todo-add">Add</button>
      </form>
      <p className="hint" id="draft-hint">
        ✏️ What you type here is a per-tab draft (<code>excludeKeys: ['draft']</code>): other tabs do not see it until
        you press Add.
      </p>
      <ul className="todos" id="todo-list" data-testid="todo-list">
        {todos.length === 0 && <li className="empty">Nothing to do. Add something, then look at another tab.</li>}
        {todos.map((t) => (
          <li key={t.id} data-testid="todo-item" data-id={t.id} data-done={String(t.done)}>
            <input type="checkbox" data-testid="todo-toggle" aria-label={`done: ${t.text}`} checked={t.done} onChange={() => toggleTodo(t.id)} />
            <span className="text" data-testid="todo-text">{t.text}</span>
            <button className="ghost" data-testid="todo-delete" aria-label={`delete: ${t.text}`} onClick={() => deleteTodo(t.id)}>✕</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function EventLog({ sync }) {
  const lines = useLog((s) => s.lines);
  const clear = useLog((s) => s.clear);
  const [, rerender] = useState(0);
  const toggle = () => {
    if (sync.isActive()) sync.stop();
    else sync.start();
    log('info', sync.isActive() ? 'sync started' : 'sync stopped');
    rerender((n) => n + 1);
  };
  return (
    <section className="card wide" aria-labelledby="log-h">
      <h2 id="log-h">📜 Sync events <span className="tag">this tab</span></h2>
      <div className="toolbar">
        <button id="toggle-sync" data-testid="toggle-sync" onClick={toggle}>{sync.isActive() ? 'Stop sync' : 'Start sync'}</button>
        <button id="force-leader" data-testid="force-leader" onClick={() => (sync.forceLeader(), log('info', 'forceLeader()'))}>
          Become leader
        </button>
        <button id="log-clear" data-testid="log-clear" className="ghost" onClick={clear}>Clear log</button>
      </div>
      <ol className="log" id="log" data-testid="log" reversed>
        {lines.map((l) => (
          <li key={l.id} data-kind={l.kind} data-testid="log-line">
            <time>{l.time}</time>
            <span className="kind">{l.kind}</span>
            <span>{l.text}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function App() {
  const sync = useBroadcastSync(useStore, syncConfig);
  const theme = useStore((s) => s.theme);
  const fontSize = useStore((s) => s.fontSize);
  const locale = useStore((s) => s.locale);

  useEffect(() => applyLook({ theme, fontSize }), [theme, fontSize]);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  useEffect(() => {
    window.demo = { store: useStore, sync };
    sync.ready.then(() => log('info', 'wasm loaded, sync started'), () => {});
  }, [sync]);

  return (
    <div className="page">
      <header className="top">
        <h1>tabsync <small>React + zustand · open this page in three tabs</small></h1>
        <TabBar sync={sync} />
      </header>
      <main className="grid">
        <Settings />
        <Todos />
        <Counter />
        <EventLog sync={sync} />
      </main>
      <footer>
        Add <code>?debug=1</code> to the address to see tabsync's debug log in the console. · <a href="../">all demos</a>
      </footer>
    </div>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
