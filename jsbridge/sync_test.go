//go:build js && wasm

package jsbridge

import (
	"strconv"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fromTab returns the messages of type typ that tab posted, as the watcher
// saw them.
func fromTab(w js.Value, tab, typ string) []js.Value {
	var out []js.Value
	ms := w.Get("messages")
	for i := 0; i < ms.Length(); i++ {
		m := ms.Index(i)
		if m.Type() == js.TypeObject && m.Get("tabId").Equal(js.ValueOf(tab)) && m.Get("type").Equal(js.ValueOf(typ)) {
			out = append(out, m)
		}
	}
	return out
}

// watch opens a raw BroadcastChannel on the channel of in.
func watch(t *testing.T, in *instance) js.Value {
	w := jsTest.Call("watch", in.s.opt.channelName)
	t.Cleanup(func() { w.Call("close") })
	return w
}

func TestLocalChangeReachesTheOtherStore(t *testing.T) {
	a, b := pair(t, "{count: 0, name: 'a', items: [], nested: {x: 1}}", "{throttleMs: 0}")

	a.set("{count: 1, name: 'ann', items: [1, 2], nested: {x: 2, y: [3]}}")

	eventually(t, "b to get a's change", func() bool { return b.get("count") == "1" })
	assert.Equal(t, `"ann"`, b.get("name"))
	assert.Equal(t, `[1,2]`, b.get("items"))
	assert.Equal(t, `{"x":2,"y":[3]}`, b.get("nested"))
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
	require.Equal(t, 1, b.log.Get("remote").Length())
	assert.Equal(t, a.tab, b.log.Get("remote").Index(0).Get("source").String(), "onRemoteUpdate names the sender")
	assert.ElementsMatch(t, []string{"count", "name", "items", "nested"}, jsStrings(b.log.Get("remote").Index(0).Get("keys")))

	// And back.
	b.set("{name: 'bob'}")
	eventually(t, "a to get b's change", func() bool { return a.get("name") == `"bob"` })
	assert.Equal(t, "1", a.get("count"))
}

func TestOnlyChangedKeysTravelAsPlainObjects(t *testing.T) {
	a, b := pair(t, "{x: 0, y: 0, z: 'same'}", "{throttleMs: 0}")
	w := watch(t, a)

	a.set("{x: 1}")
	eventually(t, "b to get x", func() bool { return b.get("x") == "1" })
	eventually(t, "the watcher to see the update", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 1 })

	m := fromTab(w, a.tab, "STATE_UPDATE")[0]
	assert.Equal(t, js.TypeObject, m.Type(), "a plain object, not a JSON string")
	assert.Equal(t, []string{"x"}, testModelKeys(m.Get("payload").Get("state")), "only the changed key is sent")
	assert.Equal(t, 1, m.Get("payload").Get("state").Get("x").Int())
}

func testModelKeys(v js.Value) []string { return jsStrings(jsKeys.Invoke(v)) }

func TestANewTabGetsTheSyncedState(t *testing.T) {
	a, b := pair(t, "{n: 0, list: []}", "{throttleMs: 0}")
	a.set("{n: 5, list: ['x']}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "5" })

	late := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0, list: [], own: 1}")), jsEval("{throttleMs: 0, channelName: '"+a.s.opt.channelName+"'}"))
	late.start()

	eventually(t, "the new tab to get the state", func() bool { return late.get("n") == "5" })
	assert.Equal(t, `["x"]`, late.get("list"))
	assert.Equal(t, "1", late.get("own"), "keys only the new tab has stay")
	eventually(t, "everyone to count three tabs", func() bool {
		return a.connected() == 3 && b.connected() == 3 && late.connected() == 3
	})
	assert.Equal(t, "5", a.get("n"), "a new tab never pushes its defaults onto the others")
	assert.Equal(t, "5", b.get("n"))
	assert.True(t, a.state().Get("own").IsUndefined())
}

func TestThrottledBurstSendsItsFinalValue(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 200}")
	w := watch(t, a)

	// The first change in a task of its own: it is the leading edge. The
	// others in one task, which the instance hands its engine at once.
	const burst = 50
	for i := 1; i <= burst; i++ {
		a.store.Call("setState", jsEval("(s) => ({n: s.n + 1})"))
		if i == 1 {
			pause(0)
		}
	}

	eventually(t, "b to get the last value of the burst", func() bool { return b.get("n") == "50" })
	eventually(t, "the watcher to see it", func() bool {
		ups := fromTab(w, a.tab, "STATE_UPDATE")
		return len(ups) > 0 && ups[len(ups)-1].Get("payload").Get("state").Get("n").Int() == burst
	})
	ups := fromTab(w, a.tab, "STATE_UPDATE")
	t.Logf("a burst of %d changes went out in %d updates", burst, len(ups))
	assert.Less(t, len(ups), burst, "the throttle coalesces")
	assert.Equal(t, 1, ups[0].Get("payload").Get("state").Get("n").Int(), "leading edge: the first change goes at once")
}

func TestDebouncedBurstSendsItsFinalValueOnce(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{debounceMs: 50}")
	w := watch(t, a)

	for i := 1; i <= 20; i++ {
		a.set("{n: " + strconv.Itoa(i) + "}")
	}

	eventually(t, "b to get the last value", func() bool { return b.get("n") == "20" })
	eventually(t, "the watcher to see it", func() bool {
		ups := fromTab(w, a.tab, "STATE_UPDATE")
		return len(ups) > 0 && ups[len(ups)-1].Get("payload").Get("state").Get("n").Int() == 20
	})
	assert.Less(t, len(fromTab(w, a.tab, "STATE_UPDATE")), 20, "the debounce coalesces")
}

func TestExcludedKeysStayInTheirTab(t *testing.T) {
	channel := uniqueName(t, "ch")
	mk := func(cfg string) *instance {
		c := jsEval(cfg)
		c.Set("channelName", channel)
		in := newInstance(t, jsTest.Call("createStore", jsEval("{shared: 0, secret: 'none', mine: 0, other: 0}")), c)
		in.start()
		return in
	}
	// a does not send secret; b does not take mine, whatever a sends.
	a := mk("{throttleMs: 0, excludeKeys: ['secret']}")
	b := mk("{throttleMs: 0, excludeKeys: ['mine']}")
	c := mk("{throttleMs: 0, syncKeys: ['shared', 'secret']}")
	eventually(t, "three tabs", func() bool { return a.connected() == 3 && b.connected() == 3 && c.connected() == 3 })
	w := watch(t, a)

	a.set("{secret: 'pw', mine: 1, other: 1, shared: 1}")

	eventually(t, "b and c to get shared", func() bool { return b.get("shared") == "1" && c.get("shared") == "1" })
	assert.Equal(t, `"none"`, b.get("secret"), "excludeKeys wins on send")
	assert.Equal(t, "0", b.get("mine"), "and on receive")
	assert.Equal(t, "1", b.get("other"))
	assert.Equal(t, "0", c.get("mine"), "syncKeys filters on receive")
	assert.Equal(t, "0", c.get("other"))
	eventually(t, "the watcher to see the update", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 1 })
	assert.NotContains(t, testModelKeys(fromTab(w, a.tab, "STATE_UPDATE")[0].Get("payload").Get("state")), "secret")

	c.set("{secret: 'from-c', other: 5}")
	b.set("{shared: 2}")
	eventually(t, "a to get b's shared", func() bool { return a.get("shared") == "2" })
	assert.Equal(t, `"pw"`, a.get("secret"), "a takes no secret either")
	eventually(t, "b to get c's secret", func() bool { return b.get("secret") == `"from-c"` })
	assert.Equal(t, "1", b.get("other"), "c does not send keys outside its syncKeys")
}

func TestFunctionValuesAreNeverSent(t *testing.T) {
	a, b := pair(t, "{n: 0, inc() { return 'mine'; }}", "{throttleMs: 0}")
	bInc := b.state().Get("inc")

	a.set("{n: 1, inc() { return 'replaced'; }, later: () => 0}")

	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	assert.True(t, b.state().Get("inc").Equal(bInc), "b keeps its own action")
	assert.True(t, b.state().Get("later").IsUndefined())
	assert.Empty(t, a.errors(), "a function value is skipped, not an error")
	assert.Empty(t, b.errors())
	assert.Equal(t, []string{"n"}, jsStrings(b.log.Get("remote").Index(0).Get("keys")))
}

func TestUncloneableValueIsReportedAndTheRestSyncs(t *testing.T) {
	a, b := pair(t, "{n: 0, bad: null, ok: ''}", "{throttleMs: 0}")

	a.set("{n: 2, bad: {handler() {}}, ok: 'yes'}")

	eventually(t, "b to get the cloneable keys", func() bool { return b.get("n") == "2" && b.get("ok") == `"yes"` })
	assert.Equal(t, "null", b.get("bad"))
	errs := a.errors()
	require.Len(t, errs, 1, "reported once")
	assert.Contains(t, errs[0], "send: the value of bad cannot be cloned and is not synced")
	assert.Equal(t, "DataCloneError", a.log.Get("errors").Index(0).Get("cause").Get("name").String(), "the cause is the browser's error")
	assert.Empty(t, b.errors())

	// The value never leaves a, so it is left out of a's digest: the two
	// tabs do not ask each other for their state every two pings, and
	// answering b's requests does not meet the value again.
	assert.Equal(t, b.s.e.Digest(), a.s.e.Digest())
	b.s.handle(b.s.e.RequestState(now()))
	b.s.handle(b.s.e.RequestState(now()))
	a.set("{n: 3}")
	eventually(t, "b to get the next change", func() bool { return b.get("n") == "3" })
	assert.Len(t, a.errors(), 1, "still reported once")
	assert.Equal(t, b.s.e.Digest(), a.s.e.Digest())

	// Another value that cannot be cloned is reported too.
	a.set("{bad: {other() {}}}")
	eventually(t, "the second value to be reported", func() bool { return len(a.errors()) == 2 })
}

func TestRequestAndBroadcastState(t *testing.T) {
	a, b := pair(t, "{n: 0, m: 0}", "{throttleMs: 0}")
	w := watch(t, a)
	a.set("{n: 1, m: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })

	b.h.Call("requestState")
	var req js.Value
	eventually(t, "b to ask", func() bool {
		reqs := fromTab(w, b.tab, "STATE_REQUEST")
		if len(reqs) > 0 {
			req = reqs[len(reqs)-1].Get("payload").Get("req")
		}
		return len(reqs) > 0
	})
	eventually(t, "a to answer that request", func() bool {
		for _, r := range fromTab(w, a.tab, "STATE_RESPONSE") {
			if r.Get("payload").Get("req").Equal(req) {
				assert.Equal(t, b.tab, r.Get("payload").Get("to").String())
				assert.ElementsMatch(t, []string{"n", "m"}, testModelKeys(r.Get("payload").Get("state")))
				return true
			}
		}
		return false
	})

	a.h.Call("broadcastState", jsEval("['m']"))
	eventually(t, "a to broadcast m", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 2 })
	last := fromTab(w, a.tab, "STATE_UPDATE")[1]
	assert.Equal(t, []string{"m"}, testModelKeys(last.Get("payload").Get("state")))

	a.h.Call("broadcastState")
	eventually(t, "a to broadcast everything", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 3 })
	assert.ElementsMatch(t, []string{"n", "m"}, testModelKeys(fromTab(w, a.tab, "STATE_UPDATE")[2].Get("payload").Get("state")))

	// Odd arguments are ignored rather than thrown.
	assert.NotPanics(t, func() { a.h.Call("broadcastState", "m", 1) })
	assert.NotPanics(t, func() { a.h.Call("broadcastState", jsEval("[1, null, 'n']")) })
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}

func TestStopSendsTheThrottledTail(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 60000}")
	a.set("{n: 1}") // leading edge: at once
	eventually(t, "b to get n = 1", func() bool { return b.get("n") == "1" })
	a.set("{n: 2}") // held for the end of a minute-long window

	a.stop()

	eventually(t, "b to get the held value", func() bool { return b.get("n") == "2" })
}

func TestOversizedValueStaysLocalAndTheRestSyncs(t *testing.T) {
	a, b := pair(t, "{n: 0, big: ''}", "{throttleMs: 0, maxMessageBytes: 2000}")

	a.set("{n: 1, big: 'x'.repeat(5000)}")

	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	assert.Equal(t, `""`, b.get("big"))
	require.NotEmpty(t, a.errors())
	assert.Contains(t, a.errors()[0], `send: the value of "big" is larger than maxMessageBytes (2000)`)
}

func TestLargeStateReachesANewTabInChunks(t *testing.T) {
	cfg := "{throttleMs: 0, maxMessageBytes: 4000}"
	a, _ := pair(t, "{}", cfg)
	w := watch(t, a)
	for i := 0; i < 10; i++ {
		a.set("{k" + strconv.Itoa(i) + ": '" + strconv.Itoa(i) + "'.repeat(700)}")
	}

	c := jsEval(cfg)
	c.Set("channelName", a.s.opt.channelName)
	late := newInstance(t, jsTest.Call("createStore", jsEval("{}")), c)
	late.start()

	eventually(t, "the new tab to get every key", func() bool { return len(testModelKeys(late.state())) == 10 })
	for i := 0; i < 10; i++ {
		assert.Equal(t, a.get("k"+strconv.Itoa(i)), late.get("k"+strconv.Itoa(i)))
	}
	eventually(t, "the watcher to see the answer in several messages", func() bool { return len(fromTab(w, a.tab, "STATE_RESPONSE")) > 1 })
	assert.Zero(t, late.stats().Get("droppedByReason").Get("oversized").Int(), "each under the receiver's limit")
	assert.Empty(t, late.errors())
}

func TestTabsOfAnotherAppVersionIgnoreEachOther(t *testing.T) {
	channel := uniqueName(t, "ch")
	mk := func(version string) *instance {
		in := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"', appVersion: '"+version+"'}"))
		in.start()
		return in
	}
	old, cur, cur2 := mk("1.0.0"), mk("2.0.0"), mk("2.0.0")
	eventually(t, "the 2.0.0 tabs to see each other", func() bool { return cur.connected() == 2 && cur2.connected() == 2 })

	old.set("{n: 1}")
	cur.set("{n: 2}")

	eventually(t, "cur2 to get cur's change", func() bool { return cur2.get("n") == "2" })
	eventually(t, "both versions to report the other", func() bool { return len(old.errors()) > 0 && len(cur.errors()) > 0 })
	assert.Equal(t, "1", old.get("n"))
	assert.Equal(t, 1, old.connected())
	assert.Contains(t, old.errors()[0], `protocol: ignoring a tab of another app version: appVersion "2.0.0" differs from this tab's "1.0.0"`)
	assert.Contains(t, cur.errors()[0], `appVersion "1.0.0" differs`)
	old.set("{n: 3}")
	cur.set("{n: 4}")
	eventually(t, "cur2 to get cur's next change", func() bool { return cur2.get("n") == "4" })
	assert.Len(t, cur.errors(), 1, "reported once per version")
}

func TestConcurrentWritesConverge(t *testing.T) {
	for _, strategy := range []string{"last-write-wins", "first-write-wins"} {
		t.Run(strategy, func(t *testing.T) {
			a, b := pair(t, "{v: 'start'}", "{throttleMs: 0, conflictStrategy: '"+strategy+"'}")
			conflictOn(t, a, b, "{v: 'b-first'}", "{v: 'a-second'}")
			want := map[string]string{"last-write-wins": `"a-second"`, "first-write-wins": `"b-first"`}[strategy]
			eventually(t, "both to settle on "+want, func() bool { return a.get("v") == want && b.get("v") == want })
			assert.Empty(t, a.errors())
			assert.Empty(t, b.errors())
		})
	}
}
