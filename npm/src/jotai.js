// tabsync/jotai: sync chosen atoms across tabs, each under the key it is
// given: syncAtoms({ count: countAtom, todos: todosAtom }, config, store?).
// The store defaults to Jotai's default store (the one a <Provider>-less
// app uses).
import { getDefaultStore } from 'jotai/vanilla';
import { connect, mutableStore } from './adapter.js';

/** Sync these atoms of store (default: getDefaultStore()); started. */
export function syncAtoms(atoms, config, store = getDefaultStore()) {
  const keys = Object.keys(atoms);
  return connect(
    mutableStore(
      () => Object.fromEntries(keys.map((k) => [k, store.get(atoms[k])])),
      (patch) => {
        for (const k of Object.keys(patch)) if (keys.includes(k)) store.set(atoms[k], patch[k]);
      },
      (changed) => {
        const off = keys.map((k) => store.sub(atoms[k], changed));
        return () => off.forEach((f) => f());
      },
    ),
    config,
  );
}
