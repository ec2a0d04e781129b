import type { Writable } from 'svelte/store';
import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

/** Sync a writable store whose value is an object. Returns the started instance; `destroy()` unsubscribes. */
export function syncWritable<T extends object>(store: Writable<T>, config: BroadcastSyncConfig<T>): BroadcastSyncInstance<T>;

/** Svelte 5: sync a `$state` object, passed as is. Returns the started instance; `destroy()` stops watching. */
export function syncState<T extends object>(state: T, config: BroadcastSyncConfig<T>): BroadcastSyncInstance<T>;
