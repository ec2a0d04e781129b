import type { WritableAtom } from 'jotai/vanilla';
import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

type Store = {
  get: (atom: any) => any;
  set: (atom: any, ...args: any[]) => any;
  sub: (atom: any, listener: () => void) => () => void;
};

/** The synced state: each key holds its atom's value. */
export type AtomValues<A> = { [K in keyof A]: A[K] extends WritableAtom<infer V, any, any> ? V : never };

/**
 * Sync these atoms, each under its key, in `store` (default: Jotai's default store). Returns the
 * started instance; `destroy()` unsubscribes.
 */
export function syncAtoms<A extends Record<string, WritableAtom<any, [any], any>>>(
  atoms: A,
  config: BroadcastSyncConfig<AtomValues<A>>,
  store?: Store,
): BroadcastSyncInstance<AtomValues<A>>;
