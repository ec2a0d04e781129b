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

func testModel(t *testing.T) *model {
	t.Helper()
	m, err := loadHelpers()
	require.NoError(t, err)
	return m
}

func TestModelKinds(t *testing.T) {
	m := testModel(t)
	for _, c := range []struct {
		expr string
		want conflict.Kind
	}{
		{"undefined", conflict.Undefined},
		{"null", conflict.Null},
		{"true", conflict.Bool},
		{"0", conflict.Number},
		{"NaN", conflict.Number},
		{"'x'", conflict.String},
		{"''", conflict.String},
		{"[1, 2]", conflict.Array},
		{"[]", conflict.Array},
		{"{a: 1}", conflict.Object},
		{"Object.create(null)", conflict.Object},
		{"JSON.parse('{\"__proto__\": {\"x\": 1}}')", conflict.Object},
		{"() => 1", conflict.Function},
		{"class {}", conflict.Function},
		// Not plain objects: merging them would lose what makes them what they are.
		{"new Date(0)", conflict.Other},
		{"new Map()", conflict.Other},
		{"new Set()", conflict.Other},
		{"new Uint8Array(2)", conflict.Other},
		{"new (class Point { constructor() { this.x = 1; } })()", conflict.Other},
		{"Object.create({inherited: 1})", conflict.Other},
		{"Symbol('s')", conflict.Other},
	} {
		assert.Equal(t, c.want, m.Kind(jsEval(c.expr)), c.expr)
	}
	assert.Equal(t, conflict.Undefined, m.Kind(nil), "a nil Value is undefined")
}

func TestModelReadsValues(t *testing.T) {
	m := testModel(t)
	obj := jsEval("{b: 2, a: 'x', fn() {}, nested: {deep: [1, 'two']}}")

	assert.Equal(t, []string{"b", "a", "fn", "nested"}, m.Keys(obj), "own keys in insertion order")
	assert.Equal(t, "x", m.Str(m.Get(obj, "a")))
	assert.Equal(t, 2.0, m.Num(m.Get(obj, "b")))
	assert.Equal(t, conflict.Function, m.Kind(m.Get(obj, "fn")), "a function value is read as a function, not called")
	assert.Equal(t, conflict.Undefined, m.Kind(m.Get(obj, "missing")))

	arr := m.Get(m.Get(obj, "nested"), "deep")
	require.Equal(t, 2, m.Len(arr))
	assert.Equal(t, 1.0, m.Num(m.Index(arr, 0)))
	assert.Equal(t, "two", m.Str(m.Index(arr, 1)))
	assert.Equal(t, conflict.Undefined, m.Kind(m.Index(arr, 2)), "out of range")
	assert.Equal(t, conflict.Undefined, m.Kind(m.Index(arr, -1)), "out of range")

	// Reading through the wrong kind gives the zero answer, never a panic.
	assert.Nil(t, m.Keys(jsEval("'abc'")))
	assert.Nil(t, m.Keys(jsEval("() => 1")))
	assert.Equal(t, 0, m.Len(obj))
	assert.Equal(t, 0, m.Len(jsEval("'abc'")), "a string is not an array")
	assert.Equal(t, "", m.Str(jsEval("5")))
	assert.True(t, math.IsNaN(m.Num(jsEval("'5'"))))
	assert.True(t, m.Truth(jsEval("true")))
	assert.False(t, m.Truth(jsEval("1")), "only the boolean true is true")
	assert.Equal(t, conflict.Undefined, m.Kind(m.Get(jsEval("null"), "x")))
	assert.Equal(t, conflict.Undefined, m.Kind(m.Get(jsEval("7"), "x")))
}

func TestModelSize(t *testing.T) {
	m := testModel(t)
	n, depth := m.Size(jsEval("'abcd'"), 1000, 10)
	assert.Equal(t, 12, n, "4 bytes of length and 2 a character")
	assert.Equal(t, 1, depth)
	n, _ = m.Size(jsEval("'ü€'"), 1000, 10)
	assert.Equal(t, 8, n, "characters are UTF-16 code units, as JavaScript stores them")
	n, depth = m.Size(jsEval("42"), 1000, 10)
	assert.Equal(t, 8, n)
	assert.Equal(t, 1, depth)

	small, depth := m.Size(jsEval("{a: {b: {c: 'x'}}}"), 1000, 10)
	assert.Less(t, small, 1000)
	assert.Equal(t, 4, depth)

	// A big or hostile value is measured only up to the limit.
	big, _ := m.Size(jsEval("{s: 'x'.repeat(100000)}"), 1000, 10)
	assert.Greater(t, big, 1000)
	_, depth = m.Size(jsEval("(() => { let o = {}; for (let i = 0; i < 1000; i++) o = {o}; return o; })()"), 1<<20, 10)
	assert.Greater(t, depth, 10, "nesting past maxDepth is detected")
	cyclic, _ := m.Size(jsEval("(() => { const o = {}; o.self = o; return o; })()"), 1000, 10)
	assert.Greater(t, cyclic, 0, "a cycle ends at the budget")
}

func TestModelBuildsValues(t *testing.T) {
	m := testModel(t)
	assert.Equal(t, "s", jv(m.MakeString("s")).String())
	assert.Equal(t, 1.5, jv(m.MakeNumber(1.5)).Float())
	assert.True(t, jv(m.MakeBool(true)).Bool())
	assert.True(t, jv(m.MakeUndefined()).IsUndefined())

	fn := jsEval("() => 1")
	obj := jv(m.MakeObject([]string{"n", "f"}, []conflict.Value{m.MakeNumber(1), fn}))
	assert.Equal(t, conflict.Object, m.Kind(obj))
	assert.True(t, obj.Get("f").Equal(fn), "values are put in as they are, functions included")
	arr := jv(m.MakeArray([]conflict.Value{m.MakeString("a"), jsEval("{x: 1}")}))
	assert.Equal(t, `["a",{"x":1}]`, jsJSON(arr))
}

func TestDeepMergeOfJavaScriptObjects(t *testing.T) {
	m := testModel(t)
	earlier := jsEval("{user: {name: 'ann', prefs: {theme: 'dark', size: 1}}, tags: ['a', 'b'], keep: 1}")
	later := jsEval("{user: {prefs: {size: 2}, age: 30}, tags: ['c'], added: true}")
	before := jsJSON(earlier) + jsJSON(later)

	merged := jv(conflict.DeepMerge(m, earlier, later))

	assert.Equal(t,
		`{"user":{"name":"ann","prefs":{"theme":"dark","size":2},"age":30},"tags":["c"],"keep":1,"added":true}`,
		jsJSON(merged), "plain objects merge key by key; arrays are replaced, not merged")
	assert.Equal(t, before, jsJSON(earlier)+jsJSON(later), "neither input is modified")
	assert.True(t, jsGetProto.Invoke(merged).Equal(jsObjectProto), "the result is an ordinary object")
}

func TestDeepMergeKeepsFunctionsAndNonPlainValues(t *testing.T) {
	m := testModel(t)
	fn := jsEval("() => 'action'")
	earlier := jsEval("{date: {a: 1}, act: 1}")
	later := jsObject.New()
	later.Set("date", jsEval("new Date(0)"))
	later.Set("act", fn)
	merged := jv(conflict.DeepMerge(m, earlier, later))
	assert.True(t, merged.Get("act").Equal(fn), "a function value is taken as it is")
	assert.True(t, merged.Get("date").InstanceOf(js.Global().Get("Date")), "a Date replaces an object, it is not merged into it")

	// Objects without a prototype are plain: they merge.
	nullProto := jsEval("Object.assign(Object.create(null), {a: {x: 1}})")
	merged = jv(conflict.DeepMerge(m, nullProto, jsEval("{a: {y: 2}}")))
	assert.Equal(t, `{"a":{"x":1,"y":2}}`, jsJSON(merged))
}

func TestDeepMergeNeverTouchesPrototypes(t *testing.T) {
	m := testModel(t)
	// JSON.parse makes own properties named __proto__, the way a hostile
	// message or a stored state would carry them.
	earlier := jsEval(`JSON.parse('{"ok": {"a": 1}, "__proto__": {"polluted": "earlier"}, "constructor": {"prototype": {"polluted": "ctor"}}}')`)
	later := jsEval(`JSON.parse('{"ok": {"__proto__": {"polluted": "nested"}, "b": 2}, "__proto__": {"polluted": "later"}, "prototype": {"polluted": "proto"}}')`)

	merged := jv(conflict.DeepMerge(m, earlier, later))

	assert.Equal(t, `{"ok":{"a":1,"b":2}}`, jsJSON(merged))
	assert.Equal(t, []string{"ok"}, m.Keys(merged))
	assert.True(t, jsGetProto.Invoke(merged).Equal(jsObjectProto), "the prototype of the result is Object.prototype")
	assert.True(t, jsGetProto.Invoke(merged.Get("ok")).Equal(jsObjectProto), "nested objects too")
	assert.True(t, merged.Get("polluted").IsUndefined())
	assert.True(t, merged.Get("ok").Get("polluted").IsUndefined())
	assert.True(t, jsEval("({}).polluted").IsUndefined(), "Object.prototype is untouched")
	assert.True(t, jsEval("Object.prototype.hasOwnProperty('polluted')").Bool() == false)
}

// TestModelEqual: helpers.js equal follows conflict.DeepEqual, which merge
// and custom use to publish a combined value only when it differs.
func TestModelEqual(t *testing.T) {
	m := testModel(t)
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"{a: 1, b: [1, {c: null}]}", "{b: [1, {c: null}], a: 1}", true},
		{"{a: 1}", "{a: 1, b: 2}", false},
		{"{a: undefined}", "{b: undefined}", false},
		{"{a: undefined}", "{a: undefined}", true},
		{"[1, 2]", "[1, 2]", true},
		{"[1, 2]", "[2, 1]", false},
		{"[1]", "{0: 1}", false},
		{"NaN", "NaN", true},
		{"0", "-0", true},
		{"1", "'1'", false},
		{"null", "undefined", false},
		{"'x'", "'x'", true},
		{"new Date(0)", "new Date(0)", false},
		{"{d: new Map()}", "{d: new Map()}", false},
	} {
		assert.Equal(t, c.want, m.Equal(jsEval(c.a), jsEval(c.b)), "%s vs %s", c.a, c.b)
		assert.Equal(t, c.want, m.Equal(jsEval(c.b), jsEval(c.a)), "%s vs %s", c.b, c.a)
	}
}
