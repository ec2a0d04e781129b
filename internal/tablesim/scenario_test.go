package tablesim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tables"
)

// The connected tab sends a write while its transaction runs: a crash
// between the two leaves the server with a write the browser never stored.
// The server applies it once, the device's other tab and the other device
// get it as a change, with the origins they would give any write of that
// browser, and the write's promise never resolved.
func TestConnectedTabCrashesBetweenSendAndCommit(t *testing.T) {
	w := New(1, Faults{MaxDelayMs: 2})
	a, b := w.AddDevice(), w.AddDevice()
	w.Open(a, "scores")
	w.Open(a, "scores")
	far := w.Open(b, "scores")
	w.RunFor(3000)
	require.Len(t, a.Leaders(), 1)
	writer := a.Leaders()[0]
	other := a.LiveTabs()[0]
	if other == writer {
		other = a.LiveTabs()[1]
	}

	id := w.Set(writer, "scores", "p1", `{"s":1}`)
	w.Crash(writer) // at the same instant: the frame is out, the transaction not committed
	w.RunFor(20000)

	assert.Empty(t, w.Check())
	assert.False(t, w.Writes[id].Resolved)
	assert.Equal(t, 1, w.Server.Applied[id], "the server has the write the tab sent")
	assert.Empty(t, a.DB.Ops)
	for _, c := range []struct {
		tab    *Tab
		origin string
	}{{other, tables.OriginLocalTab}, {far, tables.OriginServer}} {
		var got []string
		for _, ev := range c.tab.Events {
			if ev.OpID == id {
				got = append(got, ev.Origin)
			}
		}
		assert.Equal(t, []string{c.origin}, got, "%s's events of %s: %+v", c.tab.ID, id, c.tab.Events)
	}
	v, ok := other.Engine.Get("scores", "p1")
	assert.True(t, ok)
	assert.Equal(t, `{"s":1}`, v)
}
