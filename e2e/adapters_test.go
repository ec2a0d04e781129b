//go:build e2e && !(js && wasm)

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// The framework demos of examples/frameworks, built with Vite from its lock
// file by `make build` (tools/npm-build.sh examples/frameworks): one page per
// adapter of the npm package, each a real app of its framework.
var frameworkDemos = []string{"redux", "pinia", "vue", "svelte", "valtio", "jotai"}

// serveFrameworkDemos serves examples/ at / (the demos' build in
// /frameworks/dist/) and returns the base URL; the test is skipped when the
// demos are not built.
func serveFrameworkDemos(t *testing.T, b *Browser) string {
	t.Helper()
	return b.ServeHandler(frameworkDemosHandler(t))
}

// frameworkDemosHandler serves examples/, skipping the test when the
// framework demos are not built.
func frameworkDemosHandler(t *testing.T) http.Handler {
	t.Helper()
	root := RepoRoot(t)
	for _, fw := range frameworkDemos {
		if _, err := os.Stat(filepath.Join(root, "examples", "frameworks", "dist", fw+".html")); err != nil {
			t.Skipf("the framework demos are not built (%v): run `make build` first", err)
		}
	}
	return serve.Handler(map[string]string{"/": filepath.Join(root, "examples")})
}

// demoJS is what the tests run in a demo page: type into an input as a user
// would (the native value setter, so React sees it too), and count the
// STATE_UPDATE messages on a channel by sender.
const demoJS = `
window.typeInto = (sel, text) => {
  const el = document.querySelector(sel);
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, text);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  return true;
};
window.countUpdates = (name) => {
  window.updates = {};
  const bc = new BroadcastChannel(name);
  bc.onmessage = ({ data }) => {
    if (data && data.type === 'STATE_UPDATE') updates[data.tabId] = (updates[data.tabId] || 0) + 1;
  };
  return true;
};
`

// TestFrameworkDemos opens each framework's demo in three tabs, under
// first-write-wins: a change in one re-renders the others; the todo draft
// (excludeKeys) stays in its tab; no tab sends anything back for a remote
// change (every STATE_UPDATE on the channel counted by sender); a stopped
// tab neither takes nor sends, and once started again it sends the change
// it made meanwhile, which loses to the deeper one it missed (first-write-
// wins; under the default last-write-wins its later write would win), and
// takes that one; a destroyed tab neither sends nor takes; and with every
// tab closed, a new one restores the state from IndexedDB (persist) but the
// draft, and sends nothing for it. The Pinia and Svelte demos also sync a
// second store (a setup store; a Svelte 5 $state object) on a channel of
// its own, which a stopped or destroyed tab stops too.
func TestFrameworkDemos(t *testing.T) {
	b := NewBrowser(t)
	base := serveFrameworkDemos(t, b)

	// The landing page links each demo.
	index := b.OpenTab(t, base+"/")
	var statuses []int
	index.Eval(t, `Promise.all(`+jsList(frameworkDemos)+`.map((k) =>
		fetch(document.getElementById("demo-" + k).href).then((r) => r.status)))`, &statuses)
	assert.Equal(t, []int{200, 200, 200, 200, 200, 200}, statuses, "the index page's links to the demos")
	index.Close(t)

	for _, fw := range frameworkDemos {
		t.Run(fw, func(t *testing.T) {
			ch := "e2e-" + fw
			channel := ch
			if fw == "pinia" {
				channel = ch + "-pinia:demo"
			}
			url := base + "/frameworks/dist/" + fw + ".html?throttle=0&strategy=first-write-wins&ch=" + ch
			second := fw == "pinia" || fw == "svelte" // the demo syncs a theme too
			tabs := []*Tab{b.OpenTab(t, url), b.OpenTab(t, url), b.OpenTab(t, url)}
			a, bb, c := tabs[0], tabs[1], tabs[2]
			for _, tab := range tabs {
				tab.Eval(t, demoJS+"true", nil)
				tab.WaitFor(t, `document.getElementById("tab-count").textContent === "3"`, 20*time.Second)
			}
			a.Eval(t, `countUpdates(`+strconv.Quote(channel)+`)`, nil)
			ids := map[*Tab]string{}
			for _, tab := range tabs {
				var id string
				tab.Eval(t, `sync.getTabId()`, &id)
				ids[tab] = id
			}
			click := func(tab *Tab, sel string) {
				t.Helper()
				tab.Eval(t, `document.querySelector(`+strconv.Quote(sel)+`).click(), true`, nil)
			}
			shows := func(tab *Tab, sel, want string) {
				t.Helper()
				tab.WaitFor(t, `document.querySelector(`+strconv.Quote(sel)+`)?.textContent.trim() === `+strconv.Quote(want), 10*time.Second)
			}
			settle := func() { a.Eval(t, `new Promise((r) => setTimeout(r, 300))`, nil) }
			text := func(tab *Tab, js string) string {
				t.Helper()
				var s string
				tab.Eval(t, js, &s)
				return s
			}

			click(a, "#inc")
			for _, tab := range tabs {
				shows(tab, "#count", "1")
			}
			bb.Eval(t, `typeInto("#draft", "milk")`, nil)
			click(bb, "#add")
			for _, tab := range tabs {
				shows(tab, "#todos li", "milk")
			}
			click(c, "#todos input")
			a.WaitFor(t, `document.querySelector("#todos li").className === "done"`, 10*time.Second)
			settle()
			assert.Equal(t, "milk", text(bb, `document.querySelector("#draft").value`), "the draft stays in its tab")
			for _, tab := range []*Tab{a, c} {
				assert.Empty(t, text(tab, `document.querySelector("#draft").value`), "the draft (excludeKeys) stays in its tab")
			}
			var sent map[string]int
			a.Eval(t, `updates`, &sent)
			assert.Equal(t, map[string]int{ids[a]: 1, ids[bb]: 1, ids[c]: 1}, sent,
				"one STATE_UPDATE per change and none for a remote change (no echo)")

			if second {
				click(bb, "#toggle-theme")
				for _, tab := range tabs {
					shows(tab, "#theme", "dark")
				}
			}

			// A stopped tab neither takes nor sends. a makes two writes of
			// count (3), c one (2) concurrently with them: when c starts
			// again it sends its write, and first-write-wins keeps a's, the
			// deeper (last-write-wins would keep c's, the later), in every
			// tab. The second store's change reaches c on start too.
			click(c, "#toggle-sync")
			shows(c, "#toggle-sync", "Start sync")
			click(a, "#inc")
			click(a, "#inc")
			if second {
				click(a, "#toggle-theme")
				shows(bb, "#theme", "light")
			}
			shows(bb, "#count", "3")
			click(c, "#inc")
			settle()
			assert.Equal(t, "2", text(c, `document.querySelector("#count").textContent`), "a stopped tab takes no changes")
			if second {
				assert.Equal(t, "dark", text(c, `document.querySelector("#theme").textContent`), "a stopped tab's second store takes no changes")
			}
			a.Eval(t, `updates`, &sent)
			assert.Equal(t, 1, sent[ids[c]], "a stopped tab sends nothing")
			click(c, "#toggle-sync")
			for _, tab := range tabs {
				shows(tab, "#count", "3")
			}
			if second {
				shows(c, "#theme", "light")
			}
			click(c, "#inc")
			for _, tab := range tabs {
				shows(tab, "#count", "4")
			}

			// A destroyed tab neither takes nor sends.
			click(bb, "#destroy")
			shows(bb, "#active", "destroyed")
			click(a, "#inc")
			shows(c, "#count", "5")
			if second {
				click(a, "#toggle-theme")
				shows(c, "#theme", "dark")
			}
			click(bb, "#inc")
			settle()
			assert.Equal(t, "5", text(bb, `document.querySelector("#count").textContent`), "the destroyed tab took nothing")
			if second {
				assert.Equal(t, "light", text(bb, `document.querySelector("#theme").textContent`), "the destroyed tab's second store took nothing")
			}
			assert.Equal(t, "5", text(a, `document.querySelector("#count").textContent`), "the destroyed tab sent nothing")
			a.Eval(t, `updates`, &sent)
			assert.Equal(t, map[string]int{ids[a]: 4, ids[bb]: 1, ids[c]: 3}, sent,
				"c sent its write made while stopped once, on start; nothing more from the destroyed tab")

			for _, tab := range tabs {
				assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
				tab.Close(t)
			}

			// Persisted: a tab opened alone restores the last state but the
			// draft, and sends nothing for it (STATE_UPDATEs counted from
			// before the page's scripts run); its own change goes out.
			d := openWith(t, b, url, demoJS+`countUpdates(`+strconv.Quote(channel)+`)`)
			shows(d, "#count", "5")
			shows(d, "#todos li", "milk")
			assert.Equal(t, "done", text(d, `document.querySelector("#todos li").className`))
			if second {
				shows(d, "#theme", "dark")
			}
			assert.Empty(t, text(d, `document.querySelector("#draft").value`), "the draft (excludeKeys) is not stored")
			var idD string
			d.Eval(t, `sync.getTabId()`, &idD)
			click(d, "#inc")
			shows(d, "#count", "6")
			d.WaitFor(t, `updates[`+strconv.Quote(idD)+`] === 1`, 10*time.Second)
			d.Eval(t, `new Promise((r) => setTimeout(r, 300))`, nil)
			var fromD map[string]int
			d.Eval(t, `updates`, &fromD)
			assert.Equal(t, map[string]int{idD: 1}, fromD, "the restored state was not sent; the change was, once")
			assert.Empty(t, d.Exceptions())
			d.Close(t)
		})
	}
}

// openWith opens url in a new tab that runs script before the page's own
// scripts (Page.addScriptToEvaluateOnNewDocument), and waits for the demo's
// sync instance.
func openWith(t *testing.T, b *Browser, url, script string) *Tab {
	t.Helper()
	tab := b.OpenTab(t, "about:blank")
	Call(t, tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
	tab.url = url
	tab.Eval(t, `location.href = `+strconv.Quote(url)+`, true`, nil)
	tab.WaitFor(t, `window.sync && document.getElementById("count")`, LoadTimeout)
	return tab
}

// jsList writes a JavaScript array of strings.
func jsList(items []string) string {
	out := "["
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += strconv.Quote(s)
	}
	return out + "]"
}

// devtoolsStub stands in for the Redux DevTools extension's connect API and
// records the performance measures, from before the page's own scripts run.
const devtoolsStub = `
window.devtoolsLog = { connected: [], actions: [], measures: [] };
window.__REDUX_DEVTOOLS_EXTENSION__ = {
  connect(options) {
    devtoolsLog.connected.push(options.name);
    return {
      init() {},
      send(action) { devtoolsLog.actions.push(action); },
      subscribe() { return () => {}; },
      unsubscribe() {},
    };
  },
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name.startsWith('tabsync:')) devtoolsLog.measures.push(e.name);
}).observe({ entryTypes: ['measure'] });
`

// TestDevtools runs the Vue demo with ?devtools=1 in two tabs under a stub
// of the Redux DevTools extension: each tab connects as its own instance
// named with its short tab id; the sender records a tabsync/sent action and
// a tabsync:send measure, the receiver a tabsync/applied action naming the
// keys and the source tab and tabsync:receive and tabsync:apply measures.
// With devtools 'auto' in the demos' production build, the extension is
// never called and devtools.mjs is never fetched. The script-tag build loads
// devtools.mjs from beside tabsync.js.
func TestDevtools(t *testing.T) {
	b := NewBrowser(t)
	// devtools.mjs is held back until the three tabs sync, so that it
	// attaches after the instance's channel exists: then a message reached
	// the instance before devtools noted its arrival, and tabsync:receive
	// was missing (a flake whenever the module loaded before devtools.mjs).
	demos := frameworkDemosHandler(t)
	release := make(chan struct{})
	base := b.ServeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "devtools") {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		demos.ServeHTTP(w, r)
	}))
	open := func(query string) *Tab {
		return openWith(t, b, base+"/frameworks/dist/vue.html?throttle=0&persist=0&ch=e2e-devtools"+query, devtoolsStub)
	}
	a, c := open("&devtools=1"), open("&devtools=1")
	plain := open("&devtools=auto") // a production build: auto is off
	for _, tab := range []*Tab{a, c, plain} {
		tab.WaitFor(t, `document.getElementById("tab-count").textContent === "3"`, 20*time.Second)
	}
	close(release)
	a.WaitFor(t, `devtoolsLog.connected.length === 1`, 10*time.Second)
	c.WaitFor(t, `devtoolsLog.connected.length === 1`, 10*time.Second)
	var idA, idC string
	a.Eval(t, `sync.getTabId()`, &idA)
	c.Eval(t, `sync.getTabId()`, &idC)

	a.Eval(t, `document.getElementById("inc").click(), true`, nil)
	c.WaitFor(t, `devtoolsLog.actions.some((x) => x.type === "tabsync/applied")`, 10*time.Second)
	a.WaitFor(t, `devtoolsLog.measures.includes("tabsync:send")`, 10*time.Second)

	type log struct {
		Connected []string         `json:"connected"`
		Actions   []map[string]any `json:"actions"`
		Measures  []string         `json:"measures"`
	}
	var la, lc, lp log
	a.Eval(t, `devtoolsLog`, &la)
	c.Eval(t, `devtoolsLog`, &lc)
	plain.Eval(t, `devtoolsLog`, &lp)

	assert.Equal(t, []string{"tabsync e2e-devtools " + idA[len(idA)-6:]}, la.Connected, "one instance per tab, named by its short id")
	assert.Equal(t, []string{"tabsync e2e-devtools " + idC[len(idC)-6:]}, lc.Connected)
	assert.Contains(t, la.Actions, map[string]any{"type": "tabsync/sent", "message": "STATE_UPDATE", "keys": []any{"count"}})
	assert.Contains(t, lc.Actions, map[string]any{"type": "tabsync/applied", "keys": []any{"count"}, "source": idA})
	assert.Contains(t, la.Measures, "tabsync:send")
	assert.Subset(t, lc.Measures, []string{"tabsync:receive", "tabsync:apply"})

	assert.Empty(t, lp.Connected, "devtools auto in production: the extension is not called")
	assert.Empty(t, lp.Measures, "devtools auto in production: no measures")
	var fetched bool
	plain.Eval(t, `performance.getEntriesByType("resource").some((e) => e.name.includes("devtools"))`, &fetched)
	assert.False(t, fetched, "devtools off: its module is not fetched")
	a.Eval(t, `performance.getEntriesByType("resource").some((e) => e.name.includes("devtools"))`, &fetched)
	assert.True(t, fetched, "devtools on: its module is fetched")
	require.Empty(t, a.Exceptions())
	require.Empty(t, c.Exceptions())

	// The script-tag build fetches devtools.mjs from beside tabsync.js.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "script.html"), []byte(`<!doctype html>
<meta charset="utf-8"><title>script tag, devtools</title><link rel="icon" href="data:,">
<script src="/tabsync/tabsync.js"></script>
<script>
  let state = { n: 0 };
  window.sync = TabSync.createBroadcastSync(
    { getState: () => state, setState: (p) => (state = { ...state, ...p }), subscribe: () => () => {} },
    { channelName: 'e2e-devtools-script', devtools: true });
  sync.start();
</script>`), 0o644))
	root := RepoRoot(t)
	scriptBase := b.Serve(map[string]string{"/": dir, "/tabsync/": filepath.Join(root, "npm", "dist")})
	s := b.OpenTab(t, "about:blank")
	Call(t, s, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: devtoolsStub})
	s.url = scriptBase + "/script.html"
	s.Eval(t, `location.href = `+strconv.Quote(s.url)+`, true`, nil)
	s.WaitFor(t, `window.devtoolsLog && devtoolsLog.connected.length === 1`, LoadTimeout)
	var from []string
	s.Eval(t, `performance.getEntriesByType("resource").filter((e) => e.name.includes("devtools")).map((e) => new URL(e.name).pathname)`, &from)
	assert.Equal(t, []string{"/tabsync/devtools.mjs"}, from)
	assert.Empty(t, s.Exceptions())
}
