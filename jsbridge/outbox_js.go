//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"unsafe"

	"github.com/tabsync/tabsync/internal/inbox"
	"github.com/tabsync/tabsync/protocol"
)

// The outbox: every message the engine sends leaves Go through outBuf, in
// Go's own memory, and helpers.js drainGo posts it: the watcher that
// called the export, after the export returned, or drainOut, called at
// once for a message sent outside an export (a timer, start, stop, the
// leader's callbacks). No Go call of JavaScript per message sent, no
// js.Value, no postMessage from inside a call from wasm (docs/BENCHMARKS.md,
// "Where a change's time goes"). Each opOutbox call returns the address of
// the next message, or 0 when none is left, when the outbox empties. Each
// message is outHead bytes of numbers (little-endian float64s: the
// instance's exportID, the message's number for opPostFailed, then
// helpers.js encode's typ, seq, a, b and flags, and the record's length in
// bytes) and its record in UTF-8, padded to 8 bytes. Messages leave in the
// order they were made, whichever watcher or nested call posts them.
var (
	outBuf  []byte   // the messages not yet posted
	outMsgs []outMsg // the same messages, for opPostFailed
	// outFirst is the number of outMsgs[0]. Numbers are int32s, as the
	// export's parameter is one: they wrap around after 2^31 messages, and
	// postFailed's difference wraps with them.
	outFirst int32
	outNext  int // the offset in outBuf of the first message not handed to the watcher
	// outSlots: a queued message holds a value not held (merged or
	// custom), which its record names by a slot of its own that no
	// engine holds: no sweep until the outbox empties.
	outSlots bool
	// exporting counts the export calls under way (they nest when an
	// export's call of JavaScript leads to another).
	exporting int
)

// outMsg is a queued message and the instance that sends it.
type outMsg struct {
	s   *Sync
	msg protocol.Message
}

// outHead is a message's numbers in the outbox: eight float64s.
const outHead = 64

// outKeep is the largest outbox kept once emptied.
const outKeep = 64 << 10

// queue writes msg into the outbox.
func (s *Sync) queue(msg protocol.Message) {
	at := len(outBuf)
	w := writer{b: append(outBuf, make([]byte, outHead)...), slots: true}
	h := w.message(msg)
	w.b = w.b[:len(w.b)-1] // the record's last newline
	n := len(w.b) - at - outHead
	for len(w.b)%8 != 0 {
		w.b = append(w.b, 0)
	}
	outBuf = w.b
	*(*[8]float64)(unsafe.Pointer(&outBuf[at])) = [8]float64{float64(s.exportID), float64(outFirst + int32(len(outMsgs))), h[0], h[1], h[2], h[3], h[4], float64(n)}
	outMsgs = append(outMsgs, outMsg{s, msg})
}

// nextOut hands the watcher the next message of the outbox: its address,
// or 0 when every message was handed out, and then the outbox is emptied.
func nextOut() float64 {
	if outNext < len(outBuf) {
		at := outNext
		n := int(*(*float64)(unsafe.Pointer(&outBuf[at+outHead-8])))
		outNext += outHead + (n+7)&^7
		return inbox.Address(outBuf[at:])
	}
	outFirst += int32(len(outMsgs))
	clear(outMsgs)
	outBuf, outMsgs, outNext, outSlots = outBuf[:0], outMsgs[:0], 0, false
	if cap(outBuf) > outKeep {
		outBuf = nil
	}
	return 0
}

// postFailed takes back the message numbered n, whose postMessage threw
// what the watcher's thrown holds. A value the browser cannot clone fails
// the whole postMessage: then each value is tried alone, the ones that
// cannot be cloned are reported and left out, and the rest goes out again.
func (s *Sync) postFailed(n int32) {
	i := int(n - outFirst)
	if i < 0 || i >= len(outMsgs) {
		return
	}
	msg := outMsgs[i].msg
	kept := msg.Entries[:0:0]
	for _, en := range msg.Entries {
		if _, cerr := catch(func() js.Value { return jsStructClone.Invoke(jv(en.Value)) }); cerr != nil {
			// Reported once: the engine leaves this write out of its
			// digest and its answers from now on.
			s.e.Unsendable(en.Key, en.Version.Clock)
			s.report("send", "the value of "+en.Key+" cannot be cloned and is not synced: "+cerr.Error(), cerr)
			continue
		}
		kept = append(kept, en)
	}
	if len(kept) == len(msg.Entries) {
		err := thrownValue{s.watcherField("thrown")}
		s.report("send", "postMessage failed for "+msg.Type.String()+": "+err.Error(), err)
		return
	}
	if len(kept) > 0 {
		msg.Entries = kept
		s.queue(msg) // posted by the drain under way
	}
}

// drainOut has the watchers post what the outbox holds, before a message
// posted at once or the channel's closing.
func drainOut() {
	if outNext < len(outBuf) {
		jsDrain.Invoke()
	}
}
