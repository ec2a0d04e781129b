// Package sim runs many tabsync engines on a simulated BroadcastChannel with
// a virtual clock, all driven by one seed: per-sender FIFO delivery, random
// interleaving across senders, random delays, lost messages, and tabs that
// join, close, crash, freeze and resume. The same seed replays the same run,
// so a failing property prints its seed and a trace of what crossed the
// channel, and `go test -run X -seed N` reproduces it.
//
// Like etcd raft's tests, no real I/O and no goroutines: the simulator steps
// engines with messages and ticks and records what they ask for.
package sim

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/persist"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// Faults sets how hostile the simulated channel is.
type Faults struct {
	MaxDelayMs int64   // each delivery is delayed 0..MaxDelayMs
	Loss       float64 // probability that one delivery is lost
}

// Tab is one simulated tab: an engine and its store.
type Tab struct {
	ID      string
	Engine  *tsync.Engine
	Store   map[string]any
	Crashed bool // gone without a goodbye
	Closed  bool // stopped and gone
	Frozen  bool // runs nothing; its deliveries wait

	inbox     []conflict.Value // delivered while frozen
	lockInbox []lockNote       // lock notifications while frozen
	timerAt   int64
	// ThrottleMs, when > 0, makes the tab's timers fire only at multiples
	// of it, as browsers do to hidden tabs (1 s, later 1 min); messages
	// still arrive at once.
	ThrottleMs int64

	strategy conflict.Strategy
	persist  bool
	// Held lists every version the tab's engine has held, per key.
	Held map[string][]conflict.Version
	// last version of each key seen in the engine, for the rollback check
	last map[string]conflict.Version
}

// Live reports whether the tab runs (not crashed, closed or frozen).
func (t *Tab) Live() bool { return !t.Crashed && !t.Closed && !t.Frozen }

// Sent is one message posted on the channel.
type Sent struct {
	At   int64
	Msg  protocol.Message
	Wire conflict.Value
}

// Net is the simulated channel, clock and tabs.
type Net struct {
	Seed   int64
	Rand   *rand.Rand
	Now    int64
	Faults Faults
	Tabs   []*Tab
	Log    []Sent
	// Wins, when set, is the strategy's order of versions (a wins over b):
	// a tab replacing a key's version by one that loses to it is then a
	// violation. Last-write-wins and first-write-wins have such an order;
	// merge and custom do not (a combined write may carry any clock).
	Wins func(a, b conflict.Version) bool
	// Violations collects property failures noticed while running.
	Violations []string
	// Writes records, per key, the clock of every write that reached the
	// channel; a write superseded inside a throttle window never does.
	Writes map[string][]conflict.Clock
	// DB is the simulated IndexedDB, shared by every tab whose config has
	// Persist on: per key, the stored entry. A tab's Ready.Persist reaches
	// it after a random delay of up to Faults.MaxDelayMs (the transaction),
	// under the "only if newer" rule, unless the tab crashed meanwhile; a
	// joining tab restores from it before it starts.
	DB map[string]conflict.Entry
	// DBTransactions and DBPuts count the transactions run and the records
	// they put; DBDeletes the tombstones' records they deleted.
	DBTransactions, DBPuts, DBDeletes int
	// Removals holds the clock of every removal (a write of undefined, a
	// tombstone) an engine held.
	Removals map[conflict.Clock]bool
	// Locks is the simulated Web Locks manager of leader election.
	Locks LockManager
	// DropWhileFrozen makes messages to a frozen tab get lost instead of
	// waiting for it, as Chromium does to a page stopped in the debugger.
	DropWhileFrozen bool
	// Observe, when set, is called after every event, to check properties
	// that must hold at all times.
	Observe func(n *Net)

	newConfig func(id string) tsync.Config
	events    Queue
	trace     []string
	lastDeliv map[[2]string]delivery // per (sender, receiver): FIFO floor
}

type delivery struct{ at, tie int64 }

// New returns a network whose tabs are configured by newConfig (Tab and
// Model are filled in by the simulator).
func New(seed int64, faults Faults, newConfig func(id string) tsync.Config) *Net {
	return &Net{
		Seed:      seed,
		Rand:      rand.New(rand.NewSource(seed)),
		Now:       1_700_000_000_000,
		Faults:    faults,
		Writes:    map[string][]conflict.Clock{},
		DB:        map[string]conflict.Entry{},
		Removals:  map[conflict.Clock]bool{},
		newConfig: newConfig,
		lastDeliv: map[[2]string]delivery{},
	}
}

func (n *Net) at(t int64, run func()) { n.atTie(t, n.Rand.Int63(), run) }

func (n *Net) atTie(t, tie int64, run func()) {
	n.events.At(t, tie, run)
}

func (n *Net) tracef(format string, args ...any) {
	n.trace = append(n.trace, fmt.Sprintf("%8d ", n.Now-1_700_000_000_000)+fmt.Sprintf(format, args...))
}

func (n *Net) violate(format string, args ...any) {
	n.Violations = append(n.Violations, fmt.Sprintf("t=%d: ", n.Now-1_700_000_000_000)+fmt.Sprintf(format, args...))
}

// Join opens a new tab now and starts it.
func (n *Net) Join() *Tab {
	id := fmt.Sprintf("tab%02d", len(n.Tabs))
	cfg := n.newConfig(id)
	cfg.Tab, cfg.Model = id, conflict.GoModel{}
	e, err := tsync.New(cfg)
	if err != nil {
		panic(err)
	}
	t := &Tab{ID: id, Engine: e, Store: map[string]any{}, last: map[string]conflict.Version{}, Held: map[string][]conflict.Version{}}
	n.Tabs = append(n.Tabs, t)
	n.tracef("%s joins", id)
	t.strategy, t.persist = cfg.Strategy, cfg.Persist
	if cfg.Persist {
		n.handle(t, e.Restore(n.Now, n.stored()))
	}
	n.handle(t, e.Start(n.Now, copyState(t.Store)))
	return t
}

// stored returns the DB's entries, sorted by key.
func (n *Net) stored() []protocol.Entry {
	keys := make([]string, 0, len(n.DB))
	for k := range n.DB {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]protocol.Entry, len(keys))
	for i, k := range keys {
		en := n.DB[k]
		out[i] = protocol.Entry{Key: k, Entry: conflict.Entry{Value: deepCopy(en.Value), Version: en.Version}}
	}
	return out
}

// persist runs one transaction of tab t, after a delay, unless t crashes
// first: entries are put, each if newer than the stored one, and the records
// of the collected tombstones in gone are deleted (persist.ShouldDelete).
func (n *Net) persist(t *Tab, entries, gone []protocol.Entry) {
	at := n.Now
	if n.Faults.MaxDelayMs > 0 {
		at += n.Rand.Int63n(n.Faults.MaxDelayMs + 1)
	}
	batch := make([]protocol.Entry, len(entries))
	for i, en := range entries {
		batch[i] = en
		batch[i].Value = deepCopy(en.Value)
	}
	n.at(at, func() {
		if t.Crashed {
			n.tracef("%s's transaction of %d entries is lost", t.ID, len(batch))
			return
		}
		n.DBTransactions++
		for _, en := range batch {
			if persist.ShouldWrite(t.strategy, n.DB[en.Key].Version, en.Version) {
				n.DB[en.Key] = en.Entry
				n.DBPuts++
			}
		}
		for _, en := range gone {
			if persist.ShouldDelete(t.strategy, n.DB[en.Key].Version, en.Version) {
				delete(n.DB, en.Key)
				n.DBDeletes++
			}
		}
	})
}

// DBState renders the DB like SyncedState renders a tab, without the store.
func (n *Net) DBState() string {
	var lines []string
	for _, en := range n.stored() {
		lines = append(lines, fmt.Sprintf("%s=%v@%s", en.Key, en.Value, protocol.FormatVersion(en.Version)))
	}
	return strings.Join(lines, "; ")
}

// Write makes a local change of key in tab t.
func (n *Net) Write(t *Tab, key string, v any) {
	if !t.Live() {
		return
	}
	prev := copyState(t.Store)
	t.Store[key] = v
	n.tracef("%s writes %s=%v", t.ID, key, v)
	n.handle(t, t.Engine.LocalChange(n.Now, prev, copyState(t.Store), []string{key}))
}

// Remove drops key from tab t's store, as zustand's setState(next, true)
// does, and tells the engine.
func (n *Net) Remove(t *Tab, key string) {
	if !t.Live() {
		return
	}
	prev := copyState(t.Store)
	delete(t.Store, key)
	n.tracef("%s removes %s", t.ID, key)
	n.handle(t, t.Engine.LocalChange(n.Now, prev, copyState(t.Store), []string{key}))
}

// Close stops tab t normally: it flushes and says goodbye.
func (n *Net) Close(t *Tab) {
	if !t.Live() {
		return
	}
	n.tracef("%s closes", t.ID)
	n.handle(t, t.Engine.Stop(n.Now))
	t.Closed = true
	n.dropLock(t)
}

// Crash removes tab t with nothing sent.
func (n *Net) Crash(t *Tab) {
	if t.Crashed || t.Closed {
		return
	}
	n.tracef("%s crashes", t.ID)
	t.Crashed = true
	n.dropLock(t)
}

// Freeze stops tab t from running until Resume; messages to it wait.
func (n *Net) Freeze(t *Tab) {
	if !t.Live() {
		return
	}
	n.tracef("%s freezes", t.ID)
	t.Frozen = true
}

// Resume runs a frozen tab again: its waiting messages arrive in order, then
// its overdue timers fire.
func (n *Net) Resume(t *Tab) {
	if !t.Frozen || t.Crashed || t.Closed {
		return
	}
	n.tracef("%s resumes with %d waiting messages", t.ID, len(t.inbox))
	t.Frozen = false
	notes := t.lockInbox
	t.lockInbox = nil
	for _, note := range notes {
		n.lockNotice(t, note)
	}
	inbox := t.inbox
	t.inbox = nil
	for _, w := range inbox {
		n.receive(t, w)
	}
	t.timerAt = 0
	n.handle(t, t.Engine.Tick(n.Now))
}

// Throttle makes tab t's timers fire only at multiples of ms (0: not
// throttled), as a browser does to a hidden tab.
func (n *Net) Throttle(t *Tab, ms int64) {
	n.tracef("%s is throttled to %d ms", t.ID, ms)
	t.ThrottleMs = ms
	t.timerAt = 0
	if t.Live() {
		n.arm(t)
	}
}

// handle carries out what an engine step asked for.
func (n *Net) handle(t *Tab, rd tsync.Ready) {
	for _, msg := range rd.Messages {
		n.post(t, msg)
	}
	for _, op := range rd.Locks {
		n.lockOp(t, op)
	}
	if rd.Role != "" {
		n.tracef("%s is now %s", t.ID, rd.Role)
	}
	if rd.Patch != nil {
		for i, k := range rd.Patch.Keys {
			if rd.Patch.Values[i] == conflict.Undef {
				delete(t.Store, k) // a removal
				continue
			}
			t.Store[k] = rd.Patch.Values[i]
		}
	}
	if len(rd.Persist) > 0 || len(rd.Unpersist) > 0 {
		if !t.persist {
			n.violate("%s asked to persist with Persist off", t.ID)
		}
		n.persist(t, rd.Persist, rd.Unpersist)
	}
	n.checkVersions(t)
	n.arm(t)
}

// post puts msg on the channel: every other tab gets a structured clone,
// after a random delay, in the sender's order, unless it is lost.
func (n *Net) post(from *Tab, msg protocol.Message) {
	wire := protocol.Encode(conflict.GoModel{}, msg)
	n.Log = append(n.Log, Sent{At: n.Now, Msg: msg, Wire: wire})
	n.tracef("%s -> %s", from.ID, describe(msg))
	for _, e := range msg.Entries {
		n.Writes[e.Key] = append(n.Writes[e.Key], e.Version.Clock)
	}
	for _, to := range n.Tabs {
		if to == from || to.Crashed || to.Closed {
			continue
		}
		if n.Faults.Loss > 0 && n.Rand.Float64() < n.Faults.Loss {
			n.tracef("  lost on the way to %s", to.ID)
			continue
		}
		at := n.Now
		if n.Faults.MaxDelayMs > 0 {
			at += n.Rand.Int63n(n.Faults.MaxDelayMs + 1)
		}
		// Per-sender FIFO, as BroadcastChannel guarantees: never before the
		// previous delivery on this pair, and after it at the same instant.
		pair := [2]string{from.ID, to.ID}
		tie := n.Rand.Int63() >> 1
		if last, ok := n.lastDeliv[pair]; ok && at <= last.at {
			at, tie = last.at, last.tie+1
		}
		n.lastDeliv[pair] = delivery{at, tie}
		to, clone := to, deepCopy(wire)
		n.atTie(at, tie, func() { n.deliver(to, clone) })
	}
}

func (n *Net) deliver(t *Tab, wire conflict.Value) {
	switch {
	case t.Crashed || t.Closed:
	case t.Frozen && n.DropWhileFrozen:
		n.tracef("  dropped: %s is frozen", t.ID)
	case t.Frozen:
		t.inbox = append(t.inbox, wire)
	default:
		n.receive(t, wire)
	}
}

func (n *Net) receive(t *Tab, wire conflict.Value) {
	rd := t.Engine.Receive(n.Now, wire)
	if rd.Patch != nil {
		n.tracef("%s applies %v from %s", t.ID, rd.Patch.Keys, rd.Patch.Source)
	}
	n.handle(t, rd)
}

// arm schedules the tab's next tick at its engine's deadline.
func (n *Net) arm(t *Tab) {
	d := t.Engine.NextDeadline()
	if d != 0 && d < n.Now {
		d = n.Now // overdue (the tab was frozen or throttled): at once
	}
	if d != 0 && t.ThrottleMs > 0 {
		d = (d + t.ThrottleMs - 1) / t.ThrottleMs * t.ThrottleMs
	}
	if d == 0 || d == t.timerAt {
		return
	}
	t.timerAt = d
	n.at(d, func() {
		if t.timerAt != d || !t.Live() {
			return
		}
		t.timerAt = 0
		n.handle(t, t.Engine.Tick(n.Now))
	})
}

// ForceLeader calls forceLeader() in tab t.
func (n *Net) ForceLeader(t *Tab) {
	if !t.Live() {
		return
	}
	n.tracef("%s forces leadership", t.ID)
	n.handle(t, t.Engine.ForceLeader(n.Now))
}

// Post injects a raw value on the channel as if another script had posted it.
func (n *Net) Post(wire conflict.Value) {
	for _, to := range n.Tabs {
		to, clone := to, deepCopy(wire)
		n.at(n.Now, func() { n.deliver(to, clone) })
	}
}

// Run advances virtual time to until, running everything due.
func (n *Net) Run(until int64) {
	for {
		at, run, ok := n.events.Next(until)
		if !ok {
			break
		}
		n.Now = at
		run()
		if n.Observe != nil {
			n.Observe(n)
		}
	}
	if until > n.Now {
		n.Now = until
	}
}

// RunFor advances virtual time by ms.
func (n *Net) RunFor(ms int64) { n.Run(n.Now + ms) }

// LiveTabs returns the tabs that are running.
func (n *Net) LiveTabs() []*Tab {
	var out []*Tab
	for _, t := range n.Tabs {
		if t.Live() {
			out = append(out, t)
		}
	}
	return out
}

// checkVersions records every change of a key's version in t and flags a
// rollback: a tab taking a value its current one was built on.
func (n *Net) checkVersions(t *Tab) {
	for _, k := range t.Engine.Keys() {
		val, v, _ := t.Engine.Value(k)
		if val == conflict.Undef && !v.IsZero() {
			n.Removals[v.Clock] = true
		}
		old, seen := t.last[k]
		if !seen || old.Equal(v) {
			if !seen && !v.IsZero() {
				t.Held[k] = append(t.Held[k], v)
			}
			t.last[k] = v
			continue
		}
		superseded := false
		if held := t.Held[k]; len(held) > 0 && held[len(held)-1].Equal(old) && n.supersededUnsent(k, old, v) {
			// A burst's unsent version replaced by the next write of the
			// same burst: no other tab ever saw it, it is not a write of
			// its own.
			t.Held[k] = held[:len(held)-1]
			superseded = true
		}
		t.Held[k] = append(t.Held[k], v)
		if n.Wins != nil && !superseded && !old.IsZero() && n.Wins(old, v) {
			n.violate("%s replaced %s version %s with %s, which loses to it", t.ID, k, protocol.FormatVersion(old), protocol.FormatVersion(v))
		}
		if v.Clock == old.Base || (!old.IsZero() && v.Clock.Less(old.Clock) && v.Depth < old.Depth) {
			n.violate("%s rolled %s back from %s to its ancestor %s", t.ID, k, protocol.FormatVersion(old), protocol.FormatVersion(v))
		}
		t.last[k] = v
	}
}

// supersededUnsent reports whether v replaced old in old's writer's own
// throttle or debounce window: the same writer, the same base, and old never
// reached the channel.
func (n *Net) supersededUnsent(key string, old, v conflict.Version) bool {
	if old.IsZero() || v.Clock.Tab != old.Clock.Tab || v.Base != old.Base {
		return false
	}
	for _, c := range n.Writes[key] {
		if c == old.Clock {
			return false
		}
	}
	return true
}

// Trace returns the last lines of the run's trace.
func (n *Net) Trace(lines int) string {
	tr := n.trace
	if len(tr) > lines {
		tr = tr[len(tr)-lines:]
	}
	return strings.Join(tr, "\n")
}

func describe(m protocol.Message) string {
	var b strings.Builder
	b.WriteString(m.Type.String())
	fmt.Fprintf(&b, " #%d", m.Seq)
	if m.Req != "" {
		fmt.Fprintf(&b, " req=%s", m.Req)
	}
	if m.To != "" {
		fmt.Fprintf(&b, " to=%s", m.To)
	}
	if m.Leaving {
		b.WriteString(" leaving")
	}
	switch m.Type {
	case protocol.LeaderElection:
		fmt.Fprintf(&b, " term=%d priority=%d", m.Term, m.Priority)
	case protocol.LeaderAnnounce, protocol.Heartbeat:
		fmt.Fprintf(&b, " term=%d leader=%s", m.Term, m.Leader)
	}
	for _, e := range m.Entries {
		fmt.Fprintf(&b, " %s=%v@%s", e.Key, e.Value, protocol.FormatStoredVersion(e.Version))
	}
	return b.String()
}

func copyState(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// deepCopy imitates the structured clone a BroadcastChannel makes.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// SyncedState renders a tab's synced keys with values and versions, sorted,
// for comparing tabs. A removed key is absent, whether the tab holds its
// tombstone or collected it.
func SyncedState(t *Tab) string {
	var lines []string
	for _, k := range t.Engine.Keys() {
		v, ver, _ := t.Engine.Value(k)
		if ver.IsZero() || v == conflict.Undef {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s=%v@%s store=%v", k, v, protocol.FormatVersion(ver), t.Store[k]))
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}
