// tabsync/svelte: sync a writable store (Svelte 3, 4 and 5), or a Svelte 5
// $state object, across tabs.
import * as stores from 'svelte/store';
import { connect, mutableStore, snap } from './adapter.js';

/** Sync a writable whose value is an object; started. */
export function syncWritable(store, config) {
  return connect(
    mutableStore(
      () => stores.get(store),
      (patch) => store.update((s) => ({ ...s, ...patch })),
      (changed) => store.subscribe(changed),
    ),
    config,
  );
}

/**
 * Svelte 5: sync a $state object (`const s = $state({...})` in a .svelte or
 * .svelte.js file, passed as is); started. Changes are seen through Svelte's
 * own toStore, so no compiler plugin is needed.
 */
export function syncState(state, config) {
  if (typeof stores.toStore !== 'function') throw new TypeError('tabsync/svelte: syncState needs Svelte 5');
  // toStore re-runs this in an effect whenever anything it read changes.
  const seen = stores.toStore(() => snap(state));
  return connect(
    mutableStore(
      () => state,
      (patch) => Object.assign(state, patch),
      (changed) => seen.subscribe(changed),
    ),
    config,
  );
}
