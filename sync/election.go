package sync

import "github.com/tabsync/tabsync/leader"

// The engine carries leader election (package leader) when Config.Election
// is set: it routes LEADER_ELECTION, LEADER_ANNOUNCE and HEARTBEAT to its
// Elector, sends what the Elector asks for with its own sequence numbers,
// tells it when a peer says goodbye or goes silent, and passes its lock
// operations and role changes out in Ready. The caller carries out the lock
// operations and feeds their results back with LockGranted, LockLost and
// LockHeld.

// lead adds an Elector step's output to rd.
func (e *Engine) lead(out leader.Output, rd *Ready) {
	for _, msg := range out.Messages {
		e.send(rd, msg)
	}
	rd.Locks = append(rd.Locks, out.Locks...)
	if out.RoleChanged {
		rd.Role = "follower"
		if out.Leader {
			rd.Role = "leader"
		}
	}
}

// Election reports whether leader election is on, and in which mode.
func (e *Engine) Election() (leader.Mode, bool) {
	if e.el == nil {
		return 0, false
	}
	return e.el.Mode(), true
}

// IsLeader reports whether this tab leads at now. It is always false when
// leader election is off or the engine is stopped.
func (e *Engine) IsLeader(now int64) bool {
	return e.el != nil && e.active && e.el.IsLeader(now)
}

// Leader returns the id of the tab this one takes for the leader, or "".
func (e *Engine) Leader() string {
	if e.el == nil || !e.active {
		return ""
	}
	return e.el.Leader()
}

// ForceLeader makes this tab the leader at once (see leader.Elector.ForceLeader).
func (e *Engine) ForceLeader(now int64) Ready {
	return e.elect(func() leader.Output { return e.el.ForceLeader(now) })
}

// LockGranted tells the engine that the election lock was granted.
func (e *Engine) LockGranted(now int64) Ready {
	if e.el != nil && !e.active {
		// A grant that arrives after Stop: give it back.
		return Ready{Locks: []leader.Op{leader.ReleaseLock}}
	}
	return e.elect(func() leader.Output { return e.el.LockGranted(now) })
}

// LockLost tells the engine that the election lock was stolen from this tab.
func (e *Engine) LockLost(now int64) Ready {
	return e.elect(func() leader.Output { return e.el.LockLost(now) })
}

// LockHeld answers a leader.QueryLock.
func (e *Engine) LockHeld(now int64, held bool) Ready {
	return e.elect(func() leader.Output { return e.el.LockHeld(now, held) })
}

func (e *Engine) elect(step func() leader.Output) Ready {
	var rd Ready
	if e.el != nil && e.active {
		e.lead(step(), &rd)
	}
	return rd
}
