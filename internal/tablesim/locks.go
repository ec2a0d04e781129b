package tablesim

import "github.com/tabsync/tabsync/leader"

// locks is a device's Web Locks manager for the one lock of its tables'
// election: granted in request order, released when the holder closes or
// crashes, taken at once by a steal.
type locks struct {
	holder *Tab
	queue  []*Tab
}

func (w *World) lockOp(t *Tab, op leader.Op) {
	l := &t.Dev.Locks
	switch op {
	case leader.RequestLock:
		if l.holder == t {
			return
		}
		for _, q := range l.queue {
			if q == t {
				return
			}
		}
		l.queue = append(l.queue, t)
		if l.holder == nil {
			w.grantNext(t.Dev)
		}
	case leader.StealLock:
		l.dequeue(t)
		if old := l.holder; old != nil && old != t {
			w.lockNote(old, func() { w.step(old, old.Engine.LockLost(w.Now)) })
		}
		l.holder = t
		w.tracef("%s steals the lock", t.ID)
		w.lockNote(t, func() { w.step(t, t.Engine.LockGranted(w.Now)) })
	case leader.ReleaseLock:
		l.dequeue(t)
		if l.holder == t {
			l.holder = nil
			w.grantNext(t.Dev)
		}
	case leader.QueryLock:
		held := l.holder == t
		w.lockNote(t, func() { w.step(t, t.Engine.LockHeld(w.Now, held)) })
	}
}

func (l *locks) dequeue(t *Tab) {
	for i, q := range l.queue {
		if q == t {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return
		}
	}
}

func (w *World) grantNext(d *Device) {
	l := &d.Locks
	if l.holder != nil || len(l.queue) == 0 {
		return
	}
	t := l.queue[0]
	l.queue = l.queue[1:]
	l.holder = t
	w.tracef("%s gets the lock", t.ID)
	w.lockNote(t, func() { w.step(t, t.Engine.LockGranted(w.Now)) })
}

func (w *World) lockNote(t *Tab, run func()) {
	w.at(w.Now+w.Rand.Int63n(4), func() {
		if t.Live() {
			run()
		}
	})
}

// lockGone releases what a closed or crashed tab held or waited for.
func (w *World) lockGone(t *Tab) {
	l := &t.Dev.Locks
	l.dequeue(t)
	if l.holder == t {
		l.holder = nil
		w.grantNext(t.Dev)
	}
}
