//go:build js && wasm

package jsbridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/internal/inbox"
)

// The hot path crosses into Go through one function the module exports
// (//go:wasmexport tabsync), which helpers.js calls as it calls any wasm
// export: about 0.1 us a call, where a js.FuncOf callback costs about 17 us
// (syscall/js's machinery: the pending event, its arguments, a js.Value for
// each, their finalizers). An export takes and returns numbers only, so the
// bytes cross in the module's own memory: helpers.js writes a message
// received, or a task's local changes, into the inbox, whose address
// opInbox returns. A one-key message received under last-write-wins or
// first-write-wins reads no js.Value and calls no JavaScript: Go returns
// the patch to apply, a number, and the watcher applies it. A message sent
// is left in the outbox, which the watcher posts after the export returned
// (outbox_js.go). Merge, custom, shouldSync, persistence and every report
// still call into JavaScript from inside the export, which syscall/js
// allows.
//
// A goroutine started inside an export runs only when the Go scheduler
// next resumes, which a js.FuncOf call does, and so do the collector's
// background mark workers: the watcher calls its instance's kick, a
// js.FuncOf that does nothing, after every 32nd export call, and after
// every call when the instance persists (go-indexeddb waits on promises in
// goroutines).
//
// The npm loader hands helpers.js the exports (__tabsyncHelpers.exports,
// docs/WASM-CONTRACT.md, The boundary); jsbridge's tests find them
// through wasm_exec.js (main_test.go, installExports).

// The export's operations: tabsync(op, id, n), id naming the instance
// (Sync.exportID).
const (
	opInbox      = iota // n bytes: returns the address of an inbox that holds them (internal/inbox)
	opReceive           // n bytes of the inbox (-n: of the large one), a message: returns the patch the watcher applies (apply's mask), or -1
	opLocal             // n bytes of the inbox (-n: of the large one), a task's local changes
	opThrew             // the watcher's thrown: n 0, a getter of the state threw while the watcher read it; 1, the store's setState threw applying the patch opReceive returned
	opOutbox            // returns the address of the outbox's next message, or 0 (outbox_js.go)
	opPostFailed        // the outbox's message numbered n: its postMessage threw, post it again from Go
)

// export is the module's one export; see above.
//
//go:wasmexport tabsync
func export(op, id, n int32) float64 {
	switch op {
	case opInbox:
		return inbox.Addr(int(n))
	case opOutbox:
		return nextOut()
	}
	for _, s := range syncs {
		if s.exportID == id {
			return s.export(op, n)
		}
	}
	return -1 // destroyed
}

// lastExportID numbers the instances.
var lastExportID int32

func (s *Sync) export(op, n int32) float64 {
	phase := "send"
	if op == opReceive {
		phase = "receive"
	}
	exporting++
	defer endExport()
	defer s.recover(phase) // which also ends receiving
	switch op {
	case opReceive:
		in, ok := parseInbox(inbox.Bytes(n))
		if ok && s.Active() {
			s.deferred, s.deferredPatch = -1, nil
			s.receiving = true
			s.receive(in)
			return s.deferred
		}
	case opLocal:
		if in, ok := parseInbox(inbox.Bytes(n)); ok {
			obj, prev := js.Undefined(), js.Undefined()
			if !s.opt.shouldSync.IsUndefined() { // eager: the states, for shouldSync
				obj, prev = s.watcherField("next"), s.watcherField("base")
			}
			s.local(in, obj, prev)
		}
	case opPostFailed:
		s.postFailed(n)
	case opThrew:
		if n == 0 {
			s.reportThrown("send", "cannot read the store's state; the change stays in this tab", s.watcherField("thrown"))
		} else if s.deferredPatch != nil {
			s.applyFailed(s.deferredPatch, s.watcherField("thrown"))
			s.deferredPatch = nil
		}
	}
	return -1
}

func endExport() { exporting-- }

// watcherField reads a field of the watcher. Not inlined: each inlined
// copy costs the module more than the call saves.
//
//go:noinline
func (s *Sync) watcherField(name string) js.Value { return s.watcher.Get(name) }
