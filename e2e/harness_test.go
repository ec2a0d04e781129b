//go:build e2e && !(js && wasm)

package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// channelPage is a page with no tabsync in it: it only relays messages over
// a BroadcastChannel and logs what it gets, so that a failure here is the
// harness's or the browser's, never the library's.
const channelPage = `<!doctype html>
<meta charset="utf-8">
<title>e2e channel</title>
<link rel="icon" href="data:,">
<script>
window.received = [];
const ch = new BroadcastChannel("e2e");
ch.onmessage = (e) => {
	window.received.push(e.data);
	console.log("got " + e.data);
};
window.send = (m) => ch.postMessage(m);
// A timer that keeps the page busy, to tell a live tab from a dead one.
window.ticks = 0;
setInterval(() => window.ticks++, 20);
console.info("ready");
</script>
<h1>e2e channel page</h1>
`

func servePage(t *testing.T, b *Browser) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(channelPage), 0o644))
	return b.Serve(map[string]string{"/": dir}) + "/"
}

// TestTabsShareBrowserContext checks that the tabs of one Browser talk over
// BroadcastChannel and share Web Locks and IndexedDB: without that, no
// multi-tab test of tabsync means anything.
func TestTabsShareBrowserContext(t *testing.T) {
	b := NewBrowser(t)
	url := servePage(t, b)
	a := b.OpenTab(t, url)
	c := b.OpenTab(t, url)

	a.Eval(t, `send("hello from a")`, nil)
	c.WaitFor(t, `received.includes("hello from a")`, 5*time.Second)
	c.Eval(t, `send("hello from c")`, nil)
	a.WaitFor(t, `received.includes("hello from c")`, 5*time.Second)

	var got []string
	a.Eval(t, `received`, &got)
	assert.Equal(t, []string{"hello from c"}, got, "a tab does not receive its own messages")

	// A lock held in one tab is seen held by the other.
	a.Eval(t, `new Promise((held) => navigator.locks.request("e2e-lock", () => {
		held(true);
		return new Promise(() => {}); // hold it until the tab goes
	}))`, nil)
	var held []string
	c.Eval(t, `navigator.locks.query().then((s) => s.held.map((l) => l.name))`, &held)
	assert.Contains(t, held, "e2e-lock")

	// A database written in one tab is read in the other.
	a.Eval(t, `new Promise((ok, fail) => {
		const r = indexedDB.open("e2e", 1);
		r.onupgradeneeded = () => r.result.createObjectStore("kv");
		r.onerror = () => fail(r.error);
		r.onsuccess = () => {
			const tx = r.result.transaction("kv", "readwrite");
			tx.objectStore("kv").put("shared", "k");
			tx.oncomplete = () => { r.result.close(); ok(true); };
			tx.onerror = () => fail(tx.error);
		};
	})`, nil)
	var value string
	c.Eval(t, `new Promise((ok, fail) => {
		const r = indexedDB.open("e2e", 1);
		r.onerror = () => fail(r.error);
		r.onsuccess = () => {
			const get = r.result.transaction("kv").objectStore("kv").get("k");
			get.onsuccess = () => { r.result.close(); ok(get.result); };
			get.onerror = () => fail(get.error);
		};
	})`, &value)
	assert.Equal(t, "shared", value)
}

func TestConsoleAndExceptions(t *testing.T) {
	b := NewBrowser(t)
	tab := b.OpenTab(t, servePage(t, b))

	assert.Contains(t, tab.Console(), "info: ready", "messages logged while the page loads are kept")

	tab.Eval(t, `console.warn("careful", 42)`, nil)
	tab.Eval(t, `setTimeout(() => { throw new Error("boom") }, 0)`, nil)
	tab.Eval(t, `Promise.reject(new Error("rejected")); true`, nil)
	require.Eventually(t, func() bool { return len(tab.Exceptions()) >= 2 }, 5*time.Second, 20*time.Millisecond,
		"exceptions so far: %q", tab.Exceptions())

	assert.Contains(t, tab.Console(), "warning: careful 42")
	ex := strings.Join(tab.Exceptions(), "\n")
	assert.Contains(t, ex, "boom")
	assert.Contains(t, ex, "rejected")

	var n int
	tab.Eval(t, `Promise.resolve(40).then((x) => x + 2)`, &n)
	assert.Equal(t, 42, n, "Eval awaits promises")
}

// TestCrashLeavesOtherTabsRunning crashes the tab that holds a Web Lock and
// checks that the other tab keeps running, keeps receiving messages, and
// gets the lock.
func TestCrashLeavesOtherTabsRunning(t *testing.T) {
	b := NewBrowser(t)
	url := servePage(t, b)
	victim := b.OpenTab(t, url)
	survivor := b.OpenTab(t, url)

	victim.Eval(t, `new Promise((held) => navigator.locks.request("leader", () => {
		held(true);
		return new Promise(() => {});
	}))`, nil)
	survivor.Eval(t, `window.gotLock = false;
		navigator.locks.request("leader", () => { window.gotLock = true; return new Promise(() => {}); }),
		true`, nil)
	var got bool
	survivor.Eval(t, `gotLock`, &got)
	require.False(t, got, "the lock is held by the other tab")

	victim.Crash(t)

	survivor.WaitFor(t, `gotLock`, 5*time.Second)
	var before, after int
	survivor.Eval(t, `ticks`, &before)
	survivor.WaitFor(t, `ticks > `+strconv.Itoa(before), 2*time.Second)
	survivor.Eval(t, `ticks`, &after)
	assert.Greater(t, after, before, "the surviving tab keeps running its timers")

	// A new tab still talks to the survivor.
	late := b.OpenTab(t, url)
	late.Eval(t, `send("after the crash")`, nil)
	survivor.WaitFor(t, `received.includes("after the crash")`, 5*time.Second)
	late.Screenshot(t, filepath.Join(t.TempDir(), "late.png"))
}

// TestPauseKeepsLock pauses the lock holder: it must keep the lock and run
// nothing until resumed; closing it then frees the lock.
func TestPauseKeepsLock(t *testing.T) {
	b := NewBrowser(t)
	url := servePage(t, b)
	holder := b.OpenTab(t, url)
	other := b.OpenTab(t, url)

	holder.Eval(t, `new Promise((held) => navigator.locks.request("leader", () => {
		held(true);
		return new Promise(() => {});
	}))`, nil)
	var before, during, after int
	holder.Eval(t, `ticks`, &before)
	holder.Pause(t)
	// The page's 20 ms timer makes the pause take effect at once; give
	// the other tab time to see whether the lock came free.
	time.Sleep(500 * time.Millisecond)
	var held []string
	other.Eval(t, `navigator.locks.query().then((s) => s.held.map((l) => l.name))`, &held)
	assert.Contains(t, held, "leader", "a paused tab keeps its lock")

	holder.Resume(t)
	holder.Eval(t, `ticks`, &during)
	assert.Less(t, during-before, 10, "a paused tab runs no timers (500 ms is 25 ticks)")
	holder.WaitFor(t, `ticks > `+strconv.Itoa(during+5), 2*time.Second)
	holder.Eval(t, `ticks`, &after)
	assert.Greater(t, after, during, "a resumed tab runs its timers again")

	// Messages posted to a paused tab are dropped, not queued (seen with
	// Chromium 156); after Resume it receives again.
	other.Eval(t, `send("after resume")`, nil)
	holder.WaitFor(t, `received.includes("after resume")`, 5*time.Second)

	holder.Close(t)
	other.WaitFor(t, `navigator.locks.query().then((s) => s.held.length === 0)`, 5*time.Second)
}

// TestWaitForAwaitsPromises guards WaitFor against treating a pending
// promise as a true condition.
func TestWaitForAwaitsPromises(t *testing.T) {
	b := NewBrowser(t)
	tab := b.OpenTab(t, servePage(t, b))
	tab.WaitFor(t, `Promise.resolve(true)`, time.Second)
	tab.Eval(t, `setTimeout(() => { window.late = true }, 200), true`, nil)
	tab.WaitFor(t, `new Promise((ok) => setTimeout(() => ok(window.late === true), 10))`, 5*time.Second)

	// A failing WaitFor must fail the test; check that with a stub TB.
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tab.WaitFor(ft, `Promise.resolve(false)`, 300*time.Millisecond)
	}()
	<-done
	assert.True(t, ft.failed, "WaitFor on a promise of false must time out")
}

// fatalRecorder is a testing.TB whose Fatal and Fatalf record the failure and end
// the goroutine, as testing.T's does, without failing the real test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	runtime.Goexit()
}

// Fatal as Fatalf: WaitFor fails with t.Fatal since a74dcce.
func (f *fatalRecorder) Fatal(args ...any) {
	f.failed = true
	runtime.Goexit()
}
