//go:build js && wasm

package jsbridge

import (
	"strings"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/protocol"
)

var reasonNames = func() []string {
	var out []string
	for _, r := range protocol.Reasons() {
		out = append(out, r.String())
	}
	return out
}()

// requireStatsShape checks getStats() against the contract and returns
// its counters.
func requireStatsShape(t *testing.T, st js.Value) map[string]int {
	t.Helper()
	require.Equal(t, js.TypeObject, st.Type())
	assert.ElementsMatch(t, []string{"sent", "received", "applied", "conflicts", "dropped", "droppedByReason"}, testModelKeys(st))
	out := map[string]int{}
	for _, k := range []string{"sent", "received", "applied", "conflicts", "dropped"} {
		require.Equal(t, js.TypeNumber, st.Get(k).Type(), k)
		out[k] = st.Get(k).Int()
	}
	by := st.Get("droppedByReason")
	require.Equal(t, js.TypeObject, by.Type())
	assert.ElementsMatch(t, reasonNames, testModelKeys(by), "every reason is there, 0 when none was dropped")
	sum := 0
	for _, r := range reasonNames {
		require.Equal(t, js.TypeNumber, by.Get(r).Type(), r)
		out[r] = by.Get(r).Int()
		sum += out[r]
	}
	assert.Equal(t, out["dropped"], sum, "dropped is the sum over reasons")
	return out
}

func TestStatsShapeBeforeStart(t *testing.T) {
	in := newInstance(t, emptyStore(), jsEval("{channelName: 'stats'}"))
	st := requireStatsShape(t, in.stats())
	for k, n := range st {
		assert.Zero(t, n, k)
	}
	bad := newInstance(t, emptyStore(), jsEval("{channelName: ''}"))
	bad.start()
	st = requireStatsShape(t, bad.stats())
	for k, n := range st {
		assert.Zero(t, n, k)
	}
}

func TestStatsCountTheExchange(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")
	a.set("{n: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	b.set("{n: 2}")
	eventually(t, "a to get n", func() bool { return a.get("n") == "2" })

	// b also gets a's answer to its state request; a, started just
	// before b, gives it a stagger (60 ms) late, so it may come last.
	eventually(t, "b to receive a pong, an update and an answer", func() bool {
		return requireStatsShape(t, b.stats())["received"] >= 3
	})
	sa, sb := requireStatsShape(t, a.stats()), requireStatsShape(t, b.stats())
	// Each sent at least a ping, a state request and an update.
	assert.GreaterOrEqual(t, sa["sent"], 3)
	assert.GreaterOrEqual(t, sb["sent"], 3)
	assert.GreaterOrEqual(t, sa["received"], 3)
	assert.GreaterOrEqual(t, sb["received"], 3)
	assert.Equal(t, 1, sa["applied"])
	assert.Equal(t, 1, sb["applied"])
	assert.Zero(t, sa["conflicts"])
	// The only drops of a clean exchange: a start-up answer that arrives
	// after the update it repeats is stale.
	assert.Equal(t, sb["dropped"], sb["stale"]+sb["duplicate"])
	assert.Equal(t, sa["dropped"], sa["stale"]+sa["duplicate"])
}

func TestMalformedMessagesAreDroppedAndCounted(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0, maxMessageBytes: 4000}")
	w := watch(t, a)
	a.set("{n: 1}")
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	eventually(t, "the watcher to see a's update", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 1 })
	before := requireStatsShape(t, b.stats())
	errsBefore := len(b.errors())

	garbage := jsEval(`[
		'hello', null, 42, [], {type: 5},
		{type: 'STATE_UPDATE'},
		{type: 'STATE_UPDATE', tabId: 'has space', v: 1, seq: 1},
		{type: 'TAB_PING', tabId: 'raw-1', v: 1, seq: 0, payload: {started: 1}},
		{type: 'STATE_UPDATE', tabId: 'raw-2', v: 1, seq: 1, payload: {state: {n: 666}, meta: {n: 'garbage'}}},
		{type: 'NOPE', tabId: 'raw-3'},
		{type: 'TAB_PING', tabId: 'raw-4', v: 2, seq: 1, payload: {started: 1}},
		{type: 'TAB_PING', tabId: 'raw-5', v: 1, seq: 1, appVersion: '0.9', payload: {started: 1}},
		{type: 'TAB_PING', tabId: 'raw-5', v: 1, seq: 2, appVersion: '0.9', payload: {started: 1}},
		{type: 'STATE_UPDATE', tabId: 'raw-6', v: 1, seq: 1, payload: {state: {n: 'x'.repeat(5000)}, meta: {}}},
		{type: 'STATE_UPDATE', tabId: 'raw-7', v: 1, seq: 1, payload: (() => { let o = {}; for (let i = 0; i < 100; i++) o = {o}; return o; })()},
	]`)
	for i := 0; i < garbage.Length(); i++ {
		w.Call("post", garbage.Index(i))
	}
	w.Call("post", jsEval(`{type: 'TAB_PING', tabId: '`+b.tab+`', v: 1, seq: 1, payload: {started: 1}}`))
	w.Call("post", fromTab(w, a.tab, "STATE_UPDATE")[0]) // a replay
	want := map[string]int{"invalid": 9, "unknownType": 1, "protocolVersion": 1, "foreignVersion": 2, "oversized": 2, "ownId": 1, "duplicate": 1}
	total := 0
	for _, n := range want {
		total += n
	}

	eventually(t, "b to drop them all", func() bool { return b.stats().Get("dropped").Int() == before["dropped"]+total })
	after := requireStatsShape(t, b.stats())
	for _, r := range reasonNames {
		assert.Equal(t, want[r], after[r]-before[r], r)
	}
	assert.Equal(t, total, after["received"]-before["received"])
	assert.Equal(t, before["applied"], after["applied"], "nothing was applied")
	assert.Equal(t, `{"n":1}`, jsJSON(b.state()), "nor changed")
	assert.Equal(t, 2, b.connected(), "no garbage counts as a tab")

	errs := b.errors()[errsBefore:]
	assert.NotEmpty(t, errs)
	assert.Less(t, len(errs), total, "drops are reported, but not one report each")
	foreign := 0
	for _, e := range errs {
		assert.True(t, strings.HasPrefix(e, "protocol: "), e)
		assert.NotContains(t, e, "internal error")
		if strings.Contains(e, "another app version") {
			foreign++
		}
	}
	assert.Equal(t, 1, foreign, "a foreign app version is reported once")

	a.set("{n: 3}")
	eventually(t, "b to keep syncing", func() bool { return b.get("n") == "3" })
}
