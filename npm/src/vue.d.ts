import type { Ref } from 'vue';
import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

/**
 * Sync a `reactive()` object, or a `ref()` holding an object, across tabs. Returns the started
 * instance; `destroy()` removes its watcher. Plain snapshots go on the wire: no proxy, ref,
 * function or getter.
 */
export function syncReactive<T extends object>(target: T | Ref<T>, config: BroadcastSyncConfig<T>): BroadcastSyncInstance<T>;
