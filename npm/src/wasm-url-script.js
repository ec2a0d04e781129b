// Script-tag (IIFE) build: build.mjs swaps this module in for wasm-url.js.
// document.currentScript is only set while the script is being evaluated, so
// capture it now, at the top level, and resolve the wasm URL against it later.
const scriptSrc =
  typeof document !== 'undefined' && document.currentScript && document.currentScript.src
    ? document.currentScript.src
    : '';

export function defaultWasmUrl(persist) {
  const base = scriptSrc || (typeof location !== 'undefined' ? location.href : undefined);
  return new URL(persist ? './tabsync.wasm' : './tabsync-nopersist.wasm', base);
}
