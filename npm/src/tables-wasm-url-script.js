// Script-tag (IIFE) build: build.mjs swaps this module in for
// tables-wasm-url.js; the URL resolves against the <script> src.
const scriptSrc =
  typeof document !== 'undefined' && document.currentScript && document.currentScript.src
    ? document.currentScript.src
    : '';

export function defaultTablesWasmUrl() {
  const base = scriptSrc || (typeof location !== 'undefined' ? location.href : undefined);
  return new URL('./tabsync-tables.wasm', base);
}
