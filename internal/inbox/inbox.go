// Package inbox is the buffer in a wasm module's memory that JavaScript
// writes a call's bytes into before it calls one of the module's exports
// (//go:wasmexport): an export takes and returns numbers only, so the
// bytes cross in the module's own memory. JavaScript asks for the address
// of a buffer that holds n bytes (Addr), writes them through a view of the
// memory at that address, and calls the export with the count it wrote;
// the export reads them with Bytes.
//
// The buffer of up to Keep bytes is made once and kept, so its address
// does not change and JavaScript asks for it once (and makes its views
// again when the memory grows, as the memory's ArrayBuffer is then a new
// one). A call of more bytes gets a buffer of its own, whose count
// JavaScript passes negated. jsbridge (the store sync's module) and
// tablebridge (the tables' module) use it.
package inbox

import "unsafe"

// Keep is the size of the buffer kept between calls.
const Keep = 8192

// kept is the buffer of up to Keep bytes; large, the one made for the
// last call of more, until Bytes reads it.
var kept, large []byte

// Addr returns the address of a buffer that holds n bytes: the kept one,
// or one made for this call when n is more than Keep.
func Addr(n int) float64 {
	if n > Keep {
		large = make([]byte, n)
		return Address(large)
	}
	if kept == nil {
		kept = make([]byte, Keep)
	}
	return Address(kept)
}

// Bytes returns the n bytes JavaScript wrote into the kept buffer, or for
// n < 0 the -n bytes of the large one, which it lets go (the slice keeps
// what it needs). It returns nil for a count that no buffer holds.
func Bytes(n int32) []byte {
	b := kept
	if n < 0 {
		b, n = large, -n
		large = nil
	}
	if int(n) > len(b) {
		return nil
	}
	return b[:n]
}

// Address is where b starts in the module's memory. The Go collector does
// not move objects: the address stays valid while b is referenced, but the
// memory's ArrayBuffer changes when the memory grows, so JavaScript makes
// its views again then.
func Address(b []byte) float64 { return float64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }
