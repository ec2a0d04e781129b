// Where the wasm lives by default: beside this file. tabsync ships two
// modules (docs/WASM-CONTRACT.md, Two modules): tabsync.wasm, and the smaller
// tabsync-nopersist.wasm without IndexedDB persistence. Each URL is written
// literally as `new URL('./file.wasm', import.meta.url)` because that is the
// only form Vite and webpack 5 recognise to emit the file as an asset. It
// stays inside a function so that nothing is computed (or fetched) at import
// time.
export function defaultWasmUrl(persist) {
  return persist
    ? new URL('./tabsync.wasm', import.meta.url)
    : new URL('./tabsync-nopersist.wasm', import.meta.url);
}
