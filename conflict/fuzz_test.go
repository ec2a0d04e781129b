package conflict

import (
	"encoding/json"
	"testing"
)

// fuzzVersion builds a version from x over a tiny domain, so that equal
// clocks, bases equal to the other side's clock and equal depths are common.
func fuzzVersion(x uint64) Version {
	tabs := []string{"A", "B", "C"}
	c := Clock{Wall: int64(1 + x%4), Logical: uint32(x >> 2 % 3), Tab: tabs[x>>4%3]}
	var base Clock
	if x>>6%4 != 0 {
		base = Clock{Wall: int64(1 + x>>8%4), Logical: uint32(x >> 10 % 3), Tab: tabs[x>>12%3]}
	}
	return Version{Clock: c, Base: base, Depth: 1 + x>>14%4}
}

// FuzzResolve checks that Resolve never panics and that two tabs resolving
// each other's write end on the same write: exactly one of them takes the
// other's (under merge and custom the other may instead publish a combined
// write), unless the versions are impossible ones (equal clocks, or each
// the other's base).
func FuzzResolve(f *testing.F) {
	f.Add(uint8(0), true, uint64(0), uint64(1))
	f.Add(uint8(1), false, uint64(0x4321), uint64(0x1234))
	f.Add(uint8(2), true, uint64(0x7fff), uint64(0x8000))
	f.Add(uint8(3), true, uint64(0xffff), uint64(0xabcd))
	f.Fuzz(func(t *testing.T, s uint8, live bool, x, y uint64) {
		a, b := fuzzVersion(x), fuzzVersion(y)
		r := &Resolver{Strategy: Strategy(s % 4), Model: GoModel{}, Custom: func(l, r Value) (Value, error) { return l, nil }}
		ea := Entry{Value: map[string]any{"a": 1.0}, Version: a}
		eb := Entry{Value: map[string]any{"b": 1.0}, Version: b}
		da := r.Resolve(ea, eb, live) // tab A receives B's write
		db := r.Resolve(eb, ea, live) // tab B receives A's write
		if a.Clock == b.Clock || (a.Base == b.Clock && b.Base == a.Clock) {
			return
		}
		if (da.Outcome == Take) == (db.Outcome == Take) {
			t.Fatalf("%v live=%v\nA %+v: %+v\nB %+v: %+v", r.Strategy, live, a, da, b, db)
		}
		if r.Strategy <= FirstWriteWins && (da.Outcome == Write || db.Outcome == Write) {
			t.Fatalf("%v wrote", r.Strategy)
		}
		if !live && (da.Outcome == Write || db.Outcome == Write) {
			t.Fatal("a non-live copy was combined")
		}
	})
}

// checkMerge verifies got against the rules of DeepMerge for every object
// DeepMerge builds: no forbidden key, the union of the inputs' other keys,
// later's value where both hold a key and they are not both objects.
func checkMerge(t *testing.T, m Model, earlier, later, got Value, depth int) {
	t.Helper()
	if depth >= maxMergeDepth || m.Kind(earlier) != Object || m.Kind(later) != Object {
		if mustJSON(t, got) != mustJSON(t, later) {
			t.Fatalf("not later's value at depth %d", depth)
		}
		return
	}
	want := map[string]bool{}
	for _, k := range append(m.Keys(earlier), m.Keys(later)...) {
		if !forbiddenKey(k) {
			want[k] = true
		}
	}
	keys := m.Keys(got)
	if len(keys) != len(want) {
		t.Fatalf("keys %q, want %v", keys, want)
	}
	for _, k := range keys {
		if forbiddenKey(k) || !want[k] {
			t.Fatalf("key %q in the merge result", k)
		}
		e, l := m.Get(earlier, k), m.Get(later, k)
		switch {
		case !has(m, later, k):
			if mustJSON(t, m.Get(got, k)) != mustJSON(t, e) {
				t.Fatalf("key %q: not earlier's value", k)
			}
		case !has(m, earlier, k):
			if mustJSON(t, m.Get(got, k)) != mustJSON(t, l) {
				t.Fatalf("key %q: not later's value", k)
			}
		default:
			checkMerge(t, m, e, l, m.Get(got, k), depth+1)
		}
	}
}

func has(m Model, o Value, k string) bool {
	for _, x := range m.Keys(o) {
		if x == k {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v Value) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDeepMerge merges random JSON values: no panic, inputs unchanged, and
// the result follows the rules checked by checkMerge.
func FuzzDeepMerge(f *testing.F) {
	f.Add([]byte(`{"a":1,"o":{"x":1,"__proto__":{"p":1}}}`), []byte(`{"b":2,"o":{"y":2,"constructor":{}}}`))
	f.Add([]byte(`{"__proto__":{"polluted":true}}`), []byte(`{"prototype":1}`))
	f.Add([]byte(`{"a":[1,{"b":2}]}`), []byte(`{"a":{"b":3}}`))
	f.Add([]byte(`[1,2]`), []byte(`{"a":null}`))
	f.Add([]byte(`{"a":{"a":{"a":{"a":{}}}}}`), []byte(`{"a":{"a":{"a":{"b":1}}}}`))
	f.Fuzz(func(t *testing.T, x, y []byte) {
		var e, l any
		if json.Unmarshal(x, &e) != nil || json.Unmarshal(y, &l) != nil {
			return
		}
		m := GoModel{}
		be, bl := mustJSON(t, e), mustJSON(t, l)
		got := DeepMerge(m, e, l)
		if mustJSON(t, e) != be || mustJSON(t, l) != bl {
			t.Fatal("an input was modified")
		}
		checkMerge(t, m, e, l, got, 0)
	})
}
