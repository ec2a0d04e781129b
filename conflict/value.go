package conflict

import (
	"math"
	"sort"
	"strconv"
)

// Value is an application value. The core never looks inside it except
// through a Model: in the browser it is a JavaScript value handle that goes
// from the store to BroadcastChannel and IndexedDB without being copied into
// Go; in native tests it is a plain Go value (see GoModel).
type Value = any

// Kind is the JavaScript type of a value, as far as the core cares.
type Kind uint8

const (
	Undefined Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object   // a plain object: its prototype is Object.prototype or null
	Function // never synced
	Other    // class instances, Date, Map, typed arrays, symbols, bigints: opaque
)

var kindNames = [...]string{"undefined", "null", "boolean", "number", "string", "array", "object", "function", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Model is how the core reads and builds values it otherwise treats as opaque.
// The browser build implements it over syscall/js; GoModel implements it over
// Go values for tests, the simulator and the fuzz targets.
type Model interface {
	Kind(v Value) Kind
	// Get returns the own property name of object v, or an Undefined value.
	Get(v Value, name string) Value
	// Keys returns the own enumerable string keys of object v, in order.
	Keys(v Value) []string
	// Len and Index read arrays.
	Len(v Value) int
	Index(v Value, i int) Value
	// Str, Num and Truth read scalars; they return zero values for other kinds.
	Str(v Value) string
	Num(v Value) float64
	Truth(v Value) bool
	// Size estimates the structured-clone size of v in bytes, and how deeply
	// it nests, giving up (and returning more than limit) once limit bytes or
	// maxDepth levels are passed, so that measuring a hostile value is bounded.
	Size(v Value, limit, maxDepth int) (bytes int, depth int)
	// Equal reports whether a and b hold the same value, as DeepEqual
	// defines it: merge and custom compare a combined value with the one a
	// tab holds (see Decision.Absorb).
	Equal(a, b Value) bool

	// Builders, used to encode messages and merge results.
	MakeString(s string) Value
	MakeNumber(f float64) Value
	MakeBool(b bool) Value
	MakeUndefined() Value
	MakeObject(keys []string, vals []Value) Value
	MakeArray(vals []Value) Value
}

// forbiddenKey reports keys that must never be copied into an object: writing
// them can change an object's prototype in JavaScript.
func forbiddenKey(k string) bool {
	return k == "__proto__" || k == "constructor" || k == "prototype"
}

// GoModel is the Model over plain Go values, shaped like JSON decoded by
// encoding/json: nil (null), Undef (undefined), bool, float64, string,
// []any (array), map[string]any (object). Functions are any Go func value.
// Key order of maps is sorted, since Go maps have none.
type GoModel struct{}

// Undef is GoModel's undefined.
type undefined struct{}

// Undef is the undefined value of GoModel.
var Undef Value = undefined{}

func (GoModel) Kind(v Value) Kind {
	switch x := v.(type) {
	case undefined:
		return Undefined
	case nil:
		return Null
	case bool:
		return Bool
	case float64:
		return Number
	case int:
		return Number
	case string:
		return String
	case []any:
		return Array
	case map[string]any:
		return Object
	case func():
		return Function
	default:
		_ = x
		if isFunc(v) {
			return Function
		}
		return Other
	}
}

func isFunc(v Value) bool {
	switch v.(type) {
	case func(), func(any) any, func(any, any) any, func() any:
		return true
	}
	return false
}

func (GoModel) Get(v Value, name string) Value {
	if m, ok := v.(map[string]any); ok {
		if x, ok := m[name]; ok {
			return x
		}
	}
	return Undef
}

func (GoModel) Keys(v Value) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (GoModel) Len(v Value) int {
	a, _ := v.([]any)
	return len(a)
}

func (GoModel) Index(v Value, i int) Value {
	if a, ok := v.([]any); ok && i >= 0 && i < len(a) {
		return a[i]
	}
	return Undef
}

func (GoModel) Str(v Value) string { s, _ := v.(string); return s }

func (GoModel) Num(v Value) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return math.NaN()
}

func (GoModel) Truth(v Value) bool { b, _ := v.(bool); return b }

func (m GoModel) Size(v Value, limit, maxDepth int) (int, int) {
	var walk func(v Value, depth, budget int) (int, int)
	walk = func(v Value, depth, budget int) (int, int) {
		if depth > maxDepth {
			return 0, depth
		}
		switch x := v.(type) {
		case string:
			return len(x) + 4, depth
		case []any:
			n, deepest := 8, depth
			for _, e := range x {
				if n > budget {
					break
				}
				s, d := walk(e, depth+1, budget-n)
				n += s
				deepest = max(deepest, d)
			}
			return n, deepest
		case map[string]any:
			n, deepest := 8, depth
			for k, e := range x {
				if n > budget {
					break
				}
				s, d := walk(e, depth+1, budget-n)
				n += len(k) + 4 + s
				deepest = max(deepest, d)
			}
			return n, deepest
		default:
			return 8, depth
		}
	}
	return walk(v, 1, limit)
}

func (GoModel) MakeString(s string) Value  { return s }
func (GoModel) MakeNumber(f float64) Value { return f }
func (GoModel) MakeBool(b bool) Value      { return b }
func (GoModel) MakeUndefined() Value       { return Undef }

func (GoModel) MakeObject(keys []string, vals []Value) Value {
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[k] = vals[i]
	}
	return m
}

func (GoModel) MakeArray(vals []Value) Value {
	out := make([]any, len(vals))
	copy(out, vals)
	return out
}

// Equal is DeepEqual.
func (m GoModel) Equal(a, b Value) bool { return DeepEqual(m, a, b) }

// DeepEqual reports whether a and b hold the same value: scalars of one kind
// and value (NaN equal to NaN, as a structured clone keeps it), arrays and
// plain objects with equal elements and the same own keys. Other values
// (class instances, dates, maps) are equal only to themselves, which a
// Model cannot tell: they compare unequal. Below maxMergeDepth levels values
// compare unequal, which is safe: it only costs a write.
func DeepEqual(m Model, a, b Value) bool { return deepEqual(m, a, b, 0) }

func deepEqual(m Model, a, b Value, depth int) bool {
	k := m.Kind(a)
	if k != m.Kind(b) || depth >= maxMergeDepth {
		return false
	}
	switch k {
	case Array:
		n := m.Len(a)
		if n != m.Len(b) {
			return false
		}
		for i := 0; i < n; i++ {
			if !deepEqual(m, m.Index(a, i), m.Index(b, i), depth+1) {
				return false
			}
		}
		return true
	case Object:
		ka := m.Keys(a)
		if len(ka) != len(m.Keys(b)) {
			return false
		}
		// As many keys, and each of a's in b (an absent key reads as
		// undefined, so an undefined value must be b's own too).
		for _, key := range ka {
			va, vb := m.Get(a, key), m.Get(b, key)
			if !deepEqual(m, va, vb, depth+1) || m.Kind(va) == Undefined && !hasKey(m, b, key) {
				return false
			}
		}
		return true
	case Function, Other:
		return false
	}
	// Scalars of one kind: each reader returns a zero value for the others.
	x, y := m.Num(a), m.Num(b)
	return m.Str(a) == m.Str(b) && m.Truth(a) == m.Truth(b) && (x == y || x != x && y != y)
}

func hasKey(m Model, v Value, key string) bool {
	for _, k := range m.Keys(v) {
		if k == key {
			return true
		}
	}
	return false
}
