//go:build js && wasm

package jsbridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/leader"
)

// election resolves the leader election options into the engine's config:
// nil when election is off. 'auto' (the default) uses Web Locks where the
// browser has them; 'locks' without them falls back to heartbeats, and the
// returned warning says so.
func election(o options) (cfg *leader.Config, warning string) {
	if !o.enableLeaderElection {
		return nil, ""
	}
	cfg = &leader.Config{Mode: leader.Heartbeat, HeartbeatMs: int64(o.leaderHeartbeatMs)}
	switch o.leaderElection {
	case "heartbeat":
	case "locks":
		if webLocks() {
			cfg.Mode = leader.Locks
		} else {
			warning = "leaderElection 'locks': this browser has no Web Locks (navigator.locks); electing with heartbeats instead"
		}
	default:
		if webLocks() {
			cfg.Mode = leader.Locks
		}
	}
	return cfg, warning
}

func webLocks() bool {
	nav := js.Global().Get("navigator")
	return nav.Type() == js.TypeObject && nav.Get("locks").Type() == js.TypeObject
}

// electionState is the instance's side of leader election: the Web Locks
// helper of helpers.js and the callback through which it reports.
type electionState struct {
	lock   js.Value // __tabsyncHelpers.leaderLock(...), created on first use
	notify js.Func
}

// lockOp carries out one Web Locks operation the engine asked for. The
// helper never waits: a held lock's callback returns a promise, and grants,
// losses and query answers come back through notify, each stepping the
// engine in its own JavaScript task.
func (s *Sync) lockOp(op leader.Op) {
	if s.el.lock.IsUndefined() {
		if op == leader.ReleaseLock {
			return // nothing was asked yet
		}
		s.el.notify = js.FuncOf(func(_ js.Value, args []js.Value) any {
			defer s.recover("leader")
			if s.e == nil || len(args) == 0 {
				return nil
			}
			if s.opt.debug {
				s.log("Lock: " + args[0].String())
			}
			switch args[0].String() {
			case "granted":
				s.handle(s.e.LockGranted(now()))
			case "lost":
				s.handle(s.e.LockLost(now()))
			case "held":
				s.handle(s.e.LockHeld(now(), len(args) > 1 && args[1].Truthy()))
			case "error":
				msg := "unknown error"
				if len(args) > 1 {
					msg = args[1].String()
				}
				s.report("leader", "a Web Locks request failed: "+msg, msg)
			}
			return nil
		})
		name := "tabsync:leader:" + s.opt.channelName
		s.el.lock = js.Global().Get("__tabsyncHelpers").Call("leaderLock", name, name+":"+s.tab, s.el.notify)
	}
	if s.opt.debug {
		s.log("Lock: " + op.String())
	}
	switch op {
	case leader.RequestLock:
		s.el.lock.Call("request")
	case leader.StealLock:
		s.el.lock.Call("steal")
	case leader.ReleaseLock:
		s.el.lock.Call("release")
	case leader.QueryLock:
		s.el.lock.Call("query")
	}
}

// releaseElection frees what election holds, for Destroy.
func (s *Sync) releaseElection() {
	if !s.el.lock.IsUndefined() {
		s.el.lock.Call("release")
		s.el.lock = js.Undefined()
		s.el.notify.Release()
	}
}

// isLeader reports whether this tab leads now.
func (s *Sync) isLeader() bool {
	return s.Active() && s.e.IsLeader(now())
}

// forceLeader makes this tab the leader at once; without leader election
// it reports that and does nothing.
func (s *Sync) forceLeader() {
	if !s.Active() {
		return
	}
	if _, on := s.e.Election(); !on {
		s.report("leader", "forceLeader() needs enableLeaderElection: true", nil)
		return
	}
	s.handle(s.e.ForceLeader(now()))
}
