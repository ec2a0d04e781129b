//go:build js && wasm

package jsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Structured clone keeps own properties named __proto__, constructor and
// prototype (JSON.parse makes them), so a message or a value can carry
// them. None may reach a store's state as a key or change a prototype.

func assertNoPollution(t *testing.T, in *instance) {
	t.Helper()
	assert.True(t, jsEval("({}).polluted === undefined && Object.prototype.polluted === undefined").Bool(), "Object.prototype is untouched")
	st := in.state()
	assert.True(t, jsGetProto.Invoke(st).Equal(jsObjectProto), "the state is an ordinary object")
	has := jsFunc("o, k", "return Object.prototype.hasOwnProperty.call(o, k)")
	for _, k := range []string{"__proto__", "constructor", "prototype"} {
		assert.False(t, has.Invoke(st, k).Bool(), "no own %s key in the state", k)
	}
}

func TestHostileKeysInAMessageAreIgnored(t *testing.T) {
	a, b := pair(t, "{n: 0, obj: null}", "{throttleMs: 0}")
	w := watch(t, a)
	post := func(seq int, state, keys string) {
		w.Call("post", jsFunc("seq, state, keys", `
			const v = Date.now() + '.0.raw-evil||1';
			const meta = {};
			for (const k of JSON.parse(keys)) Object.defineProperty(meta, k, {value: v, enumerable: true});
			return {type: 'STATE_UPDATE', tabId: 'raw-evil', v: 1, seq, payload: {state: JSON.parse(state), meta}};
		`).Invoke(seq, state, keys))
	}

	// Forbidden keys at the top of a state: no tab sends them, so the
	// whole message is dropped as invalid.
	post(1, `{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "prototype": {"polluted": 3}, "n": 5}`,
		`["__proto__", "constructor", "prototype", "n"]`)
	eventually(t, "b to drop it", func() bool { return b.stats().Get("droppedByReason").Get("invalid").Int() == 1 })
	assert.Equal(t, "0", b.get("n"))
	assertNoPollution(t, b)

	// Inside a value they are data: the value is applied as it came.
	post(2, `{"n": 6, "obj": {"__proto__": {"polluted": 4}, "ok": 1}}`, `["n", "obj"]`)
	eventually(t, "b to apply it", func() bool { return b.get("n") == "6" })
	assert.Equal(t, 1, b.state().Get("obj").Get("ok").Int())
	assert.True(t, b.state().Get("obj").Get("polluted").IsUndefined())
	assertNoPollution(t, b)
	assertNoPollution(t, a)
}

func TestMergeOfHostileValuesNeverPollutes(t *testing.T) {
	a, b := pair(t, "{prefs: {}}", "{throttleMs: 0, conflictStrategy: 'merge'}")

	conflictOn(t, a, b,
		`{prefs: JSON.parse('{"__proto__": {"polluted": 1}, "a": 1, "deep": {"constructor": {"prototype": {"polluted": 2}}, "x": 1}}')}`,
		`{prefs: JSON.parse('{"prototype": {"polluted": 3}, "b": 2, "deep": {"y": 2}}')}`)

	want := `{"a":1,"deep":{"x":1,"y":2},"b":2}`
	eventually(t, "both to hold the merged prefs", func() bool { return a.get("prefs") == want && b.get("prefs") == want })
	for _, in := range []*instance{a, b} {
		assertNoPollution(t, in)
		prefs := in.state().Get("prefs")
		assert.True(t, jsGetProto.Invoke(prefs).Equal(jsObjectProto))
		assert.True(t, prefs.Get("polluted").IsUndefined())
		assert.True(t, prefs.Get("deep").Get("polluted").IsUndefined())
	}
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}
