// Compiled by `npm run typecheck` (tsc --noEmit): the declarations must accept
// ordinary use with a zustand store and reject misuse (the @ts-expect-error lines).
import { createStore } from 'zustand/vanilla';
import {
  createBroadcastSync,
  init,
  isSupported,
  type BroadcastSyncConfig,
  type BroadcastSyncInstance,
  type SyncError,
  type SyncStats,
} from '../src/index.js';
import { useBroadcastSync } from '../src/react.js';

interface AppState {
  theme: 'light' | 'dark';
  locale: string;
  count: number;
  draft: string;
  inc: () => void;
}

const store = createStore<AppState>()((set) => ({
  theme: 'light',
  locale: 'en',
  count: 0,
  draft: '',
  inc: () => set((s) => ({ count: s.count + 1 })),
}));

const config: BroadcastSyncConfig<AppState> = {
  channelName: 'types',
  syncKeys: ['theme', 'locale', 'count'],
  excludeKeys: ['draft'],
  throttleMs: 100,
  debounceMs: 0,
  conflictStrategy: 'custom',
  customResolver: (local, remote) => ({ ...local, ...remote }),
  enableLeaderElection: true,
  leaderHeartbeatMs: 1000,
  leaderElection: 'locks',
  persist: { dbName: 'types', version: 2, migrate: (state, from) => (from < 2 ? { ...state, count: 0 } : state) },
  appVersion: '1.2.3',
  debug: false,
  onSyncStateChange: (state) => {
    const s: 'connected' | 'disconnected' | 'leader' | 'follower' = state;
    void s;
  },
  onRemoteUpdate: (keys: string[], source: string) => void [keys, source],
  onError: (err: SyncError) => console.warn(err.phase, err.message, err.tabId, err.cause),
  shouldSync: (prev, next) => prev.count !== next.count,
};

await init({ wasmUrl: new URL('/tabsync/tabsync.wasm', 'http://localhost/') });
await init();
const support: { broadcastChannel: boolean; webLocks: boolean; indexedDB: boolean } = isSupported();
void support;

const sync: BroadcastSyncInstance<AppState> = createBroadcastSync(store, config);
sync.start();
sync.broadcastState(['theme']);
sync.broadcastState();
sync.requestState();
sync.forceLeader();
const active: boolean = sync.isActive() && sync.isLeader();
const id: string = sync.getTabId();
const n: number = sync.getConnectedTabs();
const stats: SyncStats = sync.getStats();
const dropped: number = stats.droppedByReason['stale'] ?? 0;
void [active, id, n, dropped];
await sync.ready;
sync.stop();
sync.destroy();

// persist: true works too; any object with the three methods is a store.
const plain = {
  state: { a: 1 },
  getState() {
    return this.state;
  },
  setState(_p: Partial<{ a: number }> | ((s: { a: number }) => Partial<{ a: number }>), _r?: boolean) {},
  subscribe(_l: (s: { a: number }, p: { a: number }) => void) {
    return () => {};
  },
};
createBroadcastSync(plain, { channelName: 'plain', persist: true });

// The hook has the same signature.
const hooked: BroadcastSyncInstance<AppState> = useBroadcastSync(store, { channelName: 'hook' });
void hooked;

// @ts-expect-error channelName is required
createBroadcastSync(store, {});
// @ts-expect-error unknown key in syncKeys
createBroadcastSync(store, { channelName: 'x', syncKeys: ['nope'] });
// @ts-expect-error not a strategy
createBroadcastSync(store, { channelName: 'x', conflictStrategy: 'newest' });

// A React-bound zustand store (a hook function carrying the store methods).
import { create } from 'zustand';
const useBound = create<{ n: number; bump: () => void }>()((set) => ({ n: 0, bump: () => set((s) => ({ n: s.n + 1 })) }));
createBroadcastSync(useBound, { channelName: 'bound', syncKeys: ['n'] });
// @ts-expect-error a store must have the three methods
createBroadcastSync({ getState: () => ({}) }, { channelName: 'bad' });

// Tables across devices (TABLES.md).
import { createTableSync, IndexedDBSync, type TableSyncEventDetail } from '../src/index.js';
const tdb: IndexedDBSync = createTableSync({ serverUrl: 'ws://localhost:8081/sync', dbName: 'sync-db', tables: ['game_scores'] });
const tdb2 = new IndexedDBSync({ token: 'secret', onError: (e) => console.log(e.phase, e.message, e.tabId) });
void tdb2;
async function tablesUsage(): Promise<void> {
  await tdb.connect();
  await tdb.set('game_scores', 'player1', { name: 'player1', score: 1500 });
  const p = await tdb.get<{ score: number }>('game_scores', 'player1');
  const n: number | undefined = p?.score;
  const all: Record<string, unknown> = await tdb.getAll('game_scores');
  await tdb.delete('game_scores', 'player1');
  const s: 'offline' | 'connecting' | 'online' = tdb.status;
  const pending: number = tdb.pending;
  tdb.disconnect();
  void n, all, s, pending;
}
void tablesUsage;
window.addEventListener('idb-sync-update', (e) => {
  const d: TableSyncEventDetail = e.detail;
  const o: 'local' | 'local-tab' | 'server' | 'server-tab' = d.origin;
  const v: number | undefined = d.meta.tableVersion;
  void o, v;
});
