// tabsync/pinia: a Pinia plugin. Stores opt in with a `sync` option:
//   pinia.use(tabsyncPlugin())
//   defineStore('cart', { state: ..., sync: true })             // option store
//   defineStore('cart', () => { ... }, { sync: { excludeKeys: ['draft'] } })  // setup store
// Each store syncs on its own channel, `pinia:<store id>` (with the plugin's
// channelPrefix before it, if given). The instance is store.$tabsync;
// store.$dispose() destroys it.
import { connect, mutableStore } from './adapter.js';
import { markRaw } from 'vue';
import { unwrapVue } from './vue.js';

export function tabsyncPlugin(defaults = {}) {
  return ({ store, options }) => {
    const own = options.sync;
    if (!own) return undefined;
    const { channelPrefix = '', ...base } = defaults;
    const sync = connect(
      mutableStore(
        () => store.$state,
        (patch) => store.$patch((state) => Object.assign(state, patch)),
        (changed) => store.$subscribe(changed, { flush: 'sync', detached: true }),
        unwrapVue,
      ),
      { channelName: `${channelPrefix}pinia:${store.$id}`, ...base, ...(own === true ? {} : own) },
    );
    const dispose = store.$dispose;
    store.$dispose = () => {
      sync.destroy();
      dispose.call(store);
    };
    return { $tabsync: markRaw(sync) };
  };
}
