import type { BroadcastSyncConfig, BroadcastSyncInstance, StoreApi } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance, StoreApi } from './index.js';

/**
 * One sync instance per mount: started on mount, stopped and destroyed on
 * unmount. `config` is read at mount. The component re-renders when this tab's
 * leader status or the connected-tab count changes.
 */
export function useBroadcastSync<T extends object>(
  store: StoreApi<T>,
  config: BroadcastSyncConfig<T>,
): BroadcastSyncInstance<T>;
