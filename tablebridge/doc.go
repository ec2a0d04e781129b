// Package tablebridge connects the table sync core (package tables) to the
// browser: IndexedDB through go-indexeddb (a tab's write and its outbox
// entry in one transaction), the browser's WebSocket in the tab that leads
// the browser's election, a BroadcastChannel between the tabs, Web Locks for
// the election, and one setTimeout for the engine's deadlines. It is built
// into its own wasm module, tabsync-tables.wasm (wasm/tables), which the npm
// package loads on the first createTableSync or new IndexedDBSync, so the
// store-sync module (tabsync.wasm) does not grow.
//
// The module registers globalThis.__tabsyncTables = {version, create}. The
// npm wrapper (npm/src/tables.js) calls create(options, hooks) once per
// instance and gets a handle: start(), set(table, key, json, resolve,
// reject), delete(table, key, resolve, reject) (the settling functions of a
// promise the wrapper made; without them, set and delete return a promise),
// get, getAll, status(), pending(), stop(). Values cross as JSON text;
// the wrapper stringifies and parses them. hooks.onEvent(at, n) dispatches
// idb-sync-update and hooks.send(ws, at, n) sends a frame, each reading the
// text the module left in its memory (wire_js.go, textArgs);
// hooks.onStatus keeps status and pending (called when they change),
// hooks.onSettled settles a write, hooks.listen makes a socket's message
// listener, and hooks.onError is the application's onError.
//
// Every step runs on the JavaScript event loop. A Ready whose Store is a
// transaction is carried out in a goroutine that waits for IndexedDB
// (go-indexeddb's Await, woken by IndexedDB events only), and the Readies
// after it wait for it, so events, messages and frames keep their order.
//
// # Wasm
//
// The package builds only for GOOS=js GOARCH=wasm; its tests run in headless
// Chromium through wasmbrowsertest against a real tabsync-server.
package tablebridge
