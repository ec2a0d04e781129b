// Shared by the plain and the React demo: state shape, texts, sync config.

export const LOCALES = {
  en: { name: 'English', hello: 'Hello from every tab!' },
  fr: { name: 'Français', hello: 'Bonjour depuis chaque onglet !' },
  de: { name: 'Deutsch', hello: 'Hallo aus jedem Tab!' },
  es: { name: 'Español', hello: '¡Hola desde cada pestaña!' },
  ja: { name: '日本語', hello: 'すべてのタブからこんにちは！' },
};

export const FONT_MIN = 12;
export const FONT_MAX = 24;

/** The synced part of the state, plus `draft`, which stays in its tab. */
export const initialState = {
  theme: 'light',
  locale: 'en',
  fontSize: 16,
  count: 0,
  todos: [], // { id, text, done }
  draft: '', // the todo input: excluded from sync
};

export function greeting(locale) {
  return (LOCALES[locale] || LOCALES.en).hello;
}

export function newTodo(text) {
  const id =
    globalThis.crypto && typeof crypto.randomUUID === 'function'
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return { id, text, done: false };
}

/** Last 6 characters of a tab id, as tabsync's debug log prints it. */
export function shortId(id) {
  return String(id).slice(-6);
}

/** Theme and font size apply to the whole page through the root element. */
export function applyLook({ theme, fontSize }) {
  const root = document.documentElement;
  root.dataset.theme = theme === 'dark' ? 'dark' : 'light';
  root.style.fontSize = `${fontSize}px`;
}

/** The sync config both demos use; callbacks are added by each demo. */
export function demoConfig(callbacks) {
  const params = new URLSearchParams(location.search);
  // ?election=heartbeat tries the fallback for browsers without Web Locks
  // (open every tab with it: tabs of different modes do not elect together);
  // ?heartbeat=250 sets leaderHeartbeatMs.
  const election = params.get('election');
  const heartbeat = Number(params.get('heartbeat'));
  return {
    channelName: election === 'heartbeat' ? 'tabsync-demo-heartbeat' : 'tabsync-demo',
    enableLeaderElection: true,
    leaderElection: election === 'locks' || election === 'heartbeat' ? election : 'auto',
    ...(heartbeat > 0 ? { leaderHeartbeatMs: heartbeat } : {}),
    persist: true,
    excludeKeys: ['draft'],
    debug: params.get('debug') === '1',
    ...callbacks,
  };
}

/** A log line: newest first, at most `max` kept. */
export function pushLog(lines, kind, text, max = 50) {
  const d = new Date();
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return [{ id: `${d.getTime()}-${Math.random()}`, time, kind, text }, ...lines].slice(0, max);
}

export function describeError(err) {
  return `[${err.phase}] ${err.message}`;
}
