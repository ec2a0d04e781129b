//go:build js && wasm

package tablebridge

import "github.com/tabsync/tabsync/internal/inbox"

// The write and receive paths enter Go through one function the module
// exports (//go:wasmexport tabsynctables), which the npm wrapper
// (npm/src/tables.js) calls as it calls any wasm export: about 0.1 us a
// call, where a js.FuncOf callback costs tens of us (syscall/js's pending
// event, its arguments, a js.Value with a finalizer for each). It is the
// store sync's plumbing (jsbridge/export_js.go, docs/WASM-CONTRACT.md, The
// boundary), with the same inbox (internal/inbox) and operations of its
// own, as the tables' module does not link jsbridge: an export takes and
// returns numbers only, so the strings cross in the module's own memory. The wrapper asks for the inbox's address
// (opInbox), writes the call's strings into it in UTF-8 behind two
// little-endian uint32 lengths (args), and calls the operation with the
// count of bytes it wrote (negated when it asked for more than inbox.Keep,
// so the buffer made for that one call).
//
//   - opMessage: a text message of the server, from the socket's message
//     listener, which the wrapper makes (hooks.listen, called by dial).
//   - opBinary: a binary message of the server; nothing crosses.
//   - opSet, opDelete: a write; arg numbers it, and the module settles it
//     through hooks.onSettled(arg, opId, error), once it is committed.
//
// The export returns -1 when no instance has that id (stopped) or it has
// not started, 1 when the call started a goroutine, else 0. A goroutine
// started inside an export runs only when Go's scheduler next resumes,
// which a js.FuncOf call or a promise's callback does: the IndexedDB
// transactions run in one (drain), so on 1 the wrapper calls the handle's
// kick, a js.FuncOf that does nothing, after the export returned (after the
// frame left on A, after the event on B: off the latency path).

// The export's operations: tabsynctables(op, id, arg, n), id naming the
// instance (instance.id).
const (
	opInbox   = iota // n bytes: returns the address of an inbox that holds them
	opMessage        // arg the socket (instance.sock), n bytes: the message's text (args' third)
	opBinary         // arg the socket: the server sent a binary message
	opSet            // arg the write's number, n bytes: table, key and the value's JSON text
	opDelete         // arg the write's number, n bytes: table and key
)

// instances are the running instances by id: start adds one once its
// engine runs, stop removes it (a start that fails never adds it).
var (
	instances  = map[int32]*instance{}
	lastID     int32
	goroutines bool // set when a call started a goroutine (see spawn)
)

// export is the module's one export; see above.
//
//go:wasmexport tabsynctables
func export(op, id, arg, n int32) float64 {
	if op == opInbox {
		return inbox.Addr(int(n))
	}
	s := instances[id]
	if s == nil {
		return -1 // not started yet, or stopped
	}
	// A call made from inside another (an idb-sync-update listener that
	// writes) must not lose the outer call's goroutines.
	outer := goroutines
	goroutines = false
	defer func() { goroutines = goroutines || outer }()
	a, b, c, ok := args(n)
	switch {
	case op == opBinary:
		s.received(arg, "", true)
	case !ok:
		// The wrapper wrote past its inbox; not reachable from its code.
		s.report("bridge", "a call into the module with a malformed argument was dropped")
	case op == opMessage:
		s.received(arg, string(c), false)
	case op == opSet || op == opDelete:
		s.write(string(a), string(b), string(c), op == opDelete, arg)
	}
	if goroutines {
		return 1
	}
	return 0
}

// spawn starts f in a goroutine and notes it for the export's result.
func spawn(f func()) {
	goroutines = true
	go f()
}

// args reads the three strings of a call from the inbox: n bytes, or -n
// of the large one, which it lets go.
func args(n int32) (a, b, c []byte, ok bool) {
	buf := inbox.Bytes(n)
	if len(buf) < 8 {
		return nil, nil, nil, false
	}
	la, lb := le32(buf), le32(buf[4:])
	if uint64(la)+uint64(lb) > uint64(len(buf)-8) {
		return nil, nil, nil, false
	}
	rest := buf[8:]
	return rest[:la], rest[la : la+lb], rest[la+lb:], true
}

// le32 is binary.LittleEndian.Uint32, which would link encoding/binary.
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
