// What the package's own modules pass each other and no app is meant to use:
// not exported by the entry (index.js), the script-tag global or the type
// declarations. Each built file that imports this gets its own copy; the
// values are Symbol.for keys, so the copies agree.

// LAZY, set to true in a createBroadcastSync config, defers loading the
// wasm module until the first command (tabsync/react: nothing is fetched
// while rendering).
export const LAZY = Symbol.for('tabsync.lazyLoad');
