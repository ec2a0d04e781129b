// Loads devtools.js, only when config.devtools is on. build.mjs keeps it a
// file of its own, dist/devtools.mjs, beside tabsync.mjs (bundlers make it a
// chunk), and swaps in devtools-load-script.js for the script-tag build.
export const loadDevtools = () => import('./devtools.js');
