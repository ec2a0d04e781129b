package leader_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A script of the origin posts a LEADER_ANNOUNCE and a HEARTBEAT naming a
// tab that does not exist, with the highest term a JavaScript number holds
// exactly (dropped: the next term could not be read) or the highest
// accepted. The tabs still settle on one real leader, and elect again after
// it goes.
func TestForgedLeaderWithTheHighestTerm(t *testing.T) {
	for _, mode := range modes {
		for _, c := range []struct {
			term   float64
			leader string
		}{{1<<53 - 1, "evil"}, {1<<53 - 1, "0"}, {1<<53 - 1, "zzzz"}, {1 << 52, "evil"}} {
			term := c.term
			t.Run(fmt.Sprint(mode, "/", term, "/", c.leader), func(t *testing.T) {
				n := newNet(3, mode, quiet)
				for range 3 {
					n.Join()
				}
				_, ok := runUntil(n, 10*hb, oneLeader(n))
				require.True(t, ok, settled(n))

				for i, typ := range []string{"LEADER_ANNOUNCE", "HEARTBEAT"} {
					n.Post(map[string]any{"type": typ, "tabId": c.leader, "v": 1.0, "seq": float64(i + 1),
						"payload": map[string]any{"term": term, "leader": c.leader}})
				}
				n.RunFor(hb)
				took, ok := runUntil(n, 20*hb, oneLeader(n))
				require.True(t, ok, "no single real leader after the forgery: %s\n%s", settled(n), n.Trace(40))
				t.Logf("one real leader %d ms after the forgery", took)

				n.Close(leaders(n)[0])
				took, ok = runUntil(n, 20*hb, oneLeader(n))
				require.True(t, ok, "no leader after the real one closed: %s\n%s", settled(n), n.Trace(40))
				t.Logf("and a new one %d ms after it closed", took)
				n.RunFor(10 * hb)
				assert.Len(t, leaders(n), 1)
			})
		}
	}
}
