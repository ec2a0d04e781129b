//go:build js && wasm

package tablebridge

import (
	"strconv"
	"syscall/js"
	"unicode/utf8"

	"github.com/tabsync/tabsync/internal/inbox"
	"github.com/tabsync/tabsync/protocol"
	"github.com/tabsync/tabsync/tableproto"
	"github.com/tabsync/tabsync/tables"
)

var (
	jsJSON   = js.Global().Get("JSON")
	jsObject = js.Global().Get("Object")
	jsArray  = js.Global().Get("Array")
)

// appendFrame appends a client frame as the JSON text of
// docs/SERVER-PROTOCOL.md. Values are JSON text already and go in as they
// are.
func appendFrame(b []byte, f tableproto.Frame) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, string(f.Type))
	switch f.Type {
	case tableproto.Hello:
		b = append(b, `,"v":`...)
		b = strconv.AppendInt(b, int64(f.V), 10)
		if f.ClientID != "" {
			b = append(b, `,"clientId":`...)
			b = appendString(b, f.ClientID)
		}
		if f.Token != "" {
			b = append(b, `,"token":`...)
			b = appendString(b, f.Token)
		}
	case tableproto.Subscribe, tableproto.Unsubscribe:
		b = append(b, `,"table":`...)
		b = appendString(b, f.Table)
		if f.Since > 0 {
			b = append(b, `,"since":`...)
			b = strconv.AppendUint(b, f.Since, 10)
		}
	case tableproto.Operation:
		b = append(b, `,"table":`...)
		b = appendString(b, f.Table)
		b = append(b, `,"opId":`...)
		b = appendString(b, f.OpID)
		b = append(b, `,"payload":{"operation":`...)
		b = appendString(b, string(f.Change.Operation))
		b = append(b, `,"key":`...)
		b = appendString(b, f.Change.Key)
		if f.Change.Operation == tableproto.Set {
			b = append(b, `,"value":`...)
			b = append(b, f.Change.Value...)
		}
		b = append(b, '}')
	case tableproto.Ping:
		if f.ID != "" {
			b = append(b, `,"id":`...)
			b = appendString(b, f.ID)
		}
	}
	return append(b, '}')
}

// text is where the module leaves the text of an event or a frame for a
// hook, which reads it from the module's memory (hooks.onEvent(at, n),
// hooks.send(ws, at, n)): passed as a string, it would cost a call into
// JavaScript to make the string, and a js.Value whose finalizer the
// collector registers and later runs (BenchmarkEventToHook). The hook reads
// it before it returns, before any listener of the application runs, so
// the next step may write over it.
var text []byte

// textBuf returns text emptied, to append the next text to; a buffer grown
// past inbox.Keep by a large value is let go.
func textBuf() []byte {
	if cap(text) > inbox.Keep {
		text = nil
	}
	return text[:0]
}

// textArgs keeps b, just written over textBuf, as text and returns the
// hook's arguments for it: its address and length.
func textArgs(b []byte) (at, n float64) {
	text = b
	return inbox.Address(b), float64(len(b))
}

// appendEvent appends an event as the text hooks.onEvent reads, the JSON
// array [table, operation, key, origin, opId, version, timestamp, value]
// (no value for a delete): eight arguments would cost a call into
// JavaScript for each string, and the wrapper's one JSON.parse reads the
// value, which it parsed anyway.
func appendEvent(b []byte, ev tables.Event) []byte {
	b = append(b, '[')
	b = appendString(b, ev.Table)
	b = append(b, ',')
	b = appendString(b, ev.Operation)
	b = append(b, ',')
	b = appendString(b, ev.Key)
	b = append(b, ',')
	b = appendString(b, ev.Origin)
	b = append(b, ',')
	b = appendString(b, ev.OpID)
	b = append(b, ',')
	b = strconv.AppendUint(b, ev.Version, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, ev.Timestamp, 10)
	if ev.Operation == tables.OpSet {
		b = append(b, ',')
		b = append(b, ev.Value...)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else if r == '\u2028' || r == '\u2029' {
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&15])
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(b, '"')
}

// msgToJS builds the structured-clone form of a message to the other tabs.
func msgToJS(m tables.TabMsg) js.Value {
	o := jsObject.New()
	o.Set("kind", m.Kind)
	o.Set("from", m.From)
	switch m.Kind {
	case tables.KindElection:
		e := m.Election
		o.Set("type", int(e.Type))
		o.Set("term", float64(e.Term))
		o.Set("priority", float64(e.Priority))
		o.Set("leader", e.Leader)
	case tables.KindOp:
		o.Set("op", opToJS(*m.Op))
	case tables.KindTouch:
		o.Set("table", m.Table)
	case tables.KindChange:
		o.Set("table", m.Table)
		o.Set("version", float64(m.Version))
		o.Set("snapshot", m.Snapshot)
		o.Set("reset", m.Reset)
		rows := jsArray.New(len(m.Rows))
		for i, r := range m.Rows {
			rows.SetIndex(i, rowToJS(r))
		}
		o.Set("rows", rows)
		acks := jsArray.New(len(m.Acks))
		for i, a := range m.Acks {
			acks.SetIndex(i, []any{a.OpID, float64(a.Version)})
		}
		o.Set("acks", acks)
		ref := jsArray.New(len(m.Refused))
		for i, id := range m.Refused {
			ref.SetIndex(i, id)
		}
		o.Set("refused", ref)
	case tables.KindStatus:
		o.Set("status", m.Status)
	}
	return o
}

// msgFromJS reads a message from another tab; ok is false when it is
// malformed (a foreign script on the channel).
func msgFromJS(v js.Value) (m tables.TabMsg, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	if v.Type() != js.TypeObject {
		return m, false
	}
	m.Kind, m.From = v.Get("kind").String(), v.Get("from").String()
	switch m.Kind {
	case tables.KindElection:
		m.Election = &protocol.Message{Type: protocol.Type(v.Get("type").Int()), Tab: m.From,
			Term: uint64(v.Get("term").Float()), Priority: int64(v.Get("priority").Float()), Leader: v.Get("leader").String()}
	case tables.KindOp:
		op, ok := opFromJS(v.Get("op"))
		if !ok {
			return m, false
		}
		m.Op = &op
	case tables.KindTouch:
		m.Table = v.Get("table").String()
	case tables.KindChange:
		m.Table = v.Get("table").String()
		m.Version = uint64(v.Get("version").Float())
		m.Snapshot, m.Reset = v.Get("snapshot").Bool(), v.Get("reset").Bool()
		rows := v.Get("rows")
		for i := 0; i < rows.Length(); i++ {
			m.Rows = append(m.Rows, rowFromJS(rows.Index(i), m.Table))
		}
		acks := v.Get("acks")
		for i := 0; i < acks.Length(); i++ {
			a := acks.Index(i)
			m.Acks = append(m.Acks, tables.Ack{OpID: a.Index(0).String(), Version: uint64(a.Index(1).Float())})
		}
		ref := v.Get("refused")
		for i := 0; i < ref.Length(); i++ {
			m.Refused = append(m.Refused, ref.Index(i).String())
		}
	case tables.KindStatus:
		m.Status = v.Get("status").String()
	}
	return m, true
}

// rowToJS is also the IndexedDB record of a row (store "rows", key [t, k]).
func rowToJS(r tables.Row) js.Value {
	o := jsObject.New()
	o.Set("t", r.Table)
	o.Set("k", r.Key)
	o.Set("v", r.Value)
	o.Set("d", r.Deleted)
	o.Set("ver", float64(r.Version))
	o.Set("op", r.OpID)
	o.Set("c", r.Client)
	o.Set("ts", float64(r.Timestamp))
	return o
}

func rowFromJS(v js.Value, table string) tables.Row {
	if t := v.Get("t"); t.Type() == js.TypeString {
		table = t.String()
	}
	return tables.Row{Table: table, Key: v.Get("k").String(), Value: v.Get("v").String(), Deleted: v.Get("d").Bool(),
		Version: uint64(v.Get("ver").Float()), OpID: v.Get("op").String(), Client: v.Get("c").String(), Timestamp: int64(v.Get("ts").Float())}
}

// opToJS is also the IndexedDB record of an outbox entry (store "outbox",
// key opId).
func opToJS(op tables.Op) js.Value {
	o := jsObject.New()
	o.Set("opId", op.OpID)
	o.Set("t", op.Table)
	o.Set("k", op.Key)
	o.Set("d", op.Delete)
	o.Set("v", op.Value)
	o.Set("tab", op.Tab)
	o.Set("seq", float64(op.Seq))
	o.Set("at", float64(op.At))
	return o
}

func opFromJS(v js.Value) (op tables.Op, ok bool) {
	if v.Type() != js.TypeObject || v.Get("opId").Type() != js.TypeString || v.Get("t").Type() != js.TypeString ||
		v.Get("k").Type() != js.TypeString || v.Get("v").Type() != js.TypeString {
		return op, false
	}
	return tables.Op{OpID: v.Get("opId").String(), Table: v.Get("t").String(), Key: v.Get("k").String(),
		Delete: v.Get("d").Truthy(), Value: v.Get("v").String(), Tab: v.Get("tab").String(),
		Seq: uint64(v.Get("seq").Float()), At: int64(v.Get("at").Float())}, true
}
