import type { StoreEnhancer } from 'redux';
import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

/** The type of the action a remote update is dispatched as. */
export const REMOTE: 'tabsync/remote';

/** The action a remote update is dispatched as: the keys, the source tab ('' when restored from IndexedDB) and their values. */
export interface RemoteAction<S> {
  type: 'tabsync/remote';
  payload: { keys: string[]; source: string; state: Partial<S> };
}

interface ReduxStoreLike<S> {
  getState(): S;
  dispatch(action: any): any;
  subscribe(listener: () => void): () => void;
}

/** Wrap a root reducer so that it applies `tabsync/remote` actions. */
export function withTabsync<S, A extends { type: string }>(
  reducer: (state: S | undefined, action: A) => S,
): (state: S | undefined, action: A | RemoteAction<S>) => S;

/** Sync a store whose root reducer was wrapped with withTabsync. Returns the started instance. */
export function syncRedux<S extends object>(store: ReduxStoreLike<S>, config: BroadcastSyncConfig<S>): BroadcastSyncInstance<S>;

/**
 * A store enhancer: `createStore(reducer, tabsyncEnhancer(config))`, or with Redux Toolkit
 * `configureStore({ reducer, enhancers: (d) => d().concat(tabsyncEnhancer(config)) })`.
 * The store gets a `tabsync` property, the started instance.
 */
export function tabsyncEnhancer<S extends object = any>(
  config: BroadcastSyncConfig<S>,
): StoreEnhancer<{ tabsync: BroadcastSyncInstance<S> }>;
