//go:build e2e && !(js && wasm)

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// earlyScript is what both pages of TestChangesBeforeTheModuleLoads run,
// given lib (the package's exports) and makeStore: an app that creates the
// sync, calls start() and at once changes its store, as an app hydrating
// from the URL does, while tabsync.wasm is still loading. The query sets
// the channel, the strategy, the counts to set (set=7,8) and whether
// stop() follows them.
const earlyScript = `
  const q = new URLSearchParams(location.search);
  window.errors = [];
  window.store = makeStore({ count: 0, label: 'default' });
  window.sync = lib.createBroadcastSync(store, {
    channelName: q.get('channel'),
    conflictStrategy: q.get('strategy') || undefined,
    onError: (e) => errors.push(e.phase + ': ' + e.message),
  });
  sync.start();
  window.loadedBeforeChange = globalThis.__tabsync !== undefined;
  for (const n of (q.get('set') || '').split(',').filter(Boolean)) store.setState({ count: Number(n) });
  if (q.has('stop')) sync.stop();
`

// The two builds a page can load: the script-tag build with a store of its
// own, and the ESM entry (through an import map) with a zustand store.
var earlyPages = map[string]string{
	"script.html": `<!doctype html>
<meta charset="utf-8"><title>early, script tag</title><link rel="icon" href="data:,">
<script src="/tabsync/tabsync.js"></script>
<script>
  const lib = TabSync;
  const makeStore = (initial) => {
    let state = initial;
    const listeners = new Set();
    return {
      getState: () => state,
      setState: (patch) => {
        const prev = state;
        state = { ...state, ...(typeof patch === 'function' ? patch(state) : patch) };
        listeners.forEach((l) => l(state, prev));
      },
      subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
    };
  };
` + earlyScript + `
</script>`,
	"esm.html": `<!doctype html>
<meta charset="utf-8"><title>early, esm</title><link rel="icon" href="data:,">
<script type="importmap">
{ "imports": { "tabsync": "/tabsync/tabsync.mjs", "zustand/vanilla": "/zustand/vanilla.mjs" } }
</script>
<script type="module">
  import { createStore } from 'zustand/vanilla';
  import * as lib from 'tabsync';
  const makeStore = (initial) => createStore(() => initial);
` + earlyScript + `
</script>`,
}

// TestChangesBeforeTheModuleLoads: a tab already open has written count
// and label; a second tab, whose module takes wasmDelay to arrive, calls
// start() and at once sets count (twice: the last one wins locally). The
// change is the user's write: it reaches the open tab under last-write-wins
// and, under first-write-wins, loses to the open tab's earlier write as any
// write would. The label it did not change is the initial state, which
// yields to the open tab's. stop() before the module loads still sends the
// change made while started. Both builds.
func TestChangesBeforeTheModuleLoads(t *testing.T) {
	root := RepoRoot(t)
	dist := serve.RepoMounts(root)["/tabsync/"]
	skipUnbuilt(t, dist)
	pages := t.TempDir()
	for name, html := range earlyPages {
		require.NoError(t, os.WriteFile(filepath.Join(pages, name), []byte(html), 0o644))
	}
	files := serve.Handler(map[string]string{
		"/":         pages,
		"/tabsync/": dist,
		"/zustand/": filepath.Join(root, "npm", "node_modules", "zustand", "esm"),
	})
	// The module of the second tab of each case arrives late.
	const wasmDelay = 1500 * time.Millisecond
	var delay atomic.Int64
	b := NewBrowser(t)
	base := b.ServeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			time.Sleep(time.Duration(delay.Load()))
		}
		files.ServeHTTP(w, r)
	}))

	cases := []struct {
		name, page, strategy, query string
		// count is what every tab ends with; the second tab is active
		// at the end unless stopped.
		count   int
		stopped bool
	}{
		{"ScriptTagLastWriteWins", "script.html", "", "set=7,8", 8, false},
		{"ESMLastWriteWins", "esm.html", "", "set=7,8", 8, false},
		{"ESMFirstWriteWins", "esm.html", "first-write-wins", "set=7", 1, false},
		{"ScriptTagStopBeforeLoad", "script.html", "", "set=9&stop", 9, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := base + "/" + c.page + "?channel=early-" + c.name + "&strategy=" + c.strategy
			delay.Store(0)
			open := b.OpenTab(t, url)
			defer open.Close(t)
			open.WaitFor(t, `window.sync !== undefined && sync.ready.then(() => sync.isActive())`, 30*time.Second)
			open.Eval(t, `store.setState({ count: 1, label: 'open' }), true`, nil)

			delay.Store(int64(wasmDelay))
			early := b.OpenTab(t, url+"&"+c.query)
			defer early.Close(t)
			early.WaitFor(t, `window.sync !== undefined`, 10*time.Second)
			var before bool
			early.Eval(t, `loadedBeforeChange`, &before)
			require.False(t, before, "the module was still loading when the store changed")

			early.WaitFor(t, `sync.ready.then(() => true)`, 30*time.Second)
			// The label the second tab did not change yields to the open
			// tab's, which a stopped tab never hears of.
			label := map[*Tab]string{open: "open", early: "open"}
			if c.stopped {
				label[early] = "default"
			}
			for _, tab := range []*Tab{open, early} {
				tab.WaitFor(t, `store.getState().count === `+strconv.Itoa(c.count)+
					` && store.getState().label === '`+label[tab]+`' || (console.log(JSON.stringify(store.getState())), false)`, 10*time.Second)
			}
			// Whatever arrives late (a STATE_RESPONSE, a ping's
			// anti-entropy) changes nothing.
			time.Sleep(600 * time.Millisecond)
			for _, tab := range []*Tab{open, early} {
				var got struct {
					Count  int      `json:"count"`
					Label  string   `json:"label"`
					Errors []string `json:"errors"`
				}
				tab.Eval(t, `({ ...store.getState(), errors })`, &got)
				assert.Equal(t, c.count, got.Count, "count in %s", tab.URL())
				assert.Equal(t, label[tab], got.Label, "label in %s", tab.URL())
				assert.Empty(t, got.Errors, "onError in %s", tab.URL())
				assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
			}
			var active bool
			early.Eval(t, `sync.isActive()`, &active)
			assert.Equal(t, !c.stopped, active, "the second tab is active unless stopped")
		})
	}
}
