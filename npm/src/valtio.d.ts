import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

/** Sync a valtio `proxy()` object. Returns the started instance; `destroy()` unsubscribes. Plain snapshots go on the wire. */
export function syncProxy<T extends object>(state: T, config: BroadcastSyncConfig<T>): BroadcastSyncInstance<T>;
