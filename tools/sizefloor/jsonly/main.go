//go:build js && wasm

// Command jsonly is the Go floor of tabsync-nopersist.wasm, the module
// without persistence: a program that imports only syscall/js and does what
// the npm loader waits for, no more: it registers a globalThis.__tabsync of
// the contract's version and calls __tabsyncOnReady (docs/WASM-CONTRACT.md).
// tools/sizecheck.sh compares the module's size with it, and make bench
// loads it through the same loader to measure the start-up Go itself costs.
package main

import "syscall/js"

func main() {
	api := js.Global().Get("Object").New()
	api.Set("version", 1)
	api.Set("create", js.FuncOf(func(js.Value, []js.Value) any { return nil }))
	js.Global().Set("__tabsync", api)
	if ready := js.Global().Get("__tabsyncOnReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}
