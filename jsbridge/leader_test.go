//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/leader"
)

// The two instances of these tests live in one page, so they share one
// Web Locks client; the locks themselves are the browser's, exclusive per
// request, as between tabs. Cross-tab behaviour (closing, crashing and
// freezing tabs) is in the e2e tests.

func (in *instance) isLeader() bool { return in.h.Call("isLeader").Bool() }

// leaderPair starts two instances with leader election in mode and waits
// for one leader.
func leaderPair(t *testing.T, mode string) (a, b *instance) {
	t.Helper()
	a, b = pair(t, "{n: 0}", "{throttleMs: 0, enableLeaderElection: true, leaderHeartbeatMs: 200, leaderElection: '"+mode+"'}")
	eventually(t, "one leader", func() bool { return a.isLeader() != b.isLeader() })
	return a, b
}

// neverBoth pauses for d, checking every few milliseconds that the two never
// both lead.
func neverBoth(t *testing.T, a, b *instance, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); pause(2 * time.Millisecond) {
		require.False(t, a.isLeader() && b.isLeader(), "two leaders at once")
	}
}

// lockHeld reports whether the browser holds a Web Lock named name.
func lockHeld(name string) bool {
	var held, done bool
	cb := js.FuncOf(func(_ js.Value, args []js.Value) any {
		held, done = args[0].Bool(), true
		return nil
	})
	defer cb.Release()
	jsFunc("name", "return navigator.locks.query().then((s) => s.held.some((l) => l.name === name))").Invoke(name).Call("then", cb)
	for !done {
		pause(2 * time.Millisecond)
	}
	return held
}

func TestLeaderElection(t *testing.T) {
	for _, mode := range []string{"locks", "heartbeat"} {
		t.Run(mode, func(t *testing.T) {
			a, b := leaderPair(t, mode)
			l, f := a, b
			if b.isLeader() {
				l, f = b, a
			}
			assert.Contains(t, l.states(), "leader", "onSyncStateChange('leader')")
			assert.NotContains(t, f.states(), "leader")
			assert.Contains(t, f.states(), "follower")
			neverBoth(t, a, b, 500*time.Millisecond)
			assert.True(t, l.isLeader(), "the leader keeps leading")

			// forceLeader takes over; the previous leader steps down.
			f.h.Call("forceLeader")
			for end := time.Now().Add(5 * time.Second); !f.isLeader() && time.Now().Before(end); pause(2 * time.Millisecond) {
				if mode == "locks" {
					require.False(t, a.isLeader() && b.isLeader(), "two leaders at once")
				}
			}
			require.True(t, f.isLeader())
			eventually(t, "the previous leader to step down", func() bool { return !l.isLeader() })
			assert.Equal(t, "follower", l.states()[len(l.states())-1])
			neverBoth(t, a, b, 300*time.Millisecond)

			// stop() gives leadership up at once.
			f.stop()
			assert.False(t, f.isLeader())
			assert.True(t, f.s.timer.IsUndefined(), "no timer left")
			eventually(t, "the other to lead", l.isLeader)
			assert.Empty(t, a.errors())
			assert.Empty(t, b.errors())
		})
	}
}

func TestLeaderElectionModes(t *testing.T) {
	mode := func(config string) leader.Mode {
		in := newInstance(t, emptyStore(), jsEval("{channelName: 'modes', enableLeaderElection: true, "+config+"}"))
		m, on := in.s.e.Election()
		require.True(t, on)
		return m
	}
	assert.Equal(t, leader.Locks, mode(""), "auto uses Web Locks where the browser has them")
	assert.Equal(t, leader.Locks, mode("leaderElection: 'auto'"))
	assert.Equal(t, leader.Locks, mode("leaderElection: 'locks'"))
	assert.Equal(t, leader.Heartbeat, mode("leaderElection: 'heartbeat'"))

	off := newInstance(t, emptyStore(), jsEval("{channelName: 'modes'}"))
	_, on := off.s.e.Election()
	assert.False(t, on, "off unless enableLeaderElection")
	off.start()
	off.h.Call("forceLeader")
	assert.False(t, off.isLeader())
	assert.Equal(t, []string{"leader: forceLeader() needs enableLeaderElection: true"}, off.errors())
	assert.NotContains(t, off.states(), "follower", "no election, no role")
}

func TestLeaderReleasesItsLockOnStopAndDestroy(t *testing.T) {
	a, b := leaderPair(t, "locks")
	l, f := a, b
	if b.isLeader() {
		l, f = b, a
	}
	name := "tabsync:leader:" + l.s.opt.channelName
	require.True(t, lockHeld(name))
	l.h.Call("destroy")
	eventually(t, "the other to take the lock and lead", f.isLeader)
	f.stop()
	eventually(t, "the lock to be free", func() bool { return !lockHeld(name) })
}

// TestFrozenPageGivesLeadershipUp: the browser fires freeze before it
// freezes a page; the leader stops, which hands over at once, and starts
// again as a follower on resume.
func TestFrozenPageGivesLeadershipUp(t *testing.T) {
	a, b := leaderPair(t, "locks")
	l, f := a, b
	if b.isLeader() {
		l, f = b, a
	}
	dispatch("document", "freeze", false)
	// Both instances are in this page: both stop.
	assert.False(t, l.active())
	assert.False(t, l.isLeader())
	dispatch("document", "resume", false)
	assert.True(t, l.active())
	assert.True(t, f.active())
	eventually(t, "one leader again", func() bool { return a.isLeader() != b.isLeader() })
}
