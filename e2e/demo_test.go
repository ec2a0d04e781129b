//go:build e2e && !(js && wasm)

package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// TestDemoLoads is a smoke test of the built package as a user gets it: the
// plain demo, served like `make demo` serves it, loads the script-tag build
// and the brotli-compressed module in two tabs without an uncaught
// exception. The tabsync behaviour itself is for the other e2e tests.
func TestDemoLoads(t *testing.T) {
	b := NewBrowser(t)
	base := b.ServeRepo(t)
	a := b.OpenTab(t, base+"/plain/")
	c := b.OpenTab(t, base+"/plain/")

	// The module sets globalThis.__tabsync when it has started (see
	// docs/WASM-CONTRACT.md).
	for _, tab := range []*Tab{a, c} {
		tab.WaitFor(t, `globalThis.__tabsync !== undefined`, 20*time.Second)
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}

	var encoding string
	a.Eval(t, `fetch("/tabsync/tabsync.wasm").then(() =>
		performance.getEntriesByType("resource")
			.filter((e) => e.name.endsWith("/tabsync.wasm"))
			.map((e) => e.encodedBodySize < e.decodedBodySize ? "compressed" : "identity")
			.pop())`, &encoding)
	assert.Equal(t, "compressed", encoding, "the module travels compressed")
}

// TestDemoInSync uses the plain demo as a user would, in two tabs: what is
// done in one shows in the other, apart from the per-tab draft. It takes a
// picture of the two tabs side by side, written to $TABSYNC_SCREENSHOT when
// set (docs/images/demo.png is made that way:
// TABSYNC_SCREENSHOT=$PWD/docs/images/demo.png), else to a temporary file.
func TestDemoInSync(t *testing.T) {
	b := NewBrowser(t)
	base := b.ServeRepo(t)
	// Two windows of 745×1000 CSS pixels, shown at 0.8, make a 1200×800
	// picture with a gap between them.
	const w, h, gap, scale = 596, 800, 8, 0.8
	tabs := []*Tab{b.OpenTab(t, base+"/plain/"), b.OpenTab(t, base+"/plain/")}
	for _, tab := range tabs {
		tab.SetViewport(t, int64(w/scale), int64(h/scale), scale)
		tab.WaitFor(t, `window.demo !== undefined && demo.sync.isActive()`, 20*time.Second)
		tab.WaitFor(t, `demo.sync.getConnectedTabs() === 2`, 20*time.Second)
	}
	a, c := tabs[0], tabs[1]

	a.Eval(t, `(() => {
		const $ = (id) => document.getElementById(id);
		const choose = (id, value) => {
			$(id).value = value;
			$(id).dispatchEvent(new Event("change"));
		};
		const add = (text) => {
			$("todo-input").value = text;
			$("todo-input").dispatchEvent(new Event("input"));
			$("todo-form").requestSubmit();
		};
		for (let i = 0; i < 3; i++) $("inc").click();
		add("Open this page in a second tab");
		add("Change something here");
		add("Watch the other tab follow");
		$("todo-list").querySelector("input[type=checkbox]").click();
		choose("locale", "fr");
		return true;
	})()`, nil)
	c.WaitFor(t, `document.getElementById("counter-value").textContent === "3" &&
		document.querySelectorAll("[data-testid=todo-item]").length === 3 &&
		document.querySelector("[data-testid=todo-item]").dataset.done === "true" &&
		document.documentElement.lang === "fr"`, 20*time.Second)

	// The draft is excluded from sync: typed in one tab, it stays there.
	c.Eval(t, `(() => {
		const input = document.getElementById("todo-input");
		input.value = "a draft only this tab sees";
		input.dispatchEvent(new Event("input"));
		return true;
	})()`, nil)
	c.Eval(t, `new Promise((r) => setTimeout(r, 300))`, nil)
	var draft string
	a.Eval(t, `document.getElementById("todo-input").value`, &draft)
	assert.Empty(t, draft, "the draft stays in its tab")

	for _, tab := range tabs {
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}

	saveSideBySide(t, tabs, w, h, gap, "TABSYNC_SCREENSHOT", "demo.png")
}

// TestReactDemo is a smoke test of tabsync/react with a React-bound
// zustand store: the React demo (examples/react), bundled with the npm
// package's own esbuild, React and zustand, syncs two tabs under
// StrictMode, and its Stop/Start button stops and resumes syncing.
func TestReactDemo(t *testing.T) {
	b := NewBrowser(t)
	root := RepoRoot(t)
	skipUnbuilt(t, filepath.Join(root, "npm", "dist"))
	modules := filepath.Join(root, "npm", "node_modules")
	esbuild := filepath.Join(modules, ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Skipf("esbuild is not installed in npm/node_modules (%v): run `make build` first", err)
	}
	out := t.TempDir()
	cmd := exec.Command(esbuild, filepath.Join(root, "examples", "react", "src", "main.jsx"),
		"--bundle", "--format=esm", "--jsx=automatic", "--log-level=warning",
		"--alias:react="+filepath.Join(modules, "react"),
		"--alias:react-dom="+filepath.Join(modules, "react-dom"),
		"--alias:zustand="+filepath.Join(modules, "zustand"),
		"--alias:tabsync/react="+filepath.Join(root, "npm", "dist", "react.mjs"),
		"--alias:tabsync="+filepath.Join(root, "npm", "dist", "tabsync.mjs"),
		`--define:process.env.NODE_ENV="development"`,
		"--outfile="+filepath.Join(out, "app.js"))
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "bundling the React demo: %s", msg)
	// The bundle stands where the demo's own build puts it.
	mounts := serve.RepoMounts(root)
	mounts["/react/dist/"] = out
	reactBase := b.Serve(mounts)

	a, c := b.OpenTab(t, reactBase+"/react/"), b.OpenTab(t, reactBase+"/react/")
	for _, tab := range []*Tab{a, c} {
		tab.WaitFor(t, `document.getElementById("tab-count")?.textContent === "2"`, 20*time.Second)
	}
	click := func(tab *Tab, id string) {
		t.Helper()
		tab.Eval(t, `document.getElementById("`+id+`").click(), true`, nil)
	}
	counter := func(tab *Tab, want string) {
		t.Helper()
		tab.WaitFor(t, `document.getElementById("counter-value").textContent === "`+want+`"`, 10*time.Second)
	}
	click(a, "inc")
	click(a, "inc")
	counter(c, "2")
	click(c, "dec")
	counter(a, "1")

	click(c, "toggle-sync")
	c.WaitFor(t, `document.getElementById("toggle-sync").textContent === "Start sync"`, 10*time.Second)
	click(a, "inc")
	counter(a, "2")
	c.Eval(t, `new Promise((r) => setTimeout(r, 300))`, nil)
	var shown string
	c.Eval(t, `document.getElementById("counter-value").textContent`, &shown)
	assert.Equal(t, "1", shown, "a stopped tab takes no changes")
	click(c, "toggle-sync")
	counter(c, "2")

	for _, tab := range []*Tab{a, c} {
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}
}

// saveSideBySide puts the viewports of tabs side by side, gap pixels apart on
// a dark background, in one PNG: at $env when it is set (how the README's
// pictures are made), else in a temporary file named name. It logs where.
func saveSideBySide(t *testing.T, tabs []*Tab, w, h, gap int, env, name string) {
	t.Helper()
	out := os.Getenv(env)
	if out == "" {
		out = filepath.Join(t.TempDir(), name)
	}
	picture := image.NewRGBA(image.Rect(0, 0, len(tabs)*w+(len(tabs)-1)*gap, h))
	draw.Draw(picture, picture.Bounds(), image.NewUniform(color.RGBA{0x2b, 0x2f, 0x45, 0xff}), image.Point{}, draw.Src)
	for i, tab := range tabs {
		shot, err := png.Decode(bytes.NewReader(tab.ViewportPNG(t)))
		require.NoError(t, err)
		at := image.Pt(i*(w+gap), 0)
		draw.Draw(picture, shot.Bounds().Add(at), shot, shot.Bounds().Min, draw.Src)
	}
	var buf bytes.Buffer
	require.NoError(t, (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, picture))
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
	t.Logf("screenshot: %s (%d bytes)", out, buf.Len())
}
