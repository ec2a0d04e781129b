//go:build js && wasm && nopersist

package jsbridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
)

// This file replaces persist_js.go in the module built with the nopersist
// tag (tabsync-nopersist.wasm), which leaves out IndexedDB and, with
// go-indexeddb, fmt, reflect and log: about a third of the module. The npm
// loader fetches that module when the first instance of the page does not
// set persist (see docs/WASM-CONTRACT.md, Two modules).

// persistBuilt is false: this module stores nothing.
const persistBuilt = false

// persistState is the Sync's side of persistence: here only whether the
// instance said that it has none.
type persistState struct {
	restoring bool // never: there is nothing to restore
	told      bool // persist was asked for and start reported it
}

// startPersist reports, once, that an instance asked for persist from the
// module without it, and syncs without persistence.
func (s *Sync) startPersist() bool {
	if s.opt.persist && !s.ps.told {
		s.ps.told = true
		s.report("persist", "persist is on, but this page loaded tabsync's module without persistence "+
			"(its first instance did not set persist): the state is synced but not stored. "+
			"Call init({ persist: true }) before creating instances, or create one with persist first", nil)
	}
	return false
}

func (s *Sync) held(protocol.Message, *protocol.Error) bool { return false }
func (s *Sync) eachHeldValue(func(conflict.Value))          {}
func (s *Sync) persistEntries(_, _ []protocol.Entry)        {}
func (s *Sync) started() js.Value                           { return js.Undefined() }
func (s *Sync) closePersist()                               {}
func (s *Sync) stopUnloading()                              { s.Stop() }
func (s *Sync) restored([]protocol.Entry)                   {}
