// Package tablesim runs the table sync core (package tables) of several
// devices, each with several tabs, against a model of tabsync-server, on a
// virtual clock driven by one seed: frames and BroadcastChannel messages
// delayed at random (in order per connection and per pair of tabs),
// IndexedDB transactions that take time and are lost when their tab
// crashes first, Web Locks, a server going down, devices partitioned
// (closed or silently dropping frames), tabs joining, closing and crashing
// (the connected one too). The same seed replays the same run.
//
// Like internal/sim, it does no real I/O and starts no goroutines.
package tablesim

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/tables"
)

// Faults sets how hostile the run is.
type Faults struct {
	MaxDelayMs int64 // frames and tab messages are delayed 0..MaxDelayMs
}

// World is the simulated server, devices and clock.
type World struct {
	Seed    int64
	Rand    *rand.Rand
	Now     int64
	Faults  Faults
	Server  *Server
	Devices []*Device
	// Writes lists every set and delete a tab made, by opId.
	Writes     map[string]*Write
	Violations []string
	// Config adjusts each tab's engine configuration.
	Config func(*tables.Config)

	events   sim.Queue
	trace    []traceLine
	nextConn int
	nextTab  int
}

// Write is one set or delete made by a tab.
type Write struct {
	OpID, Device, Tab, Table, Key, Value string
	Delete                               bool
	Resolved                             bool // its transaction committed: the promise resolved
}

// Device is one browser: its tabs, its IndexedDB and its Web Locks.
type Device struct {
	ID          string
	ClientID    string
	Tabs        []*Tab
	DB          *DB
	Locks       locks
	Partitioned bool
	bcFloor     map[[2]string]*fifo
}

// DB is a device's IndexedDB as the tables core lays it out.
type DB struct {
	Rows     map[string]tables.Row // table\x00key
	Ops      map[string]tables.Op
	OpOrder  []string
	Versions map[string]uint64
}

// Tab is one simulated tab.
type Tab struct {
	ID      string
	Dev     *Device
	Engine  *tables.Engine
	Crashed bool
	Closed  bool

	conn    *Conn
	queue   []job
	busy    bool
	timerAt int64
	// Initial is what the tab showed after restoring, per table and key;
	// Events what it dispatched since.
	Initial map[string]map[string]string
	Events  []tables.Event
}

type job struct {
	r      tables.Ready
	commit func()
}

// Live reports whether the tab runs.
func (t *Tab) Live() bool { return !t.Crashed && !t.Closed }

const epoch = 1_700_000_000_000

// New returns a world with a server and no devices.
func New(seed int64, faults Faults) *World {
	s := newServer()
	r := rand.New(rand.NewSource(seed))
	s.KeepLog = 2 + r.Intn(20)
	s.Chunk = 1 + r.Intn(4)
	s.OldSnapshots = r.Intn(4) == 0
	return &World{Seed: seed, Rand: r, Now: epoch, Faults: faults, Server: s, Writes: map[string]*Write{}}
}

func (w *World) at(t int64, run func()) {
	w.atTie(t, w.Rand.Int63()>>1, run)
}

func (w *World) atTie(t, tie int64, run func()) {
	w.events.At(t, tie, run)
}

// fifo is the floor of an ordered channel: a delivery is never before the
// previous one, and at the same time it comes after it.
type fifo struct{ at, tie int64 }

// inOrder schedules run on channel f at the earliest at t.
func (w *World) inOrder(f *fifo, t int64, run func()) {
	tie := w.Rand.Int63() >> 1
	if t <= f.at {
		t, tie = f.at, f.tie+1
	}
	f.at, f.tie = t, tie
	w.atTie(t, tie, run)
}

// tracef records a line of the trace; it is formatted only when printed.
func (w *World) tracef(format string, args ...any) {
	w.trace = append(w.trace, traceLine{at: w.Now - epoch, format: format, args: args})
}

type traceLine struct {
	at     int64
	format string
	args   []any
}

func (w *World) violate(format string, args ...any) {
	w.Violations = append(w.Violations, fmt.Sprintf("t=%d: ", w.Now-epoch)+fmt.Sprintf(format, args...))
}

// Trace returns the last n lines of the run's trace.
func (w *World) Trace(n int) string {
	lines := w.trace
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = fmt.Sprintf("%8d ", l.at) + fmt.Sprintf(l.format, l.args...)
	}
	return strings.Join(out, "\n")
}

// AddDevice adds a browser with no tabs.
func (w *World) AddDevice() *Device {
	id := fmt.Sprintf("dev%d", len(w.Devices))
	d := &Device{ID: id, ClientID: "client-" + id, bcFloor: map[[2]string]*fifo{},
		DB: &DB{Rows: map[string]tables.Row{}, Ops: map[string]tables.Op{}, Versions: map[string]uint64{}}}
	w.Devices = append(w.Devices, d)
	return d
}

// Open opens a tab on d: it restores from the device's IndexedDB and starts.
func (w *World) Open(d *Device, tbls ...string) *Tab {
	w.nextTab++
	id := fmt.Sprintf("%s-t%d", d.ID, w.nextTab)
	cfg := tables.Config{Tab: id, ClientID: d.ClientID, Tables: tbls, Seed: uint64(w.Rand.Int63()),
		PingMs: 2000, StallMs: 6000, AckTimeoutMs: 5000, ConnectTimeoutMs: 3000, BackoffMinMs: 200, BackoffMaxMs: 4000, SweepMs: 3000}
	if w.Config != nil {
		w.Config(&cfg)
	}
	e, err := tables.New(cfg)
	if err != nil {
		panic(err)
	}
	t := &Tab{ID: id, Dev: d, Engine: e}
	d.Tabs = append(d.Tabs, t)
	e.Restore(d.DB.stored())
	t.Initial = shown(e)
	w.tracef("%s opens", id)
	w.step(t, e.Start(w.Now))
	return t
}

func shown(e *tables.Engine) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, tbl := range e.Tables() {
		m := map[string]string{}
		for _, k := range e.Keys(tbl) {
			m[k], _ = e.Get(tbl, k)
		}
		out[tbl] = m
	}
	return out
}

func (db *DB) stored() tables.Stored {
	var s tables.Stored
	keys := make([]string, 0, len(db.Rows))
	for k := range db.Rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Rows = append(s.Rows, db.Rows[k])
	}
	for _, id := range db.OpOrder {
		s.Ops = append(s.Ops, db.Ops[id])
	}
	names := make([]string, 0, len(db.Versions))
	for n := range db.Versions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.Versions = append(s.Versions, tables.TableVersion{Table: n, Version: db.Versions[n]})
	}
	return s
}

func (db *DB) apply(tx *tables.Txn) {
	for _, p := range tx.Prune {
		except := map[string]bool{}
		for _, k := range p.Except {
			except[k] = true
		}
		for k, row := range db.Rows {
			if row.Table == p.Table && !except[row.Key] && (p.All || row.Version <= p.UpTo) {
				delete(db.Rows, k)
			}
		}
	}
	for _, row := range tx.Rows {
		k := row.Table + "\x00" + row.Key
		if old, ok := db.Rows[k]; !ok || row.Version > old.Version {
			db.Rows[k] = row
		}
	}
	for _, op := range tx.AddOps {
		if _, ok := db.Ops[op.OpID]; !ok {
			db.Ops[op.OpID] = op
			db.OpOrder = append(db.OpOrder, op.OpID)
		}
	}
	for _, id := range tx.DelOps {
		if _, ok := db.Ops[id]; ok {
			delete(db.Ops, id)
			for i, o := range db.OpOrder {
				if o == id {
					db.OpOrder = append(db.OpOrder[:i], db.OpOrder[i+1:]...)
					break
				}
			}
		}
	}
	for _, v := range tx.Versions {
		db.Versions[v.Table] = max(db.Versions[v.Table], v.Version)
	}
}

// Set makes t write value to key; it returns the opId.
func (w *World) Set(t *Tab, tbl, key, value string) string {
	return w.write(t, tbl, key, value, false)
}

// Delete makes t delete key.
func (w *World) Delete(t *Tab, tbl, key string) string {
	return w.write(t, tbl, key, "", true)
}

func (w *World) write(t *Tab, tbl, key, value string, del bool) string {
	var r tables.Ready
	var id string
	var err error
	if del {
		r, id, err = t.Engine.Delete(w.Now, tbl, key)
	} else {
		r, id, err = t.Engine.Set(w.Now, tbl, key, value)
	}
	if err != nil {
		w.violate("%s: write refused: %v", t.ID, err)
		return ""
	}
	wr := &Write{OpID: id, Device: t.Dev.ID, Tab: t.ID, Table: tbl, Key: key, Value: value, Delete: del}
	w.Writes[id] = wr
	w.tracef("%s writes %s/%s=%q (%s)", t.ID, tbl, key, value, id)
	w.stepCommit(t, r, func() { wr.Resolved = true })
	return id
}

// step handles the Ready of one of t's steps.
func (w *World) step(t *Tab, r tables.Ready) { w.stepCommit(t, r, nil) }

func (w *World) stepCommit(t *Tab, r tables.Ready, commit func()) {
	w.checkOrigins(t, r.Events)
	if t.Live() {
		w.carryOut(t, r)
	}
	if r.Deferred() || commit != nil {
		t.queue = append(t.queue, job{r: r, commit: commit})
		w.runQueue(t)
	}
	w.arm(t)
}

// runQueue carries out the deferred part of t's Readies in order (see
// tables.Ready): one with a transaction waits for it to commit (0 to 3
// ms), and a crash meanwhile loses it and all after it, while the frames
// and events of its Ready are out already.
func (w *World) runQueue(t *Tab) {
	for !t.busy && len(t.queue) > 0 && t.Live() {
		j := t.queue[0]
		t.queue = t.queue[1:]
		if j.r.Store == nil {
			w.finish(t, j)
			continue
		}
		t.busy = true
		w.at(w.Now+w.Rand.Int63n(4), func() {
			t.busy = false
			if !t.Live() {
				return
			}
			t.Dev.DB.apply(j.r.Store)
			w.finish(t, j)
			w.runQueue(t)
		})
	}
}

// carryOut does the part of a Ready that does not wait for IndexedDB.
func (w *World) carryOut(t *Tab, r tables.Ready) {
	if t.conn != nil {
		for _, f := range r.Frames {
			w.toServer(t.conn, f)
		}
	}
	for _, m := range r.Posts {
		w.post(t, m)
	}
	t.Events = append(t.Events, r.Events...)
	for _, ev := range r.Events {
		w.tracef("%s event %s %s/%s=%q %s v%d %s", t.ID, ev.Operation, ev.Table, ev.Key, ev.Value, ev.Origin, ev.Version, ev.OpID)
	}
	for _, op := range r.Locks {
		w.lockOp(t, op)
	}
	if r.Close && t.conn != nil {
		c := t.conn
		t.conn = nil
		if c.Open {
			c.Open = false
			delete(w.Server.conns, c)
			w.tracef("%s closes conn %d", t.ID, c.ID)
		}
	}
	if r.Dial {
		w.dial(t)
	}
	for _, e := range r.Errors {
		w.tracef("%s error %s: %s", t.ID, e.Phase, e.Message)
	}
	if r.Status != "" {
		w.tracef("%s status %s (pending %d)", t.ID, r.Status, t.Engine.Pending())
	}
}

// finish does the part of a Ready that waits for its transaction, once it
// committed: the posts after it, the outbox read, the write's promise.
func (w *World) finish(t *Tab, j job) {
	r := j.r
	for _, m := range r.PostsAfterStore {
		w.post(t, m)
	}
	if r.LoadOutbox {
		st := t.Dev.DB.stored()
		var names []string
		for _, v := range st.Versions {
			names = append(names, v.Table)
		}
		w.at(w.Now+w.Rand.Int63n(3), func() {
			if t.Live() {
				w.step(t, t.Engine.OutboxLoaded(w.Now, st.Ops, names))
			}
		})
	}
	if j.commit != nil {
		j.commit()
	}
}

// post delivers a BroadcastChannel message to the device's other live
// tabs, each after a delay, in order per pair of tabs.
func (w *World) post(from *Tab, m tables.TabMsg) {
	for _, to := range from.Dev.Tabs {
		if to == from || !to.Live() {
			continue
		}
		to := to
		k := [2]string{from.ID, to.ID}
		f := from.Dev.bcFloor[k]
		if f == nil {
			f = &fifo{}
			from.Dev.bcFloor[k] = f
		}
		w.inOrder(f, w.Now+w.Rand.Int63n(3), func() {
			if to.Live() {
				w.step(to, to.Engine.ReceiveTab(w.Now, m))
			}
		})
	}
}

// arm schedules t's next tick.
func (w *World) arm(t *Tab) {
	d := t.Engine.NextDeadline()
	if d == 0 || d == t.timerAt || !t.Live() {
		return
	}
	if d < w.Now {
		d = w.Now
	}
	t.timerAt = d
	w.at(d, func() {
		if t.timerAt != d || !t.Live() {
			return
		}
		t.timerAt = 0
		w.step(t, t.Engine.Tick(w.Now))
	})
}

// Crash kills t with no handler run: its lock is released, its connection
// closes and its uncommitted transactions are lost.
func (w *World) Crash(t *Tab) {
	if !t.Live() {
		return
	}
	w.tracef("%s crashes (leading %v)", t.ID, t.Engine.Leading())
	t.Crashed = true
	w.gone(t)
}

// Close closes t: it stops (releasing its lock) and is gone.
func (w *World) Close(t *Tab) {
	if !t.Live() {
		return
	}
	w.tracef("%s closes", t.ID)
	r := t.Engine.Stop(w.Now)
	w.carryOut(t, tables.Ready{Locks: r.Locks, Close: r.Close})
	t.Closed = true
	w.gone(t)
}

func (w *World) gone(t *Tab) {
	if c := t.conn; c != nil && c.Open {
		// The frames the tab sent before it went are on their way (in the
		// socket's buffers) and reach the server; then it sees the
		// connection close.
		w.inOrder(&c.last[0], w.Now, func() {
			if c.Open {
				c.Open = false
				delete(w.Server.conns, c)
				w.tracef("conn %d of %s closes: its tab is gone", c.ID, t.ID)
			}
		})
	}
	t.conn = nil
	t.queue = nil
	w.lockGone(t)
}

// ServerDown stops the server: every connection closes, dials fail.
func (w *World) ServerDown() {
	if !w.Server.Up {
		return
	}
	w.tracef("server down")
	w.Server.Up = false
	for _, c := range w.conns() {
		w.closeConn(c, "server went away")
	}
}

// ServerUp starts the server again, with what it stored.
func (w *World) ServerUp() {
	if !w.Server.Up {
		w.tracef("server up")
	}
	w.Server.Up = true
}

// Partition cuts d off: its connections close (or, when silent, stop
// carrying frames without closing) and its dials fail until Heal.
func (w *World) Partition(d *Device, silent bool) {
	w.tracef("%s partitioned (silent %v)", d.ID, silent)
	d.Partitioned = true
	for _, c := range w.conns() {
		if c.Tab.Dev == d {
			if silent {
				c.Silent = true
			} else {
				w.closeConn(c, "network down")
			}
		}
	}
}

// Heal ends d's partition; silent connections stay dead.
func (w *World) Heal(d *Device) {
	if d.Partitioned {
		w.tracef("%s healed", d.ID)
	}
	d.Partitioned = false
}

func (w *World) conns() []*Conn {
	cs := make([]*Conn, 0, len(w.Server.conns))
	for c := range w.Server.conns {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	return cs
}

// RunFor runs events until now+ms.
func (w *World) RunFor(ms int64) {
	end := w.Now + ms
	for {
		at, run, ok := w.events.Next(end)
		if !ok {
			break
		}
		w.Now = max(w.Now, at)
		run()
	}
	w.Now = end
}

// Leaders returns the tabs of d that hold a connection role.
func (d *Device) Leaders() []*Tab {
	var out []*Tab
	for _, t := range d.Tabs {
		if t.Live() && t.Engine.Leading() {
			out = append(out, t)
		}
	}
	return out
}

// LiveTabs returns d's running tabs.
func (d *Device) LiveTabs() []*Tab {
	var out []*Tab
	for _, t := range d.Tabs {
		if t.Live() {
			out = append(out, t)
		}
	}
	return out
}

var _ = leader.Locks
