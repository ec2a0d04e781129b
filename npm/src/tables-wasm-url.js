// Where tabsync-tables.wasm lives by default: beside this file, written
// literally so that bundlers emit it as an asset (see wasm-url.js).
export function defaultTablesWasmUrl() {
  return new URL('./tabsync-tables.wasm', import.meta.url);
}
