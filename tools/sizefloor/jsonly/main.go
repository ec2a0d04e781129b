//go:build js && wasm

// Command jsonly is the size floor of tabsync-nopersist.wasm, the module
// without persistence: a program that imports only syscall/js and uses it
// (a global set, a function the page can call). tools/sizecheck.sh compares
// the module with it.
package main

import "syscall/js"

func main() {
	js.Global().Set("x", js.FuncOf(func(this js.Value, args []js.Value) any {
		return args[0].Get("y").Call("z", this).Int()
	}))
	select {}
}
