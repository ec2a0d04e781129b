//go:build !nopersist

package gostring

import "strconv"

// Quote is strconv.Quote: every build but the module without persistence
// links it anyway (tabsync.wasm through go-indexeddb's fmt).
func Quote(s string) string { return strconv.Quote(s) }
