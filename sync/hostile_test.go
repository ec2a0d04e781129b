package sync_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tabsync/tabsync/internal/sim"
	tsync "github.com/tabsync/tabsync/sync"
)

// Two forged tabs claim, over and over, to be older than every real tab,
// so that no real tab thinks it should answer a new tab's state request.
// The new tab still gets the state, through the digest comparison of the
// pings, within three ping intervals.
func TestForgedOldestTabsDelayButDoNotStopTheState(t *testing.T) {
	n := sim.New(1, sim.Faults{MaxDelayMs: 5}, func(string) tsync.Config { return tsync.Config{PingMs: 1000} })
	a := n.Join()
	n.Join()
	n.RunFor(500)
	n.Write(a, "k", "v")
	n.RunFor(500)
	seq := 0.0
	forge := func() {
		for _, id := range []string{"ghost1", "ghost2"} {
			seq++
			n.Post(map[string]any{"type": "TAB_PING", "tabId": id, "v": 1.0, "seq": seq, "payload": map[string]any{"started": 1.0}})
		}
	}
	forge()
	n.RunFor(10)
	late := n.Join()
	took := int64(0)
	for ; took < 10_000 && late.Store["k"] != "v"; took += 10 {
		if took%1000 == 0 {
			forge() // keep the ghosts alive
		}
		n.RunFor(10)
	}
	assert.Equal(t, "v", late.Store["k"], "the new tab never got the state")
	t.Logf("the new tab got the state after %d ms (ping interval 1000 ms)", took)
	assert.LessOrEqual(t, took, int64(3000))
}
