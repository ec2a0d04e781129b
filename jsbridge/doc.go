// Package jsbridge connects the pure sync engine to the browser: a
// BroadcastChannel transport, one JavaScript timer for the engine's ticks,
// the store (anything zustand-shaped: getState, setState, subscribe), and
// the application's callbacks, each called so that a throw is reported
// through onError and syncing goes on.
//
// Values stay JavaScript values: the engine holds js.Value handles, reads
// inside them only through the conflict.Model in this package, and hands
// them to BroadcastChannel, which clones them natively. A local change
// crosses the Go/JS boundary once for the list of changed keys and once per
// changed key; an incoming update once per field of the envelope and once
// per key.
//
// Everything here runs on the JavaScript event loop: every entry point is a
// js.FuncOf callback that steps the engine and returns, never waiting for
// anything, so no locks are needed.
//
// The package builds only for GOOS=js GOARCH=wasm; its tests run in headless
// Chromium through wasmbrowsertest.
package jsbridge
