package conflict

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A write that drops fields, nested ones too, remembers each with its clock
// and the fingerprint of the value it held.
func TestRemovalsListsEveryDroppedField(t *testing.T) {
	m := GoModel{}
	prev := map[string]any{"theme": "dark", "font": map[string]any{"family": "serif", "size": 12.0}, "lang": "fr"}
	next := map[string]any{"theme": "dark", "font": map[string]any{"size": 12.0}}
	c := clk(200, "A")
	got := Removals(m, prev, next, c)
	require.Len(t, got, 2)
	byPath := map[string]Removed{}
	for _, r := range got {
		byPath[strings.Join(r.Path, ".")] = r
		assert.Equal(t, c, r.Clock)
	}
	assert.Equal(t, Fingerprint(m, "serif"), byPath["font.family"].Hash)
	assert.Equal(t, Fingerprint(m, "fr"), byPath["lang"].Hash)
	assert.Empty(t, Removals(m, prev, "not an object", c), "a value that stops being an object removes no field")
	assert.Empty(t, Removals(m, prev, prev, c))
}

// Fingerprints: equal values match whatever their key order; different
// values, kinds, or an added field do not.
func TestFingerprint(t *testing.T) {
	m := GoModel{}
	a := map[string]any{"x": 1.0, "y": []any{"a", true, nil}}
	b := map[string]any{"y": []any{"a", true, nil}, "x": 1.0}
	assert.Equal(t, Fingerprint(m, a), Fingerprint(m, b))
	for _, other := range []any{
		map[string]any{"x": 2.0, "y": []any{"a", true, nil}},
		map[string]any{"x": 1.0, "y": []any{"a", true}},
		map[string]any{"x": 1.0, "y": []any{"a", true, nil}, "z": 0.0},
		"1", 1.0, true, nil, Undef,
	} {
		assert.NotEqual(t, Fingerprint(m, a), Fingerprint(m, other), "%v", other)
	}
	assert.NotEqual(t, Fingerprint(m, "1"), Fingerprint(m, 1.0))
	assert.NotEqual(t, Fingerprint(m, nil), Fingerprint(m, Undef))
}

// The scenario of the package documentation: A removes font and lang from
// what both tabs held; B, unaware, changes lang and adds size. Merged, in
// either order: font stays removed (B only carried it over), lang is B's
// (B wrote it concurrently), size is there.
func TestMergeKeepsARemovalOverACarriedOverField(t *testing.T) {
	m := GoModel{}
	base := map[string]any{"theme": "dark", "font": "serif", "lang": "fr"}
	v0 := ver(clk(100, "A"), Clock{}, 1)
	va := built(ver(clk(200, "A"), v0.Clock, 2), v0)
	aValue := map[string]any{"theme": "dark"}
	va.Gone = Gone(m, aValue, 200, 60_000, Removals(m, base, aValue, va.Clock))
	vb := built(ver(clk(210, "B"), v0.Clock, 2), v0)
	bValue := map[string]any{"theme": "dark", "font": "serif", "lang": "en", "size": 12.0}
	want := map[string]any{"theme": "dark", "lang": "en", "size": 12.0}

	r := &Resolver{Strategy: Merge, Model: m}
	// B holds the later write and combines.
	d := r.Resolve(Entry{Value: bValue, Version: vb}, Entry{Value: aValue, Version: va}, true)
	require.Equal(t, Write, d.Outcome)
	assert.Equal(t, want, d.Value)
	// Had A's been the later, A would combine them the same way.
	got, changed, err := r.CombineEntries(Entry{Value: aValue, Version: va}, Entry{Value: bValue, Version: vb})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, want, got)

	// A write that knew of the removal and set font again keeps it.
	vc := built(ver(clk(220, "C"), va.Clock, 3), va)
	cValue := map[string]any{"theme": "dark", "font": "serif"}
	got, _, _ = r.CombineEntries(Entry{Value: aValue, Version: va}, Entry{Value: cValue, Version: vc})
	assert.Equal(t, "serif", got.(map[string]any)["font"])
}

// Gone keeps what a new write must remember: not the fields it holds again,
// not removals older than the time to live, one per path, at most MaxGone.
func TestGoneIsBounded(t *testing.T) {
	m := GoModel{}
	var many []Removed
	for i := 0; i < 3*MaxGone; i++ {
		many = append(many, Removed{Path: []string{strings.Repeat("k", i+1)}, Clock: clk(int64(1000+i), "A"), Hash: 1})
	}
	got := Gone(m, map[string]any{}, 2000, 60_000, many)
	require.Len(t, got, MaxGone)
	for _, r := range got {
		assert.GreaterOrEqual(t, r.Clock.Wall, int64(1000+2*MaxGone), "the latest are kept")
	}
	assert.Empty(t, Gone(m, map[string]any{}, 1000+60_000+3*MaxGone, 60_000, many), "past the time to live")
	again := Gone(m, map[string]any{"k": 1.0}, 2000, 60_000, many[:1])
	assert.Empty(t, again, "a field set again is no longer removed")
	dup := []Removed{{Path: []string{"x"}, Clock: clk(5, "A")}, {Path: []string{"x"}, Clock: clk(9, "B")}}
	assert.Equal(t, []Removed{dup[1]}, Gone(m, map[string]any{}, 10, 60_000, dup), "one per path, the latest")
}

func TestGoneRoundTrip(t *testing.T) {
	gone := []Removed{
		{Path: []string{"a"}, Clock: clk(5, "A"), Hash: 0},
		{Path: []string{"odd|key:with,marks", "", "42"}, Clock: Clock{Wall: 7, Logical: 3, Tab: "B"}, Hash: 1<<64 - 1},
	}
	s := FormatGone(gone)
	got, ok := ParseGone(s, validTab)
	require.True(t, ok, s)
	assert.Equal(t, gone, got)
	for _, bad := range []string{
		"x", "1:", "1:1", "1:11:5.0.A", "1:11:5.0.A1:z", // cut short
		"1:05:5.0.A1:01:a",                         // a path of no key
		"1:95:5.0.A1:0" + strings.Repeat("1:a", 9), // too deep
		"1:15:5.0.A1:01:a1:x",                      // a fourth part that is no removal
		"1:17:5.0.bad!1:01:a",                      // a bad tab id
		"1:12:-11:01:a",                            // no clock
		"1:15:5.0.A2:-!1:a",                        // no fingerprint in base 36
		"99999999:1",
	} {
		got, ok := ParseGone(bad, validTab)
		assert.False(t, ok, "%q parsed as %v", bad, got)
	}
	var tooMany []Removed
	for i := 0; i <= MaxGone; i++ {
		tooMany = append(tooMany, gone[0])
	}
	_, ok = ParseGone(FormatGone(tooMany), validTab)
	assert.False(t, ok, "more than MaxGone")
}
