import type { PiniaPluginContext, StateTree } from 'pinia';
import type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

export type { BroadcastSyncConfig, BroadcastSyncInstance } from './index.js';

/** A store's `sync` option: true, or the config (the channel defaults to `pinia:<store id>`). */
export type PiniaSyncOption<S = StateTree> = boolean | (Partial<BroadcastSyncConfig<S>> & {});

/** The plugin's defaults for every syncing store, and a prefix for the channel names. */
export interface TabsyncPluginOptions extends Partial<BroadcastSyncConfig<any>> {
  channelPrefix?: string;
}

/** `pinia.use(tabsyncPlugin())`; stores opt in with `sync` (option stores) or `{ sync }` as defineStore's third argument (setup stores). */
export function tabsyncPlugin(defaults?: TabsyncPluginOptions): (context: PiniaPluginContext) => { $tabsync: BroadcastSyncInstance<any> } | undefined;

declare module 'pinia' {
  export interface DefineStoreOptionsBase<S extends StateTree, Store> {
    /** Sync this store across tabs (tabsync/pinia). */
    sync?: PiniaSyncOption<S>;
  }
  export interface PiniaCustomProperties {
    /** The store's sync instance, when it has `sync`. */
    $tabsync?: BroadcastSyncInstance<any>;
  }
}
