//go:build e2e && !(js && wasm)

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server/servertest"
)

const (
	tablesScriptPage = `<!doctype html>
<meta charset="utf-8"><title>tables script tag</title><link rel="icon" href="data:,">
<script src="/node_modules/tabsync/dist/tabsync.js"></script>
<script>
  window.events = [];
  window.addEventListener('idb-sync-update', (e) => events.push(e.detail));
  window.db = TabSync.createTableSync({ serverUrl: 'SERVER', tables: ['scores'] });
  window.connected = db.connect().then(() => true);
</script>`

	tablesESMPage = `<!doctype html>
<meta charset="utf-8"><title>tables esm</title><link rel="icon" href="data:,">
<script type="importmap">
{ "imports": { "tabsync": "/node_modules/tabsync/dist/tabsync.mjs" } }
</script>
<script type="module">
  import { createTableSync } from 'tabsync';
  window.events = [];
  window.addEventListener('idb-sync-update', (e) => events.push(e.detail));
  window.db = createTableSync({ serverUrl: 'SERVER', tables: ['scores'] });
  window.connected = db.connect().then(() => true);
</script>`
)

// The packed tarball in an empty app: createTableSync from the script-tag
// build and from ESM, the tables module loaded from beside the package's
// files, the two tabs sharing one connection to a real tabsync-server.
func TestPackedPackageTablesInAnEmptyApp(t *testing.T) {
	root := RepoRoot(t)
	skipUnbuilt(t, filepath.Join(root, "npm", "dist"))
	srv := servertest.Run(t, nil)
	tmp := t.TempDir()
	npm(t, filepath.Join(root, "npm"), "pack", "--silent", "--pack-destination", tmp)
	tarballs, err := filepath.Glob(filepath.Join(tmp, "tabsync-*.tgz"))
	require.NoError(t, err)
	require.Len(t, tarballs, 1)
	app := filepath.Join(tmp, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name": "app", "private": true}`), 0o644))
	npm(t, app, "install", "--no-audit", "--no-fund", "--offline", tarballs[0])
	for name, page := range map[string]string{"script.html": tablesScriptPage, "esm.html": tablesESMPage} {
		require.NoError(t, os.WriteFile(filepath.Join(app, name), []byte(strings.ReplaceAll(page, "SERVER", srv.URL())), 0o644))
	}

	b := NewBrowser(t)
	base := b.Serve(map[string]string{"/": app})
	script, esm := b.OpenTab(t, base+"/script.html"), b.OpenTab(t, base+"/esm.html")
	for _, tab := range []*Tab{script, esm} {
		tab.WaitFor(t, `window.db !== undefined && db.status === 'online'`, 30*time.Second)
	}
	script.Eval(t, `db.set('scores', 'p1', {score: 1}).then(() => true)`, nil)
	esm.WaitFor(t, `events.length === 1 && events[0].origin === 'local-tab'`, 10*time.Second)
	esm.Eval(t, `db.set('scores', 'p2', {score: 2}).then(() => true)`, nil)
	script.WaitFor(t, `events.length === 2 && db.pending === 0`, 10*time.Second)
	var v map[string]float64
	script.Eval(t, `db.get('scores', 'p2')`, &v)
	assert.Equal(t, map[string]float64{"score": 2}, v)

	for _, tab := range []*Tab{script, esm} {
		var wasm []string
		tab.Eval(t, `performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((p) => p.endsWith(".wasm"))`, &wasm)
		assert.Equal(t, []string{"/node_modules/tabsync/dist/tabsync-tables.wasm"}, wasm, "only the tables module, from beside the package's files")
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}
}
