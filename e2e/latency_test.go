//go:build e2e && !(js && wasm)

package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// latencyChanges is how many changes TestLatency times.
const latencyChanges = 200

// TestLatency measures how long a change made in one tab (store.setState)
// takes to reach the store of another tab, next to a plain
// BroadcastChannel message between the same two tabs in the same run. It
// reports the numbers and fails only when nothing arrives.
//
// Each tab has its own performance.now(), so the primary figure is a round
// trip timed on one clock: tab A sets ping = i, tab B's store gets it and
// B sets pong = i (a local write of its own, synced back), and A's store
// gets pong; half of that is the one-way time. The plain channel is timed
// the same way, a message posted back by B's onmessage. The one-way times
// are also computed from timestamps on the clock the tabs share
// (performance.timeOrigin + performance.now()), which is only as good as
// the agreement of the two tabs' time origins. The changes are paced one at
// a time, each answered before the next, with throttleMs: 0 (with the
// default throttle of 100 ms a change in an open window waits for it to
// close, which would measure the throttle).
func TestLatency(t *testing.T) {
	s := newSuite(t)
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, `throttleMs: 0`, "{}")
	b.setup(t, ch, `throttleMs: 0`, "{}")
	b.Eval(t, fmt.Sprintf(`latency.echo(%q), true`, ch+"-raw"), nil)

	a.Eval(t, fmt.Sprintf(`window.measured = null;
		latency.measure(%d, %q, 5000).then((r) => { window.measured = r }, (e) => { window.measured = {error: String(e)} });
		true`, latencyChanges, ch+"-raw"), nil)
	a.WaitFor(t, `window.measured !== null`, 5*time.Minute)
	var rtt struct {
		Sync  []float64 `json:"sync"`
		Raw   []float64 `json:"raw"`
		Error string    `json:"error"`
	}
	a.Eval(t, `measured`, &rtt)
	require.Empty(t, rtt.Error, "a change did not arrive")
	require.Len(t, rtt.Sync, latencyChanges)
	var oneWay struct {
		Sync []float64 `json:"sync"`
		Raw  []float64 `json:"raw"`
	}
	b.Eval(t, `latency.oneWay`, &oneWay)

	half := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x / 2
		}
		return out
	}
	lines := []string{
		fmt.Sprintf("latency over %d changes, one at a time, throttleMs 0 (ms, round trip / 2):", latencyChanges),
		"  tabsync setState -> other tab's store: " + summary(half(rtt.Sync)),
		"  plain BroadcastChannel message:        " + summary(half(rtt.Raw)),
		"  one-way on the shared clock, tabsync:  " + summary(oneWay.Sync),
		"  one-way on the shared clock, channel:  " + summary(oneWay.Raw),
	}
	for _, l := range lines {
		t.Log(l)
		fmt.Println(l)
	}
}

// summary formats the median, p95, p99 and maximum of xs.
func summary(xs []float64) string {
	if len(xs) == 0 {
		return "no samples"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("median %.3f  p95 %.3f  p99 %.3f  max %.3f  (n=%d)", q(0.5), q(0.95), q(0.99), s[len(s)-1], len(s))
}
