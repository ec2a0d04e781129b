// Where the wasm lives by default: beside this file. Written literally as
// `new URL('./tabsync.wasm', import.meta.url)` because that is the only form
// Vite and webpack 5 recognise to emit the file as an asset. It stays inside a
// function so that nothing is computed (or fetched) at import time.
export function defaultWasmUrl() {
  return new URL('./tabsync.wasm', import.meta.url);
}
