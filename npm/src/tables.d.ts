// Type declarations for tables across devices (TABLES.md), re-exported by index.d.ts.

/** Options of createTableSync and IndexedDBSync. */
export interface TableSyncOptions {
  /** The tabsync-server endpoint. Default 'ws://localhost:8081/sync'. */
  serverUrl?: string;
  /** The IndexedDB database holding the tables. Default 'sync-db'. */
  dbName?: string;
  /** Sent in the first (hello) message; never in the URL. */
  token?: string;
  /** Tables subscribed on connect, besides those that hold local data. */
  tables?: string[];
  /** Failures, never thrown into the app. */
  onError?: (err: TableSyncError) => void;
  /** Where to fetch tabsync-tables.wasm. Default: beside the tabsync file itself. */
  wasmUrl?: string | URL;
}

/** A failure reported to onError. */
export interface TableSyncError {
  phase: 'connect' | 'protocol' | 'server' | 'receive' | 'store' | 'leader' | (string & {});
  message: string;
  cause?: unknown;
  tabId: string;
}

/** This browser's connection, the same in every tab. */
export type TableSyncStatus = 'offline' | 'connecting' | 'online';

/** Who wrote a change, from the point of view of the tab that dispatches the event. */
export type TableSyncOrigin = 'local' | 'local-tab' | 'server' | 'server-tab';

/** detail of the 'idb-sync-update' CustomEvent dispatched on window, once per change per tab. */
export interface TableSyncEventDetail<V = unknown> {
  table: string;
  op: { operation: 'set' | 'delete'; key: string; value?: V };
  origin: TableSyncOrigin;
  /** tableVersion is absent until the server has ordered the change. */
  meta: { tableVersion?: number; opId: string; timestamp: number };
}

/** IndexedDB tables kept in step across tabs and devices through tabsync-server. */
export declare class IndexedDBSync {
  constructor(options?: TableSyncOptions);
  readonly serverUrl: string;
  readonly dbName: string;
  /** 'offline' | 'connecting' | 'online'. */
  readonly status: TableSyncStatus;
  /** This browser's local writes the server has not acknowledged yet. */
  readonly pending: number;
  /** Resolves once this browser is subscribed, or known to be offline. */
  connect(): Promise<void>;
  /** Stop syncing in this tab; another tab of this browser takes over. */
  disconnect(): void;
  /** Resolves once value and its outbox entry are stored locally (online or not). */
  set(table: string, key: string, value: unknown): Promise<void>;
  delete(table: string, key: string): Promise<void>;
  /** From this browser's copy, pending writes included; no network. */
  get<V = unknown>(table: string, key: string): Promise<V | undefined>;
  getAll<V = unknown>(table: string): Promise<Record<string, V>>;
}

/** The same as new IndexedDBSync(options). */
export function createTableSync(options?: TableSyncOptions): IndexedDBSync;

declare global {
  interface WindowEventMap {
    'idb-sync-update': CustomEvent<TableSyncEventDetail>;
  }
}
