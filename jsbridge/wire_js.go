//go:build js && wasm

package jsbridge

import (
	"math"
	"strconv"
	"syscall/js"
	"unsafe"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/decimal"
	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/protocol"
)

// The boundary (docs/WASM-CONTRACT.md): each message crosses into Go once,
// as numbers and one string, a record of lines, and each message sent or
// patch applied crosses out once. The application's values stay in
// JavaScript, in helpers.js's slots; the engine holds a *held for each,
// and reads one (a js.Value, one call) only where its logic looks inside:
// merge, custom, shouldSync, persistence, a value that failed to clone.

var (
	jsSlotValue js.Value // helpers.slotValue, set by loadHelpers
	jsSweep     js.Value // helpers.sweep
	jsDrain     js.Value // helpers.drainGo
	jsSlot      js.Value // helpers.slot
)

// held is a value kept in helpers.js's slots. kind is its conflict.Kind;
// size and depth its structured-clone size, measured when the value was
// changed locally, or -1 when not measured (a received value).
type held struct {
	slot        int32
	kind        conflict.Kind
	size, depth int32
}

// heldChunk is where newHeld takes the next *held from: one allocation
// for heldChunkLen of them, rather than one per value received or
// changed. A chunk stays in memory while any of its values is held (an
// engine keeps one per key), at most heldChunkLen*16 bytes.
var heldChunk []held

const heldChunkLen = 32

// newHeld returns a pointer to a copy of h.
func newHeld(h held) *held {
	if len(heldChunk) == 0 {
		heldChunk = make([]held, heldChunkLen)
	}
	p := &heldChunk[0]
	*p = h
	heldChunk = heldChunk[1:]
	return p
}

// value is the JavaScript value behind h: one call.
//
//go:noinline
func (h *held) value() js.Value { return jsSlotValue.Invoke(h.slot) }

// localState is the store's state after a task's changes, as the watcher
// tells them: the changed keys and their values. obj is the state itself
// when the config has shouldSync, which is given it; undefined otherwise.
type localState struct {
	keys []string
	vals []*held
	obj  js.Value
}

func (l *localState) get(k string) conflict.Value {
	for i, key := range l.keys {
		if key == k {
			return l.vals[i]
		}
	}
	return js.Undefined()
}

// The slots are freed by a sweep: every so many new slots, the values the
// engines of the page hold are marked live and helpers.js frees the rest.
var (
	syncs      []*Sync // the instances whose engines hold values
	newSlots   int     // slots handed to Go since the last sweep
	liveSlots  int     // live at the last sweep
	minSweepAt = 4096
)

// sweepSlots frees the slots no engine holds any more, once enough new ones
// were handed out: at the end of a call into Go, when nothing but the
// engines (and the messages held while restoring) keeps a *held.
// The messages in the outbox keep theirs too (outbox_js.go), and none is
// freed while it holds a value put in a slot of its own.
func sweepSlots() {
	if newSlots < max(minSweepAt, 2*liveSlots) || outSlots {
		return
	}
	var live []byte
	mark := func(v conflict.Value) {
		if h, ok := v.(*held); ok {
			if len(live) > 0 {
				live = append(live, ',')
			}
			live = strconv.AppendInt(live, int64(h.slot), 10)
		}
	}
	for _, o := range outMsgs {
		for _, en := range o.msg.Entries {
			mark(en.Value)
		}
	}
	for _, s := range syncs {
		if s.e != nil {
			s.e.EachValue(mark)
		}
		s.eachHeldValue(mark)
	}
	liveSlots = jsSweep.Invoke(string(live)).Int()
	newSlots = 0
}

// lines reads a record, line by line.
type lines struct{ s string }

// next returns the next line, unescaped (helpers.js esc).
func (r *lines) next() string {
	line := r.s
	if i := gostring.IndexByte(r.s, '\n'); i >= 0 {
		line, r.s = r.s[:i], r.s[i+1:]
	} else {
		r.s = ""
	}
	if gostring.IndexByte(line, '\\') < 0 {
		return line
	}
	var b []byte
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) {
			i++
			if line[i] == 'n' {
				b = append(b, '\n')
				continue
			}
		}
		b = append(b, line[i])
	}
	return string(b)
}

// int reads a line of a number, 0 or more; -1 reads as 0.
func (r *lines) int() int {
	n, _ := decimal.ParseUint(r.next(), math.MaxInt32)
	return int(n)
}

// checkThrew is the check helpers.js decode reports when reading the
// message threw (a getter: no message the channel delivers has one).
var checkThrew = protocol.Check(len(protocol.Checks()))

// inbound is a received message as the watcher read it (helpers.js
// decode) and put in the inbox (helpers.js putGo).
type inbound struct {
	now    int64
	check  protocol.Check
	typ    protocol.Type
	seq    uint64
	a      float64
	b      int64
	flags  int
	record string
}

// inboxHead is the inbox's numbers: seven float64s.
const inboxHead = 56

// parseInbox reads what helpers.js putGo wrote into the inbox (see
// export_js.go, opInbox): one allocation, the record's string. ok is false for a
// count that does not fit what putGo writes.
func parseInbox(buf []byte) (in inbound, ok bool) {
	if len(buf) < inboxHead {
		return inbound{}, false
	}
	h := (*[7]float64)(unsafe.Pointer(&buf[0])) // wasm memory is little-endian
	num := func(i int) float64 {
		if h[i] == 0 {
			return 0 // -0 as +0, as syscall/js hands over a number argument
		}
		return h[i]
	}
	return inbound{
		now: int64(num(0)), check: protocol.Check(int(num(1))), typ: protocol.Type(int(num(2))),
		seq: uint64(num(3)), a: num(4), b: int64(num(5)), flags: int(num(6)),
		record: string(buf[inboxHead:]),
	}, true
}

// unpack builds the message helpers.js decode read (see its comment for
// the record), or the drop of one it, or the versions here, rejected.
func unpack(in inbound, rc protocol.Receiver) (protocol.Message, *protocol.Error) {
	check := in.check
	msg := protocol.Message{Type: in.typ, Seq: in.seq, AppVersion: rc.AppVersion}
	a, b, flags := in.a, in.b, in.flags
	r := lines{in.record}
	msg.Tab, msg.Req, msg.To, msg.Digest, msg.Filter, msg.Leader = r.next(), r.next(), r.next(), r.next(), r.next(), r.next()
	text := r.next()
	var derr *protocol.Error
	if msg.Type == protocol.StateUpdate || msg.Type == protocol.StateResponse {
		for r.s != "" {
			key, version, lineage := r.next(), r.next(), r.next()
			slot, kind := r.int(), r.int()
			// Counted whether or not the message is kept: helpers.js
			// filled the slot, and a flood of rejected messages must
			// bring the sweep on too.
			newSlots++
			if derr != nil {
				continue
			}
			// '=' and the lineage, then '|' and the removed fields.
			removed, hasRemoved := "", false
			if i := gostring.IndexByte(lineage, '|'); i >= 0 {
				lineage, removed, hasRemoved = lineage[:i], lineage[i+1:], true
			}
			seen := lineage
			if seen != "" && seen[0] == '=' {
				seen = seen[1:]
			}
			ver, c := protocol.ParseEntryVersion(version, seen, lineage != "", removed, hasRemoved)
			if c != protocol.Accepted {
				derr = protocol.Reject(c, msg.Type, key, 0, rc)
				continue
			}
			if check != protocol.Accepted {
				continue // only checking the versions before the broken rule
			}
			msg.Entries = append(msg.Entries, protocol.Entry{Key: key, Entry: conflict.Entry{
				Value:   newHeld(held{slot: int32(slot), kind: conflict.Kind(kind), size: -1, depth: -1}),
				Version: ver,
			}})
		}
	}
	if derr != nil {
		return protocol.Message{}, derr
	}
	if check != protocol.Accepted {
		return msg, protocol.Reject(check, msg.Type, text, a, rc)
	}
	switch msg.Type {
	case protocol.TabPing, protocol.TabPong:
		msg.Started = int64(a)
	case protocol.LeaderElection, protocol.LeaderAnnounce, protocol.Heartbeat:
		msg.Term, msg.Priority = uint64(a), b
	}
	msg.More, msg.Leaving = flags&1 != 0, flags&2 != 0
	return msg, nil
}

// unpackLocal reads the watcher's record of a task's local changes: five
// lines a key (helpers.js watch).
// Into l, emptied first: the engine keeps neither l nor its lists.
func unpackLocal(rec string, obj js.Value, l *localState) {
	r := lines{rec}
	l.keys, l.vals, l.obj = l.keys[:0], l.vals[:0], obj
	for r.s != "" {
		key, slot, kind, size, depth := r.next(), r.int(), r.int(), r.int(), r.int()
		newSlots++
		l.keys = append(l.keys, key)
		l.vals = append(l.vals, newHeld(held{slot: int32(slot), kind: conflict.Kind(kind), size: int32(min(size, 1<<30)), depth: int32(depth)}))
	}
}

// message writes msg's record and returns the numbers helpers.js encode
// takes before it: typ, seq, a (started or term), b (priority) and flags.
func (w *writer) message(msg protocol.Message) [5]float64 {
	w.line(msg.Req)
	w.line(msg.To)
	w.line(msg.Digest)
	w.line(msg.Filter)
	w.line(msg.Leader)
	for _, en := range msg.Entries {
		w.line(en.Key)
		w.line(protocol.FormatVersion(en.Version))
		lineage := ""
		if !en.Version.Lineage.IsZero() {
			lineage = en.Version.Lineage.String()
		}
		if len(en.Version.Gone) > 0 {
			lineage += "|" + conflict.FormatGone(en.Version.Gone)
		}
		w.line(lineage)
		w.ref(en.Value)
	}
	var a, b float64
	switch msg.Type {
	case protocol.TabPing, protocol.TabPong:
		a = float64(msg.Started)
	case protocol.LeaderElection, protocol.LeaderAnnounce, protocol.Heartbeat:
		a, b = float64(msg.Term), float64(msg.Priority)
	}
	flags := 0.0
	if msg.More {
		flags++
	}
	if msg.Leaving {
		flags += 2
	}
	return [5]float64{float64(msg.Type), float64(msg.Seq), a, b, flags}
}

// writer builds a record (see helpers.js esc): lines, and references to
// values, which are slots or, for a value not held, 'a' and its index in
// extra, or a slot of its own (slots). Not inlined: each inlined copy costs the wasm module more than the
// call saves.
type writer struct {
	b     []byte
	extra []any
	// slots: a value not held goes into a slot of its own (helpers.slot),
	// for the outbox, which has no extra arguments (outbox_js.go).
	slots bool
}

//go:noinline
func (w *writer) line(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n':
			w.b = append(w.b, '\\', 'n')
		case '\\':
			w.b = append(w.b, '\\', '\\')
		default:
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '\n')
}

//go:noinline
func (w *writer) ref(v conflict.Value) {
	if h, ok := v.(*held); ok {
		w.b = strconv.AppendInt(w.b, int64(h.slot), 10)
	} else if w.slots {
		outSlots = true
		w.b = strconv.AppendInt(w.b, int64(jsSlot.Invoke(jv(v)).Int()), 10)
	} else {
		w.b = append(w.b, 'a')
		w.b = strconv.AppendInt(w.b, int64(len(w.extra)), 10)
		w.extra = append(w.extra, jv(v))
	}
	w.b = append(w.b, '\n')
}

// text is the record, without its last newline.
func (w *writer) text() string {
	if len(w.b) == 0 {
		return ""
	}
	return string(w.b[:len(w.b)-1])
}

// patchMask returns the watcher's apply(mask) argument for keys and
// values, when each value is the held one of the entry of msg at the same
// key (the engine took the remote writes as they came) and there are at
// most 52 entries; ok is false otherwise.
func patchMask(msg *protocol.Message, keys []string, vals []conflict.Value) (mask float64, ok bool) {
	if msg == nil || len(msg.Entries) > 52 {
		return 0, false
	}
	j := 0
	bit := 1.0
	for _, en := range msg.Entries {
		if j < len(keys) && keys[j] == en.Key {
			if h, ok := vals[j].(*held); !ok || h != en.Value {
				return 0, false
			}
			mask += bit
			j++
		}
		bit *= 2
	}
	return mask, j == len(keys)
}

// patchRecord writes any patch as the watcher's applyRecord arguments.
func patchRecord(keys []string, vals []conflict.Value) []any {
	var w writer
	for i, k := range keys {
		w.line(k)
		w.ref(vals[i])
	}
	return append([]any{w.text()}, w.extra...)
}
