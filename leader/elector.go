package leader

import (
	"errors"

	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/protocol"
)

// Mode is how the tabs of a channel elect their leader.
type Mode uint8

const (
	// Locks elects through an exclusive Web Lock per channel.
	Locks Mode = iota + 1
	// Heartbeat elects with messages only, for browsers without Web Locks.
	Heartbeat
)

func (m Mode) String() string {
	switch m {
	case Locks:
		return "locks"
	case Heartbeat:
		return "heartbeat"
	}
	return "unknown"
}

// DefaultHeartbeatMs is the heartbeat interval when Config.HeartbeatMs is 0.
const DefaultHeartbeatMs = 1000

// MinHeartbeatMs is the shortest heartbeat interval: shorter ones are raised
// to it, because a busy page cannot keep a tighter beat.
const MinHeartbeatMs = 20

// Config configures an Elector.
type Config struct {
	Tab         string // this tab's id
	Mode        Mode
	HeartbeatMs int64 // the leader's heartbeat interval; 0: DefaultHeartbeatMs
}

// Bounds are the timings an Elector derives from the heartbeat interval.
// See the package documentation for why they are what they are.
type Bounds struct {
	Heartbeat int64 // the leader sends a HEARTBEAT this often
	Suspect   int64 // a follower that has not heard the leader for this long probes it
	Probe     int64 // a probe unanswered for this long lets the prober take over
	Window    int64 // how long a tab that knows no leader collects candidates
	Lease     int64 // locks mode: a leader acts for this long after its last heartbeat
}

// BoundsFor returns the bounds for a heartbeat interval of hb milliseconds
// (0: DefaultHeartbeatMs).
func BoundsFor(hb int64) Bounds {
	if hb <= 0 {
		hb = DefaultHeartbeatMs
	}
	hb = max(hb, MinHeartbeatMs)
	return Bounds{Heartbeat: hb, Suspect: 2 * hb, Probe: 2 * hb, Window: hb, Lease: 3 * hb}
}

// Op is a Web Locks operation the caller carries out for the Elector.
type Op uint8

const (
	// RequestLock queues an exclusive request for the channel's lock;
	// the caller calls LockGranted when it is granted and holds it until
	// ReleaseLock, calling LockLost if it is stolen.
	RequestLock Op = iota + 1
	// StealLock cancels the queued request, if any, and takes the lock
	// at once (steal: true); LockGranted follows.
	StealLock
	// ReleaseLock releases the held lock, or cancels the queued request.
	ReleaseLock
	// QueryLock asks the lock manager whether this tab still holds the
	// lock; the caller answers with LockHeld.
	QueryLock
)

func (o Op) String() string {
	switch o {
	case RequestLock:
		return "request"
	case StealLock:
		return "steal"
	case ReleaseLock:
		return "release"
	case QueryLock:
		return "query"
	}
	return "unknown"
}

// Output is what one step of the Elector asks the caller to do: post
// Messages (the caller fills in the sender and sequence number), carry out
// the lock operations in order, and, when RoleChanged, tell the application
// whether this tab now leads.
type Output struct {
	Messages    []protocol.Message
	Locks       []Op
	RoleChanged bool
	Leader      bool // the role after the step, meaningful when RoleChanged
}

type role uint8

const (
	follower role = iota
	stealing      // locks: asked to steal the lock, waiting for it
	pending       // locks: holds a stolen lock, waiting for the previous leader to step down
	leading
)

// candidate is a tab running for leader in heartbeat mode: the oldest
// (lowest priority, the start time) wins, ties broken by the lower id.
type candidate struct {
	priority int64
	tab      string
}

func (a candidate) better(b candidate) bool {
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	return a.tab < b.tab
}

// Elector is one tab's leader election state machine. Like the sync engine
// it does no I/O and reads no clock: it is stepped with the current time and
// returns an Output. It is not safe for concurrent use.
type Elector struct {
	cfg Config
	b   Bounds

	running  bool
	priority int64
	role     role
	reported bool // the role last reported through RoleChanged

	maxTerm uint64 // the highest term seen
	term    uint64 // the term of the leader this tab follows or is
	leader  string // that leader; "" when none is known
	heard   int64  // when the leader was last heard (or the wait for one began)

	probing  bool
	probeEnd int64
	best     candidate           // the best candidate seen while probing
	cands    map[string]seenCand // candidates heard lately, for a probe that starts

	holding  bool  // locks: the lock is ours, as far as this tab knows
	lease    int64 // locks: a leader acts until then unless it beats again
	querying bool  // locks: QueryLock is out; the leader does not act meanwhile
	nextBeat int64
	rival    string // locks: another tab that claimed a term as high as ours
	rivalT   uint64

	// Locks: tabs heard leading (their own ANNOUNCE or HEARTBEAT) and
	// when. A tab that steals the lock waits, before it acts, until each
	// of them has stepped down (said so with an endorsement) or has let
	// its lease run out, and until grace has passed.
	claims map[string]int64
	await  map[string]int64 // pending: tab → when its lease ends at the latest
	grace  int64

	// Locks: a tab that stepped down endorses, until endorseUntil, each
	// new leader it hears of, so that the new one can act at once.
	endorseUntil int64
	endorsed     map[string]uint64
}

type seenCand struct {
	c  candidate
	at int64
}

// New returns a stopped Elector.
func New(cfg Config) (*Elector, error) {
	if !protocol.ValidID(cfg.Tab) {
		return nil, errors.New("leader: tab id " + gostring.Quote(cfg.Tab) + " is not a valid id")
	}
	if cfg.Mode != Locks && cfg.Mode != Heartbeat {
		return nil, errors.New("leader: Config.Mode must be Locks or Heartbeat")
	}
	return &Elector{cfg: cfg, b: BoundsFor(cfg.HeartbeatMs)}, nil
}

// Mode returns the election mode.
func (e *Elector) Mode() Mode { return e.cfg.Mode }

// Bounds returns the timings in use.
func (e *Elector) Bounds() Bounds { return e.b }

// IsLeader reports whether this tab leads at now. In locks mode a leader
// whose lease has run out (it has not run for a while: frozen, suspended,
// throttled) does not act until it has made sure it still holds the lock.
func (e *Elector) IsLeader(now int64) bool {
	if !e.running || e.role != leading {
		return false
	}
	return e.cfg.Mode == Heartbeat || (!e.querying && now < e.lease)
}

// Leader returns the id of the tab this one takes for the leader, itself
// included, or "" when it knows none.
func (e *Elector) Leader() string {
	if !e.running {
		return ""
	}
	return e.leader
}

// Term returns the term of the leader this tab knows.
func (e *Elector) Term() uint64 { return e.term }

// NextDeadline returns when Tick must next be called; 0: no timer needed.
func (e *Elector) NextDeadline() int64 {
	if !e.running || e.querying {
		return 0 // LockHeld comes next
	}
	switch e.role {
	case leading:
		return e.nextBeat
	case pending:
		return min(e.nextBeat, e.readyAt())
	case stealing:
		return 0 // the lock manager always grants a steal
	}
	if e.probing {
		return e.probeEnd
	}
	return e.heard + e.b.Suspect
}

// readyAt is when a pending leader acts if no endorsement comes.
func (e *Elector) readyAt() int64 {
	t := e.grace
	for _, end := range e.await {
		t = max(t, end)
	}
	return t
}

// Start begins taking part in elections. started is when the tab started
// (ms since the epoch): the oldest tab is preferred.
func (e *Elector) Start(now, started int64) Output {
	var out Output
	if e.running {
		return out
	}
	e.running = true
	e.priority = started
	e.role, e.leader, e.heard = follower, "", now
	e.holding, e.querying, e.rival, e.endorseUntil = false, false, "", 0
	e.cands, e.claims, e.await, e.endorsed = map[string]seenCand{}, map[string]int64{}, nil, map[string]uint64{}
	if e.cfg.Mode == Locks {
		out.Locks = append(out.Locks, RequestLock)
	}
	// Ask who leads: a leader answers at once. In heartbeat mode this is
	// also the tab's candidacy. In locks mode the lock holder may be busy
	// (its grant, its announcement, still on their way): a starting tab
	// waits for 4 heartbeats of silence, as for a leader gone silent,
	// before it takes the lock.
	e.probe(now, &out)
	if e.cfg.Mode == Locks {
		e.probeEnd = now + e.b.Suspect + e.b.Probe
	}
	return e.finish(out)
}

// Stop leaves the election at once: a leader gives up its lock, and no
// timer is needed any more.
func (e *Elector) Stop(now int64) Output {
	var out Output
	if !e.running {
		return out
	}
	if e.cfg.Mode == Locks {
		out.Locks = append(out.Locks, ReleaseLock)
	}
	e.role, e.leader, e.probing, e.holding, e.querying = follower, "", false, false, false
	out = e.finish(out)
	e.running = false
	return out
}

// Tick runs what is due at now.
func (e *Elector) Tick(now int64) Output {
	var out Output
	if !e.running {
		return out
	}
	e.checkLease(now, &out)
	switch e.role {
	case leading, pending:
		e.checkPending(now)
		if now >= e.nextBeat && !e.querying {
			e.beat(now, protocol.Heartbeat, &out)
		}
	case follower:
		switch {
		case e.probing && now >= e.probeEnd:
			e.probing = false
			// Nobody answered as leader: the one we followed is gone
			// (or never existed: a forged announcement), and a claim at
			// its term, not only above it, may replace it.
			e.leader = ""
			if e.best.tab != e.cfg.Tab {
				// A better candidate is running: give it time to
				// announce itself before asking again.
				e.heard = now - e.b.Suspect + e.b.Probe
				break
			}
			e.takeOver(now, &out)
		case !e.probing && now >= e.heard+e.b.Suspect:
			e.probe(now, &out)
		}
	}
	return e.finish(out)
}

// Receive takes a LEADER_ELECTION, LEADER_ANNOUNCE or HEARTBEAT from
// another tab; other messages are ignored.
func (e *Elector) Receive(now int64, msg protocol.Message) Output {
	var out Output
	if !e.running || msg.Tab == e.cfg.Tab {
		return out
	}
	e.checkLease(now, &out)
	switch msg.Type {
	case protocol.LeaderElection:
		e.onElection(now, msg, &out)
	case protocol.LeaderAnnounce, protocol.Heartbeat:
		e.onLeader(now, msg, &out)
	}
	e.checkPending(now)
	return e.finish(out)
}

// PeerGone tells the Elector that tab closed (it said goodbye) or went
// silent for good.
func (e *Elector) PeerGone(now int64, tab string) Output {
	var out Output
	if !e.running {
		return out
	}
	delete(e.claims, tab)
	delete(e.cands, tab)
	if e.role == pending {
		delete(e.await, tab)
		e.checkPending(now)
	}
	if e.role == follower && tab == e.leader {
		e.leader = ""
		if e.cfg.Mode == Heartbeat {
			e.probe(now, &out) // elect a successor now
		} else {
			e.heard = now // the lock passes on by itself; watch for its new holder
		}
	}
	return e.finish(out)
}

// ForceLeader makes this tab the leader at once: it steals the lock in
// locks mode and announces itself with a new term in heartbeat mode. The
// previous leader steps down when it hears of it.
func (e *Elector) ForceLeader(now int64) Output {
	var out Output
	if !e.running || e.role != follower {
		return out
	}
	e.probing = false
	if e.cfg.Mode == Locks {
		e.grace = -1 // decided at the grant, by what is known then
		e.role = stealing
		out.Locks = append(out.Locks, StealLock)
	} else {
		e.claim(now, &out)
		e.act(now)
	}
	return e.finish(out)
}

// LockGranted tells the Elector that its request (or steal) of the lock
// was granted.
func (e *Elector) LockGranted(now int64) Output {
	var out Output
	if !e.running || e.cfg.Mode != Locks {
		out.Locks = append(out.Locks, ReleaseLock)
		return out
	}
	if e.holding {
		return out
	}
	e.holding = true
	stole := e.role == stealing
	e.claim(now, &out)
	if !stole {
		// A lock its holder released (closed, crashed, stepped down)
		// leaves nobody acting: act at once.
		e.act(now)
		return e.finish(out)
	}
	// A stolen lock may have a holder that acts until it hears of the
	// steal: wait for every tab heard leading lately to step down (it
	// endorses this one) or to let its lease run out.
	e.await = map[string]int64{}
	for tab, at := range e.claims {
		if at+e.b.Lease > now {
			e.await[tab] = at + e.b.Lease
		}
	}
	// The lock may also have a holder nobody has heard of yet, whose
	// announcement is on its way, or which has not yet read the news of
	// the steal: give it a little time, more when no leader is known.
	g := e.b.Heartbeat / 20
	if e.grace > 0 || len(e.await) == 0 {
		g = e.b.Heartbeat / 4
	}
	e.grace = now + g
	e.checkPending(now)
	return e.finish(out)
}

// LockLost tells the Elector that the lock it held was taken from it (a
// steal by another tab). It steps down and queues for the lock again.
func (e *Elector) LockLost(now int64) Output {
	var out Output
	if !e.running || !e.holding {
		return out
	}
	e.holding = false
	e.lost(now, &out)
	return e.finish(out)
}

// lost steps down after losing the lock, follows the tab that took it when
// it is known, and queues for the lock again.
func (e *Elector) lost(now int64, out *Output) {
	rival, t := e.rival, e.rivalT
	e.stepDown(now, out)
	if rival != "" && t >= e.term {
		e.follow(now, t, rival, out)
	}
	out.Locks = append(out.Locks, RequestLock)
}

// LockHeld answers a QueryLock: whether this tab still holds the lock.
func (e *Elector) LockHeld(now int64, held bool) Output {
	var out Output
	if !e.running || !e.querying {
		return out
	}
	e.querying = false
	if e.role != leading && e.role != pending {
		return e.finish(out)
	}
	if !held {
		e.holding = false
		e.lost(now, &out)
		return e.finish(out)
	}
	e.rival = ""
	// Still ours: whoever claimed a term as high as ours is stale. Claim
	// above it, so that every tab follows this one.
	if e.maxTerm > e.term {
		e.maxTerm = nextTerm(e.maxTerm)
		e.term = e.maxTerm
	}
	e.beat(now, protocol.LeaderAnnounce, &out)
	return e.finish(out)
}

// checkLease notices, in locks mode, a leader that has not run for longer
// than its lease: another tab may have stolen the lock meanwhile, and the
// news of it may not have been read yet, so it asks the lock manager before
// acting again.
func (e *Elector) checkLease(now int64, out *Output) {
	if e.cfg.Mode == Locks && e.role == leading && !e.querying && now >= e.lease {
		e.querying = true
		out.Locks = append(out.Locks, QueryLock)
	}
}

// checkPending lets a pending leader act once nobody else can be acting.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Elector) checkPending(now int64) {
	if e.role != pending || e.querying {
		return
	}
	for tab, end := range e.await {
		if now >= end {
			delete(e.await, tab)
		}
	}
	if len(e.await) == 0 && now >= e.grace {
		e.act(now)
	}
}

// probe sends a LEADER_ELECTION: the leader answers it at once, and in
// heartbeat mode it is this tab's candidacy.
func (e *Elector) probe(now int64, out *Output) {
	e.probing = true
	wait := e.b.Probe
	if e.leader == "" && e.cfg.Mode == Heartbeat {
		wait = e.b.Window
	}
	e.probeEnd = now + wait
	e.best = candidate{e.priority, e.cfg.Tab}
	for tab, s := range e.cands {
		if now-s.at > e.b.Probe {
			delete(e.cands, tab)
		} else if s.c.better(e.best) {
			e.best = s.c
		}
	}
	out.Messages = append(out.Messages, protocol.Message{Type: protocol.LeaderElection, Term: e.maxTerm, Priority: e.priority})
}

// takeOver is the end of an unanswered probe by the best candidate.
func (e *Elector) takeOver(now int64, out *Output) {
	if e.cfg.Mode == Locks {
		e.grace = 1 // the leader went silent: see LockGranted
		e.role = stealing
		out.Locks = append(out.Locks, StealLock)
		return
	}
	e.claim(now, out)
	e.act(now)
}

// claim takes a new term for this tab and announces it.
func (e *Elector) claim(now int64, out *Output) {
	e.maxTerm = nextTerm(e.maxTerm)
	e.term, e.leader = e.maxTerm, e.cfg.Tab
	e.probing, e.rival, e.endorseUntil = false, "", 0
	e.role = pending
	e.lease = now + e.b.Lease
	e.beat(now, protocol.LeaderAnnounce, out)
}

// maxTerm is the highest term a message can carry: package protocol reads
// integers up to 2^53-1, where JavaScript numbers stop being exact.
const maxTerm = 1<<53 - 1

// nextTerm is the term after t. It stops at maxTerm: a term past it could
// not be read, and a forged message can carry maxTerm itself. From there
// on, terms tie, and ties are settled as always (the lock in locks mode,
// the lower id in heartbeat mode).
func nextTerm(t uint64) uint64 { return min(t+1, maxTerm) }

// act makes a claimed leadership effective.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Elector) act(now int64) {
	e.role = leading
	e.await = nil
	e.lease = now + e.b.Lease
}

// beat sends a HEARTBEAT or LEADER_ANNOUNCE and renews the lease.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Elector) beat(now int64, t protocol.Type, out *Output) {
	e.lease = now + e.b.Lease
	e.nextBeat = now + e.b.Heartbeat
	out.Messages = append(out.Messages, protocol.Message{Type: t, Term: e.term, Leader: e.cfg.Tab})
}

// stepDown gives up leadership (or a claim to it) without a fight.
func (e *Elector) stepDown(now int64, out *Output) {
	if e.role == follower || e.role == stealing {
		e.role = follower
		return
	}
	e.role = follower
	e.querying = false
	e.await = nil
	e.heard = now
	if e.leader == e.cfg.Tab {
		e.leader = ""
	}
	if e.cfg.Mode == Locks {
		e.endorseUntil = now + e.b.Lease // tell the new leaders
	}
}

func (e *Elector) onElection(now int64, msg protocol.Message, out *Output) {
	e.maxTerm = max(e.maxTerm, msg.Term)
	c := candidate{msg.Priority, msg.Tab}
	e.cands[msg.Tab] = seenCand{c, now}
	switch e.role {
	case leading:
		if !e.querying {
			e.beat(now, protocol.LeaderAnnounce, out)
		}
	case follower:
		if e.cfg.Mode == Heartbeat && !e.probing && e.leader == "" {
			e.probe(now, out) // an election without a leader: run too
		}
		if !e.probing {
			return
		}
		if c.better(e.best) {
			e.best = c
		} else if e.cfg.Mode == Heartbeat && e.best.tab == e.cfg.Tab {
			// A worse candidate, which may have started after our
			// candidacy went out: tell it, so that it stands back.
			out.Messages = append(out.Messages, protocol.Message{Type: protocol.LeaderElection, Term: e.maxTerm, Priority: e.priority})
		}
	}
}

func (e *Elector) onLeader(now int64, msg protocol.Message, out *Output) {
	e.maxTerm = max(e.maxTerm, msg.Term)
	t, l, self := msg.Term, msg.Leader, msg.Tab == msg.Leader
	if self && e.cfg.Mode == Locks {
		e.claims[l] = now
		for tab, at := range e.claims {
			if now-at > e.b.Lease {
				delete(e.claims, tab)
			}
		}
		if e.role == pending {
			if _, ok := e.await[l]; !ok && l != e.cfg.Tab {
				// A claim that was on its way: wait for it too.
				e.await[l] = now + e.b.Lease
			} else {
				e.await[l] = max(e.await[l], now+e.b.Lease)
			}
		}
	}
	if l == e.cfg.Tab {
		// Another tab has stepped down in favour of this one.
		if e.role == pending && t == e.term {
			delete(e.await, msg.Tab)
		}
		return
	}
	switch e.role {
	case leading, pending:
		if e.cfg.Mode == Locks {
			// The lock decides. A claim below ours is a stale leader
			// that will learn from its lock; for any other, ask.
			if t >= e.term {
				e.rival, e.rivalT = l, t
				if !e.querying {
					e.querying = true
					out.Locks = append(out.Locks, QueryLock)
				}
			}
			return
		}
		if t > e.term || (t == e.term && l < e.cfg.Tab) {
			e.stepDown(now, out)
			e.follow(now, t, l, out)
			return
		}
		e.beat(now, protocol.LeaderAnnounce, out) // we rank higher: say so
	case follower, stealing:
		switch {
		case t > e.term, t == e.term && l != e.leader && (e.leader == "" || e.cfg.Mode == Locks || l < e.leader):
			e.follow(now, t, l, out)
		case t == e.term && l == e.leader && self:
			e.heard = now
			e.probing = false
		}
		if e.role == follower {
			e.maybeEndorse(now, t, l, out)
		}
	}
}

// follow takes l as the leader of term t.
func (e *Elector) follow(now int64, t uint64, l string, out *Output) {
	e.term, e.leader, e.heard = t, l, now
	e.probing = false
	if e.role == follower {
		e.maybeEndorse(now, t, l, out)
	}
}

// maybeEndorse tells l, once, that this tab, which led until lately, has
// stepped down.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (e *Elector) maybeEndorse(now int64, t uint64, l string, out *Output) {
	if now >= e.endorseUntil || e.endorsed[l] >= t {
		return
	}
	e.endorsed[l] = t
	out.Messages = append(out.Messages, protocol.Message{Type: protocol.LeaderAnnounce, Term: t, Leader: l})
}

// finish reports a change of role. Not inlined: called from a dozen
// places, each inlined copy costs the wasm module.
//
//go:noinline
func (e *Elector) finish(out Output) Output {
	lead := e.running && e.role == leading
	if lead != e.reported {
		e.reported = lead
		out.RoleChanged, out.Leader = true, lead
	}
	return out
}
