//go:build e2e && !(js && wasm)

package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveTables serves e2e/testdata (tables.html) and the built npm package
// at /tabsync/.
func serveTables(t *testing.T, b *Browser) string {
	t.Helper()
	root := RepoRoot(t)
	dist := filepath.Join(root, "npm", "dist")
	skipUnbuilt(t, dist)
	return b.Serve(map[string]string{"/": filepath.Join(root, "e2e", "testdata"), "/tabsync/": dist})
}

type tableEvent struct {
	Table  string `json:"table"`
	Origin string `json:"origin"`
	Op     struct {
		Operation string `json:"operation"`
		Key       string `json:"key"`
		Value     any    `json:"value"`
	} `json:"op"`
	Meta struct {
		OpID         string  `json:"opId"`
		TableVersion float64 `json:"tableVersion"`
	} `json:"meta"`
}

func events(t *testing.T, tab *Tab) []tableEvent {
	t.Helper()
	var evs []tableEvent
	tab.Eval(t, `window.events`, &evs)
	return evs
}

// Offline, two tabs of one browser: a write resolves, is shown and pending
// in both tabs, with origin 'local' in the writer and 'local-tab' in the
// other; the status says offline.
func TestTablesOfflineWritesReachTheOtherTab(t *testing.T) {
	b := NewBrowser(t)
	base := serveTables(t, b) + "/tables.html?server=ws://127.0.0.1:9/sync&db=offline"
	a := b.OpenTab(t, base)
	c := b.OpenTab(t, base)
	for _, tab := range []*Tab{a, c} {
		tab.WaitFor(t, `window.isConnected === true && db.status === 'offline'`, 20*time.Second)
	}
	a.Eval(t, `db.set('scores', 'p1', {name: 'p1', score: 1500}).then(() => true)`, nil)
	c.WaitFor(t, `events.length === 1`, 5*time.Second)
	ea, ec := events(t, a), events(t, c)
	require.Len(t, ea, 1)
	assert.Equal(t, "local", ea[0].Origin)
	assert.Equal(t, "local-tab", ec[0].Origin)
	assert.Equal(t, ea[0].Meta.OpID, ec[0].Meta.OpID)
	assert.Zero(t, ea[0].Meta.TableVersion)
	var v map[string]any
	c.Eval(t, `db.get('scores', 'p1')`, &v)
	assert.Equal(t, map[string]any{"name": "p1", "score": 1500.0}, v)
	var pending int
	c.WaitFor(t, `db.pending === 1`, 5*time.Second)
	a.Eval(t, `db.pending`, &pending)
	assert.Equal(t, 1, pending)

	var msg string
	a.Eval(t, `db.set('scores', 'bad', {f: () => 1}).then(() => 'stored', (e) => e.name + ': ' + e.message)`, &msg)
	assert.Contains(t, msg, "TypeError")
	assert.Contains(t, msg, `"bad"`)
	a.Eval(t, `db.getAll('scores').then((all) => Object.keys(all).join(','))`, &msg)
	assert.Equal(t, "p1", msg)
}
