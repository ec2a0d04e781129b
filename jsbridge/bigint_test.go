//go:build js && wasm

package jsbridge

import (
	"math"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
)

// syscall/js has no Type for a BigInt: Value.Type, Truthy, String and Get
// panic on one. Applications keep BigInts in their state, structured clone
// carries them, and a config or a message may hold one by mistake.

func TestModelReadsBigInts(t *testing.T) {
	m := testModel(t)
	big := jsEval("10n")
	assert.Equal(t, conflict.Other, m.Kind(big), "taken whole, like a Date")
	assert.Nil(t, m.Keys(big))
	assert.Equal(t, 0, m.Len(big))
	assert.Equal(t, "", m.Str(big))
	assert.True(t, math.IsNaN(m.Num(big)))
	assert.False(t, m.Truth(big))
	assert.Equal(t, conflict.Undefined, m.Kind(m.Get(big, "x")))
	n, depth := m.Size(big, 1000, 10)
	assert.Equal(t, 8, n)
	assert.Equal(t, 1, depth)
	n, _ = m.Size(jsEval("{a: 1n, b: [2n]}"), 1000, 10)
	assert.Positive(t, n)
}

func TestBigIntValuesSync(t *testing.T) {
	a, b := pair(t, "{id: 0n, n: 0}", "{throttleMs: 0, conflictStrategy: 'merge'}")

	a.set("{id: 12345678901234567890n, n: 1, nested: {big: 1n}}")

	eventually(t, "b to get the change", func() bool { return b.get("n") == "1" })
	str := js.Global().Get("String")
	assert.Equal(t, "12345678901234567890", str.Invoke(b.state().Get("id")).String())
	assert.Equal(t, "1", str.Invoke(b.state().Get("nested").Get("big")).String())
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}

func TestBigIntsInTheConfigAreProblems(t *testing.T) {
	for _, c := range []struct{ field, want string }{
		{"channelName: 1n", "channelName must be a non-empty string"},
		{"throttleMs: 100n", "throttleMs must be a number of milliseconds, 0 or more"},
		{"syncKeys: [1n]", "syncKeys must hold only strings"},
		{"onRemoteUpdate: 1n", "onRemoteUpdate must be a function"},
		{"conflictStrategy: 1n", "conflictStrategy must be a string"},
		{"leaderElection: 1n", "leaderElection must be 'auto', 'locks' or 'heartbeat'"},
		{"appVersion: 1n", "appVersion must be a string"},
		{"persist: 1n", "persist must be a boolean or an object"},
	} {
		t.Run(c.field, func(t *testing.T) {
			in := newInstance(t, emptyStore(), jsEval("{channelName: 'bigint', "+c.field+"}"))
			in.start()
			assert.False(t, in.active())
			require.Len(t, in.errors(), 1)
			assert.Contains(t, in.errors()[0], c.want)
		})
	}

	// Truthy flags and odd arguments.
	in := newInstance(t, emptyStore(), jsEval("{channelName: 'bigint', debug: 0n, enableLeaderElection: 1n}"))
	assert.Empty(t, in.s.problems)
	assert.False(t, in.s.opt.debug, "0n is falsy")
	assert.True(t, in.s.opt.enableLeaderElection)
	in.start()
	assert.NotPanics(t, func() { in.h.Call("broadcastState", jsEval("1n")) })
	assert.NotPanics(t, func() { in.h.Call("broadcastState", jsEval("[1n]")) })

	bad := newInstance(t, jsEval("1n"), jsEval("{channelName: 'bigint'}"))
	bad.start()
	assert.Equal(t, []string{"start: not syncing: store must be an object with getState, setState and subscribe"}, bad.errors())

	_, err := New(emptyStore(), jsEval("1n"), "tab-bigint-config")
	assert.NoError(t, err)
	Install()
	r := js.Global().Get("__tabsync").Call("create", emptyStore(), jsEval("{channelName: 'c'}"), jsEval("1n"))
	assert.Equal(t, "TypeError", r.Get("error").Get("name").String())
}

func TestShouldSyncReturningABigInt(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0, shouldSync: (prev, next) => BigInt(next.n % 2)}")
	a.set("{n: 2}") // 0n: falsy, kept
	a.set("{n: 3}") // 1n: sent
	eventually(t, "b to get n = 3", func() bool { return b.get("n") == "3" })
	assert.Empty(t, a.errors())
}

func TestBigIntsInMessagesAreDropped(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")
	w := watch(t, a)
	before := b.stats().Get("dropped").Int()

	for _, m := range []string{
		"1n",
		"{type: 1n}",
		"{type: 'TAB_PING', tabId: 'raw-big', v: 1n, seq: 1, payload: {started: 1}}",
		"{type: 'TAB_PING', tabId: 'raw-big', v: 1, seq: 1n, payload: {started: 1}}",
		"{type: 'TAB_PING', tabId: 'raw-big', v: 1, seq: 2, payload: {started: 1n}}",
		"{type: 'STATE_UPDATE', tabId: 'raw-big', v: 1, seq: 3, payload: {state: {n: 5}, meta: {n: 5n}}}",
	} {
		w.Call("post", jsEval(m))
	}

	eventually(t, "b to drop them", func() bool { return b.stats().Get("dropped").Int() == before+6 })
	assert.Equal(t, 6, b.stats().Get("droppedByReason").Get("invalid").Int())
	for _, e := range b.errors() {
		assert.NotContains(t, e, "internal error")
	}
	a.set("{n: 1}")
	eventually(t, "b to keep syncing", func() bool { return b.get("n") == "1" })
}
