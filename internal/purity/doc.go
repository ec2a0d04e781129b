// Package purity holds one test, TestCoreImports: the engines stay plain Go
// state machines (no clock, I/O, goroutine-spawning runtime services or
// browser), and small enough for the wasm modules (no fmt, encoding/json or
// reflect), as built for the browser. It has no code of its own.
package purity
