//go:build js && wasm

// Package exports finds the running module's exports for code that has no
// handle on its WebAssembly instance: the tests of jsbridge and
// tablebridge, which wasmbrowsertest runs in a page that keeps the
// instance in a closure. (The npm loader hands the exports to the glue
// itself, npm/src/loader.js.)
package exports

import "syscall/js"

// Find returns the module's exports (WebAssembly.Instance.exports).
// wasm_exec.js's Go object holds the instance (go._inst), and a call into
// Go passes through Go.prototype._resume with that object as this: one
// js.FuncOf called with _resume wrapped finds it. (syscall/js's own
// reference to it, value 6 of its table, is unexported; reaching it with
// unsafe would tie the tests to syscall/js's layout.)
func Find() js.Value {
	found := js.FuncOf(func(js.Value, []js.Value) any { return nil })
	defer found.Release()
	return js.Global().Get("Function").New("found", `
		const resume = Go.prototype._resume;
		let go = null;
		Go.prototype._resume = function () {
			if (go === null) go = this;
			return resume.call(this);
		};
		try {
			found();
		} finally {
			Go.prototype._resume = resume;
		}
		return go._inst.exports;`).Invoke(found)
}
