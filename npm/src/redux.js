// tabsync/redux: sync a Redux (or Redux Toolkit) store's top-level keys,
// the slices of a combined reducer, across tabs.
//
// A Redux store changes only by dispatch, so the root reducer is wrapped:
// a remote update arrives as one `tabsync/remote` action whose payload names
// the keys and the source tab (visible in the Redux DevTools), and the
// wrapped reducer merges payload.state into the state. The core hands the
// values over by setState; the action is dispatched from onRemoteUpdate,
// which the core calls at once after it, so it carries the source tab
// (values restored from IndexedDB come with source '').
import { createBroadcastSync } from './index.js';

export const REMOTE = 'tabsync/remote';

/** Wrap a root reducer so that it applies `tabsync/remote` actions. */
export function withTabsync(reducer) {
  return (state, action) =>
    action && action.type === REMOTE ? { ...state, ...action.payload.state } : reducer(state, action);
}

/** Sync a store whose root reducer was wrapped with withTabsync; started. */
export function syncRedux(store, config) {
  let pending = null;
  let applying = false;
  let listener = null; // the core's store listener (one at a time)
  let off = null; // detaches it from the store: set while attached
  let stopped = false;
  // The state the core last saw: a change made while nothing listened
  // (stopped) is reported when it listens again.
  let last = store.getState();
  const changed = () => {
    const next = store.getState();
    const prev = last;
    last = next;
    if (!applying && next !== prev && listener) listener(next, prev);
  };
  const attach = () => {
    if (off || !listener || stopped) return;
    off = store.subscribe(changed);
    changed(); // what changed while detached
  };
  const detach = () => {
    if (off) off();
    off = null;
  };
  const flush = (source) => {
    if (!pending) return;
    const state = pending;
    pending = null;
    applying = true;
    try {
      store.dispatch({ type: REMOTE, payload: { keys: Object.keys(state), source, state } });
    } finally {
      applying = false;
    }
    last = store.getState();
  };
  const user = config.onRemoteUpdate;
  const sync = createBroadcastSync(
    {
      getState: () => (pending ? { ...store.getState(), ...pending } : store.getState()),
      setState(patch) {
        pending = { ...pending, ...patch };
        queueMicrotask(() => flush(''));
      },
      subscribe(l) {
        detach();
        listener = l;
        attach();
        return () => {
          if (listener !== l) return;
          listener = null;
          detach();
        };
      },
    },
    {
      ...config,
      onRemoteUpdate(keys, source) {
        flush(source);
        if (typeof user === 'function') user(keys, source);
      },
    },
  );
  // stop() and start() detach and attach the store listener too; a listener
  // the core adds while stopped (the module loading after a stop()) waits
  // for start().
  const { start, stop } = sync;
  sync.stop = () => {
    stop();
    stopped = true;
    detach();
  };
  sync.start = () => {
    start();
    stopped = false;
    attach();
  };
  start();
  return sync;
}

/**
 * A store enhancer: createStore(reducer, tabsyncEnhancer(config)), or Redux
 * Toolkit's configureStore({ reducer, enhancers: (d) => d().concat(tabsyncEnhancer(config)) }).
 * The store gets a `tabsync` property, the sync instance.
 */
export function tabsyncEnhancer(config) {
  return (createStore) =>
    (reducer, ...rest) => {
      const store = createStore(withTabsync(reducer), ...rest);
      return {
        ...store,
        replaceReducer: (next) => store.replaceReducer(withTabsync(next)),
        tabsync: syncRedux(store, config),
      };
    };
}
