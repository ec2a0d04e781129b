// tabsync/valtio: sync a valtio proxy() across tabs. Plain snapshots go on
// the wire, never the proxy; remote values come in by Object.assign.
import { subscribe } from 'valtio/vanilla';
import { connect, mutableStore } from './adapter.js';

/** Sync a proxy() object; started. */
export function syncProxy(state, config) {
  return connect(
    mutableStore(
      () => state,
      (patch) => Object.assign(state, patch),
      (changed) => subscribe(state, changed, true),
    ),
    config,
  );
}
