package leader_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/protocol"
)

var modes = []leader.Mode{leader.Locks, leader.Heartbeat}

// quiet is a channel with small delays and no loss.
var quiet = sim.Faults{MaxDelayMs: 5}

// runUntil advances the net 1 ms at a time until cond holds or limit ms
// have passed, and returns how long it took.
func runUntil(n *sim.Net, limit int64, cond func() bool) (int64, bool) {
	start := n.Now
	for n.Now-start <= limit {
		if cond() {
			return n.Now - start, true
		}
		n.RunFor(1)
	}
	return n.Now - start, cond()
}

func oneLeader(n *sim.Net) func() bool {
	return func() bool { return settled(n) == "" }
}

func TestTabsStartingInTheSameMillisecondElectOne(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			n := newNet(1, mode, quiet)
			overlap := watch(n, mode)
			for range 5 {
				n.Join() // all at the same virtual millisecond
			}
			took, ok := runUntil(n, 5*hb, oneLeader(n))
			require.True(t, ok, "no single leader: %s\n%s", settled(n), n.Trace(40))
			t.Logf("%s: one leader after %d ms", mode, took)
			if mode == leader.Heartbeat {
				// Same start time: the lower id breaks the tie.
				assert.Equal(t, "tab00", leaders(n)[0].ID)
			}
			n.RunFor(10 * hb)
			assert.Len(t, leaders(n), 1, "still one leader")
			assert.Zero(t, overlap(), "never two leaders, in either mode")
			assert.Empty(t, n.Violations)
		})
	}
}

func TestThirdTabJoiningKeepsTheLeader(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			n := newNet(2, mode, quiet)
			watch(n, mode)
			a := n.Join()
			n.RunFor(100)
			n.Join()
			n.RunFor(3 * hb)
			require.Equal(t, []string{a.ID}, ids(leaders(n)))
			n.Join()
			n.RunFor(5 * hb)
			assert.Equal(t, []string{a.ID}, ids(leaders(n)), "the oldest tab keeps leading")
			assert.Empty(t, settled(n))
			assert.Empty(t, n.Violations)
		})
	}
}

// handover starts three tabs, removes the leader with remove, and returns
// how long the others took to settle on a new one.
func handover(t *testing.T, mode leader.Mode, remove func(n *sim.Net, l *sim.Tab)) int64 {
	t.Helper()
	n := newNet(3, mode, quiet)
	watch(n, mode)
	for range 3 {
		n.Join()
		n.RunFor(50)
	}
	n.RunFor(3 * hb)
	require.Empty(t, settled(n))
	old := leaders(n)[0]
	remove(n, old)
	took, ok := runUntil(n, 10*hb, oneLeader(n))
	require.True(t, ok, "no new leader: %s\n%s", settled(n), n.Trace(40))
	assert.NotEqual(t, old, leaders(n)[0])
	assert.Empty(t, n.Violations)
	return took
}

func TestClosedLeaderIsReplaced(t *testing.T) {
	took := handover(t, leader.Locks, (*sim.Net).Close)
	assert.LessOrEqual(t, took, int64(2*sim.LockDelayMs+quiet.MaxDelayMs), "locks: the next tab in line leads at once")
	took = handover(t, leader.Heartbeat, (*sim.Net).Close)
	assert.LessOrEqual(t, took, leader.BoundsFor(hb).Window+2*quiet.MaxDelayMs, "heartbeat: the goodbye starts an election")
}

func TestCrashedLeaderIsReplaced(t *testing.T) {
	took := handover(t, leader.Locks, (*sim.Net).Crash)
	assert.LessOrEqual(t, took, int64(2*sim.LockDelayMs), "locks: the browser releases the lock, the next tab leads at once")
	took = handover(t, leader.Heartbeat, (*sim.Net).Crash)
	assert.LessOrEqual(t, took, int64(5*hb), "heartbeat: a silent leader is replaced within 5 heartbeats")
}

// TestFrozenLeaderIsReplacedAndStepsDown freezes the leader (it keeps its
// lock): the others take over within 5 heartbeats; when it runs again it
// learns it lost and follows, with never two leaders in locks mode.
func TestFrozenLeaderIsReplacedAndStepsDown(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			took := handover(t, mode, (*sim.Net).Freeze)
			assert.LessOrEqual(t, took, int64(5*hb), "replaced within 5 heartbeats")
			t.Logf("%s: replaced after %d ms", mode, took)
		})
	}
	for _, c := range []struct {
		mode leader.Mode
		drop bool
	}{{leader.Locks, false}, {leader.Heartbeat, false}, {leader.Locks, true}, {leader.Heartbeat, true}} {
		mode := c.mode
		name := mode.String() + "/resume"
		if c.drop {
			name += "/messages-dropped-while-frozen"
		}
		t.Run(name, func(t *testing.T) {
			n := newNet(4, mode, quiet)
			n.DropWhileFrozen = c.drop
			watch(n, mode)
			for range 3 {
				n.Join()
				n.RunFor(50)
			}
			n.RunFor(3 * hb)
			old := leaders(n)[0]
			n.Freeze(old)
			n.RunFor(10 * hb)
			next := leaders(n)
			require.Len(t, next, 1)
			grants := n.Locks.Grants
			n.Resume(old)
			n.RunFor(hb)
			assert.False(t, old.Engine.IsLeader(n.Now), "the old leader stepped down")
			assert.Equal(t, next[0].ID, old.Engine.Leader(), "and follows the new one")
			assert.Equal(t, next, leaders(n))
			n.RunFor(20 * hb)
			assert.Equal(t, next, leaders(n), "and nothing else changes")
			assert.Equal(t, grants, n.Locks.Grants)
			assert.Empty(t, n.Violations)
		})
	}
}

func TestForceLeader(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			n := newNet(5, mode, quiet)
			watch(n, mode)
			for range 3 {
				n.Join()
				n.RunFor(50)
			}
			n.RunFor(3 * hb)
			old := leaders(n)[0]
			var forcer *sim.Tab
			for _, tab := range n.Tabs {
				if tab != old {
					forcer = tab
				}
			}
			n.ForceLeader(forcer)
			took, ok := runUntil(n, 5*hb, func() bool { return forcer.Engine.IsLeader(n.Now) })
			require.True(t, ok, n.Trace(40))
			t.Logf("%s: forceLeader took %d ms", mode, took)
			assert.Less(t, took, int64(hb/2), "at once")
			n.RunFor(hb)
			assert.Equal(t, []string{forcer.ID}, ids(leaders(n)), "the previous leader stepped down")
			assert.Equal(t, forcer.ID, old.Engine.Leader())
			assert.Empty(t, n.Violations)
		})
	}
}

func TestStopGivesLeadershipUpAndLeavesNoTimer(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			n := newNet(6, mode, quiet)
			a := n.Join()
			n.RunFor(50)
			b := n.Join()
			n.RunFor(3 * hb)
			require.True(t, a.Engine.IsLeader(n.Now))
			rd := a.Engine.Stop(n.Now)
			assert.Equal(t, "follower", rd.Role, "the role change is reported")
			if mode == leader.Locks {
				assert.Contains(t, rd.Locks, leader.ReleaseLock)
			}
			assert.False(t, a.Engine.IsLeader(n.Now))
			assert.Zero(t, a.Engine.NextDeadline(), "no timer after stop")
			n.Close(a) // the tab goes; the simulated browser frees its lock
			_, ok := runUntil(n, 5*hb, func() bool { return b.Engine.IsLeader(n.Now) })
			assert.True(t, ok, n.Trace(30))
		})
	}
}

// TestOnlyTheLeaderAnswersStateRequests: with election on, a new tab's
// STATE_REQUEST gets one answer, from the leader, however many tabs.
func TestOnlyTheLeaderAnswersStateRequests(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			n := newNet(7, mode, quiet)
			for range 4 {
				n.Join()
				n.RunFor(20)
			}
			n.RunFor(3 * hb)
			l := leaders(n)[0]
			before := len(n.Log)
			late := n.Join()
			n.RunFor(hb)
			var answers []string
			for _, s := range n.Log[before:] {
				if s.Msg.Type == protocol.StateResponse && s.Msg.To == late.ID {
					answers = append(answers, s.Msg.Tab)
				}
			}
			assert.Equal(t, []string{l.ID}, answers)
		})
	}
}

// TestLapsedLeaderChecksItsLock drives an Elector alone: a leader that did
// not run for longer than its lease asks the lock manager before acting
// again, carries on if the lock is still its own, and steps down if not.
func TestLapsedLeaderChecksItsLock(t *testing.T) {
	const now = 1_000_000
	b := leader.BoundsFor(hb)
	for _, held := range []bool{true, false} {
		e, err := leader.New(leader.Config{Tab: "a", Mode: leader.Locks, HeartbeatMs: hb})
		require.NoError(t, err)
		out := e.Start(now, now)
		assert.Equal(t, []leader.Op{leader.RequestLock}, out.Locks)
		out = e.LockGranted(now + 1)
		require.True(t, out.RoleChanged && out.Leader)
		require.True(t, e.IsLeader(now+1))

		late := now + 1 + b.Lease + 60_000 // a minute without running
		assert.False(t, e.IsLeader(late), "a lapsed lease: not acting")
		out = e.Tick(late)
		assert.Equal(t, []leader.Op{leader.QueryLock}, out.Locks)
		assert.Empty(t, out.Messages, "no heartbeat before the answer")
		assert.False(t, e.IsLeader(late))

		out = e.LockHeld(late+2, held)
		assert.Equal(t, held, e.IsLeader(late+2))
		if held {
			assert.False(t, out.RoleChanged, "still the leader: nothing to report")
			require.Len(t, out.Messages, 1)
			assert.Equal(t, protocol.LeaderAnnounce, out.Messages[0].Type)
		} else {
			assert.True(t, out.RoleChanged)
			assert.False(t, out.Leader)
			assert.Equal(t, []leader.Op{leader.RequestLock}, out.Locks, "queues for the lock again")
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := leader.New(leader.Config{Tab: "", Mode: leader.Locks})
	assert.Error(t, err)
	_, err = leader.New(leader.Config{Tab: "a"})
	assert.Error(t, err)
	assert.Equal(t, int64(leader.DefaultHeartbeatMs), leader.BoundsFor(0).Heartbeat)
	assert.Equal(t, int64(leader.MinHeartbeatMs), leader.BoundsFor(1).Heartbeat)
}
