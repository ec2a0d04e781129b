//go:build js && wasm

// Command wasm is the tabsync WebAssembly module. It installs the API the
// npm wrapper calls (globalThis.__tabsync, see docs/WASM-CONTRACT.md) and
// stays alive to serve it.
package main

import "github.com/tabsync/tabsync/jsbridge"

func main() {
	jsbridge.Install()
	select {}
}
