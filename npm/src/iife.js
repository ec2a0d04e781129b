// Entry of the script-tag build (dist/tabsync.js → window.TabSync): the public
// names only.
export { init, isSupported, createBroadcastSync, createTableSync, IndexedDBSync } from './index.js';
