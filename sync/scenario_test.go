package sync_test

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// --- Throttle and debounce ----------------------------------------------------

func TestThrottleLeadingEdgeThenEveryKeyOfTheWindowAtItsEnd(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 100})
	a.start(t0)

	// Leading edge: the first change goes out at once.
	rd := a.set(t0+10, "count", 1.0)
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, protocol.StateUpdate, rd.Messages[0].Type)
	assert.Equal(t, []string{"count"}, keysOf(rd.Messages[0]))

	// Inside the window nothing goes out...
	assert.Empty(t, a.set(t0+20, "count", 2.0).Messages)
	assert.Empty(t, a.set(t0+30, "name", "x").Messages)
	assert.Empty(t, a.set(t0+40, "count", 3.0).Messages)
	assert.Empty(t, a.set(t0+50, "name", "y").Messages)
	assert.Equal(t, t0+110, a.e.NextDeadline(), "the window closes 100ms after the leading edge")
	assert.Empty(t, a.tick(t0+109).Messages)

	// ...and at its end one update carries the latest value of every key
	// changed in the window.
	rd = a.tick(t0 + 110)
	require.Len(t, rd.Messages, 1)
	m := rd.Messages[0]
	assert.ElementsMatch(t, []string{"count", "name"}, keysOf(m))
	assert.Equal(t, 3.0, entryValue(m, "count"))
	assert.Equal(t, "y", entryValue(m, "name"))
	assert.Len(t, a.sentOf(protocol.StateUpdate), 2, "a burst of five changes: two updates")

	// The trailing update's version names as its base the version the
	// others saw (the leading edge's), not the unsent ones in between.
	lead := a.sentOf(protocol.StateUpdate)[0].Entries[0].Version
	for _, e := range m.Entries {
		if e.Key == "count" {
			assert.Equal(t, lead.Clock, e.Version.Base)
			assert.Equal(t, lead.Depth+1, e.Version.Depth)
		}
	}

	// A receiver ends with the final values.
	b := newTab(t, "b", tsync.Config{})
	b.start(t0)
	b.deliver(t0+120, a.sentOf(protocol.StateUpdate)...)
	assert.Equal(t, 3.0, b.store["count"])
	assert.Equal(t, "y", b.store["name"])
}

func TestDebounceSendsOnceAfterQuiet(t *testing.T) {
	a := newTab(t, "a", tsync.Config{DebounceMs: 50, ThrottleMs: 100})
	a.start(t0)
	for i := 0; i < 5; i++ {
		assert.Empty(t, a.set(t0+int64(10*i), "q", fmt.Sprint("typing", i)).Messages)
	}
	assert.Equal(t, t0+40+50, a.e.NextDeadline(), "each change pushes the send back")
	assert.Empty(t, a.tick(t0+89).Messages)
	rd := a.tick(t0 + 90)
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, "typing4", entryValue(rd.Messages[0], "q"))
	assert.Len(t, a.sentOf(protocol.StateUpdate), 1)
}

func TestNoThrottleSendsEveryChange(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 0})
	a.start(t0)
	for i := 0; i < 3; i++ {
		rd := a.set(t0, "n", float64(i))
		require.Len(t, rd.Messages, 1)
		assert.Equal(t, float64(i), entryValue(rd.Messages[0], "n"))
	}
}

func TestFlushSendsThePendingChangeNow(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 1000})
	a.start(t0)
	a.set(t0, "k", 1.0)
	a.set(t0+1, "k", 2.0)
	rd := a.do(a.e.Flush(t0 + 2))
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, 2.0, entryValue(rd.Messages[0], "k"))
	assert.Empty(t, a.tick(t0+1000).Messages, "nothing left for the window's end")
}

// BroadcastState inside a throttle window publishes the pending burst
// first, like a response does (TestResponseInsideAThrottleWindowSendsTheBurstFirst):
// a later write of the burst then succeeds what the others hold, and under
// first-write-wins they take it rather than keep its same-based sibling.
func TestBroadcastInsideAThrottleWindowSendsTheBurstFirst(t *testing.T) {
	cfg := tsync.Config{ThrottleMs: 1000, Strategy: conflict.FirstWriteWins}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	a.start(t0)
	b.start(t0)
	a.set(t0+10, "k", 1.0) // leading edge, sent
	a.set(t0+20, "k", 2.0) // pending until the window closes

	rd := a.do(a.e.BroadcastState(t0+30, nil))
	require.Len(t, rd.Messages, 2, "the burst, then the broadcast")
	assert.Equal(t, 2.0, entryValue(rd.Messages[1], "k"))

	a.set(t0+40, "k", 3.0)
	assert.Equal(t, entryVersion(rd.Messages[1], "k").Clock, a.version("k").Base,
		"the next write succeeds the version that went out")
	a.tick(t0 + 2000)
	b.deliver(t0+2001, a.sentOf(protocol.StateUpdate)...)
	assert.Equal(t, 3.0, b.store["k"], "the burst's final value wins")
}

// --- Filters -----------------------------------------------------------------

func TestEmptySyncKeysMeansEveryKey(t *testing.T) {
	for _, keys := range [][]string{nil, {}} {
		a := newTab(t, "a", tsync.Config{SyncKeys: keys})
		a.start(t0)
		rd := a.set(t0, "anything", 1.0, "else", 2.0)
		require.Len(t, rd.Messages, 1, "SyncKeys %#v", keys)
		assert.ElementsMatch(t, []string{"anything", "else"}, keysOf(rd.Messages[0]))
	}
}

func TestExcludeKeysWinOverSyncKeys(t *testing.T) {
	a := newTab(t, "a", tsync.Config{SyncKeys: []string{"shared", "token"}, ExcludeKeys: []string{"token"}})
	a.start(t0)
	assert.False(t, a.e.Synced("token"))
	assert.False(t, a.e.Synced("other"), "not in SyncKeys")
	assert.Empty(t, a.set(t0, "token", "s3cret").Messages)
	assert.Empty(t, a.set(t0, "other", 1.0).Messages)
	rd := a.set(t0, "shared", 1.0, "token", "s3cret2")
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, []string{"shared"}, keysOf(rd.Messages[0]))
}

func TestReceiverFiltersWithItsOwnKeys(t *testing.T) {
	b := newTab(t, "b", tsync.Config{SyncKeys: []string{"a", "token", "ui"}, ExcludeKeys: []string{"token"}})
	b.store["token"] = "mine"
	b.start(t0)
	other := &forger{tab: "intruder"}
	// A sender with other filters (or a hostile one) sends keys b excludes.
	rd := b.deliver(t0+1, other.update("a", 1.0, "token", "theirs", "notSynced", true))
	require.NotNil(t, rd.Patch)
	assert.Equal(t, []string{"a"}, rd.Patch.Keys)
	assert.Equal(t, "mine", b.store["token"])
	assert.NotContains(t, b.store, "notSynced")
	_, _, held := b.e.Value("token")
	assert.False(t, held)
}

func TestFunctionValuesAreNeverSent(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	a.start(t0)
	inc := func() {}
	rd := a.set(t0, "increment", inc)
	assert.Empty(t, rd.Messages)
	assert.Empty(t, rd.Errors)

	rd = a.set(t0, "count", 1.0, "increment", func() {})
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, []string{"count"}, keysOf(rd.Messages[0]))
	assert.Empty(t, rd.Errors)

	// Nor at Start, nor in a response.
	b := newTab(t, "b", tsync.Config{})
	b.store["increment"] = inc
	b.start(t0)
	_, _, held := b.e.Value("increment")
	assert.False(t, held)
}

func TestShouldSyncFalseKeepsTheChangeLocal(t *testing.T) {
	var calls int
	a := newTab(t, "a", tsync.Config{ShouldSync: func(prev, next conflict.Value) (bool, error) {
		calls++
		return gm.Num(gm.Get(next, "n")) < 10, nil
	}})
	a.start(t0)
	require.Len(t, a.set(t0, "n", 1.0).Messages, 1)
	assert.Empty(t, a.set(t0+1, "n", 11.0).Messages)
	assert.Equal(t, 2, calls)
	assert.Equal(t, 1.0, a.value("n"), "the engine keeps the last synced value")
}

func TestShouldSyncFailingReportsAndSendsNothing(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ShouldSync: func(prev, next conflict.Value) (bool, error) {
		return false, errors.New("boom")
	}})
	a.start(t0)
	rd := a.set(t0, "n", 1.0)
	assert.Empty(t, rd.Messages)
	require.Len(t, rd.Errors, 1)
	assert.Equal(t, tsync.PhaseSend, rd.Errors[0].Phase)
	assert.Contains(t, rd.Errors[0].Message, "boom")
	assert.True(t, a.e.Active(), "an error never stops syncing")
}

func TestOversizedLocalValueReportedOtherKeysSync(t *testing.T) {
	a := newTab(t, "a", tsync.Config{Limits: protocol.Limits{MaxBytes: 200}})
	a.start(t0)
	rd := a.set(t0, "big", strings.Repeat("x", 500), "small", 1.0)
	require.Len(t, rd.Errors, 1)
	assert.Equal(t, tsync.PhaseSend, rd.Errors[0].Phase)
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, []string{"small"}, keysOf(rd.Messages[0]))
}

// --- Echoes, duplicates, stale ------------------------------------------------

func TestOwnEchoIsDropped(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	a.start(t0)
	rd := a.set(t0, "k", 1.0)
	echo := a.deliver(t0+1, rd.Messages[0])
	assert.Nil(t, echo.Patch)
	assert.Empty(t, echo.Messages)
	assert.Equal(t, uint64(1), a.e.Stats().DroppedByReason["ownId"])
}

func TestDuplicateSeqIsDropped(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.start(t0)
	upd := a.set(t0+1, "k", 1.0).Messages[0]
	require.NotNil(t, b.deliver(t0+2, upd).Patch)
	again := b.deliver(t0+3, upd)
	assert.Nil(t, again.Patch)
	assert.Empty(t, again.Errors, "duplicates are counted, not reported")
	assert.Equal(t, uint64(1), b.e.Stats().DroppedByReason["duplicate"])
	assert.Equal(t, uint64(1), b.e.Stats().Applied)
}

func TestStaleUpdateOfTheSameLineageChangesNothing(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.start(t0)
	v1 := a.set(t0+1, "k", "v1").Messages[0]
	v2 := a.set(t0+2, "k", "v2").Messages[0]
	b.deliver(t0+3, v1, v2)
	require.Equal(t, "v2", b.store["k"])
	want := b.version("k")

	// The older write comes again under a fresh seq (a third tab relaying
	// its out-of-date copy, say).
	old := v1
	old.Seq = v2.Seq + 1
	rd := b.deliver(t0+4, old)
	assert.Nil(t, rd.Patch)
	assert.Equal(t, "v2", b.store["k"])
	assert.Equal(t, want, b.version("k"))
	assert.Equal(t, uint64(1), b.e.Stats().DroppedByReason["stale"])
}

// --- State requests -----------------------------------------------------------

// joined opens n tabs on an instant, lossless simulated channel and lets
// them meet; each writes one key.
func joined(t *testing.T, cfg tsync.Config, n int) *sim.Net {
	net := sim.New(1, sim.Faults{}, func(string) tsync.Config { return cfg })
	for i := 0; i < n; i++ {
		tb := net.Join()
		net.RunFor(10)
		net.Write(tb, fmt.Sprintf("k%d", i), fmt.Sprintf("from %s", tb.ID))
		net.RunFor(10)
	}
	net.RunFor(500)
	return net
}

// responsesTo returns the STATE_RESPONSEs to tab's first STATE_REQUEST.
func responsesTo(net *sim.Net, tab string) (req sim.Sent, resps []sim.Sent) {
	for _, s := range net.Log {
		if s.Msg.Type == protocol.StateRequest && s.Msg.Tab == tab && req.Msg.Req == "" {
			req = s
		}
	}
	for _, s := range net.Log {
		if s.Msg.Type == protocol.StateResponse && s.Msg.Req == req.Msg.Req && req.Msg.Req != "" {
			resps = append(resps, s)
		}
	}
	return req, resps
}

func TestNewTabAmongFiveGetsExactlyOneResponse(t *testing.T) {
	net := joined(t, tsync.Config{ThrottleMs: 0}, 5)
	for _, tb := range net.Tabs {
		require.Equal(t, 5, tb.Engine.ConnectedTabs())
	}
	late := net.Join()
	net.RunFor(1000)

	_, resps := responsesTo(net, late.ID)
	require.Len(t, resps, 1)
	assert.Equal(t, "tab00", resps[0].Msg.Tab, "the oldest tab answers")
	for i := 0; i < 5; i++ {
		assert.Equal(t, fmt.Sprintf("from tab%02d", i), late.Store[fmt.Sprintf("k%d", i)])
	}
	assert.Equal(t, sim.SyncedState(net.Tabs[0]), sim.SyncedState(late))
}

func TestSecondOldestAnswersWhenTheOldestIsSilent(t *testing.T) {
	net := joined(t, tsync.Config{ThrottleMs: 0}, 3)
	net.Crash(net.Tabs[0]) // gone without a goodbye: the others still count it
	late := net.Join()
	joinedAt := net.Now
	net.RunFor(1000)

	_, resps := responsesTo(net, late.ID)
	require.Len(t, resps, 1)
	assert.Equal(t, "tab01", resps[0].Msg.Tab)
	assert.Equal(t, joinedAt+60, resps[0].At, "after StaggerMs (default 60)")
	assert.Equal(t, "from tab02", late.Store["k2"])
}

func TestResponderHookDecidesWhoAnswers(t *testing.T) {
	a := newTab(t, "a", tsync.Config{Responder: func() (bool, bool) { return false, true }})
	b := newTab(t, "b", tsync.Config{Responder: func() (bool, bool) { return true, true }})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	h.settle(t0)
	b.start(t0 + 100) // the younger tab, but the leader
	h.settle(t0 + 100)
	a.set(t0+200, "k", 1.0)
	h.settle(t0 + 200)

	c := newTab(t, "c", tsync.Config{})
	h.tabs = append(h.tabs, c)
	c.start(t0 + 300)
	h.settle(t0 + 300)
	h.tickAll(t0 + 300)
	h.tickAll(t0 + 400)
	assert.Empty(t, a.sentOf(protocol.StateResponse), "the oldest tab is not the leader")
	require.NotEmpty(t, b.sentOf(protocol.StateResponse))
	assert.Equal(t, 1.0, c.store["k"])
}

func TestLargeStateIsChunkedAndEveryChunkApplied(t *testing.T) {
	lim := protocol.Limits{MaxBytes: 2000}
	// Long tab ids and key names make the per-key overhead (key twice,
	// a version naming two clocks) weigh as much as the values.
	idA := "a" + strings.Repeat("0", 63)
	idB := "b" + strings.Repeat("0", 63)
	a := newTab(t, idA, tsync.Config{Limits: lim})
	h := &hub{tabs: []*tab{a}}
	a.start(t0)
	want := map[string]any{}
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("a-rather-long-key-name-number-%02d", i)
		want[k] = float64(i)
		a.set(t0+int64(i), k, float64(i))
		a.set(t0+int64(i), k, float64(i)) // a second write: the version has a base
	}
	big := strings.Repeat("x", 800)
	a.set(t0+100, "big1", big, "big2", big)
	want["big1"], want["big2"] = big, big
	h.skip()

	b := newTab(t, idB, tsync.Config{Limits: lim})
	h.tabs = append(h.tabs, b)
	b.start(t0 + 1000)
	h.settle(t0 + 1000)
	h.tickAll(t0 + 1000)

	resps := a.sentOf(protocol.StateResponse)
	require.Greater(t, len(resps), 2, "the state does not fit in one message")
	for i, r := range resps {
		assert.Equal(t, i < len(resps)-1, r.More, "chunk %d", i)
	}
	assert.Zero(t, b.e.Stats().Dropped, "dropped: %v", b.e.Stats().DroppedByReason)
	for k, v := range want {
		assert.Equal(t, v, b.store[k], k)
	}
	assert.Equal(t, a.e.Digest(), b.e.Digest())
	assert.Empty(t, b.errs)
}

// A batch of changes larger than the receivers' limit (a task's changes,
// which jsbridge hands over at once, or a throttled burst) goes out in
// several STATE_UPDATEs that each pass the receiver's size check.
func TestLargeBatchOfChangesIsSplitUnderTheLimit(t *testing.T) {
	lim := protocol.Limits{MaxBytes: 2000}
	a, b := newTab(t, "a", tsync.Config{Limits: lim}), newTab(t, "b", tsync.Config{Limits: lim})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)

	var kv []any
	want := map[string]any{}
	for i := 0; i < 10; i++ {
		k, v := fmt.Sprintf("k%d", i), strings.Repeat(fmt.Sprint(i), 300)
		kv = append(kv, k, v)
		want[k] = v
	}
	a.set(t0+10, kv...)
	h.settle(t0 + 10)

	ups := a.sentOf(protocol.StateUpdate)
	require.Greater(t, len(ups), 1, "ten values of 600 bytes do not fit in one message of 2000")
	var sent []string
	for _, u := range ups {
		sent = append(sent, keysOf(u)...)
	}
	assert.Len(t, sent, 10, "every key goes out once")
	assert.Zero(t, b.e.Stats().Dropped, "dropped: %v", b.e.Stats().DroppedByReason)
	for k, v := range want {
		assert.Equal(t, v, b.store[k], k)
	}
}

func TestLateOrDuplicateResponseIsHarmless(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	h.settle(t0)
	a.set(t0+10, "k", "old")
	h.settle(t0 + 10)

	c := newTab(t, "c", tsync.Config{})
	h.tabs = append(h.tabs, c)
	c.start(t0 + 100)
	h.settle(t0 + 100)
	h.tickAll(t0 + 100)
	resp := a.sentOf(protocol.StateResponse)
	require.Len(t, resp, 1)
	require.Equal(t, "old", c.store["k"])

	a.set(t0+130, "k", "new")
	h.settle(t0 + 130)
	require.Equal(t, "new", c.store["k"])

	// The same response again, under a fresh seq (b answering late with
	// what a sent, say): older than what c holds, it changes nothing.
	late := resp[0]
	late.Seq = 1000
	rd := c.deliver(t0+140, late)
	assert.Nil(t, rd.Patch)
	assert.Equal(t, "new", c.store["k"])
	assert.Empty(t, rd.Errors)
	// And the very same message twice is a duplicate.
	rd = c.deliver(t0+141, late)
	assert.Nil(t, rd.Patch)
	assert.Equal(t, uint64(1), c.e.Stats().DroppedByReason["duplicate"])
}

// --- Presence -----------------------------------------------------------------

func TestConnectedTabsUpOnJoinDownOnGoodbyeAndOnExpiry(t *testing.T) {
	net := sim.New(1, sim.Faults{}, func(string) tsync.Config { return tsync.Config{PingMs: 1000} })
	a := net.Join()
	assert.Equal(t, 1, a.Engine.ConnectedTabs())
	b := net.Join()
	c := net.Join()
	net.RunFor(10)
	for _, tb := range []*sim.Tab{a, b, c} {
		assert.Equal(t, 3, tb.Engine.ConnectedTabs(), tb.ID)
	}

	net.Close(c) // goodbye: counted out at once
	net.RunFor(1)
	assert.Equal(t, 2, a.Engine.ConnectedTabs())
	assert.Equal(t, 2, b.Engine.ConnectedTabs())
	assert.Equal(t, 1, c.Engine.ConnectedTabs(), "a stopped tab counts itself")

	net.Crash(b) // no goodbye: counted out once silent for PeerTimeoutMs
	net.RunFor(3000)
	assert.Equal(t, 2, a.Engine.ConnectedTabs(), "not yet expired")
	net.RunFor(3000)
	assert.Equal(t, 1, a.Engine.ConnectedTabs())
	assert.Equal(t, []string{}, a.Engine.Peers())
}

func TestPongOnFirstWordFromANewTab(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	rd := b.start(t0 + 100)
	out := a.deliver(t0+101, rd.Messages...)
	require.Len(t, out.Messages, 2, "a pong, and the answer to the request at once: not at the next Tick, which a hidden tab's clamped timer can delay")
	assert.Equal(t, protocol.TabPong, out.Messages[0].Type)
	assert.Equal(t, "b", out.Messages[0].To)
	assert.Equal(t, t0, out.Messages[0].Started)
	assert.Equal(t, protocol.StateResponse, out.Messages[1].Type)
	assert.Equal(t, "b", out.Messages[1].To)
	a.tick(t0 + 101)
	require.Len(t, a.sentOf(protocol.StateResponse), 1, "answered once")
	b.deliver(t0+102, a.sent...)
	assert.Equal(t, []string{"a"}, b.e.Peers())
	assert.Equal(t, 2, b.e.ConnectedTabs())
}

// --- Stop and Start -----------------------------------------------------------

func TestStopFlushesThenSaysGoodbyeThenSendsNothing(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 100})
	a.start(t0)
	a.set(t0+1, "k", 1.0) // leading edge
	a.set(t0+2, "k", 2.0) // pending for the window's end

	rd := a.stop(t0 + 3)
	assert.False(t, a.e.Active(), "inactive at once")
	require.Len(t, rd.Messages, 2)
	assert.Equal(t, protocol.StateUpdate, rd.Messages[0].Type)
	assert.Equal(t, 2.0, entryValue(rd.Messages[0], "k"))
	assert.Equal(t, protocol.TabPing, rd.Messages[1].Type)
	assert.True(t, rd.Messages[1].Leaving)

	assert.Zero(t, a.e.NextDeadline())
	assert.True(t, empty(a.tick(t0+1000)))
	assert.Empty(t, a.set(t0+1001, "k", 3.0).Messages)
	assert.True(t, empty(a.do(a.e.Flush(t0+1002))))
	assert.True(t, empty(a.do(a.e.RequestState(t0+1002))))
	assert.True(t, empty(a.do(a.e.BroadcastState(t0+1002, nil))))
	assert.True(t, empty(a.do(a.e.Stop(t0+1002))))
	other := &forger{tab: "z"}
	assert.True(t, empty(a.deliver(t0+1003, other.update("k", 9.0))), "nothing is received either")
	assert.Equal(t, 3.0, a.value("k"))
}

func TestStartAgainSendsChangesMadeWhileStopped(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{ThrottleMs: 100}), newTab(t, "b", tsync.Config{})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)
	a.set(t0+1, "k", 1.0)
	h.settle(t0 + 1)
	require.Equal(t, 1.0, b.store["k"])

	a.stop(t0 + 10)
	h.settle(t0 + 10)
	assert.Equal(t, 1, b.e.ConnectedTabs())
	a.set(t0+20, "k", 2.0)
	a.set(t0+30, "other", "x")
	h.settle(t0 + 30)
	assert.Equal(t, 1.0, b.store["k"], "nothing leaves a stopped tab")

	rd := a.start(t0 + 40)
	assert.True(t, a.e.Active())
	var upd []protocol.Message
	for _, m := range rd.Messages {
		if m.Type == protocol.StateUpdate {
			upd = append(upd, m)
		}
	}
	require.Len(t, upd, 1)
	assert.ElementsMatch(t, []string{"k", "other"}, keysOf(upd[0]))
	h.settle(t0 + 40)
	assert.Equal(t, 2.0, b.store["k"])
	assert.Equal(t, "x", b.store["other"])
	assert.Equal(t, 2, b.e.ConnectedTabs())
	assert.Equal(t, 2, a.e.ConnectedTabs())
}

// --- Drops and error reporting ----------------------------------------------

func TestEveryDropReasonIsCounted(t *testing.T) {
	a := newTab(t, "a", tsync.Config{AppVersion: "1", Limits: protocol.Limits{MaxBytes: 500}})
	a.start(t0)
	z := &forger{tab: "z"}
	base := func() protocol.Message { m := z.update("k", 1.0); m.AppVersion = "1"; return m }

	withField := func(m protocol.Message, field string, v any) conflict.Value {
		w := wire(m).(map[string]any)
		w[field] = v
		return w
	}
	first := base()
	later := base() // a successor of first
	later.Entries[0].Version.Base = first.Entries[0].Version.Clock
	later.Entries[0].Version.Depth = 2
	stale := first
	stale.Seq = later.Seq + 1
	foreign := base()
	foreign.AppVersion = "2"
	own := base()
	own.Tab = "a"
	big := z.update("k", strings.Repeat("x", 1000))
	big.AppVersion = "1"

	a.recv(t0+1,
		"not an object",                                    // invalid
		withField(base(), "type", "NOT_A_TYPE"),            // unknownType
		withField(base(), "v", 2.0),                        // protocolVersion
		wire(foreign),                                      // foreignVersion
		wire(big),                                          // oversized
		wire(own),                                          // ownId
		wire(first), wire(later), wire(first), wire(stale), // duplicate, stale
	)
	st := a.e.Stats()
	for _, r := range protocol.Reasons() {
		assert.Equal(t, uint64(1), st.DroppedByReason[r.String()], "reason %s", r)
	}
	assert.Equal(t, uint64(len(protocol.Reasons())), st.Dropped)
	assert.Equal(t, 1.0, a.store["k"])
	assert.True(t, a.e.Active())
}

func TestInvalidFloodIsReportedOncePerCooldown(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ErrorCooldownMs: 10_000})
	a.start(t0)
	var errs []tsync.Error
	for i := 0; i < 1000; i++ {
		errs = append(errs, a.recv(t0+int64(i), map[string]any{"type": 42.0}).Errors...)
	}
	require.Len(t, errs, 1)
	assert.Equal(t, tsync.PhaseProtocol, errs[0].Phase)
	assert.Equal(t, uint64(1000), a.e.Stats().DroppedByReason["invalid"])

	// Another reason has its own cooldown.
	errs = a.recv(t0+1000, map[string]any{"type": "NOPE", "tabId": "z"}).Errors
	require.Len(t, errs, 1)

	// Once the cooldown is over the next one is reported with the count of
	// those that were not.
	errs = a.recv(t0+10_000, "garbage").Errors
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Message, "and 999 more")
	errs = a.recv(t0+10_001, "garbage").Errors
	assert.Empty(t, errs)
}

func TestForeignAppVersionReportedOncePerVersion(t *testing.T) {
	a := newTab(t, "a", tsync.Config{AppVersion: "2.0.0"})
	a.start(t0)
	old := &forger{tab: "old"}
	var errs []tsync.Error
	for i := 0; i < 5; i++ {
		m := old.update("k", float64(i))
		m.AppVersion = "1.9.0"
		errs = append(errs, a.deliver(t0+int64(i)*20_000, m).Errors...)
	}
	require.Len(t, errs, 1, "once, however long the old tab stays open")
	assert.Contains(t, errs[0].Message, "1.9.0")
	m := old.update("k", 9.0)
	m.AppVersion = "2.1.0"
	require.Len(t, a.deliver(t0+200_000, m).Errors, 1, "another version is reported again")
	assert.NotContains(t, a.store, "k")
	assert.Equal(t, uint64(6), a.e.Stats().DroppedByReason["foreignVersion"])
}

// A script posting a new app version in every message is reported for the
// first few versions only, then like any other drop: once per cooldown.
func TestForeignVersionFloodIsRateLimited(t *testing.T) {
	a := newTab(t, "a", tsync.Config{AppVersion: "2.0.0", ErrorCooldownMs: 10_000})
	a.start(t0)
	z := &forger{tab: "z"}
	var errs []tsync.Error
	for i := 0; i < 1000; i++ {
		m := z.update("k", float64(i))
		m.AppVersion = fmt.Sprint("forged-", i)
		errs = append(errs, a.deliver(t0+int64(i), m).Errors...)
	}
	assert.Len(t, errs, 9, "8 versions reported once each, then one report per cooldown")
	assert.Equal(t, uint64(1000), a.e.Stats().DroppedByReason["foreignVersion"])
	assert.NotContains(t, a.store, "k")
}

// A forged message under a live tab's id with a huge sequence number cannot
// silence that tab: its later, lower numbers still get through.
func TestForgedSeqUnderAPeersIDDoesNotSilenceIt(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.start(t0)
	forged := protocol.Message{Type: protocol.TabPing, Tab: "a", Seq: 1<<53 - 1, Started: 1}
	b.deliver(t0+1, forged)

	upd := a.set(t0+2, "k", 1.0).Messages[0]
	require.NotNil(t, b.deliver(t0+3, upd).Patch, "a's next write is applied")
	assert.Equal(t, 1.0, b.store["k"])
	later := a.set(t0+4, "k", 2.0).Messages[0]
	require.NotNil(t, b.deliver(t0+5, later).Patch, "and the one after")
	// Replays of its numbers, now below the forged one's window, are
	// judged by their versions: they change nothing.
	assert.Nil(t, b.deliver(t0+6, upd).Patch)
	assert.Nil(t, b.deliver(t0+7, later).Patch)
	assert.Equal(t, 2.0, b.store["k"])
	assert.Equal(t, uint64(2), b.e.Stats().DroppedByReason["stale"])
}

// Messages that arrive out of order but were never seen are judged by
// their versions; the same number twice is a duplicate.
func TestOutOfOrderSeqIsJudgedByVersion(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.start(t0)
	first := a.set(t0+1, "k", 1.0).Messages[0]
	second := a.set(t0+2, "k", 2.0).Messages[0]
	b.deliver(t0+3, second)
	assert.Nil(t, b.deliver(t0+4, first).Patch, "the older write changes nothing")
	assert.Equal(t, 2.0, b.store["k"])
	assert.Nil(t, b.deliver(t0+5, first).Patch)
	st := b.e.Stats().DroppedByReason
	assert.Equal(t, uint64(1), st["stale"])
	assert.Equal(t, uint64(1), st["duplicate"])
}

// --- Conflicts ----------------------------------------------------------------

func TestMergeConcurrentObjectWritesThenARemovalPropagates(t *testing.T) {
	cfg := tsync.Config{Strategy: conflict.Merge}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)

	// Both write at once; the messages cross.
	ua := a.set(t0+10, "prefs", map[string]any{"theme": "dark"}).Messages
	ub := b.set(t0+10, "prefs", map[string]any{"lang": "fr"}).Messages
	h.skip()
	a.deliver(t0+11, ub...)
	b.deliver(t0+11, ua...)
	h.settle(t0 + 11)

	want := map[string]any{"theme": "dark", "lang": "fr"}
	assert.Equal(t, want, a.store["prefs"])
	assert.Equal(t, want, b.store["prefs"])
	assert.Equal(t, a.version("prefs"), b.version("prefs"))
	assert.Equal(t, a.e.Digest(), b.e.Digest())
	assert.Equal(t, uint64(1), a.e.Stats().Conflicts+b.e.Stats().Conflicts-1, "each tab saw the conflict once")

	// Later, having seen the merge, a removes a field: no resurrection.
	a.set(t0+100, "prefs", map[string]any{"theme": "dark"})
	h.settle(t0 + 100)
	assert.Equal(t, map[string]any{"theme": "dark"}, a.store["prefs"])
	assert.Equal(t, map[string]any{"theme": "dark"}, b.store["prefs"])
	assert.Equal(t, a.version("prefs"), b.version("prefs"))

	// A newcomer gets the value with the field removed.
	c := newTab(t, "c", cfg)
	h.tabs = append(h.tabs, c)
	c.start(t0 + 200)
	h.settle(t0 + 200)
	h.tickAll(t0 + 200)
	h.tickAll(t0 + 300)
	assert.Equal(t, map[string]any{"theme": "dark"}, c.store["prefs"])
}

func TestMergeNeverTouchesPrototypeKeys(t *testing.T) {
	cfg := tsync.Config{Strategy: conflict.Merge}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)
	ua := a.set(t0+10, "o", map[string]any{"x": 1.0}).Messages
	ub := b.set(t0+10, "o", map[string]any{"__proto__": map[string]any{"admin": true}, "y": 2.0}).Messages
	h.skip()
	b.deliver(t0+11, ua...)
	a.deliver(t0+11, ub...)
	h.settle(t0 + 11)
	// The tab holding the later write (b: same millisecond, larger id)
	// combined them; the result has no prototype key.
	for _, tb := range []*tab{a, b} {
		assert.Equal(t, map[string]any{"x": 1.0, "y": 2.0}, tb.store["o"], tb.e.Tab())
	}
}

func TestCustomResolverCalledOnceInTheLaterTab(t *testing.T) {
	var calls []string
	resolver := func(who string) func(local, remote conflict.Value) (conflict.Value, error) {
		return func(local, remote conflict.Value) (conflict.Value, error) {
			calls = append(calls, who)
			// local and remote are partial states: {k: …}.
			l, r := local.(map[string]any)["k"].(map[string]any), remote.(map[string]any)["k"].(map[string]any)
			return map[string]any{"k": map[string]any{"total": gm.Num(l["n"]) + gm.Num(r["n"])}}, nil
		}
	}
	a := newTab(t, "a", tsync.Config{Strategy: conflict.Custom, Custom: resolver("a")})
	b := newTab(t, "b", tsync.Config{Strategy: conflict.Custom, Custom: resolver("b")})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)

	ua := a.set(t0+10, "k", map[string]any{"n": 1.0}).Messages
	ub := b.set(t0+20, "k", map[string]any{"n": 2.0}).Messages // the later write
	h.skip()
	a.deliver(t0+21, ub...)
	b.deliver(t0+21, ua...)
	h.settle(t0 + 21)

	assert.Equal(t, []string{"b"}, calls, "once, in the tab holding the later write")
	want := map[string]any{"total": 3.0}
	assert.Equal(t, want, a.store["k"])
	assert.Equal(t, want, b.store["k"])
	assert.Equal(t, a.version("k"), b.version("k"))
}

// A third tab that holds the later write when the earlier one reaches it
// does not call the resolver: the writer of the later write does. (Both
// used to: their two results were concurrent writes, combined again, and
// the reference's resolver, which concatenates arrays, doubled them. Seen in
// the e2e test ReferenceCustomResolver under load.)
func TestCustomResolverNotCalledByAThirdTab(t *testing.T) {
	var calls [][2]map[string]any
	cfg := tsync.Config{Strategy: conflict.Custom, Custom: referenceResolver(&calls)}
	a, b, c := newTab(t, "a", cfg), newTab(t, "b", cfg), newTab(t, "c", cfg)
	h := &hub{tabs: []*tab{a, b, c}}
	for _, tb := range h.tabs {
		tb.start(t0)
	}
	h.settle(t0)

	ua := a.set(t0+10, "theme", "dark", "locale", "fr", "recentItems", []any{"a1"}).Messages
	ub := b.set(t0+20, "theme", "sepia", "locale", "de", "recentItems", []any{"b1"}).Messages // later
	h.skip()
	c.deliver(t0+21, ub...) // c holds b's later write
	c.deliver(t0+21, ua...) // when a's reaches it
	assert.Empty(t, calls, "c leaves the combining to b")
	a.deliver(t0+22, ub...)
	b.deliver(t0+22, ua...)
	h.settle(t0 + 22)

	require.Len(t, calls, 1)
	for _, tb := range h.tabs {
		assert.Equal(t, []any{"b1", "a1"}, tb.store["recentItems"], tb.e.Tab())
		assert.Equal(t, "dark", tb.store["theme"], tb.e.Tab())
		assert.Equal(t, "de", tb.store["locale"], tb.e.Tab())
	}
}

// The e2e test ReferenceCustomResolver in the engine, under random delays:
// two tabs that debounce write concurrently, a third receives both, each
// tab runs its timers on its own schedule, and messages between two tabs
// arrive in order after 0 to 400 ms. The resolver is called once, and every
// tab ends with its result.
func TestCustomResolverOnceUnderRandomDelays(t *testing.T) {
	for seed := int64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var calls [][2]map[string]any
		debounced := tsync.Config{Strategy: conflict.Custom, Custom: referenceResolver(&calls), DebounceMs: 1500}
		a, b := newTab(t, "a", debounced), newTab(t, "b", debounced)
		c := newTab(t, "c", tsync.Config{Strategy: conflict.Custom, Custom: referenceResolver(&calls)})
		tabs := []*tab{a, b, c}
		for _, tb := range tabs {
			tb.store = map[string]any{"theme": "light", "locale": "en", "recentItems": []any{}}
			tb.start(t0)
		}
		(&hub{tabs: tabs}).settle(t0)

		type delivery struct {
			at int64
			to *tab
			m  protocol.Message
		}
		var queue []delivery
		last := map[[2]*tab]int64{} // per pair of tabs: in order
		post := func(now int64) {
			for _, from := range tabs {
				for ; from.read < len(from.sent); from.read++ {
					for _, to := range tabs {
						if to != from {
							at := max(now+rng.Int63n(400), last[[2]*tab{from, to}])
							last[[2]*tab{from, to}] = at
							queue = append(queue, delivery{at, to, from.sent[from.read]})
						}
					}
				}
			}
			sort.SliceStable(queue, func(i, j int) bool { return queue[i].at < queue[j].at })
		}
		a.set(t0+10, "theme", "dark", "locale", "fr", "recentItems", []any{"a1"})
		b.set(t0+20, "theme", "sepia", "locale", "de", "recentItems", []any{"b1"})
		phase := map[*tab]int64{a: rng.Int63n(5), b: rng.Int63n(5), c: rng.Int63n(5)}
		for now := t0 + 20; now < t0+10_000; now += 10 {
			for _, tb := range tabs {
				if (now/10+phase[tb])%5 == 0 { // every 50 ms
					tb.tick(now)
				}
			}
			post(now)
			for len(queue) > 0 && queue[0].at <= now {
				d := queue[0]
				queue = queue[1:]
				d.to.deliver(now, d.m)
				post(now)
			}
		}
		require.Len(t, calls, 1, "seed %d", seed)
		for _, tb := range tabs {
			require.Equal(t, []any{"b1", "a1"}, tb.store["recentItems"], "seed %d, tab %s", seed, tb.e.Tab())
		}
	}
}

func TestCustomResolverFailureReportsAndKeepsLocal(t *testing.T) {
	failing := func(local, remote conflict.Value) (conflict.Value, error) { return nil, errors.New("cannot decide") }
	cfg := tsync.Config{Strategy: conflict.Custom, Custom: failing}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	a.start(t0)
	b.start(t0)
	ua := a.set(t0+10, "k", "a's").Messages
	ub := b.set(t0+20, "k", "b's").Messages
	rd := b.deliver(t0+21, ua...)
	require.Len(t, rd.Errors, 1)
	assert.Equal(t, tsync.PhaseResolve, rd.Errors[0].Phase)
	assert.Contains(t, rd.Errors[0].Message, "cannot decide")
	assert.Nil(t, rd.Patch)
	assert.Equal(t, "b's", b.store["k"])
	assert.True(t, b.e.Active())

	// The earlier tab takes the later write: both still agree.
	a.deliver(t0+21, ub...)
	assert.Equal(t, "b's", a.store["k"])
	assert.Equal(t, a.version("k"), b.version("k"))
}

func TestLastWriteWinsConcurrentWritesConverge(t *testing.T) {
	a, b := newTab(t, "a", tsync.Config{}), newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.start(t0)
	ua := a.set(t0+10, "k", "a's").Messages
	ub := b.set(t0+10, "k", "b's").Messages // same millisecond: the tab id decides
	a.deliver(t0+11, ub...)
	b.deliver(t0+11, ua...)
	assert.Equal(t, "b's", a.store["k"])
	assert.Equal(t, "b's", b.store["k"], "no swap: both hold the same value")
}

// --- A new tab's defaults ---------------------------------------------------

func TestNewTabDefaultsNeverOverwriteExistingValues(t *testing.T) {
	for _, s := range []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge} {
		t.Run(s.String(), func(t *testing.T) {
			cfg := tsync.Config{Strategy: s}
			a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
			h := &hub{tabs: []*tab{a, b}}
			a.start(t0)
			b.start(t0)
			h.settle(t0)
			a.set(t0+10, "todos", []any{"buy milk"})
			a.set(t0+10, "prefs", map[string]any{"theme": "dark"})
			h.settle(t0 + 10)

			// A reloaded tab starts from its defaults, written later.
			c := newTab(t, "c", cfg)
			c.store["todos"] = []any{}
			c.store["prefs"] = map[string]any{"theme": "light", "extra": 1.0}
			c.store["onlyHere"] = "default"
			h.tabs = append(h.tabs, c)
			rd := c.start(t0 + 5000)
			for _, m := range rd.Messages {
				assert.NotEqual(t, protocol.StateUpdate, m.Type, "defaults are not pushed")
			}
			h.settle(t0 + 5000)
			h.tickAll(t0 + 5000)
			h.tickAll(t0 + 5100)

			for _, tb := range []*tab{a, b, c} {
				assert.Equal(t, []any{"buy milk"}, tb.store["todos"], tb.e.Tab())
				assert.Equal(t, map[string]any{"theme": "dark"}, tb.store["prefs"], tb.e.Tab())
			}
			assert.NotContains(t, a.store, "onlyHere")
			assert.Equal(t, "default", c.store["onlyHere"])

			// Nor does BroadcastState push them.
			assert.True(t, empty(c.do(c.e.BroadcastState(t0+6000, []string{"onlyHere"}))))
		})
	}
}

// A burst inside a throttle window is one write as far as the others are
// concerned: its version is one deeper than the version they saw. (It used
// to count every write of the burst, and merge then took a concurrent write
// of another tab for an ancestor and dropped it without merging.)
func TestMergeConcurrentWithAThrottledBurst(t *testing.T) {
	a := newTab(t, "a", tsync.Config{Strategy: conflict.Merge, ThrottleMs: 100})
	b := newTab(t, "b", tsync.Config{Strategy: conflict.Merge})
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)
	a.set(t0+10, "o", map[string]any{"a": 1.0}) // leading edge
	h.settle(t0 + 10)

	a.set(t0+20, "o", map[string]any{"a": 1.0, "x": 1.0}) // a burst, pending
	a.set(t0+30, "o", map[string]any{"a": 1.0, "x": 2.0})
	ub := b.set(t0+25, "o", map[string]any{"a": 1.0, "y": 1.0}).Messages // concurrent, sent at once
	h.skip()

	a.tick(t0 + 110)
	trailing := a.sentOf(protocol.StateUpdate)[1:]
	require.Len(t, trailing, 1)
	assert.Equal(t, uint64(2), trailing[0].Entries[0].Version.Depth)
	h.skip()
	b.deliver(t0+111, trailing...)
	a.deliver(t0+111, ub...)
	h.settle(t0 + 111)
	h.tickAll(t0 + 210) // a combined them; its result goes at its window's end

	want := map[string]any{"a": 1.0, "x": 2.0, "y": 1.0}
	assert.Equal(t, want, a.store["o"])
	assert.Equal(t, want, b.store["o"])
	assert.Equal(t, a.version("o"), b.version("o"))
}

// A tab whose pending (throttled) write meets a later concurrent write
// still sends it, so that the later tab merges both. (It used to drop it:
// the later tab never learnt of it and the change was lost everywhere.)
func TestMergePendingWriteMeetsALaterConcurrentWrite(t *testing.T) {
	for _, s := range []conflict.Strategy{conflict.Merge, conflict.Custom} {
		t.Run(s.String(), func(t *testing.T) {
			union := func(local, remote conflict.Value) (conflict.Value, error) {
				return conflict.DeepMerge(gm, remote, local), nil
			}
			a := newTab(t, "a", tsync.Config{Strategy: s, Custom: union, ThrottleMs: 100})
			b := newTab(t, "b", tsync.Config{Strategy: s, Custom: union})
			h := &hub{tabs: []*tab{a, b}}
			a.start(t0)
			b.start(t0)
			h.settle(t0)
			a.set(t0+10, "o", map[string]any{"a": 1.0}) // leading edge
			h.settle(t0 + 10)

			a.set(t0+20, "o", map[string]any{"a": 1.0, "x": 1.0}) // pending until t0+110
			b.set(t0+40, "o", map[string]any{"a": 1.0, "y": 1.0}) // later, sent at once
			h.settle(t0 + 40)
			h.tickAll(t0 + 110)
			h.settle(t0 + 110)

			want := map[string]any{"a": 1.0, "x": 1.0, "y": 1.0}
			assert.Equal(t, want, a.store["o"])
			assert.Equal(t, want, b.store["o"])
			assert.Equal(t, a.version("o"), b.version("o"))
		})
	}
}

// referenceResolver is the reference's customResolver example, in Go over
// GoModel values: local and remote are partial states.
func referenceResolver(calls *[][2]map[string]any) func(local, remote conflict.Value) (conflict.Value, error) {
	return func(local, remote conflict.Value) (conflict.Value, error) {
		l, r := local.(map[string]any), remote.(map[string]any)
		*calls = append(*calls, [2]map[string]any{l, r})
		theme := r["theme"]
		if theme == nil {
			theme = l["theme"]
		}
		items := []any{}
		if li, ok := l["recentItems"].([]any); ok {
			items = append(items, li...)
		}
		if ri, ok := r["recentItems"].([]any); ok {
			items = append(items, ri...)
		}
		return map[string]any{"theme": theme, "locale": l["locale"], "recentItems": items}, nil
	}
}

// The custom resolver receives partial states, the conflicting keys of one
// update in one call, and the keys it returns are applied in every tab.
func TestCustomResolverGetsPartialStates(t *testing.T) {
	var calls [][2]map[string]any
	cfg := tsync.Config{Strategy: conflict.Custom, Custom: referenceResolver(&calls)}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)

	ua := a.set(t0+10, "theme", "light", "locale", "fr", "recentItems", []any{"a1"}).Messages
	ub := b.set(t0+20, "theme", "dark", "locale", "de", "recentItems", []any{"b1"}).Messages // later
	h.skip()
	a.deliver(t0+21, ub...)
	b.deliver(t0+21, ua...)
	h.settle(t0 + 21)

	require.Len(t, calls, 1, "one call for the update, in the tab holding the later writes")
	assert.Equal(t, map[string]any{"theme": "dark", "locale": "de", "recentItems": []any{"b1"}}, calls[0][0], "local")
	assert.Equal(t, map[string]any{"theme": "light", "locale": "fr", "recentItems": []any{"a1"}}, calls[0][1], "remote")
	for _, tb := range []*tab{a, b} {
		assert.Equal(t, "light", tb.store["theme"], tb.e.Tab())
		assert.Equal(t, "de", tb.store["locale"], tb.e.Tab())
		assert.Equal(t, []any{"b1", "a1"}, tb.store["recentItems"], tb.e.Tab())
	}
	// The same writes (the lineage of a write kept by the resolver may name
	// the write it absorbed in the resolving tab only).
	for _, k := range []string{"theme", "locale", "recentItems"} {
		assert.Equal(t, protocol.FormatVersion(a.version(k)), protocol.FormatVersion(b.version(k)), k)
	}
}

// A key the resolver's result names but that was not in conflict is
// ignored (the reference's example names every key, reading undefined from
// the partial states); a conflicting key it leaves out keeps the later write.
func TestCustomResolverResultOutsideTheConflictIsIgnored(t *testing.T) {
	var calls [][2]map[string]any
	cfg := tsync.Config{Strategy: conflict.Custom, Custom: referenceResolver(&calls)}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	a.set(t0+1, "locale", "fr", "recentItems", []any{"x"})
	h.settle(t0 + 1)

	ua := a.set(t0+10, "theme", "light", "count", 1.0).Messages
	ub := b.set(t0+20, "theme", "dark", "count", 2.0).Messages // later
	h.skip()
	a.deliver(t0+21, ub...)
	b.deliver(t0+21, ua...)
	h.settle(t0 + 21)

	require.Len(t, calls, 1)
	assert.Equal(t, map[string]any{"theme": "dark", "count": 2.0}, calls[0][0])
	for _, tb := range []*tab{a, b} {
		assert.Equal(t, "light", tb.store["theme"], "returned: applied")
		assert.Equal(t, 2.0, tb.store["count"], "left out: the later write")
		assert.Equal(t, "fr", tb.store["locale"], "not in conflict: ignored")
		assert.Equal(t, []any{"x"}, tb.store["recentItems"], "not in conflict: ignored")
	}
	assert.Equal(t, protocol.FormatVersion(a.version("count")), protocol.FormatVersion(b.version("count")))
	assert.Equal(t, protocol.FormatVersion(a.version("theme")), protocol.FormatVersion(b.version("theme")))
}
