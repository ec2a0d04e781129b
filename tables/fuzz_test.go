package tables_test

import (
	"strconv"
	"testing"

	"github.com/tabsync/tabsync/protocol"
	"github.com/tabsync/tabsync/tableproto"
	"github.com/tabsync/tabsync/tables"
)

// fuzzInput reads a fuzzer's bytes as a sequence of small choices; past the
// end every choice is 0.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) pick(n int) int { return int(in.byte()) % n }

// Tiny domains, so that replays, forged acks, versions going backwards and
// keys shared between local writes and server changes are common.
var (
	fuzzTables  = []string{"scores", "items", "other", "", "bad name"}
	fuzzKeys    = []string{"a", "b", "__proto__", ""}
	fuzzValues  = []string{`1`, `"x"`, `{"s":[1,2]}`, `null`, ``}
	fuzzClients = []string{"browser1", "browser2", "", "bad id!"}
	fuzzTypes   = []tableproto.Type{tableproto.Welcome, tableproto.Snapshot, tableproto.Synced, tableproto.Update,
		tableproto.Ack, tableproto.Error, tableproto.Pong, tableproto.Operation, tableproto.Hello, "surprise"}
	fuzzCodes = []tableproto.Code{tableproto.CodeRateLimited, tableproto.CodeUnavailable, tableproto.CodeForbidden,
		tableproto.CodeSinceAhead, tableproto.CodeValueTooBig, tableproto.CodeBadMessage, "made-up"}
)

func (in *fuzzInput) of(s []string) string { return s[in.pick(len(s))] }

// opID is one of this engine's writes (sent or not), another tab's, or a
// forged or malformed one.
func (in *fuzzInput) opID(own []string) string {
	if len(own) > 0 && in.pick(3) != 0 {
		return own[in.pick(len(own))]
	}
	return []string{"other.1", "other.2", "self.99", "", "bad op id!"}[in.pick(5)]
}

// frame builds a server frame: mostly well formed with fields from tiny
// domains (so that the engine's logic past validation is reached), some
// of a type a server must not send, some with fields missing.
func (in *fuzzInput) frame(own []string) tableproto.Frame {
	f := tableproto.Frame{
		Type:         fuzzTypes[in.pick(len(fuzzTypes))],
		V:            []int{tableproto.Version, 0, 2}[in.pick(3)],
		Table:        in.of(fuzzTables),
		OpID:         in.opID(own),
		TableVersion: uint64(in.pick(8)),
		OriginID:     in.of(fuzzClients),
		Timestamp:    int64(in.pick(4)),
		Duplicate:    in.pick(2) == 0,
		More:         in.pick(4) == 0,
		Code:         fuzzCodes[in.pick(len(fuzzCodes))],
		Message:      "m",
	}
	switch f.Type {
	case tableproto.Update, tableproto.Operation:
		f.Change = tableproto.Change{Operation: []tableproto.Op{tableproto.Set, tableproto.Delete, "frobnicate"}[in.pick(3)],
			Key: in.of(fuzzKeys), Value: tableproto.RawValue(in.of(fuzzValues))}
	case tableproto.Snapshot:
		for range in.pick(4) {
			f.Rows = append(f.Rows, tableproto.Row{Key: in.of(fuzzKeys), Value: tableproto.RawValue(in.of(fuzzValues)),
				OpID: in.opID(own), OriginID: in.of(fuzzClients), Timestamp: int64(in.pick(3))})
		}
	}
	return f
}

// tabMsg builds a message from another tab of this browser.
func (in *fuzzInput) tabMsg(own []string) tables.TabMsg {
	m := tables.TabMsg{Kind: []string{tables.KindOp, tables.KindChange, tables.KindStatus, tables.KindTouch, tables.KindElection, "surprise"}[in.pick(6)],
		From: []string{"peer", "self", "bad id!"}[in.pick(3)], Table: in.of(fuzzTables)}
	switch m.Kind {
	case tables.KindOp:
		if in.pick(8) != 0 {
			m.Op = &tables.Op{OpID: in.opID(own), Table: in.of(fuzzTables), Key: in.of(fuzzKeys), Delete: in.pick(4) == 0,
				Value: in.of(fuzzValues), Tab: "peer", Seq: uint64(in.pick(4)), At: int64(in.pick(4))}
		}
	case tables.KindChange:
		for range in.pick(3) {
			m.Rows = append(m.Rows, tables.Row{Table: m.Table, Key: in.of(fuzzKeys), Value: in.of(fuzzValues), Deleted: in.pick(4) == 0,
				Version: uint64(in.pick(8)), OpID: in.opID(own), Client: in.of(fuzzClients)})
		}
		m.Version, m.Snapshot, m.Reset = uint64(in.pick(8)), in.pick(3) == 0, in.pick(6) == 0
		if in.pick(3) == 0 {
			m.Acks = append(m.Acks, tables.Ack{OpID: in.opID(own), Version: uint64(in.pick(8))})
		}
		if in.pick(6) == 0 {
			m.Refused = append(m.Refused, in.opID(own))
		}
	case tables.KindStatus:
		m.Status = []string{tables.StatusOnline, tables.StatusOffline, "weird"}[in.pick(3)]
	case tables.KindElection:
		if in.pick(4) != 0 {
			m.Election = &protocol.Message{Type: protocol.Type(1 + in.pick(8)), Tab: m.From, Term: uint64(in.pick(4)), Leader: "peer"}
		}
	}
	return m
}

// FuzzStep feeds one engine a random sequence of inputs: local writes,
// reads of new tables, frames from a server (well formed, hostile, forged,
// replayed, out of turn), messages from other tabs, lock results,
// connections opening and closing, outbox reads and ticks. Whatever comes
// in, the engine must not panic, and after every step: every event names
// an origin and an operation and adds up to what the tab shows; a frame it
// sends is a client's, and an operation names a write in its outbox; a
// write of this tab leaves the outbox only in a step that named its opId
// (an ack, the write's update, a refusal); a server frame the engine drops
// stores nothing and fires nothing; and a table's version never goes
// backwards on an update, an ack or synced.
func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	// Start, win the lock, dial, connect, get welcomed, write, get acked.
	f.Add([]byte("\x00\x00\x05\x00\x06\x00\x0b\x00\x00\x07\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x01\x00\x02\x04\x00\x00\x00\x00\x03"))
	f.Add([]byte("\x01\x05\x06\x07\x08\x00\x00\x03\x01\x00\x00\x00\x00\x08\x03\x00\x00\x01\x02\x00\x01\x01"))
	f.Add([]byte("\x01\x05\x06\x07\x08\x00\x01\x00\x02\x00\x03\x03\x01\x00\x01\x01\x00\x01\x02\x08\x04\x00\x00\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		e, err := tables.New(tables.Config{Tab: "self", ClientID: "browser1", Tables: []string{"scores"}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		now := int64(1_700_000_000_000)
		if in.pick(4) != 0 {
			// Most runs start connected: the hostile frames then meet an
			// engine that reads them.
			e.Start(now)
			e.LockGranted(now)
			e.Tick(now)
			e.Connected(now)
			e.Receive(now, tableproto.Frame{Type: tableproto.Welcome, V: tableproto.Version, ClientID: "browser1"})
			if e.Status() == tables.StatusOffline || !e.Leading() {
				t.Fatalf("not connected: %s", e.Status())
			}
		}
		var own []string // opIds of this tab's writes
		for step := 0; len(in.b) > 0 && step < 200; step++ {
			now += int64(in.pick(4)) * 700
			before := e.Outbox()
			versions := map[string]uint64{}
			for _, n := range e.Tables() {
				versions[n] = e.Version(n)
			}
			drops := 0
			for _, n := range e.Dropped {
				drops += n
			}
			var r tables.Ready
			named := map[string]bool{} // opIds this step's input names
			var frame *tableproto.Frame
			what := ""
			switch in.pick(12) {
			case 0, 1:
				tbl, key, val := in.of(fuzzTables), in.of(fuzzKeys), in.of(fuzzValues)
				var id string
				if in.pick(4) == 0 {
					r, id, err = e.Delete(now, tbl, key)
				} else {
					r, id, err = e.Set(now, tbl, key, val)
				}
				what = "write " + tbl + "/" + key
				if err == nil {
					own = append(own, id)
				}
			case 2, 3, 4:
				fr := in.frame(own)
				frame = &fr
				named[fr.OpID] = true
				what = "receive " + string(fr.Type)
				r = e.Receive(now, fr)
			case 5:
				r, what = e.Start(now), "start"
			case 6:
				r, what = e.LockGranted(now), "lock granted"
			case 7:
				r, what = e.Connected(now), "connected"
			case 8:
				m := in.tabMsg(own)
				for _, a := range m.Acks {
					named[a.OpID] = true
				}
				for _, id := range m.Refused {
					named[id] = true
				}
				what = "tab message " + m.Kind
				r = e.ReceiveTab(now, m)
			case 9:
				r, what = e.Disconnected(now, "gone"), "disconnected"
			case 10:
				switch in.pick(4) {
				case 0:
					r, what = e.Stop(now), "stop"
				case 1:
					r, what = e.LockLost(now), "lock lost"
				case 2:
					r, what = e.OutboxLoaded(now, []tables.Op{{OpID: in.opID(own), Table: "scores", Key: in.of(fuzzKeys),
						Value: in.of(fuzzValues), Tab: "peer", Seq: 1}}, []string{in.of(fuzzTables)}), "outbox loaded"
				default:
					r, err = e.Touch(now, in.of(fuzzTables))
					what = "touch"
				}
			default:
				if d := e.NextDeadline(); d > now && in.pick(2) == 0 {
					now = d
				}
				r, what = e.Tick(now), "tick"
			}
			what = "step " + strconv.Itoa(step) + " (" + what + ")"

			for _, ev := range r.Events {
				switch ev.Origin {
				case tables.OriginLocal, tables.OriginLocalTab, tables.OriginServer, tables.OriginServerTab:
				default:
					t.Fatalf("%s: event with origin %q", what, ev.Origin)
				}
				if ev.Operation != tables.OpSet && ev.Operation != tables.OpDelete {
					t.Fatalf("%s: event with operation %q", what, ev.Operation)
				}
			}
			// The last event of each key is what the key shows now.
			last := map[[2]string]tables.Event{}
			for _, ev := range r.Events {
				last[[2]string{ev.Table, ev.Key}] = ev
			}
			for k, ev := range last {
				v, ok := e.Get(k[0], k[1])
				if ok != (ev.Operation == tables.OpSet) || ok && v != ev.Value {
					t.Fatalf("%s: event %s %s/%s=%q, but the tab shows %q (%v)", what, ev.Operation, k[0], k[1], ev.Value, v, ok)
				}
			}
			outbox := map[string]bool{}
			for _, op := range e.Outbox() {
				outbox[op.OpID] = true
			}
			if e.Pending() != len(outbox) {
				t.Fatalf("%s: Pending %d, outbox of %d", what, e.Pending(), len(outbox))
			}
			for _, fr := range r.Frames {
				switch fr.Type {
				case tableproto.Hello, tableproto.Subscribe, tableproto.Unsubscribe, tableproto.Ping:
				case tableproto.Operation:
					if !outbox[fr.OpID] {
						t.Fatalf("%s: sent operation %q, which is not in the outbox", what, fr.OpID)
					}
				default:
					t.Fatalf("%s: sent a frame of type %q", what, fr.Type)
				}
			}
			for _, op := range before {
				if !outbox[op.OpID] && op.Tab == "self" && !named[op.OpID] {
					t.Fatalf("%s: write %s left the outbox, and nothing named it", what, op.OpID)
				}
			}
			if frame != nil {
				drops2 := 0
				for _, n := range e.Dropped {
					drops2 += n
				}
				switch frame.Type {
				case tableproto.Update, tableproto.Ack, tableproto.Synced, tableproto.Snapshot:
					if drops2 > drops && (r.Store != nil || len(r.Events) > 0) {
						t.Fatalf("%s: a dropped %s frame stored %+v and fired %d events", what, frame.Type, r.Store, len(r.Events))
					}
				}
				if frame.Type != tableproto.Snapshot && frame.Type != tableproto.Error {
					for n, v := range versions {
						if e.Version(n) < v {
							t.Fatalf("%s: table %s went back from version %d to %d", what, n, v, e.Version(n))
						}
					}
				}
			}
		}
	})
}
