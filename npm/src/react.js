// tabsync/react: useBroadcastSync(store, config).
//
// - One instance per mount, stable across renders; config is read at mount.
// - Started on mount; stopped and destroyed on unmount. Under React 18+
//   StrictMode (mount → unmount → mount) the first instance is destroyed and a
//   fresh one (with a fresh tab id) is started, so only one ever runs.
// - Re-renders when isLeader() or getConnectedTabs() changes: the user's
//   onSyncStateChange is wrapped to check at once (the user's callback is still
//   called), and a 1 s poll of those two cheap synchronous calls catches tab
//   count changes, which no callback reports.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { createBroadcastSync } from './index.js';
import { LAZY } from './private.js';

const POLL_MS = 1000;

function createEntry(store, config) {
  const listeners = new Set();
  const notify = () => listeners.forEach((l) => l());
  const userOnChange = config.onSyncStateChange;
  const sync = createBroadcastSync(store, {
    ...config,
    onSyncStateChange(state) {
      // Called from the wasm event loop: never let a render error escape.
      try {
        if (typeof userOnChange === 'function') userOnChange(state);
      } finally {
        notify();
      }
    },
    [LAZY]: true, // load the wasm on start(), i.e. in the effect, never during render
  });
  let timer = null;
  return {
    store,
    config,
    sync,
    disposed: false,
    notify,
    subscribe(listener) {
      listeners.add(listener);
      if (timer === null) timer = setInterval(notify, POLL_MS);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== null) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    // A primitive snapshot, so React re-renders only when one of them changes.
    snapshot: () => `${sync.isLeader() ? 1 : 0}:${sync.getConnectedTabs()}:${sync.isActive() ? 1 : 0}`,
  };
}

export function useBroadcastSync(store, config) {
  const [entry, setEntry] = useState(() => createEntry(store, config));

  useSyncExternalStore(entry.subscribe, entry.snapshot, entry.snapshot);

  useEffect(() => {
    if (entry.disposed) {
      // StrictMode re-ran this effect after its cleanup destroyed the instance:
      // make a new one (same mount-time store and config) and start that.
      setEntry(createEntry(entry.store, entry.config));
      return undefined;
    }
    entry.sync.start();
    // Once the module is up, the answers of isActive() etc. come from it.
    entry.sync.ready.then(entry.notify, () => {});
    return () => {
      entry.disposed = true;
      entry.sync.stop();
      entry.sync.destroy();
    };
  }, [entry]);

  return entry.sync;
}
