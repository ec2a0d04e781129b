//go:build js && wasm

package jsbridge

import (
	"runtime"
	"strings"
	"sync/atomic"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopTakesEffectAtOnceAndStartResumes(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")
	w := watch(t, a)
	require.True(t, a.active())
	require.False(t, a.s.timer.IsUndefined(), "a started instance keeps one timer, for its pings")

	a.stop()

	assert.False(t, a.active(), "isActive() is false right after stop()")
	assert.True(t, a.s.timer.IsUndefined(), "no timer is left behind")
	assert.Zero(t, a.s.timerAt)
	assert.Equal(t, []string{"connected", "disconnected"}, a.states())
	assert.Equal(t, 1, a.connected())
	eventually(t, "b to see a leave", func() bool { return b.connected() == 1 })
	eventually(t, "the watcher to see a's goodbye", func() bool {
		pings := fromTab(w, a.tab, "TAB_PING")
		return len(pings) > 0 && pings[len(pings)-1].Get("payload").Get("leaving").Truthy()
	})
	// Everything a posts after its goodbye, as seen by the watcher.
	fromA := jsFunc("w, tab", "const i = w.messages.findLastIndex((m) => m.tabId === tab && m.payload.leaving); return w.messages.slice(i + 1).filter((m) => m.tabId === tab).length;")
	sent := a.stats().Get("sent").Int()

	// Changes while stopped stay in a; what b sends does not reach it.
	a.set("{n: 1}")
	a.stop()
	b.set("{n: 2}")
	eventually(t, "the watcher to see b's update", func() bool { return len(fromTab(w, b.tab, "STATE_UPDATE")) == 1 })
	assert.Zero(t, fromA.Invoke(w, a.tab).Int(), "nothing from a after its goodbye")
	assert.Equal(t, sent, a.stats().Get("sent").Int())
	assert.Equal(t, "1", a.get("n"))
	assert.Equal(t, "2", b.get("n"), "a's change made while stopped has not gone out")

	// start() resumes: a announces itself again and sends what changed
	// while it was stopped.
	a.start()
	assert.True(t, a.active())
	assert.False(t, a.s.timer.IsUndefined())
	assert.Equal(t, []string{"connected", "disconnected", "connected"}, a.states())
	eventually(t, "a and b to see each other again", func() bool { return a.connected() == 2 && b.connected() == 2 })
	eventually(t, "both to settle on one value of n", func() bool { return a.get("n") == b.get("n") && a.get("n") != "0" })
	a.set("{n: 10}")
	eventually(t, "b to get the next change", func() bool { return b.get("n") == "10" })
	assert.Empty(t, a.errors())
}

func TestDestroyReleasesEverything(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")
	a.h.Call("destroy")
	assert.False(t, a.s.Active())
	assert.True(t, a.s.timer.IsUndefined())
	assert.Equal(t, 0, a.store.Call("listeners").Int(), "the store subscription is gone")
	eventually(t, "b to see a leave", func() bool { return b.connected() == 1 })

	// The handle's methods are released: the wrapper drops the handle, and
	// a call that comes anyway does nothing and throws nothing.
	console := jsTest.Call("captureConsole", "error")
	for _, name := range []string{"start", "stop", "destroy", "requestState", "broadcastState", "forceLeader", "isLeader", "getStats", "isActive"} {
		assert.NotPanics(t, func() { assert.True(t, a.h.Call(name).IsUndefined(), name) }, name)
	}
	console.Call("restore")
	assert.Contains(t, jsStrings(console.Get("lines")), "call to released function")
	assert.False(t, a.s.Active(), "start() after destroy() does nothing")
	a.set("{n: 5}")
	b.set("{n: 6}")
	eventually(t, "b's own change to stay", func() bool { return b.get("n") == "6" })
	assert.Equal(t, "5", a.get("n"))
	assert.Empty(t, a.errors())
}

func TestDebugLogsSentReceivedAndApplied(t *testing.T) {
	console := jsTest.Call("captureConsole", "log")
	defer console.Call("restore")
	a, b := pair(t, "{n: 0}", "{throttleMs: 0, debug: true}")
	a.set("{n: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	a.stop()
	b.s.Destroy() // before the console is restored: it logs too
	console.Call("restore")

	lines := jsStrings(console.Get("lines"))
	pa, pb := "[tabsync:"+a.tab[len(a.tab)-6:]+"] ", "[tabsync:"+b.tab[len(b.tab)-6:]+"] "
	for _, want := range []string{
		pa + "Started",
		pa + "Sent: TAB_PING",
		pa + "Sent: STATE_REQUEST",
		pa + "State: connected",
		pa + "Sent: STATE_UPDATE",
		pa + "Stopped",
		pa + "State: disconnected",
		pb + "Received: TAB_PONG from " + a.tab[len(a.tab)-6:],
		pb + "Received: STATE_UPDATE from " + a.tab[len(a.tab)-6:],
		pb + "Applied remote state from " + a.tab[len(a.tab)-6:] + " [n]",
	} {
		assert.Contains(t, lines, want)
	}
	for _, l := range tabsyncLines(lines) {
		assert.True(t, strings.HasPrefix(l, pa) || strings.HasPrefix(l, pb), "every line names its tab: %q", l)
	}
}

func TestNoDebugLogsNothing(t *testing.T) {
	console := jsTest.Call("captureConsole", "log")
	defer console.Call("restore")
	a, b := pair(t, "{n: 0}", "{throttleMs: 0, debug: false}")
	a.set("{n: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	a.stop()
	b.stop()
	console.Call("restore")
	assert.Empty(t, tabsyncLines(jsStrings(console.Get("lines"))))
}

// tabsyncLines keeps the console lines tabsync wrote: Go's own output (the
// testing package, go-indexeddb's log) goes to console.log too.
func tabsyncLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "[tabsync:") {
			out = append(out, l)
		}
	}
	return out
}

func TestWithoutBroadcastChannelStartDoesNothing(t *testing.T) {
	bc := js.Global().Get("BroadcastChannel")
	js.Global().Delete("BroadcastChannel")
	defer js.Global().Set("BroadcastChannel", bc)
	in := newInstance(t, emptyStore(), jsEval("{channelName: 'no-bc'}"))

	assert.False(t, js.Global().Get("__tabsyncHelpers").Call("supported").Get("broadcastChannel").Bool())
	assert.NotPanics(t, in.start)
	assert.False(t, in.active())
	assert.Equal(t, []string{"disconnected"}, in.states())
	assert.Empty(t, in.errors(), "no BroadcastChannel is a browser's limit, not an error")
	assert.True(t, in.s.timer.IsUndefined())
	for _, name := range []string{"stop", "requestState", "broadcastState", "getConnectedTabs", "getStats", "destroy"} {
		assert.NotPanics(t, func() { in.h.Call(name) }, name)
	}
}

func dispatch(target, event string, persisted bool) {
	js.Global().Get(target).Call("dispatchEvent", js.Global().Get("PageTransitionEvent").New(event, map[string]any{"persisted": persisted}))
}

func TestBackForwardCacheStopsAndResumes(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")

	dispatch("window", "pagehide", true)

	assert.False(t, a.active(), "a page going into the back-forward cache stops syncing")
	assert.False(t, b.active())
	assert.True(t, a.s.timer.IsUndefined())

	dispatch("window", "pageshow", true)

	assert.True(t, a.active(), "and resumes when it is shown again")
	assert.True(t, b.active())
	eventually(t, "a and b to see each other again", func() bool { return a.connected() == 2 && b.connected() == 2 })
	a.set("{n: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })

	// An instance the application stopped stays stopped.
	a.stop()
	dispatch("window", "pagehide", true)
	dispatch("window", "pageshow", true)
	assert.False(t, a.active())
	assert.True(t, b.active())
	// A destroyed one too.
	b.h.Call("destroy")
	dispatch("window", "pageshow", true)
	assert.False(t, b.s.Active())
}

func TestHiddenPageSendsPendingChangesAtOnce(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 60000}")
	a.set("{n: 1}")
	eventually(t, "b to get n = 1", func() bool { return b.get("n") == "1" })
	a.set("{n: 2}") // held for the end of a minute-long window

	doc := js.Global().Get("document")
	js.Global().Get("Object").Call("defineProperty", doc, "visibilityState", map[string]any{"value": "hidden", "configurable": true})
	defer js.Global().Get("Reflect").Call("deleteProperty", doc, "visibilityState")
	doc.Call("dispatchEvent", js.Global().Get("Event").New("visibilitychange"))

	eventually(t, "b to get the held value", func() bool { return b.get("n") == "2" })
	assert.True(t, a.active(), "hidden is not stopped")
}

// A React app creates and destroys an instance on every mount: a destroyed
// instance must leave nothing behind that keeps it, its engine or the
// JavaScript values it holds alive.
func TestDestroyedInstancesAreGarbage(t *testing.T) {
	const n = 20
	var collected atomic.Int32
	for i := 0; i < n; i++ {
		func() {
			store := jsTest.Call("createStore", jsEval("{n: 0, list: [1, 2, 3]}"))
			s, err := New(store, jsEval("{channelName: 'garbage', throttleMs: 0, onError() {}, onRemoteUpdate() {}}"), "tab-garbage")
			require.NoError(t, err)
			runtime.AddCleanup(s, func(c *atomic.Int32) { c.Add(1) }, &collected)
			h := s.Handle()
			h.Call("start")
			store.Call("setState", jsEval("{n: 1}"))
			h.Call("destroy")
		}()
	}
	eventually(t, "the destroyed instances to be collected", func() bool {
		runtime.GC()
		return collected.Load() == n
	})
}
