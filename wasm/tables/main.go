//go:build js && wasm

// Command tables is the tabsync-tables WebAssembly module: the table sync
// across devices (package tablebridge), loaded by createTableSync and
// IndexedDBSync. It registers globalThis.__tabsyncTables and stays alive.
package main

import "github.com/tabsync/tabsync/tablebridge"

func main() {
	tablebridge.Install()
	select {}
}
