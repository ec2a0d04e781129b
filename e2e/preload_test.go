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

	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// preloadPage is the README's preload recipe (Install) in a page that
// creates an instance without persist, so that the loader fetches
// tabsync-nopersist.wasm; wasm is the module the page preloads.
func preloadPage(wasm string) string {
	return `<!doctype html>
<meta charset="utf-8"><title>preload</title><link rel="icon" href="data:,">
<link rel="modulepreload" href="/tabsync/tabsync.mjs">
<link rel="preload" href="/tabsync/` + wasm + `" as="fetch" type="application/wasm" crossorigin>
<script type="module">
  import { createBroadcastSync } from '/tabsync/tabsync.mjs';
  let state = { n: 0 };
  const store = { getState: () => state, setState: (p) => { state = { ...state, ...p }; }, subscribe: () => () => {} };
  const sync = createBroadcastSync(store, { channelName: 'preload' });
  sync.start();
  sync.ready.then(() => { window.isReady = true; });
</script>`
}

// unusedPreload is the start of Chromium's console warning for a preloaded
// response nobody took up.
const unusedPreload = "was preloaded using link preload but not used"

// TestPreloadRecipeIsTakenUp loads a page with the README's preload recipe
// and checks that the loader's fetch takes up the preloaded response: the
// module is downloaded once (one resource timing entry, from the link) and
// Chromium does not warn of an unused preload. A page that preloads the
// other module gets the warning and two downloads, so the check can fail.
func TestPreloadRecipeIsTakenUp(t *testing.T) {
	b := NewBrowser(t)
	root := RepoRoot(t)
	dist := serve.RepoMounts(root)["/tabsync/"]
	skipUnbuilt(t, dist)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "used.html"), []byte(preloadPage("tabsync-nopersist.wasm")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "unused.html"), []byte(preloadPage("tabsync.wasm")), 0o644))
	base := b.Serve(map[string]string{"/": dir, "/tabsync/": dist})

	used := b.OpenTab(t, base+"/used.html")
	unused := b.OpenTab(t, base+"/unused.html")
	for _, tab := range []*Tab{used, unused} {
		tab.WaitFor(t, "window.isReady === true", 30*time.Second)
	}
	// Chromium warns a few seconds (3 in Chromium 156) after the load event.
	time.Sleep(5 * time.Second)

	downloads := func(tab *Tab) []string {
		var out []string
		tab.Eval(t, `performance.getEntriesByType('resource')
			.filter((e) => e.name.endsWith('.wasm'))
			.map((e) => e.name.split('/').pop() + ' ' + e.initiatorType)`, &out)
		return out
	}
	warned := func(tab *Tab) bool {
		for _, m := range tab.Console() {
			if strings.Contains(m, unusedPreload) {
				return true
			}
		}
		return false
	}
	assert.Equal(t, []string{"tabsync-nopersist.wasm link"}, downloads(used), "one download, the preload's")
	assert.False(t, warned(used), "no unused-preload warning; console: %q", used.Console())
	assert.ElementsMatch(t, []string{"tabsync.wasm link", "tabsync-nopersist.wasm fetch"}, downloads(unused), "the control downloads both")
	assert.True(t, warned(unused), "the control gets Chromium's warning; console: %q", unused.Console())
}
