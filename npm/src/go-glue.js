// Provides the JavaScript the wasm module needs before it runs: Go's
// `wasm_exec.js` glue (the `Go` class) and `jsbridge/helpers.js`
// (globalThis.__tabsyncHelpers, see docs/WASM-CONTRACT.md).
//
// In the built files (dist/tabsync.mjs, dist/tabsync.js) build.mjs replaces
// this module with one that inlines both files' text inside a function: the
// page fetches only the .wasm, nothing runs at import time, and no eval is
// needed (strict CSP pages work). Run from source (the Node tests), it can
// only use what somebody already put on globalThis.
export function prepareGlue() {
  if (typeof globalThis.Go === 'function' && globalThis.__tabsyncHelpers) return globalThis.Go;
  throw new Error('tabsync: wasm_exec.js is not bundled into this build (run `make build` at the repo root)');
}
