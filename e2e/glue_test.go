//go:build e2e && !(js && wasm)

package e2e

import (
	"testing"
	"time"
)

// A page syncs a store, then starts a table sync (createTableSync), whose
// loader prepares the glue again. The store keeps syncing both ways. (Before,
// prepareGlue's built form, npm/build.mjs, evaluated helpers.js again: a new
// globalThis.__tabsyncHelpers with no exports, and every message and local
// change of the store threw in putGo.) Found by a review.
func TestStoreSyncKeepsWorkingAfterTheTablesModuleLoads(t *testing.T) {
	s := newSuite(t)
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, ``, "{n: 0}")
	b.setup(t, ch, ``, "{n: 0}")
	a.set(t, `{n: 1}`)
	b.waitFor(t, `store.getState().n === 1`)

	// Loopback only: nothing listens on port 9, the connection just fails.
	b.Eval(t, `(window.tables = lib.createTableSync({serverUrl: 'ws://127.0.0.1:9/sync', tables: ['t']}), tables.connect().catch(() => {}), true)`, nil)
	b.WaitFor(t, `globalThis.__tabsyncTables !== undefined`, 30*time.Second)

	// Both directions: a change b makes (its watcher's flush) and one it
	// receives (its channel's listener), each through putGo.
	b.set(t, `{n: 2}`)
	toA := a.Await(`store.getState().n === 2`, wait)
	a.set(t, `{n: 3}`)
	toB := b.Await(`store.getState().n === 3`, wait)
	if toA != nil || toB != nil {
		t.Fatalf("after the tables module loaded: b's change to a: %v; a's change to b: %v", toA, toB)
	}
}
