package leader_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/leader"
	tsync "github.com/tabsync/tabsync/sync"
)

// hb is the heartbeat of the simulations, in virtual milliseconds.
const hb = 1000

// The bounds the properties assert, from the last fault (see doc.go).
const (
	// settleBound: once the faults stop, exactly one leader that every
	// live tab knows within this time.
	settleBound = 10 * hb
	// overlapBound: in heartbeat mode, two tabs lead at once for less
	// than this.
	overlapBound = 3 * hb
)

// forSeeds runs prop over the seeds of the test flags (see sim.ForSeeds).
func forSeeds(t *testing.T, prop func(seed int64) (*sim.Net, string)) {
	t.Helper()
	sim.ForSeeds(t, 0, prop)
}

func newNet(seed int64, mode leader.Mode, faults sim.Faults) *sim.Net {
	return sim.New(seed, faults, func(string) tsync.Config {
		return tsync.Config{Election: &leader.Config{Mode: mode, HeartbeatMs: hb}}
	})
}

// leaders returns the live tabs that lead now.
func leaders(n *sim.Net) []*sim.Tab {
	var out []*sim.Tab
	for _, t := range n.LiveTabs() {
		if t.Engine.IsLeader(n.Now) {
			out = append(out, t)
		}
	}
	return out
}

func ids(tabs []*sim.Tab) []string {
	out := make([]string, len(tabs))
	for i, t := range tabs {
		out[i] = t.ID
	}
	return out
}

// watch checks, after every event, that no two tabs lead at once (locks
// mode) or that no overlap lasts overlapBound (heartbeat mode). It returns
// a function that reports the longest overlap seen.
func watch(n *sim.Net, mode leader.Mode) func() int64 {
	var since, longest int64 = -1, 0
	check := func(n *sim.Net) {
		ls := leaders(n)
		if len(ls) < 2 {
			since = -1
			return
		}
		if mode == leader.Locks {
			n.Violations = append(n.Violations, fmt.Sprintf("t=%d: two leaders at once in locks mode: %v", n.Now-t0, ids(ls)))
			return
		}
		if since < 0 {
			since = n.Now
		}
		longest = max(longest, n.Now-since)
		if n.Now-since >= overlapBound {
			n.Violations = append(n.Violations, fmt.Sprintf("t=%d: %v have led together for %d ms", n.Now-t0, ids(ls), n.Now-since))
			since = n.Now // report once per bound
		}
	}
	n.Observe = check
	return func() int64 { return longest }
}

const t0 = 1_700_000_000_000

// settled checks that exactly one live tab leads and every live tab knows it.
func settled(n *sim.Net) string {
	ls := leaders(n)
	if len(ls) != 1 {
		return fmt.Sprintf("%d leaders among %d live tabs: %v", len(ls), len(n.LiveTabs()), ids(ls))
	}
	for _, t := range n.LiveTabs() {
		if got := t.Engine.Leader(); got != ls[0].ID {
			return fmt.Sprintf("%s takes %q for the leader, but %s leads", t.ID, got, ls[0].ID)
		}
	}
	return ""
}

// chaos runs a random workload: tabs join (some in the same millisecond),
// close, crash, freeze and resume, force leadership and get throttled,
// while the channel delays and loses messages. Then the faults stop and
// the run must settle within settleBound and stay settled.
func chaos(mode leader.Mode) func(seed int64) (*sim.Net, string) {
	return func(seed int64) (*sim.Net, string) {
		r := rand.New(rand.NewSource(seed))
		faults := sim.Faults{MaxDelayMs: int64(r.Intn(40))}
		if r.Intn(2) == 0 {
			faults.Loss = r.Float64() * 0.05
		}
		n := newNet(seed, mode, faults)
		n.DropWhileFrozen = r.Intn(2) == 0 // a hung page loses what it is sent
		watch(n, mode)
		for range 2 + r.Intn(4) {
			n.Join()
			if r.Intn(3) > 0 {
				n.RunFor(int64(r.Intn(300)))
			}
		}
		end := n.Now + 30_000
		for n.Now < end {
			n.RunFor(int64(200 + r.Intn(3000)))
			live := n.LiveTabs()
			pick := func() *sim.Tab { return live[r.Intn(len(live))] }
			switch k := r.Intn(10); {
			case len(live) == 0 || (k == 0 && len(live) < 6):
				n.Join()
			case k == 1:
				n.Close(pick())
			case k == 2:
				n.Crash(pick())
			case k <= 4:
				t := pick()
				n.Freeze(t)
				n.RunFor(int64(r.Intn(12_000)))
				n.Resume(t)
			case k == 5:
				n.ForceLeader(pick())
			case k == 6:
				n.Throttle(pick(), []int64{0, 1000, 60_000}[r.Intn(3)])
			case k == 7:
				if ls := leaders(n); len(ls) > 0 {
					n.Crash(ls[0])
				}
			}
			if len(n.Violations) > 0 {
				return n, n.Violations[0]
			}
		}
		// Heal: wake every tab, stop losing messages.
		for _, t := range n.Tabs {
			n.Resume(t)
			if !t.Crashed && !t.Closed {
				n.Throttle(t, 0)
			}
		}
		if len(n.LiveTabs()) == 0 {
			n.Join()
		}
		n.Faults.Loss = 0
		healed := n.Now
		// Settled from settledAt on, with the same leader: checked every
		// 50 ms until well after the bound.
		settledAt, var0 := int64(-1), (*sim.Tab)(nil)
		for n.Now < healed+settleBound+20*hb {
			n.RunFor(50)
			if settled(n) != "" {
				settledAt = -1
				continue
			}
			if l := leaders(n)[0]; settledAt < 0 || l != var0 {
				settledAt, var0 = n.Now, l
			}
		}
		if why := settled(n); why != "" {
			return n, fmt.Sprintf("not settled %d ms after the faults stopped: %s", n.Now-healed, why)
		}
		if settledAt-healed > settleBound {
			return n, fmt.Sprintf("settled only %d ms after the faults stopped", settledAt-healed)
		}
		maxSettle[mode] = max(maxSettle[mode], settledAt-healed)
		if len(n.Violations) > 0 {
			return n, n.Violations[0]
		}
		return n, ""
	}
}

// maxSettle is the longest time to settle seen, per mode, for the log.
var maxSettle = map[leader.Mode]int64{}

// TestLocksModeProperties: in locks mode, never two leaders acting at once,
// whatever happens; exactly one once the faults stop.
func TestLocksModeProperties(t *testing.T) {
	forSeeds(t, chaos(leader.Locks))
	t.Logf("longest time to settle after the faults stopped: %d ms (bound %d)", maxSettle[leader.Locks], settleBound)
}

// TestHeartbeatModeProperties: in heartbeat mode, overlaps are shorter than
// overlapBound; exactly one leader once the faults stop.
func TestHeartbeatModeProperties(t *testing.T) {
	forSeeds(t, chaos(leader.Heartbeat))
	t.Logf("longest time to settle after the faults stopped: %d ms (bound %d)", maxSettle[leader.Heartbeat], settleBound)
}

// TestThrottledTabsNeverFlap: hidden tabs whose timers the browser runs
// once a second or once a minute keep their leader for six minutes. Each
// run is long (six virtual minutes), so it takes 100 seeds.
func TestThrottledTabsNeverFlap(t *testing.T) {
	for _, mode := range []leader.Mode{leader.Locks, leader.Heartbeat} {
		t.Run(mode.String(), func(t *testing.T) {
			sim.ForSeeds(t, 100, func(seed int64) (*sim.Net, string) {
				r := rand.New(rand.NewSource(seed))
				n := newNet(seed, mode, sim.Faults{MaxDelayMs: int64(r.Intn(40))})
				watch(n, mode)
				for range 2 + r.Intn(3) {
					n.Join()
					n.RunFor(int64(r.Intn(200)))
				}
				n.RunFor(5 * hb)
				if why := settled(n); why != "" {
					return n, "not settled before throttling: " + why
				}
				first, grants := leaders(n)[0], n.Locks.Grants
				for _, tab := range n.Tabs {
					n.Throttle(tab, []int64{0, 1000, 60_000}[r.Intn(3)])
				}
				n.Throttle(first, []int64{1000, 60_000}[r.Intn(2)])
				n.RunFor(6 * 60_000)
				if ls := leaders(n); len(ls) > 1 || (len(ls) == 1 && ls[0] != first) {
					return n, fmt.Sprintf("leaders %v after throttling, was %s", ids(ls), first.ID)
				}
				if first.Engine.Leader() != first.ID {
					return n, fmt.Sprintf("%s stepped down", first.ID)
				}
				if n.Locks.Grants != grants {
					return n, fmt.Sprintf("the lock changed hands %d times", n.Locks.Grants-grants)
				}
				if len(n.Violations) > 0 {
					return n, n.Violations[0]
				}
				return n, ""
			})
		})
	}
}

func TestSimulatedLockManager(t *testing.T) {
	n := newNet(1, leader.Locks, sim.Faults{})
	a := n.Join()
	n.RunFor(10)
	b := n.Join()
	n.RunFor(10)
	require.Equal(t, a, n.Locks.Holder, "the first requester gets the lock")
	n.Freeze(a)
	n.RunFor(60_000)
	require.Equal(t, b, n.Locks.Holder, "b stole the frozen holder's lock")
	n.Resume(a)
	n.RunFor(10)
	require.Equal(t, b, n.Locks.Holder)
	n.Crash(b)
	n.RunFor(10)
	require.Equal(t, a, n.Locks.Holder, "a crashed holder's lock goes to the next in line")
}
