// Package jsbridge connects the pure sync engine to the browser: a
// BroadcastChannel transport, one JavaScript timer for the engine's ticks,
// the store (anything zustand-shaped: getState, setState, subscribe), and
// the application's callbacks, each called so that a throw is reported
// through onError and syncing goes on.
//
// Values stay JavaScript values, kept in helpers.js: the engine holds a
// handle (held) naming a slot of helpers.js's table, the value's kind and,
// for a local change, its size, and reads inside a value only where its
// logic must (merge, custom, shouldSync, persistence), through the
// conflict.Model in this package. Each message crosses the boundary once
// each way: helpers.js reads and checks the envelope and calls Go with
// numbers and one string, and Go hands the message it sends, or the patch it
// applies, back in one call (see docs/WASM-CONTRACT.md, The boundary).
// protocol.Check numbers the rules a received message may break, and
// protocol.Reject words the drop, for both decoders.
//
// With leader election on, the Web Locks operations the engine asks for are
// carried out by a small helper in helpers.js (leaderLock): a held lock's
// callback returns a promise that resolving releases, a steal cancels the
// queued request first, and a query compares the lock holder's client id
// with that of a lock only this instance holds. Grants, losses and answers
// come back as calls that step the engine; nothing waits.
//
// Everything here runs on the JavaScript event loop: every entry point is a
// js.FuncOf callback that steps the engine and returns, never waiting for
// anything, so no locks are needed.
//
// A goroutine that touches an instance must be woken from a JavaScript
// callback (a channel fed by an IndexedDB event, a setTimeout), never by a
// Go timer (time.Sleep, time.After, a context deadline): whenever
// JavaScript calls into Go, including from inside a call Go made (the
// store's setState calling the store listener), the runtime runs every
// runnable goroutine before returning, so a goroutine whose timer has fired
// can run in the middle of another callback's step. The browser tests saw
// exactly that (see main_test.go).
//
// With persist on, the instance keeps the synced keys in IndexedDB through
// go-indexeddb (persist_js.go): a starting tab reads them before its engine
// starts; what the engine lists in Ready.Persist is written in one
// transaction per batch, only where newer than the stored record (package
// persist decides). Every IndexedDB wait is an Await in a goroutine, woken
// by an IndexedDB event or a setTimeout; handle.start() returns a promise
// that resolves once the restore is done (docs/WASM-CONTRACT.md), and
// docs/PERSISTENCE.md is the user's guide.
//
// The package builds only for GOOS=js GOARCH=wasm; its tests run in headless
// Chromium through wasmbrowsertest.
package jsbridge
