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

	w.Call("post", jsEval(`(() => {
		const v = Date.now() + '.0.raw-evil||1';
		return {type: 'STATE_UPDATE', tabId: 'raw-evil', v: 1, seq: 1, payload: {
			state: JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "prototype": {"polluted": 3}, "n": 5, "obj": {"__proto__": {"polluted": 4}, "ok": 1}}'),
			meta: JSON.parse('{"__proto__": "' + v + '", "constructor": "' + v + '", "prototype": "' + v + '", "n": "' + v + '", "obj": "' + v + '"}'),
		}};
	})()`))

	eventually(t, "b to apply the rest of the update", func() bool { return b.get("n") == "5" })
	assert.Equal(t, 1, b.state().Get("obj").Get("ok").Int())
	assert.ElementsMatch(t, []string{"n", "obj"}, jsStrings(b.log.Get("remote").Index(0).Get("keys")))
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
