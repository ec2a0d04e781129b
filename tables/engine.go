package tables

import (
	"errors"
	"slices"
	"strconv"

	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/tableproto"
)

// Ready is what one step of the engine asks the caller to do. Nothing of
// the first part waits for IndexedDB; the caller does it at once, in this
// order:
//
//  1. Frames: send each frame on the WebSocket, in order (first: a write
//     or an ack leaves before the application's listeners run).
//  2. Posts: post each message on the tabs' BroadcastChannel.
//  3. Events: dispatch each idb-sync-update on window.
//  4. Locks: carry out the leader election's Web Locks operations.
//  5. Close, then Dial: close the WebSocket (and ignore its later events);
//     open a new one, then call Connected or Disconnected.
//  6. Errors: report each through onError.
//  7. Status: when not "", the connection status changed to it.
//
// Then, after the Store of every earlier Ready has committed:
//
//  8. Store: run the IndexedDB transaction and wait for it to commit. If it
//     fails, report it and do nothing more of this Ready (a set or delete
//     then rejects).
//  9. PostsAfterStore: post each message on the BroadcastChannel.
//  10. LoadOutbox: read the outbox from IndexedDB and pass it to
//     OutboxLoaded.
//
// A set or delete resolves after step 10 of its Ready.
//
// Nothing waits for a commit that does not need to: a write's frame leaves
// while its transaction runs, and this tab fires a server change's events
// before its row is stored. Neither loses anything. A tab that dies before
// the commit of a write it sent leaves the server with a write the tab
// never stored: the server applies it once and sends it back as a change
// of this browser (origin 'local-tab'), and the write's promise never
// resolved. A tab that dies before a server change is stored has not
// advanced the table's stored version either (it is in the same
// transaction), so the next page fetches the change again; within one page
// life the engine holds the change and fires its event once.
//
// What does wait is what the other tabs learn from this one's steps
// (PostsAfterStore): a write (KindOp) and server changes and acks
// (KindChange). A tab starting reads IndexedDB, then hears the messages
// posted after it joined the channel; a message posted before the
// transaction behind it commits could reach neither (an acknowledged write
// would stay pending in that tab, a change would be missing). And the
// connected tab must not acknowledge a write whose transaction has not
// committed: the one removing it from the outbox could commit first and
// leave it there for good.
type Ready struct {
	Events          []Event
	Posts           []TabMsg
	Frames          []tableproto.Frame
	Locks           []leader.Op
	Close           bool
	Dial            bool
	Errors          []Error
	Status          string
	Store           *Txn
	PostsAfterStore []TabMsg
	LoadOutbox      bool
}

// Deferred reports whether a part of r waits for IndexedDB: Store,
// PostsAfterStore or LoadOutbox.
func (r *Ready) Deferred() bool {
	return r.Store != nil || len(r.PostsAfterStore) > 0 || r.LoadOutbox
}

func (r *Ready) txn() *Txn {
	if r.Store == nil {
		r.Store = &Txn{}
	}
	return r.Store
}

type connState uint8

const (
	connNone    connState = iota
	connDialing           // Dial asked, not Connected yet
	connHello             // hello sent, waiting for welcome
	connReady             // welcome received
)

type subState uint8

const (
	subNone    subState = iota // not subscribed on this connection
	subWaiting                 // subscribe sent, waiting for synced
	subSynced                  // caught up; updates follow
)

type table struct {
	name    string
	version uint64
	rows    map[string]*Row
	sub     subState
	snap    []tableproto.Row // snapshot chunks so far
	snapTS  int64
	reset   bool // the server said since was ahead: the next snapshot replaces everything
}

// Engine is one tab's table sync state machine: the tables as this browser
// holds them, the outbox, and, in the tab that leads, the connection to
// tabsync-server. It does no I/O, keeps no timers and reads no clock (see the
// package documentation). It is not safe for concurrent use.
type Engine struct {
	cfg     Config
	el      *leader.Elector
	running bool
	seq     uint64
	rng     uint64

	tables  map[string]*table
	outbox  map[string]*Op
	order   []string         // opIds in the order this tab learned them: the send order
	byKey   map[string][]*Op // table\x00key → pending ops
	acked   map[string]bool  // opIds acknowledged or refused lately
	ackRing []string

	leading      bool
	conn         connState
	connSince    int64 // when the current dial or connection began
	dialAt       int64 // leading, no connection: dial then; 0: not scheduled
	attempt      int
	lastHeard    int64
	nextPing     int64
	sweepAt      int64
	resendAt     int64
	inflight     map[string]int64 // opId → when it was sent on this connection
	sent         []sentOp         // inflight in send order, with removed entries left behind
	status       string
	leaderStatus string

	reported map[string]int64
	// Dropped counts the server frames and tab messages dropped, by reason.
	Dropped map[string]int
}

const recentAcks = 4096

// New returns a stopped engine.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	el, err := leader.New(cfg.election())
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:      cfg,
		el:       el,
		rng:      cfg.Seed | 1,
		tables:   map[string]*table{},
		outbox:   map[string]*Op{},
		byKey:    map[string][]*Op{},
		acked:    map[string]bool{},
		inflight: map[string]int64{},
		status:   StatusOffline,
		reported: map[string]int64{},
		Dropped:  map[string]int{},
	}
	for _, name := range cfg.Tables {
		e.table(name)
	}
	return e, nil
}

// Status returns the browser's connection status as this tab knows it.
func (e *Engine) Status() string { return e.status }

// Pending returns how many of this browser's writes the server has not
// acknowledged yet, as this tab knows them.
func (e *Engine) Pending() int { return len(e.outbox) }

// Leading reports whether this tab holds the browser's connection.
func (e *Engine) Leading() bool { return e.leading }

// Tables returns the names of the tables this tab knows, sorted.
func (e *Engine) Tables() []string {
	names := make([]string, 0, len(e.tables))
	for n := range e.tables {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

// Version returns the table version this tab holds every change up to.
func (e *Engine) Version(tbl string) uint64 {
	if t := e.tables[tbl]; t != nil {
		return t.version
	}
	return 0
}

// Get returns the value this tab shows for key (JSON text) and whether it
// exists: the newest pending write of the key, else the server's row.
func (e *Engine) Get(tbl, key string) (string, bool) {
	op, row := e.visible(tbl, key)
	switch {
	case op != nil:
		return op.Value, !op.Delete
	case row != nil:
		return row.Value, !row.Deleted
	}
	return "", false
}

// Keys returns the keys of tbl that hold a value, sorted.
func (e *Engine) Keys(tbl string) []string {
	seen := map[string]bool{}
	var keys []string
	if t := e.tables[tbl]; t != nil {
		for k := range t.rows {
			seen[k] = true
		}
	}
	for _, op := range e.outbox {
		if op.Table == tbl {
			seen[op.Key] = true
		}
	}
	for k := range seen {
		if _, ok := e.Get(tbl, k); ok {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	return keys
}

// Outbox returns the pending writes in send order.
func (e *Engine) Outbox() []Op {
	out := make([]Op, 0, len(e.outbox))
	for _, id := range e.order {
		if op := e.outbox[id]; op != nil {
			out = append(out, *op)
		}
	}
	return out
}

func (e *Engine) table(name string) *table {
	t := e.tables[name]
	if t == nil {
		t = &table{name: name, rows: map[string]*Row{}}
		e.tables[name] = t
	}
	return t
}

// Restore loads what IndexedDB holds, before Start. It fires no events.
func (e *Engine) Restore(s Stored) {
	for _, v := range s.Versions {
		t := e.table(v.Table)
		t.version = max(t.version, v.Version)
	}
	for i := range s.Rows {
		r := s.Rows[i]
		t := e.table(r.Table)
		if old := t.rows[r.Key]; old == nil || r.Version > old.Version {
			t.rows[r.Key] = &r
		}
	}
	for i := range s.Ops {
		op := s.Ops[i]
		if e.outbox[op.OpID] == nil {
			e.addOp(&op)
		}
	}
}

// Start joins the browser's leader election: the tab that wins holds the
// connection.
func (e *Engine) Start(now int64) Ready {
	var r Ready
	if e.running {
		return r
	}
	e.running = true
	e.setStatus(&r, StatusConnecting)
	// Tell the connected tab (now, by message, and any later one, through
	// IndexedDB, which it rereads when it takes over) which tables this
	// tab holds.
	for _, name := range e.Tables() {
		r.txn().Versions = append(r.Store.Versions, TableVersion{Table: name, Version: e.tables[name].version})
		r.Posts = append(r.Posts, TabMsg{Kind: KindTouch, From: e.cfg.Tab, Table: name})
	}
	e.election(now, &r, e.el.Start(now, now))
	return r
}

// Stop leaves the election and closes the connection if this tab holds it;
// another tab takes over. Nothing stored is touched.
func (e *Engine) Stop(now int64) Ready {
	var r Ready
	if !e.running {
		return r
	}
	e.election(now, &r, e.el.Stop(now))
	e.drop(&r)
	e.leading = false
	e.running = false
	e.setStatus(&r, StatusOffline)
	return r
}

// ErrStopped is returned by Set and Delete on a stopped engine.
var ErrStopped = errors.New("tables: not connected; call connect() first")

// Set writes value (JSON text) to key of tbl. The caller resolves the
// application's promise once the Ready's Store has committed; the returned
// opId names the write.
func (e *Engine) Set(now int64, tbl, key, value string) (Ready, string, error) {
	return e.write(now, tbl, key, value, false)
}

// Delete deletes key of tbl, like Set.
func (e *Engine) Delete(now int64, tbl, key string) (Ready, string, error) {
	return e.write(now, tbl, key, "", true)
}

func (e *Engine) write(now int64, tbl, key, value string, del bool) (Ready, string, error) {
	var r Ready
	if err := tableproto.ValidTable(tbl); err != nil {
		return r, "", errors.New("table " + strconv.Quote(tbl) + ": " + err.Error())
	}
	if err := tableproto.ValidKey(key); err != nil {
		return r, "", errors.New("key " + strconv.Quote(key) + ": " + err.Error())
	}
	if !del && value == "" {
		return r, "", errors.New("key " + strconv.Quote(key) + ": a set needs a value")
	}
	e.seq++
	op := &Op{OpID: e.cfg.Tab + "." + strconv.FormatUint(e.seq, 10), Table: tbl, Key: key,
		Delete: del, Value: value, Tab: e.cfg.Tab, Seq: e.seq, At: now}
	e.touch(now, &r, tbl)
	before := e.ident(tbl, key)
	e.addOp(op)
	e.changed(&r, tbl, key, before, OriginLocal)
	r.txn().AddOps = append(r.Store.AddOps, *op)
	e.post(&r, TabMsg{Kind: KindOp, Op: op})
	e.sendOp(now, &r, op)
	return r, op.OpID, nil
}

// Touch makes sure tbl is subscribed (a read of a table this browser does
// not hold yet).
func (e *Engine) Touch(now int64, tbl string) (Ready, error) {
	var r Ready
	if err := tableproto.ValidTable(tbl); err != nil {
		return r, errors.New("table " + strconv.Quote(tbl) + ": " + err.Error())
	}
	e.touch(now, &r, tbl)
	return r, nil
}

func (e *Engine) touch(now int64, r *Ready, tbl string) {
	if e.tables[tbl] != nil {
		return
	}
	t := e.table(tbl)
	if !e.running {
		return // Start announces it
	}
	// Stored, so that a tab taking over later learns it too.
	r.txn().Versions = append(r.Store.Versions, TableVersion{Table: tbl})
	if e.leading && e.conn == connReady {
		e.subscribe(r, t)
	} else if !e.leading {
		r.Posts = append(r.Posts, TabMsg{Kind: KindTouch, From: e.cfg.Tab, Table: tbl})
	}
}

// KindTouch asks the connected tab to subscribe to Table.
const KindTouch = "touch"

func (e *Engine) addOp(op *Op) {
	e.outbox[op.OpID] = op
	e.order = append(e.order, op.OpID)
	k := op.Table + "\x00" + op.Key
	e.byKey[k] = append(e.byKey[k], op)
	e.table(op.Table)
}

func (e *Engine) removeOp(id string) *Op {
	op := e.outbox[id]
	if op == nil {
		return nil
	}
	delete(e.outbox, id)
	delete(e.inflight, id)
	if len(e.order) > 64 && len(e.order) > 2*len(e.outbox) {
		// Compact once half of order is removed entries: removal stays
		// O(1) amortized, which a drain of 10,000 acks needs.
		live := e.order[:0]
		for _, o := range e.order {
			if e.outbox[o] != nil {
				live = append(live, o)
			}
		}
		clear(e.order[len(live):])
		e.order = live
	}
	k := op.Table + "\x00" + op.Key
	ops := e.byKey[k]
	for i, o := range ops {
		if o == op {
			ops = append(ops[:i], ops[i+1:]...)
			break
		}
	}
	if len(ops) == 0 {
		delete(e.byKey, k)
	} else {
		e.byKey[k] = ops
	}
	e.remember(id)
	return op
}

func (e *Engine) remember(id string) {
	if e.acked[id] {
		return
	}
	e.acked[id] = true
	e.ackRing = append(e.ackRing, id)
	if len(e.ackRing) > recentAcks {
		delete(e.acked, e.ackRing[0])
		e.ackRing = e.ackRing[1:]
	}
}

// visible returns what the tabs show for a key: the newest pending write,
// else the server's row (either may be nil).
func (e *Engine) visible(tbl, key string) (*Op, *Row) {
	var top *Op
	for _, op := range e.byKey[tbl+"\x00"+key] {
		if top == nil || op.after(top) {
			top = op
		}
	}
	var row *Row
	if t := e.tables[tbl]; t != nil {
		row = t.rows[key]
	}
	return top, row
}

// ident names what a key shows, to tell whether a step changed it: the
// write's opId, whether it is pending or the server has ordered it (an
// acknowledgement is not a change), else the version of a snapshot's row.
func (e *Engine) ident(tbl, key string) string {
	op, row := e.visible(tbl, key)
	switch {
	case op != nil:
		return op.OpID
	case row != nil && row.OpID != "":
		return row.OpID
	case row != nil:
		return "@" + strconv.FormatUint(row.Version, 10)
	}
	return ""
}

// changed adds the event for key when what it shows is not before any more.
// The origin names who wrote what the key shows now: this tab, another tab
// of this browser (a pending write, or a row whose originId is this browser's clientId), or
// another device, through this tab's connection or relayed (via).
func (e *Engine) changed(r *Ready, tbl, key, before, via string) {
	if e.ident(tbl, key) == before {
		return
	}
	op, row := e.visible(tbl, key)
	ev := Event{Table: tbl, Key: key, Origin: via}
	switch {
	case op != nil:
		ev.Operation, ev.Value, ev.OpID, ev.Timestamp = OpSet, op.Value, op.OpID, op.At
		if op.Delete {
			ev.Operation = OpDelete
		}
		ev.Origin = e.originOf(op.OpID)
	case row != nil:
		ev.Operation, ev.Value, ev.OpID, ev.Timestamp, ev.Version = OpSet, row.Value, row.OpID, row.Timestamp, row.Version
		if row.Deleted {
			ev.Operation = OpDelete
		}
		if row.Client == e.cfg.ClientID && row.OpID != "" {
			ev.Origin = e.originOf(row.OpID)
		}
	default:
		// Nothing left: the key's pending write is gone and the server
		// holds no row for it (a snapshot did not list it).
		ev.Operation = OpDelete
		if t := e.tables[tbl]; t != nil {
			ev.Version = t.version
		}
	}
	r.Events = append(r.Events, ev)
}

// originOf is the origin of a write of this browser.
func (e *Engine) originOf(opID string) string {
	if len(opID) > len(e.cfg.Tab) && opID[len(e.cfg.Tab)] == '.' && opID[:len(e.cfg.Tab)] == e.cfg.Tab {
		return OriginLocal
	}
	return OriginLocalTab
}

func (e *Engine) setStatus(r *Ready, s string) {
	if e.status == s {
		return
	}
	e.status = s
	r.Status = s
}

// report adds an error, at most once per ErrorCooldownMs for the same kind.
func (e *Engine) report(now int64, r *Ready, phase, kind, msg string) {
	e.Dropped[kind]++
	k := phase + "/" + kind
	if last, ok := e.reported[k]; ok && now-last < e.cfg.ErrorCooldownMs {
		return
	}
	e.reported[k] = now
	r.Errors = append(r.Errors, Error{Phase: phase, Message: msg})
}

func (e *Engine) random() uint64 {
	// xorshift64*: the jitter needs no better.
	e.rng ^= e.rng >> 12
	e.rng ^= e.rng << 25
	e.rng ^= e.rng >> 27
	return e.rng * 2685821657736338717
}

func sortStrings(a []string) { slices.Sort(a) }
