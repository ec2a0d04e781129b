package conflict

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validTab(s string) bool { return s != "" && s != "bad!" }

func TestCovers(t *testing.T) {
	a1, a2 := clk(100, "A"), clk(200, "A")
	b1, b2 := clk(150, "B"), clk(250, "B")
	c1 := clk(120, "C")
	// Tab D's write built on A's second write and B's first.
	d := built(ver(clk(300, "D"), a2, 3), ver(a2, a1, 2), ver(b1, Clock{}, 1))
	tests := []struct {
		c    Clock
		want bool
	}{
		{Clock{}, true},
		{clk(300, "D"), true},  // itself
		{clk(290, "D"), true},  // an earlier write of its own tab
		{clk(310, "D"), false}, // a later one
		{a1, true},             // before a named write of A
		{a2, true},
		{clk(201, "A"), false},
		{b1, true},
		{b2, false},
		{c1, false}, // a tab it never heard of
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, d.Covers(tt.c), tt.c.String())
	}
}

// TestDescendIsBounded: however many tabs wrote into a key's history, a
// lineage names at most MaxSeen of them, the latest; the older ones fold
// into the floor, which still covers them.
func TestDescendIsBounded(t *testing.T) {
	var v Version
	var all []Clock
	for i := 0; i < 3*MaxSeen; i++ {
		tab := "t" + strconv.Itoa(i)
		c := Clock{Wall: int64(1000 + i), Tab: tab}
		v = Version{Clock: c, Base: v.Clock, Depth: v.Depth + 1, Lineage: Descend(tab, v)}
		all = append(all, c)
		require.LessOrEqual(t, len(v.Lineage.Seen), MaxSeen)
		for _, w := range all {
			require.True(t, v.Covers(w), "write %s after %d tabs", w, i+1)
		}
		require.LessOrEqual(t, len(v.Lineage.String()), (MaxSeen+1)*24)
	}
	assert.Equal(t, all[len(all)-MaxSeen-2], v.Lineage.Floor, "the floor is the latest write folded away")
	assert.False(t, v.Covers(Clock{Wall: 5000, Tab: "t0"}), "a later write of a folded tab")
}

func TestLineageWireForm(t *testing.T) {
	l := Descend("X", Version{Clock: clk(100, "B")}, Version{Clock: clk(200, "A"), Lineage: Lineage{Floor: clk(50, "Z")}})
	assert.Equal(t, "50.0.Z,100.0.B,200.0.A", l.String())
	got, ok := ParseLineage(l.String(), validTab)
	require.True(t, ok)
	assert.Equal(t, l, got)
	assert.Equal(t, "", Lineage{}.String())
	got, ok = ParseLineage(",1.0.A", validTab)
	require.True(t, ok)
	assert.Equal(t, clk(1, "A"), got.Seen[0])

	var many string
	for i := 0; i <= MaxSeen; i++ {
		many += ",1.0.t" + strconv.Itoa(i)
	}
	for _, bad := range []string{",", "x", ",1.0.A,2.0.A", ",1.0.bad!", "1.0.bad!", ",1.0.A,", many, ",1.0.A,,2.0.B"} {
		_, ok := ParseLineage(bad, validTab)
		assert.False(t, ok, bad)
	}
}

func TestDeepEqual(t *testing.T) {
	m := GoModel{}
	obj := map[string]any{"a": 1.0, "b": []any{"x", map[string]any{"c": nil}}}
	same := map[string]any{"b": []any{"x", map[string]any{"c": nil}}, "a": 1.0}
	assert.True(t, DeepEqual(m, obj, same))
	for _, other := range []Value{
		map[string]any{"a": 1.0},
		map[string]any{"a": 1.0, "b": []any{"x"}},
		map[string]any{"a": 2.0, "b": []any{"x", map[string]any{"c": nil}}},
		map[string]any{"a": 1.0, "b": []any{"x", map[string]any{"c": Undef}}},
		"s", nil, Undef,
	} {
		assert.False(t, DeepEqual(m, obj, other), "%v", other)
	}
	assert.True(t, DeepEqual(m, nan(), nan()))
	assert.False(t, DeepEqual(m, 1.0, "1"))
}

func nan() Value { z := 0.0; return z / z }
