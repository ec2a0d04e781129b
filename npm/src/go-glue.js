// Provides Go's `wasm_exec.js` glue (the `Go` class) to the loader.
//
// In the built files (dist/tabsync.mjs, dist/tabsync.js) build.mjs replaces
// this module with one that inlines the text of dist/wasm_exec.js inside a
// function, so the page fetches only the .wasm and nothing runs at import
// time. Run from source (the Node tests), it can only use a `Go` class that
// somebody already put on globalThis.
export function getGoClass() {
  if (typeof globalThis.Go === 'function') return globalThis.Go;
  throw new Error('tabsync: wasm_exec.js is not bundled into this build (run `make build` at the repo root)');
}
