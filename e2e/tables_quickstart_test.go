//go:build e2e && !(js && wasm)

package e2e

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/server/servertest"
)

// The reference's Quick Start runs unchanged except its import line,
// against tabsync-server on the reference's address, localhost:8081.
func TestTablesReferenceQuickStartRunsUnchanged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:8081")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.1:8081, which the Quick Start names: %v", err)
	}
	require.NoError(t, ln.Close())
	servertest.Run(t, &server.Options{Listen: "127.0.0.1:8081"})
	b := NewBrowser(t)
	tab := b.OpenTab(t, serveTables(t, b)+"/quickstart.html")
	tab.WaitFor(t, `window.result !== undefined`, 30*time.Second)
	var res struct {
		Player    any            `json:"player"`
		AllScores map[string]any `json:"allScores"`
		Status    string         `json:"status"`
	}
	tab.Eval(t, `window.result`, &res)
	assert.Equal(t, "undefined", res.Player)
	assert.Empty(t, res.AllScores)
	assert.Equal(t, "online", res.Status)
	var log []string
	tab.Eval(t, `window.log`, &log)
	assert.Equal(t, []string{"Sync event: local - set on game_scores", "Sync event: local - delete on game_scores"}, log)
	tab.WaitFor(t, `window.refreshed === 2`, 5*time.Second)
}
