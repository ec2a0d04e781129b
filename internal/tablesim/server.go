package tablesim

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tabsync/tabsync/tableproto"
)

// Server models tabsync-server as TABLES.md and docs/SERVER-PROTOCOL.md
// describe it: per table a version that grows with every change, rows,
// a log of recent changes for subscribe with since (older: a snapshot, in
// chunks), opIds remembered for good (an opId seen again is acknowledged
// with its first version and not applied), an ack for every operation, and
// the update fanned out to every subscriber, the writer included. The order
// of a writer's ack and its own update varies, as it may on a real relay.
// Like the relay, which stores the operations of one connection
// concurrently, it stores each operation after a random delay, so two
// operations in flight on one connection may be stored in either order.
type Server struct {
	Up     bool
	Tables map[string]*STable
	// Applied counts, per opId, how many times an operation was applied.
	Applied map[string]int
	seen    map[string]uint64
	conns   map[*Conn]bool
	// stored is, per tab, table and key, the sequence number of the last
	// write of that tab stored: a tab's writes of one key must be stored
	// in the order it made them.
	stored map[string]uint64
	// KeepLog is how many changes of a table the log keeps for since.
	KeepLog int
	// Chunk is the number of rows per snapshot chunk.
	Chunk int
	// OldSnapshots: the server predates the snapshot's "changes" (the
	// opId, originId and timestamp of each row's change) and sends none.
	OldSnapshots bool
	// Unavailable is the probability that an operation is refused with
	// the retryable code "unavailable" (and not applied).
	Unavailable float64
}

// STable is a table on the server.
type STable struct {
	Version uint64
	Rows    map[string]SRow
	log     []change
}

// SRow is a row on the server (deleted rows are removed).
type SRow struct {
	Value   string
	Version uint64
	OpID    string
	Client  string // the writer's clientId
	At      int64  // when it was stored
}

type change struct {
	version uint64
	key     string
	value   string
	del     bool
	opID    string
	client  string
	at      int64
}

// Conn is one WebSocket between a tab and the server.
type Conn struct {
	ID      int
	Tab     *Tab
	Open    bool
	Silent  bool // a partition that drops frames without closing
	helloed bool
	client  string
	subs    map[string]bool
	last    [2]fifo // to the server, to the tab
}

func newServer() *Server {
	return &Server{Up: true, Tables: map[string]*STable{}, Applied: map[string]int{}, seen: map[string]uint64{}, conns: map[*Conn]bool{}, stored: map[string]uint64{}}
}

func (s *Server) table(name string) *STable {
	t := s.Tables[name]
	if t == nil {
		t = &STable{Rows: map[string]SRow{}}
		s.Tables[name] = t
	}
	return t
}

// receive handles a frame from c.
func (w *World) serverReceive(c *Conn, f tableproto.Frame) {
	s := w.Server
	if !s.Up || !c.Open || !s.conns[c] {
		return
	}
	if !c.helloed {
		if f.Type != tableproto.Hello || f.V != tableproto.Version {
			w.toTab(c, tableproto.Frame{Type: tableproto.Error, Code: tableproto.CodeHelloRequired})
			w.closeConn(c, "hello required")
			return
		}
		c.helloed = true
		c.client = f.ClientID
		w.toTab(c, tableproto.Frame{Type: tableproto.Welcome, V: tableproto.Version, ClientID: f.ClientID})
		return
	}
	switch f.Type {
	case tableproto.Subscribe:
		w.subscribe(c, f)
	case tableproto.Unsubscribe:
		delete(c.subs, f.Table)
	case tableproto.Operation:
		w.operation(c, f)
	case tableproto.Ping:
		w.toTab(c, tableproto.Frame{Type: tableproto.Pong, ID: f.ID})
	default:
		w.violate("the client sent a frame of type %q", f.Type)
	}
}

func (w *World) subscribe(c *Conn, f tableproto.Frame) {
	t := w.Server.table(f.Table)
	c.subs[f.Table] = true
	since := f.Since
	if since > t.Version {
		w.violate("%s subscribed to %s since %d, after the server's %d", c.Tab.ID, f.Table, since, t.Version)
		w.toTab(c, tableproto.Frame{Type: tableproto.Error, Code: tableproto.CodeSinceAhead, Table: f.Table, TableVersion: t.Version})
		since = 0
	}
	canResume := since == t.Version || len(t.log) > 0 && t.log[0].version <= since+1
	if since > 0 && canResume {
		for _, ch := range t.log {
			if ch.version > since {
				w.toTab(c, updateFrame(f.Table, ch))
			}
		}
	} else {
		keys := make([]string, 0, len(t.Rows))
		for k := range t.Rows {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		chunk := max(w.Server.Chunk, 1)
		for i := 0; i == 0 || i < len(keys); i += chunk {
			fr := tableproto.Frame{Type: tableproto.Snapshot, Table: f.Table, TableVersion: t.Version, Timestamp: w.Now}
			for _, k := range keys[i:min(i+chunk, len(keys))] {
				sr := t.Rows[k]
				row := tableproto.Row{Key: k, Value: tableproto.RawValue(sr.Value)}
				if !w.Server.OldSnapshots {
					row.OpID, row.OriginID, row.Timestamp = sr.OpID, sr.Client, sr.At
				}
				fr.Rows = append(fr.Rows, row)
			}
			fr.More = i+chunk < len(keys)
			w.toTab(c, fr)
		}
	}
	w.toTab(c, tableproto.Frame{Type: tableproto.Synced, Table: f.Table, TableVersion: t.Version})
}

func updateFrame(table string, ch change) tableproto.Frame {
	f := tableproto.Frame{Type: tableproto.Update, Table: table, TableVersion: ch.version, OpID: ch.opID, OriginID: ch.client, Timestamp: ch.at,
		Change: tableproto.Change{Operation: tableproto.Set, Key: ch.key, Value: tableproto.RawValue(ch.value)}}
	if ch.del {
		f.Change.Operation, f.Change.Value = tableproto.Delete, nil
	}
	return f
}

func (w *World) operation(c *Conn, f tableproto.Frame) {
	if f.Table == "" || f.OpID == "" || f.Change.Key == "" {
		w.violate("%s sent a malformed operation %+v", c.Tab.ID, f)
		return
	}
	w.at(w.Now+w.Rand.Int63n(w.Faults.MaxDelayMs+1), func() { w.store(c, f) })
}

// store stores an operation, once the storage answered.
func (w *World) store(c *Conn, f tableproto.Frame) {
	s := w.Server
	if !s.Up {
		return // the relay went down before the storage answered
	}
	if v, ok := s.seen[f.OpID]; ok {
		w.toTab(c, tableproto.Frame{Type: tableproto.Ack, Table: f.Table, OpID: f.OpID, TableVersion: v, Duplicate: true})
		return
	}
	if w.Rand.Float64() < s.Unavailable {
		w.toTab(c, tableproto.Frame{Type: tableproto.Error, Table: f.Table, OpID: f.OpID, Code: tableproto.CodeUnavailable, Message: "storage did not answer"})
		return
	}
	t := s.table(f.Table)
	t.Version++
	ch := change{version: t.Version, key: f.Change.Key, value: string(f.Change.Value), del: f.Change.Operation == tableproto.Delete, opID: f.OpID, client: c.client, at: w.Now}
	if ch.del {
		delete(t.Rows, ch.key)
	} else {
		t.Rows[ch.key] = SRow{Value: ch.value, Version: ch.version, OpID: ch.opID, Client: ch.client, At: ch.at}
	}
	t.log = append(t.log, ch)
	if len(t.log) > s.KeepLog {
		t.log = t.log[len(t.log)-s.KeepLog:]
	}
	s.seen[f.OpID] = t.Version
	s.Applied[f.OpID]++
	if wr := w.Writes[f.OpID]; wr != nil {
		k := wr.Tab + "\x00" + wr.Table + "\x00" + wr.Key
		seq, _ := strconv.ParseUint(f.OpID[strings.LastIndexByte(f.OpID, '.')+1:], 10, 64)
		if seq < s.stored[k] {
			w.violate("%s's write %s of %s/%s stored after its later write (seq %d): the key ends in the older value", wr.Tab, f.OpID, wr.Table, wr.Key, s.stored[k])
		}
		s.stored[k] = max(s.stored[k], seq)
	}
	w.tracef("server applies %s %s/%s v%d", f.OpID, f.Table, ch.key, t.Version)
	ack := tableproto.Frame{Type: tableproto.Ack, Table: f.Table, OpID: f.OpID, TableVersion: t.Version}
	ackFirst := w.Rand.Intn(2) == 0
	if ackFirst {
		w.toTab(c, ack)
	}
	conns := make([]*Conn, 0, len(s.conns))
	for o := range s.conns {
		conns = append(conns, o)
	}
	sort.Slice(conns, func(i, j int) bool { return conns[i].ID < conns[j].ID })
	for _, o := range conns {
		if o.subs[f.Table] {
			w.toTab(o, updateFrame(f.Table, ch))
		}
	}
	if !ackFirst {
		w.toTab(c, ack)
	}
}

// toTab sends a frame from the server to c's tab after a delay, in order.
func (w *World) toTab(c *Conn, f tableproto.Frame) {
	if !c.Open || c.Silent {
		return
	}
	w.inOrder(&c.last[1], w.Now+w.Rand.Int63n(w.Faults.MaxDelayMs+1), func() {
		if c.Open && c.Tab.conn == c && c.Tab.Live() {
			w.step(c.Tab, c.Tab.Engine.Receive(w.Now, f))
		}
	})
}

// toServer sends a frame from c's tab to the server after a delay, in order.
func (w *World) toServer(c *Conn, f tableproto.Frame) {
	if !c.Open || c.Silent {
		return
	}
	w.inOrder(&c.last[0], w.Now+w.Rand.Int63n(w.Faults.MaxDelayMs+1), func() { w.serverReceive(c, f) })
}

// closeConn closes c on both ends; the tab hears of it after a delay
// unless it closed it itself.
func (w *World) closeConn(c *Conn, reason string) {
	if !c.Open {
		return
	}
	c.Open = false
	delete(w.Server.conns, c)
	t := c.Tab
	w.tracef("conn %d of %s closes: %s", c.ID, t.ID, reason)
	w.at(w.Now+w.Rand.Int63n(w.Faults.MaxDelayMs+1), func() {
		if t.conn == c && t.Live() {
			t.conn = nil
			w.step(t, t.Engine.Disconnected(w.Now, reason))
		}
	})
}

// dial opens a connection for t after a delay, or fails.
func (w *World) dial(t *Tab) {
	w.nextConn++
	c := &Conn{ID: w.nextConn, Tab: t, subs: map[string]bool{}}
	t.conn = c
	w.at(w.Now+1+w.Rand.Int63n(w.Faults.MaxDelayMs+1), func() {
		if t.conn != c || !t.Live() {
			return
		}
		if !w.Server.Up || t.Dev.Partitioned {
			t.conn = nil
			w.step(t, t.Engine.Disconnected(w.Now, "connection refused"))
			return
		}
		c.Open = true
		w.Server.conns[c] = true
		w.tracef("conn %d of %s opens", c.ID, t.ID)
		w.step(t, t.Engine.Connected(w.Now))
	})
}
