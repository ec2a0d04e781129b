// Type declarations for the `tabsync` package (see API.md).

/** The zustand store shape. A zustand store (vanilla or React-bound) fits as is. */
export interface StoreApi<T> {
  getState(): T;
  setState(partial: T | Partial<T> | ((state: T) => T | Partial<T>), replace?: boolean): void;
  subscribe(listener: (state: T, prevState: T) => void): () => void;
}

/** How a conflicting key is decided (per key, by logical clocks). */
export type ConflictStrategy = 'last-write-wins' | 'first-write-wins' | 'merge' | 'custom';

/** What onSyncStateChange reports. */
export type SyncState = 'connected' | 'disconnected' | 'leader' | 'follower';

/** Where a failure happened, as reported to onError. Other strings may appear. */
export type SyncErrorPhase =
  | 'start'
  | 'send'
  | 'receive'
  | 'protocol'
  | 'apply'
  | 'resolve'
  | 'persist'
  | 'leader'
  | (string & {});

/** A failure, delivered to `onError`; never thrown into the app. */
export interface SyncError {
  phase: SyncErrorPhase;
  message: string;
  cause?: unknown;
  /** The id of the tab that reports it. */
  tabId: string;
}

/** Counters since the instance was created. */
export interface SyncStats {
  /** Messages posted on the channel. */
  sent: number;
  /** Messages received from the channel. */
  received: number;
  /** Remote changes applied to the store. */
  applied: number;
  /** Keys on which a conflict had to be decided. */
  conflicts: number;
  /** Messages dropped, all reasons together. */
  dropped: number;
  /** Dropped messages by reason (invalid, stale, foreign version, oversized, own id, …). */
  droppedByReason: Record<string, number>;
}

/** IndexedDB persistence options. */
export interface PersistOptions<T> {
  /** Database name. Default `tabsync:<channelName>`. */
  dbName?: string;
  /** Version of the persisted shape, a whole number (default 1); raise it and supply `migrate` on a change. */
  version?: number;
  /**
   * Turn state persisted under an older `version` into the current shape. Runs once,
   * in the first tab of the new version to open the database; must return a plain object.
   */
  migrate?: (state: Partial<T>, fromVersion: number) => Partial<T>;
}

export interface BroadcastSyncConfig<T> {
  /** BroadcastChannel name; must be a non-empty string (else a TypeError is thrown). Unique per app. */
  channelName: string;

  /** Keys to sync. Absent or empty: every key. */
  syncKeys?: (keyof T & string)[];

  /** Keys never synced or persisted; wins over syncKeys, on send, receive and persist. */
  excludeKeys?: (keyof T & string)[];

  /** At most one message per this many ms for local changes. Default 100; 0 turns it off. The final value of a burst is always sent. */
  throttleMs?: number;

  /** Wait until changes have settled for this many ms, then send. 0 or absent: off. When set, it replaces the throttle. */
  debounceMs?: number;

  /** How a conflict on a key is decided. Default 'last-write-wins'. */
  conflictStrategy?: ConflictStrategy;

  /**
   * With 'custom': called once per incoming update that conflicts, in the tab
   * that made the later writes (another tab holding them waits for its
   * result, so a resolver that is not idempotent, such as one that
   * concatenates arrays, runs once per conflict). `local` and `remote` hold the keys of that update
   * that conflict (this tab's values and the update's). The keys it returns are
   * applied in every tab; a conflicting key it leaves out (or sets to
   * undefined) keeps the later write; returned keys that were not in conflict
   * are ignored. A throw keeps the local values and is reported (phase 'resolve').
   */
  customResolver?: (local: Partial<T>, remote: Partial<T>) => Partial<T>;

  /** Elect one leader tab among those on the channel. Default false. */
  enableLeaderElection?: boolean;

  /** Leader heartbeat interval in ms (default 1000, at least 20); a silent, frozen or hung leader is replaced within 5 × this. */
  leaderHeartbeatMs?: number;

  /** How to elect: 'auto' (default) uses Web Locks where the browser has them, else heartbeats. */
  leaderElection?: 'auto' | 'locks' | 'heartbeat';

  /** Keep the synced keys in IndexedDB and restore them when a tab starts, even with no other tab open. */
  persist?: boolean | PersistOptions<T>;

  /** Tabs whose appVersion differs never apply each other's state; such messages are reported through onError. */
  appVersion?: string;

  /**
   * Largest message payload accepted or sent, in bytes (estimated as its structured-clone size).
   * Default 4 MiB. Larger incoming messages are dropped (counted as `oversized`); a larger local
   * value stays in its tab and is reported through onError; state responses are split below it.
   */
  maxMessageBytes?: number;

  /** Log each sent, received and applied message to the console, prefixed `[tabsync:<last 6 of tabId>]`. */
  debug?: boolean;

  /**
   * Show sync in the browser's DevTools: each sent and applied update as an action in the Redux
   * DevTools extension (when installed; this tab as its own instance), and performance.measure
   * entries `tabsync:send`, `tabsync:receive`, `tabsync:apply` on the Performance panel's Timings
   * track. `'auto'`: on when the bundler's `process.env.NODE_ENV` is not `'production'`. Off
   * (default): nothing is loaded.
   */
  devtools?: boolean | 'auto';

  /** Called when this tab's sync state changes. */
  onSyncStateChange?: (state: SyncState) => void;

  /** Called after a remote change was applied to the store. */
  onRemoteUpdate?: (keys: string[], sourceTabId: string) => void;

  /** Every failure lands here; none is thrown into the app and none stops syncing. */
  onError?: (err: SyncError) => void;

  /** Return false to not sync a local change. */
  shouldSync?: (prevState: T, nextState: T) => boolean;
}

export interface BroadcastSyncInstance<T> {
  /**
   * Resolves once the wasm has loaded and the calls made before that (a start()
   * included) have been replayed, and, with `persist`, once a start() made before
   * the load has restored the stored state into the store; if start() was not
   * called yet, right after the load. Rejects only when the wasm cannot be loaded (also reported through
   * onError with phase 'start'). Never leads to an unhandled rejection.
   */
  readonly ready: Promise<void>;
  /**
   * Start syncing. Before the wasm has loaded, this is queued. The store's
   * state now is this tab's initial state, which yields to the tabs already
   * open; every change the store makes from now on is the user's write, also
   * while the wasm is still loading: those changes are sent once it has
   * loaded, timed when they were made, and resolved under conflictStrategy
   * like any other write (the last change of a key counts).
   */
  start(): void;
  /** Stop syncing; takes effect at once: isActive() is false right after it. */
  stop(): void;
  isActive(): boolean;
  /** False until the wasm has loaded. */
  isLeader(): boolean;
  /** This tab's id, available at once. */
  getTabId(): string;
  /** Ask the other tabs for their synced state. */
  requestState(): void;
  /** Send the current value of these keys (default: every synced key) to the other tabs. */
  broadcastState(keys?: (keyof T & string)[]): void;
  /** Open tabs on the channel, this one included (1 until the wasm has loaded). */
  getConnectedTabs(): number;
  /** Become the leader at once. */
  forceLeader(): void;
  /** Counters; zeros until the wasm has loaded. */
  getStats(): SyncStats;
  /** Stop and release everything; the instance cannot be started again. (Used by the React hook on unmount.) */
  destroy(): void;
}

export interface InitOptions {
  /** Where to fetch the module. Default: beside the tabsync file itself, tabsync.wasm or tabsync-nopersist.wasm. */
  wasmUrl?: string | URL;
  /**
   * false: load tabsync-nopersist.wasm, the smaller module without IndexedDB persistence
   * (instances that set persist then sync without it and say so through onError).
   * Default true: the full module.
   */
  persist?: boolean;
}

/**
 * Load the wasm module. Optional and idempotent: the first load counts (its wasmUrl and
 * persist). Without init(), the first instance created picks the module: with persist
 * set, the full one, otherwise the one without persistence.
 */
export function init(options?: InitOptions): Promise<void>;

/** Which browser features are there. Pure JS; loads nothing. */
export function isSupported(): { broadcastChannel: boolean; webLocks: boolean; indexedDB: boolean };

/**
 * Create a sync instance. Returns at once, before the wasm has loaded; calls made
 * before then take effect once it has.
 * @throws {TypeError} when config.channelName is missing or empty, or store is not a store.
 */
export function createBroadcastSync<T extends object>(
  store: StoreApi<T>,
  config: BroadcastSyncConfig<T>,
): BroadcastSyncInstance<T>;

export {
  createTableSync,
  IndexedDBSync,
  TableSyncOptions,
  TableSyncError,
  TableSyncStatus,
  TableSyncOrigin,
  TableSyncEventDetail,
} from './tables';
