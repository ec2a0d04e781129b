package sim

import (
	"github.com/tabsync/tabsync/leader"
	tsync "github.com/tabsync/tabsync/sync"
)

// LockManager simulates the browser's Web Locks for one lock name: one
// exclusive lock per channel, granted in request order. A crashed or closed
// tab's lock is released and its request dropped; a frozen tab keeps its
// lock, and grants and losses reach it when it resumes, before anything
// else. A steal takes the lock from its holder at once.
//
// The browser notifies a tab of a grant or a loss through its own event
// loop, a little later than the lock manager decides: notifications are
// delivered after a random delay of up to LockDelayMs.
type LockManager struct {
	Holder *Tab
	queue  []*Tab
	// Grants counts the times the lock changed hands.
	Grants int
}

// LockDelayMs bounds the delay of a lock notification.
const LockDelayMs = 3

type lockNote struct {
	op   string // "granted", "lost", "held", "free"
	held bool
}

func (n *Net) lockOp(t *Tab, op leader.Op) {
	lm := &n.Locks
	switch op {
	case leader.RequestLock:
		if lm.Holder == t || lm.queued(t) {
			return
		}
		lm.queue = append(lm.queue, t)
		n.tracef("%s requests the lock", t.ID)
		if lm.Holder == nil {
			n.grantNext()
		}
	case leader.StealLock:
		lm.dequeue(t)
		n.tracef("%s steals the lock from %s", t.ID, lm.holderID())
		if old := lm.Holder; old != nil && old != t {
			n.notify(old, lockNote{op: "lost"})
		}
		lm.Holder = t
		lm.Grants++
		n.notify(t, lockNote{op: "granted"})
	case leader.ReleaseLock:
		lm.dequeue(t)
		if lm.Holder == t {
			n.tracef("%s releases the lock", t.ID)
			lm.Holder = nil
			n.grantNext()
		}
	case leader.QueryLock:
		n.notify(t, lockNote{op: "held", held: lm.Holder == t})
	}
}

// dropLock releases what a crashed or closed tab held or asked for.
func (n *Net) dropLock(t *Tab) {
	lm := &n.Locks
	lm.dequeue(t)
	if lm.Holder == t {
		lm.Holder = nil
		n.grantNext()
	}
}

func (n *Net) grantNext() {
	lm := &n.Locks
	for lm.Holder == nil && len(lm.queue) > 0 {
		t := lm.queue[0]
		lm.queue = lm.queue[1:]
		if t.Crashed || t.Closed {
			continue
		}
		lm.Holder = t
		lm.Grants++
		n.tracef("the lock goes to %s", t.ID)
		n.notify(t, lockNote{op: "granted"})
	}
}

func (n *Net) notify(t *Tab, note lockNote) {
	n.at(n.Now+n.Rand.Int63n(LockDelayMs+1), func() {
		switch {
		case t.Crashed || t.Closed:
		case t.Frozen:
			t.lockInbox = append(t.lockInbox, note)
		default:
			n.lockNotice(t, note)
		}
	})
}

func (n *Net) lockNotice(t *Tab, note lockNote) {
	var rd tsync.Ready
	switch note.op {
	case "granted":
		n.tracef("%s is granted the lock", t.ID)
		rd = t.Engine.LockGranted(n.Now)
	case "lost":
		n.tracef("%s loses the lock", t.ID)
		rd = t.Engine.LockLost(n.Now)
	case "held":
		n.tracef("%s asks whether it holds the lock: %v", t.ID, note.held)
		rd = t.Engine.LockHeld(n.Now, note.held)
	}
	n.handle(t, rd)
}

func (lm *LockManager) queued(t *Tab) bool {
	for _, q := range lm.queue {
		if q == t {
			return true
		}
	}
	return false
}

func (lm *LockManager) dequeue(t *Tab) {
	for i, q := range lm.queue {
		if q == t {
			lm.queue = append(lm.queue[:i], lm.queue[i+1:]...)
			return
		}
	}
}

func (lm *LockManager) holderID() string {
	if lm.Holder == nil {
		return "nobody"
	}
	return lm.Holder.ID
}
