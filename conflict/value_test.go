package conflict

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGoModelKind(t *testing.T) {
	m := GoModel{}
	tests := []struct {
		v    Value
		want Kind
	}{
		{Undef, Undefined},
		{nil, Null},
		{true, Bool},
		{1.5, Number},
		{3, Number},
		{"s", String},
		{[]any{1.0}, Array},
		{map[string]any{}, Object},
		{func() {}, Function},
		{func(any) any { return nil }, Function},
		{struct{}{}, Other},
		{int64(3), Other},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, m.Kind(tt.v), "%#v", tt.v)
	}
	assert.Equal(t, "object", Object.String())
	assert.Equal(t, "kind(42)", Kind(42).String())
}

func TestGoModelReaders(t *testing.T) {
	m := GoModel{}
	obj := map[string]any{"b": 2.0, "a": "x", "u": Undef}
	assert.Equal(t, []string{"a", "b", "u"}, m.Keys(obj), "sorted")
	assert.Nil(t, m.Keys([]any{}))
	assert.Equal(t, 2.0, m.Get(obj, "b"))
	assert.Equal(t, Undef, m.Get(obj, "missing"))
	assert.Equal(t, Undef, m.Get("not an object", "a"))

	arr := []any{"x", 1.0}
	assert.Equal(t, 2, m.Len(arr))
	assert.Equal(t, 0, m.Len(obj))
	assert.Equal(t, "x", m.Index(arr, 0))
	assert.Equal(t, Undef, m.Index(arr, 2))
	assert.Equal(t, Undef, m.Index(arr, -1))

	assert.Equal(t, "x", m.Str("x"))
	assert.Equal(t, "", m.Str(1.0))
	assert.Equal(t, 2.5, m.Num(2.5))
	assert.Equal(t, 7.0, m.Num(7))
	assert.True(t, math.IsNaN(m.Num("7")))
	assert.True(t, m.Truth(true))
	assert.False(t, m.Truth("true"))
}

func TestGoModelBuilders(t *testing.T) {
	m := GoModel{}
	assert.Equal(t, "s", m.MakeString("s"))
	assert.Equal(t, 1.0, m.MakeNumber(1))
	assert.Equal(t, true, m.MakeBool(true))
	assert.Equal(t, Undefined, m.Kind(m.MakeUndefined()))
	assert.Equal(t, map[string]any{"a": 1.0, "b": "x"}, m.MakeObject([]string{"a", "b"}, []Value{1.0, "x"}))
	vals := []Value{1.0, 2.0}
	arr := m.MakeArray(vals)
	vals[0] = 9.0
	assert.Equal(t, []any{1.0, 2.0}, arr, "MakeArray copies its input")
}

func TestGoModelSize(t *testing.T) {
	m := GoModel{}
	nest := func(n int) Value {
		var v Value = "leaf"
		for i := 0; i < n; i++ {
			v = map[string]any{"k": v}
		}
		return v
	}
	tests := []struct {
		name      string
		v         Value
		limit     int
		maxDepth  int
		overLimit bool
		overDepth bool
	}{
		{"scalar", 1.0, 100, 10, false, false},
		{"small object", map[string]any{"a": "b"}, 100, 10, false, false},
		{"long string", strings.Repeat("x", 1000), 100, 10, true, false},
		{"many keys", func() Value {
			o := map[string]any{}
			for i := 0; i < 1000; i++ {
				o[strings.Repeat("k", i%50)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = 1.0
			}
			return o
		}(), 1000, 10, true, false},
		{"deep", nest(100), 1 << 20, 10, false, true},
		{"exactly at depth", nest(9), 1 << 20, 10, false, false},
		{"deep array", func() Value {
			var v Value = 1.0
			for i := 0; i < 50; i++ {
				v = []any{v}
			}
			return v
		}(), 1 << 20, 20, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, d := m.Size(tt.v, tt.limit, tt.maxDepth)
			assert.Equal(t, tt.overLimit, n > tt.limit, "bytes %d, limit %d", n, tt.limit)
			assert.Equal(t, tt.overDepth, d > tt.maxDepth, "depth %d, max %d", d, tt.maxDepth)
		})
	}
}
