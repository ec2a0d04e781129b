//go:build e2e && !(js && wasm)

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The two pages a new user writes from the README: one with the script-tag
// build and a store of their own, one importing the package as ESM (through
// an import map, no bundler) with a zustand store.
const (
	scriptTagPage = `<!doctype html>
<meta charset="utf-8"><title>script tag</title><link rel="icon" href="data:,">
<script src="/node_modules/tabsync/dist/tabsync.js"></script>
<script>
  // Any object with getState, setState and subscribe is a store.
  let state = { count: 0 };
  const listeners = new Set();
  window.store = {
    getState: () => state,
    setState: (patch) => {
      const prev = state;
      state = { ...state, ...(typeof patch === 'function' ? patch(state) : patch) };
      listeners.forEach((l) => l(state, prev));
    },
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
  };
  window.sync = TabSync.createBroadcastSync(store, { channelName: 'new-app' });
  sync.start();
</script>`

	esmPage = `<!doctype html>
<meta charset="utf-8"><title>esm</title><link rel="icon" href="data:,">
<script type="importmap">
{ "imports": {
  "tabsync": "/node_modules/tabsync/dist/tabsync.mjs",
  "zustand/vanilla": "/zustand/vanilla.mjs"
} }
</script>
<script type="module">
  import { createStore } from 'zustand/vanilla';
  import { createBroadcastSync } from 'tabsync';
  window.store = createStore(() => ({ count: 0 }));
  window.sync = createBroadcastSync(store, { channelName: 'new-app' });
  sync.start();
</script>`
)

// TestPackedPackageInAnEmptyApp does what the README tells a new user to do:
// npm pack the package, install the tarball into an empty app, and use it
// from a script tag and from an ESM import, with the wasm loaded from beside
// the package's files by default. The two tabs sync with each other.
func TestPackedPackageInAnEmptyApp(t *testing.T) {
	root := RepoRoot(t)
	skipUnbuilt(t, filepath.Join(root, "npm", "dist"))
	tmp := t.TempDir()

	// npm pack runs the package's prepack build, which requires the wasm.
	npm(t, filepath.Join(root, "npm"), "pack", "--silent", "--pack-destination", tmp)
	tarballs, err := filepath.Glob(filepath.Join(tmp, "tabsync-*.tgz"))
	require.NoError(t, err)
	require.Len(t, tarballs, 1, "npm pack made one tarball")

	app := filepath.Join(tmp, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name": "app", "private": true}`), 0o644))
	npm(t, app, "install", "--no-audit", "--no-fund", "--offline", tarballs[0])
	require.NoError(t, os.WriteFile(filepath.Join(app, "script.html"), []byte(scriptTagPage), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "esm.html"), []byte(esmPage), 0o644))

	b := NewBrowser(t)
	base := b.Serve(map[string]string{
		"/":         app,
		"/zustand/": filepath.Join(root, "npm", "node_modules", "zustand", "esm"),
	})
	script, esm := b.OpenTab(t, base+"/script.html"), b.OpenTab(t, base+"/esm.html")
	for _, tab := range []*Tab{script, esm} {
		tab.WaitFor(t, `window.sync !== undefined && sync.ready.then(() => sync.isActive())`, 30*time.Second)
	}
	script.WaitFor(t, `sync.getConnectedTabs() === 2`, 15*time.Second)

	script.Eval(t, `store.setState({ count: 42 }), true`, nil)
	esm.WaitFor(t, `store.getState().count === 42`, 10*time.Second)
	esm.Eval(t, `store.setState({ count: 43 }), true`, nil)
	script.WaitFor(t, `store.getState().count === 43`, 10*time.Second)

	var wasm []string
	esm.Eval(t, `performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((p) => p.endsWith(".wasm"))`, &wasm)
	assert.Equal(t, []string{"/node_modules/tabsync/dist/tabsync-nopersist.wasm"}, wasm,
		"the module without persistence (the config sets none), from beside the package's files")
	for _, tab := range []*Tab{script, esm} {
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}
}

// npm runs npm with args in dir and fails the test with its output if it
// fails.
func npm(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm %s in %s:\n%s", strings.Join(args, " "), dir, out)
}
