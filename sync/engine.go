package sync

import (
	"errors"
	"strconv"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/protocol"
)

// Config configures an Engine. Tab and Model are required.
type Config struct {
	Tab        string         // this tab's id (see protocol.ValidID)
	AppVersion string         // tabs of other app versions are ignored
	Model      conflict.Model // how values are read and built

	SyncKeys    []string // empty: every key
	ExcludeKeys []string // never synced, whatever SyncKeys says
	// ShouldSync is asked before a local change is sent; false keeps it local.
	ShouldSync func(prev, next conflict.Value) (bool, error)

	ThrottleMs int64 // at most one update per window, leading and trailing edge; 0: off
	DebounceMs int64 // when > 0, send once changes have settled this long; replaces the throttle

	Strategy conflict.Strategy
	// Custom is the custom strategy's resolver. On a conflict it is called
	// once per incoming update, in the tab that made the later writes, with
	// two partial states: local and remote are plain objects holding the
	// keys of the update that conflict, this tab's values and the update's.
	// The keys of its result that were in conflict are applied and sent as
	// this tab's writes; a conflicting key it leaves out keeps the later
	// write (this tab's), as under last-write-wins; keys of the result that
	// were not in conflict are ignored (a resolver written for the whole
	// state, such as the reference's example, may name every key). An error,
	// a result that is not a plain object, or a function under a key leaves
	// the keys it concerns as they are and is reported (phase "resolve").
	Custom func(local, remote conflict.Value) (conflict.Value, error)

	Limits protocol.Limits

	// Timing, zero means the default.
	PingMs          int64 // presence ping interval (default 5000)
	PeerTimeoutMs   int64 // a silent peer is gone after this (default 3×PingMs+1000)
	StaggerMs       int64 // the second responder to a STATE_REQUEST waits this long (default 60)
	RequestRetryMs  int64 // a STATE_REQUEST with no answer is repeated after this (default 1000)
	ErrorCooldownMs int64 // the same kind of drop is reported at most once per this (default 10000)
	// TombstoneMs is how long a removed key's tombstone is kept at least
	// (default DefaultTombstoneMs); see "Removed keys" in the package
	// documentation for when it is collected.
	TombstoneMs int64

	// Responder, when set, decides whether this tab answers a new tab's
	// STATE_REQUEST: leader election sets it so that only the leader answers.
	// ok false means "no opinion": the engine's own rule (oldest tabs first) applies.
	Responder func() (answer bool, ok bool)

	// Persist makes the engine list in Ready.Persist the writes this tab
	// must store (see "Persistence" in the package documentation).
	Persist bool

	// Election, when set, turns leader election on (see package leader):
	// the engine carries the election's messages, its lock operations
	// come out in Ready.Locks, and the leader answers new tabs'
	// STATE_REQUESTs. Its Tab is filled in.
	Election *leader.Config
}

// DefaultTombstoneMs is Config.TombstoneMs's default: a removed key's
// tombstone is kept for at least a minute, far longer than a message takes
// between tabs.
const DefaultTombstoneMs = 60_000

// MaxTombstones bounds the tombstones a tab holds: past it, the oldest are
// collected at the next ping even if not every tab agrees yet (see
// "Removed keys" in the package documentation).
const MaxTombstones = 4096

func (c *Config) defaults() {
	if c.PingMs <= 0 {
		c.PingMs = 5000
	}
	if c.PeerTimeoutMs <= 0 {
		c.PeerTimeoutMs = 3*c.PingMs + 1000
	}
	if c.StaggerMs <= 0 {
		c.StaggerMs = 60
	}
	if c.RequestRetryMs <= 0 {
		c.RequestRetryMs = 1000
	}
	if c.ErrorCooldownMs <= 0 {
		c.ErrorCooldownMs = 10000
	}
	if c.TombstoneMs <= 0 {
		c.TombstoneMs = DefaultTombstoneMs
	}
	c.Limits = c.Limits.WithDefaults()
}

// Phase names where an error happened, as reported to onError.
const (
	PhaseStart    = "start"
	PhaseSend     = "send"
	PhaseReceive  = "receive"
	PhaseProtocol = "protocol"
	PhaseApply    = "apply"
	PhaseResolve  = "resolve"
	PhasePersist  = "persist"
)

// Error is a failure to report to the application.
type Error struct {
	Phase   string
	Message string
	Cause   error
}

// Patch is a set of remote values to apply to the store in one setState.
// An undefined value removes its key from the store (see "Removed keys" in
// the package documentation).
type Patch struct {
	Keys   []string
	Values []conflict.Value
	Source string // the tab the values came from
}

// Ready is what one step of the engine asks the caller to do, in order:
// post Messages, carry out the lock operations of leader election, apply
// Patch, report Errors, and report a change of Role.
type Ready struct {
	Messages []protocol.Message
	Locks    []leader.Op
	Patch    *Patch
	Errors   []Error
	// Role is "leader" or "follower" when this tab's role changed in the
	// step, "" otherwise.
	Role string
	// Received is the message a Receive step read, for debug logging; nil
	// when it was dropped.
	Received *protocol.Message
	// Persist lists the entries to store, with Config.Persist on: each one
	// only if newer than the stored record (persist.ShouldWrite), all in one
	// transaction.
	Persist []protocol.Entry
	// Unpersist lists, with Config.Persist on, the tombstones of removed
	// keys this tab collected: delete each key's stored record if it still
	// holds this version (persist.ShouldDelete).
	Unpersist []protocol.Entry
}

// Empty reports whether there is nothing to do.
func (r *Ready) Empty() bool {
	return len(r.Messages) == 0 && len(r.Locks) == 0 && r.Patch == nil && len(r.Errors) == 0 && len(r.Persist) == 0 && len(r.Unpersist) == 0 && r.Role == ""
}

// Stats are the engine's counters, as returned by getStats().
type Stats struct {
	Sent, Received, Applied, Conflicts, Dropped uint64
	DroppedByReason                             map[string]uint64
}

type entry struct {
	value   conflict.Value
	version conflict.Version
	// unsent is the clock of a write of this key that cannot leave the
	// tab (see Engine.Unsendable); it applies while it is the version's.
	unsent conflict.Clock
	// unmerged is, under merge and custom, a write of this tab that a
	// later concurrent write replaced before anyone combined the two (see
	// Engine.write): the next write of this tab combines it in.
	unmerged *entry
}

type peer struct {
	started  int64
	lastSeen int64
	digest   string // last digest it pinged, for anti-entropy
	pingedAt int64  // when that ping came
	mismatch int    // consecutive pings whose digest differed from ours
}

// Engine is one tab's sync state machine. It is not safe for concurrent use:
// the caller steps it from one goroutine (in the browser, the JS event loop).
type Engine struct {
	cfg    Config
	m      conflict.Model
	res    conflict.Resolver
	hlc    *conflict.HLC
	active bool
	// lineage: versions carry a conflict.Lineage (merge and custom).
	lineage bool

	started int64
	seq     uint64
	entries map[string]*entry
	include map[string]bool // SyncKeys as a set; nil: every key
	exclude map[string]bool
	filter  string // fingerprint of the key filter and strategy

	// Outgoing updates not sent yet: key → true, in first-change order.
	pending     map[string]bool
	pendingKeys []string
	windowEnd   int64 // throttle: the current window closes at this time
	flushAt     int64 // when the pending keys go out; 0: not scheduled

	peers    map[string]*peer
	lastSeq  map[string]*seqWindow // per sender, forgotten with the peer
	nextPing int64

	// Our own open STATE_REQUEST and when to repeat it.
	req         string
	reqRetry    int64
	reqAttempts int
	reqCount    uint64
	// STATE_REQUESTs of others we will answer unless someone answers first.
	answers map[string]answer

	stats        Stats
	lastReported map[string]int64
	suppressed   map[string]int
	foreignSeen  map[string]bool

	el *leader.Elector // nil: leader election is off
}

type answer struct {
	to string
	at int64
}

// New returns a stopped engine.
func New(cfg Config) (*Engine, error) {
	if !protocol.ValidID(cfg.Tab) {
		return nil, errors.New("tab id " + gostring.Quote(cfg.Tab) + " must be 1 to 64 characters of letters, digits, - and _")
	}
	if cfg.Model == nil {
		return nil, errors.New("sync: Config.Model is required")
	}
	if cfg.Strategy == conflict.Custom && cfg.Custom == nil {
		return nil, conflict.ErrNoResolver
	}
	cfg.defaults()
	e := &Engine{
		cfg:          cfg,
		m:            cfg.Model,
		res:          conflict.Resolver{Strategy: cfg.Strategy, Model: cfg.Model, Custom: cfg.Custom, Group: true, Tab: cfg.Tab},
		hlc:          conflict.NewHLC(cfg.Tab),
		lineage:      cfg.Strategy == conflict.Merge || cfg.Strategy == conflict.Custom,
		entries:      map[string]*entry{},
		pending:      map[string]bool{},
		peers:        map[string]*peer{},
		lastSeq:      map[string]*seqWindow{},
		answers:      map[string]answer{},
		lastReported: map[string]int64{},
		suppressed:   map[string]int{},
		foreignSeen:  map[string]bool{},
		stats:        Stats{DroppedByReason: map[string]uint64{}},
	}
	if len(cfg.SyncKeys) > 0 {
		e.include = set(cfg.SyncKeys)
	}
	e.exclude = set(cfg.ExcludeKeys)
	e.filter = fingerprint(cfg)
	if cfg.Election != nil {
		lc := *cfg.Election
		lc.Tab = cfg.Tab
		el, err := leader.New(lc)
		if err != nil {
			return nil, err
		}
		e.el = el
	}
	return e, nil
}

func set(keys []string) map[string]bool {
	s := make(map[string]bool, len(keys))
	for _, k := range keys {
		s[k] = true
	}
	return s
}

func fingerprint(cfg Config) string {
	inc := append([]string(nil), cfg.SyncKeys...)
	exc := append([]string(nil), cfg.ExcludeKeys...)
	sortStrings(inc)
	sortStrings(exc)
	h := newHash()
	for _, k := range inc {
		h.add(k)
		h.add("\x00")
	}
	h.add("\x01")
	for _, k := range exc {
		h.add(k)
		h.add("\x00")
	}
	h.add(cfg.Strategy.String())
	return strconv.FormatUint(h.sum, 36)
}

// Synced reports whether key is synced under this tab's SyncKeys and
// ExcludeKeys. __proto__, constructor and prototype never are: writing them
// into an object can change its prototype.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Engine) Synced(key string) bool {
	if e.exclude[key] || key == "__proto__" || key == "constructor" || key == "prototype" {
		return false
	}
	return e.include == nil || e.include[key]
}

// Tab returns this tab's id.
func (e *Engine) Tab() string { return e.cfg.Tab }

// Active reports whether the engine is started.
func (e *Engine) Active() bool { return e.active }

// ConnectedTabs counts the live tabs on the channel, this one included.
func (e *Engine) ConnectedTabs() int {
	if !e.active {
		return 1
	}
	return len(e.peers) + 1
}

// Peers returns the ids of the live peers, sorted oldest first.
func (e *Engine) Peers() []string {
	ids := make([]string, 0, len(e.peers))
	for id := range e.peers {
		ids = append(ids, id)
	}
	sortFunc(ids, e.older)
	return ids
}

func (e *Engine) older(a, b string) bool {
	sa, sb := e.startedOf(a), e.startedOf(b)
	if sa != sb {
		return sa < sb
	}
	return a < b
}

func (e *Engine) startedOf(id string) int64 {
	if id == e.cfg.Tab {
		return e.started
	}
	if p := e.peers[id]; p != nil {
		return p.started
	}
	return 1<<62 - 1
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.DroppedByReason = make(map[string]uint64, len(e.stats.DroppedByReason))
	for k, v := range e.stats.DroppedByReason {
		s.DroppedByReason[k] = v
	}
	return s
}

// Value returns the engine's copy of a synced key and its version.
func (e *Engine) Value(key string) (conflict.Value, conflict.Version, bool) {
	en := e.entries[key]
	if en == nil {
		return nil, conflict.Version{}, false
	}
	return en.value, en.version, true
}

// EachValue calls f with every value the engine holds: each key's value,
// and under merge and custom a write of this tab that a concurrent one
// replaced before anyone combined them. A caller whose values refer to
// storage of its own (jsbridge keeps received values in JavaScript and
// hands the engine their slots) frees what is not among them.
func (e *Engine) EachValue(f func(conflict.Value)) {
	for _, en := range e.entries {
		f(en.value)
		if en.unmerged != nil {
			f(en.unmerged.value)
		}
	}
}

// Unsendable records that the write of key with clock c cannot leave this
// tab: the browser failed to clone its value (a function or a DOM node
// inside it). Until the key's next write, the engine neither counts it in
// its Digest nor sends it in a state response or a broadcast, so that peers,
// which can never receive it, do not ask for it every few pings and the
// failure is not met (and reported) again and again.
func (e *Engine) Unsendable(key string, c conflict.Clock) {
	if en := e.entries[key]; en != nil && en.version.Clock == c {
		en.unsent = c
	}
}

// sendable reports whether en can leave the tab (see Unsendable).
func (en *entry) sendable() bool {
	return en.unsent.IsZero() || en.unsent != en.version.Clock
}

// Keys returns the synced keys the engine holds, sorted.
func (e *Engine) Keys() []string {
	keys := make([]string, 0, len(e.entries))
	for k := range e.entries {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// NextDeadline returns the time at which Tick must next be called, or 0 when
// no timer is needed.
func (e *Engine) NextDeadline() int64 {
	if !e.active {
		return 0
	}
	d := e.nextPing
	consider := func(t int64) {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	consider(e.flushAt)
	consider(e.reqRetry)
	if e.el != nil {
		consider(e.el.NextDeadline())
	}
	for _, a := range e.answers {
		consider(a.at)
	}
	return d
}

// Tick runs whatever is due at now.
func (e *Engine) Tick(now int64) Ready {
	var rd Ready
	if !e.active {
		return rd
	}
	if e.flushAt > 0 && now >= e.flushAt {
		e.flush(now, &rd)
	}
	for req, a := range e.answers {
		if now >= a.at {
			delete(e.answers, req)
			e.respond(now, req, a.to, &rd)
		}
	}
	if e.reqRetry > 0 && now >= e.reqRetry {
		e.retryRequest(now, &rd)
	}
	if now >= e.nextPing {
		e.expirePeers(now, &rd)
		e.collect(now, &rd)
		e.ping(now, false, &rd)
	}
	if e.el != nil {
		e.lead(e.el.Tick(now), &rd)
	}
	return rd
}

// send queues msg with this tab's id and next sequence number. Not
// inlined (nor are a few other helpers called from many places): each
// inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Engine) send(rd *Ready, msg protocol.Message) {
	e.seq++
	msg.Tab = e.cfg.Tab
	msg.Seq = e.seq
	msg.AppVersion = e.cfg.AppVersion
	rd.Messages = append(rd.Messages, msg)
	e.stats.Sent++
}

func (e *Engine) newID() string {
	e.reqCount++
	return e.cfg.Tab[max(0, len(e.cfg.Tab)-12):] + "-" + strconv.FormatUint(e.reqCount, 36)
}

// sortStrings and sortFunc sort the lists of keys and tab ids the engine
// handles. Not package sort or slices: each of their generic sorts adds
// about 20 KB to the wasm module (sort.Slice also links internal/reflectlite).
// A Shell sort is a few lines and fast enough for states of many thousand
// keys (Keys sorts them for every state response).
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func sortStrings(s []string) {
	sortFunc(s, func(a, b string) bool { return a < b })
}

func sortFunc(s []string, less func(a, b string) bool) {
	gap := 1
	for gap < len(s)/3 {
		gap = 3*gap + 1
	}
	for ; gap > 0; gap /= 3 {
		for i := gap; i < len(s); i++ {
			for j := i; j >= gap && less(s[j], s[j-gap]); j -= gap {
				s[j], s[j-gap] = s[j-gap], s[j]
			}
		}
	}
}
