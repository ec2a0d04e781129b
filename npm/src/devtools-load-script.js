// Script-tag (IIFE) build: build.mjs swaps this module in for
// devtools-load.js, so tabsync.js does not carry the DevTools code: it is
// fetched from beside tabsync.js (where the wasm is), only when asked for.
import { defaultWasmUrl } from './wasm-url.js';

export const loadDevtools = () => import(new URL('./devtools.mjs', defaultWasmUrl()).href);
