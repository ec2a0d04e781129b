//go:build js && wasm

package jsbridge

import (
	"math"
	"syscall/js"

	"github.com/tabsync/tabsync/conflict"
)

// Cached JavaScript globals: looking a global up crosses the boundary.
var (
	jsObject       = js.Global().Get("Object")
	jsArray        = js.Global().Get("Array")
	jsIsArray      = jsArray.Get("isArray")
	jsBoolean      = js.Global().Get("Boolean")
	jsString       = js.Global().Get("String")
	jsReflectGet   = js.Global().Get("Reflect").Get("get")
	jsConsole      = js.Global().Get("console")
	jsStructClone  = js.Global().Get("structuredClone")
	jsSetTimeout   = js.Global().Get("setTimeout")
	jsClearTimeout = js.Global().Get("clearTimeout")
	jsDateNow      = js.Global().Get("Date").Get("now")
)

// model is the conflict.Model over js.Value. It holds the helpers from
// helpers.js.
type model struct {
	keysOf    js.Value
	kindOf    js.Value
	sizeOf    js.Value
	equal     js.Value
	config    js.Value // reads the user's config (parseConfig)
	lifecycle js.Value // follows the page lifecycle (watchLifecycle)
	handle    js.Value // builds a Handle around its one Go function
	watch     js.Value // subscribes to the store, batching local changes
}

func loadHelpers() (*model, error) {
	h := js.Global().Get("__tabsyncHelpers")
	if h.Type() != js.TypeObject {
		return nil, errHelpers
	}
	for _, name := range []string{"keysOf", "kindOf", "sizeOf", "equal", "config", "lifecycle", "handle", "watch", "slotValue", "sweep", "putGo", "drainGo", "slot"} {
		if h.Get(name).Type() != js.TypeFunction {
			return nil, errHelpers
		}
	}
	jsSlotValue, jsSweep, jsDrain, jsSlot = h.Get("slotValue"), h.Get("sweep"), h.Get("drainGo"), h.Get("slot")
	m := &model{keysOf: h.Get("keysOf"), kindOf: h.Get("kindOf"), sizeOf: h.Get("sizeOf"), equal: h.Get("equal"), config: h.Get("config"), lifecycle: h.Get("lifecycle"), handle: h.Get("handle"), watch: h.Get("watch")}
	return m, nil
}

// typeBigInt is what typeOf returns for a BigInt, which syscall/js has no
// Type for.
const typeBigInt js.Type = -1

// typeOf is v.Type() for every JavaScript value: Value.Type, and with it
// Truthy, String and Get, panics on a BigInt, which an application may well
// keep in its state and which BroadcastChannel carries. Use it on any value
// that comes from the application or the channel.
func typeOf(v js.Value) (t js.Type) {
	defer func() {
		if recover() != nil {
			t = typeBigInt
		}
	}()
	return v.Type()
}

// truthy is v.Truthy() for every JavaScript value, BigInt included.
func truthy(v js.Value) bool {
	if typeOf(v) == typeBigInt {
		return jsBoolean.Invoke(v).Bool()
	}
	return v.Truthy()
}

// getProp reads a property of an object the application gave (config,
// store). Value.Get does not catch: a throwing getter or proxy unwinds the
// Go stack from JavaScript and ends the module. Invoke catches, and the
// throw becomes a Go panic that the entry point recovers.
func getProp(obj js.Value, name string) js.Value {
	return jsReflectGet.Invoke(obj, name)
}

// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func jv(v conflict.Value) js.Value {
	switch x := v.(type) {
	case js.Value:
		return x
	case *held:
		return x.value()
	case *localState:
		return x.obj
	}
	return js.Undefined()
}

func (m *model) Kind(v conflict.Value) conflict.Kind {
	switch h := v.(type) {
	case *held:
		return h.kind
	case *localState:
		return conflict.Object
	}
	x := jv(v)
	switch typeOf(x) {
	case js.TypeUndefined:
		return conflict.Undefined
	case js.TypeNull:
		return conflict.Null
	case js.TypeBoolean:
		return conflict.Bool
	case js.TypeNumber:
		return conflict.Number
	case js.TypeString:
		return conflict.String
	case js.TypeFunction:
		return conflict.Function
	case js.TypeObject:
		// One call that returns a number: reading the prototype here
		// would cost a js.Value, and with it a finalizer, per object.
		switch m.kindOf.Invoke(x).Int() {
		case 1:
			return conflict.Array
		case 2:
			return conflict.Object
		}
	}
	return conflict.Other
}

func (m *model) Get(v conflict.Value, name string) conflict.Value {
	if l, ok := v.(*localState); ok {
		return l.get(name)
	}
	x := jv(v)
	if t := typeOf(x); t != js.TypeObject && t != js.TypeFunction {
		return js.Undefined()
	}
	return x.Get(name)
}

func (m *model) Keys(v conflict.Value) []string {
	x := jv(v)
	if typeOf(x) != js.TypeObject {
		return nil
	}
	return keyList(m.keysOf.Invoke(x))
}

// keyList reads what changedKeys and keysOf answer: 0, one key, or an
// array of keys.
func keyList(r js.Value) []string {
	switch r.Type() {
	case js.TypeNumber:
		return nil
	case js.TypeString:
		return []string{r.String()}
	}
	return stringList(r)
}

// stringList copies a JS array of strings into Go.
func stringList(a js.Value) []string {
	n := a.Length()
	out := make([]string, n)
	for i := range out {
		out[i] = a.Index(i).String()
	}
	return out
}

func (m *model) Len(v conflict.Value) int {
	x := jv(v)
	if typeOf(x) != js.TypeObject || !jsIsArray.Invoke(x).Bool() {
		return 0
	}
	return x.Length()
}

func (m *model) Index(v conflict.Value, i int) conflict.Value {
	if i < 0 || i >= m.Len(v) {
		return js.Undefined()
	}
	return jv(v).Index(i)
}

func (m *model) Str(v conflict.Value) string {
	if x := jv(v); typeOf(x) == js.TypeString {
		return x.String()
	}
	return ""
}

func (m *model) Num(v conflict.Value) float64 {
	if x := jv(v); typeOf(x) == js.TypeNumber {
		return x.Float()
	}
	return math.NaN()
}

func (m *model) Truth(v conflict.Value) bool {
	x := jv(v)
	return typeOf(x) == js.TypeBoolean && x.Bool()
}

func (m *model) Size(v conflict.Value, limit, maxDepth int) (int, int) {
	if h, ok := v.(*held); ok && h.size >= 0 {
		return int(h.size), int(h.depth) // measured by the watcher, with the same limits
	}
	x := jv(v)
	switch typeOf(x) {
	case js.TypeObject, js.TypeString:
		// A string's length is read in JavaScript: syscall/js has no
		// Length for strings (it panics), and String() would copy it.
	default:
		return 8, 1
	}
	r := m.sizeOf.Invoke(x, limit, maxDepth).Int() // bytes * 4096 + depth
	return r / 4096, r % 4096
}

func (m *model) MakeString(s string) conflict.Value { return js.ValueOf(s) }

func (m *model) MakeNumber(f float64) conflict.Value { return js.ValueOf(f) }
func (m *model) MakeBool(b bool) conflict.Value      { return js.ValueOf(b) }
func (m *model) MakeUndefined() conflict.Value       { return js.Undefined() }

func (m *model) MakeObject(keys []string, vals []conflict.Value) conflict.Value {
	o := jsObject.New()
	for i, k := range keys {
		o.Set(k, jv(vals[i]))
	}
	return o
}

func (m *model) MakeArray(vals []conflict.Value) conflict.Value {
	a := jsArray.New(len(vals))
	for i, v := range vals {
		a.SetIndex(i, jv(v))
	}
	return a
}

// Equal compares two values in one call (helpers.js equal); see
// conflict.DeepEqual, which it follows.
func (m *model) Equal(a, b conflict.Value) bool {
	return m.equal.Invoke(jv(a), jv(b)).Bool()
}
