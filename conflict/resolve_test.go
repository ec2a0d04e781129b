package conflict

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func clk(wall int64, tab string) Clock { return Clock{Wall: wall, Tab: tab} }

func ver(c, base Clock, depth uint64) Version { return Version{Clock: c, Base: base, Depth: depth} }

func ent(v Value, version Version) Entry { return Entry{Value: v, Version: version} }

// built gives v the lineage the engine gives a write built on parents.
func built(v Version, parents ...Version) Version {
	v.Lineage = Descend(v.Clock.Tab, parents...)
	return v
}

// tab is a replica of one key for the two- and three-tab scenarios.
type tab struct {
	r   *Resolver
	cur Entry
}

// receive applies a remote write the way the engine does: Take replaces,
// Write replaces with the combined value (the caller publishes it), Keep
// leaves the local value.
func (t *tab) receive(e Entry, live bool) Decision {
	d := t.r.Resolve(t.cur, e, live)
	switch d.Outcome {
	case Take:
		t.cur = e
	case Write:
		t.cur = Entry{Value: d.Value}
	}
	return d
}

func TestResolveAnyStrategy(t *testing.T) {
	a1 := ent("a1", ver(clk(100, "A"), Clock{}, 1))
	a2 := ent("a2", ver(clk(200, "A"), a1.Version.Clock, 2))
	b2 := ent("b2", built(ver(clk(150, "B"), a1.Version.Clock, 2), a1.Version))
	// A successor whose clock is before its base cannot come from an HLC
	// that observed the base, but it is still taken: Base (and, under merge
	// and custom, the lineage) says it was seen.
	a1succ := ent("early successor", built(ver(clk(50, "C"), a1.Version.Clock, 2), a1.Version))
	tests := []struct {
		name   string
		local  Entry
		remote Entry
		want   Decision
	}{
		{"nothing local: take", Entry{}, a1, Decision{Outcome: Take}},
		{"successor: take", a1, a2, Decision{Outcome: Take}},
		{"successor from another tab: take", a1, b2, Decision{Outcome: Take}},
		{"successor with an earlier clock: take", a1, a1succ, Decision{Outcome: Take}},
		{"duplicate: stale", a2, a2, Decision{Outcome: Keep, Stale: true}},
		{"the write the local one replaced: stale", a2, a1, Decision{Outcome: Keep, Stale: true}},
		{"replaced write, from another tab's lineage: stale", b2, a1, Decision{Outcome: Keep, Stale: true}},
	}
	for _, s := range []Strategy{LastWriteWins, FirstWriteWins, Merge, Custom} {
		for _, live := range []bool{true, false} {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%v/live=%v/%s", s, live, tt.name), func(t *testing.T) {
					r := &Resolver{Strategy: s, Model: GoModel{}, Custom: func(l, r Value) (Value, error) {
						t.Fatal("custom resolver called for a non-conflict")
						return nil, nil
					}}
					assert.Equal(t, tt.want, r.Resolve(tt.local, tt.remote, live))
				})
			}
		}
	}
}

func TestResolveLastWriteWins(t *testing.T) {
	r := &Resolver{Strategy: LastWriteWins, Model: GoModel{}}
	base := ver(clk(10, "Z"), Clock{}, 1)
	tests := []struct {
		name         string
		a, b         Entry // concurrent writes held by tabs A and B
		winner       string
		aTakes       bool // A's decision about b
		bStaleOnKeep bool
	}{
		{"later wall wins", ent("a", ver(clk(100, "A"), base.Clock, 2)), ent("b", ver(clk(200, "B"), base.Clock, 2)), "b", true, false},
		{"same wall, higher counter wins", ent("a", ver(Clock{100, 5, "A"}, base.Clock, 2)), ent("b", ver(Clock{100, 4, "B"}, base.Clock, 2)), "a", false, false},
		{"same wall and counter, tab id breaks the tie", ent("a", ver(clk(100, "A"), base.Clock, 2)), ent("b", ver(clk(100, "B"), base.Clock, 2)), "b", true, false},
		{"later wins even if shallower", ent("a", ver(clk(100, "A"), Clock{99, 0, "A"}, 9)), ent("b", ver(clk(200, "B"), Clock{}, 1)), "b", true, false},
		{"earlier and shallower is flagged stale", ent("a", ver(clk(300, "A"), Clock{99, 0, "A"}, 9)), ent("b", ver(clk(200, "B"), Clock{}, 1)), "a", false, true},
		{"independent first writes", ent("a", ver(clk(100, "A"), Clock{}, 1)), ent("b", ver(clk(101, "B"), Clock{}, 1)), "b", true, false},
	}
	for _, tt := range tests {
		for _, live := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/live=%v", tt.name, live), func(t *testing.T) {
				A, B := &tab{r: r, cur: tt.a}, &tab{r: r, cur: tt.b}
				da := A.receive(tt.b, live)
				db := B.receive(tt.a, live)
				assert.Equal(t, tt.aTakes, da.Outcome == Take)
				assert.Equal(t, !tt.aTakes, db.Outcome == Take, "B decides the other way")
				assert.Equal(t, tt.winner, A.cur.Value)
				assert.Equal(t, A.cur, B.cur, "tabs converge")
				loser := da
				if tt.aTakes {
					loser = db
				}
				assert.Equal(t, tt.bStaleOnKeep, loser.Stale)
				assert.Equal(t, !tt.bStaleOnKeep, loser.Conflict)
			})
		}
	}
}

func TestResolveFirstWriteWins(t *testing.T) {
	r := &Resolver{Strategy: FirstWriteWins, Model: GoModel{}}
	tests := []struct {
		name   string
		a, b   Entry
		winner string
	}{
		{"equal depth: earlier clock wins", ent("a", ver(clk(100, "A"), Clock{}, 1)), ent("b", ver(clk(200, "B"), Clock{}, 1)), "a"},
		{"equal depth, equal wall: lower counter wins", ent("a", ver(Clock{100, 2, "A"}, Clock{}, 1)), ent("b", ver(Clock{100, 1, "B"}, Clock{}, 1)), "b"},
		{"equal depth, equal wall and counter: lower tab id wins", ent("a", ver(clk(100, "A"), Clock{}, 1)), ent("b", ver(clk(100, "B"), Clock{}, 1)), "a"},
		{"deeper wins though later", ent("a", ver(clk(100, "A"), Clock{}, 1)), ent("b", ver(clk(300, "B"), clk(250, "B"), 2)), "b"},
		{"deeper wins though later, other side", ent("a", ver(clk(300, "A"), clk(250, "A"), 5)), ent("b", ver(clk(100, "B"), Clock{}, 4)), "a"},
	}
	for _, tt := range tests {
		for _, live := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/live=%v", tt.name, live), func(t *testing.T) {
				A, B := &tab{r: r, cur: tt.a}, &tab{r: r, cur: tt.b}
				da := A.receive(tt.b, live)
				db := B.receive(tt.a, live)
				assert.NotEqual(t, da.Outcome, db.Outcome, "exactly one side takes")
				assert.Equal(t, tt.winner, A.cur.Value)
				assert.Equal(t, A.cur, B.cur, "tabs converge")
				if tt.a.Version.Depth != tt.b.Version.Depth {
					// The shallower write is kept out as stale, the deeper taken.
					if da.Outcome == Take {
						assert.True(t, db.Stale)
					} else {
						assert.True(t, da.Stale)
					}
				} else {
					assert.True(t, da.Conflict && db.Conflict)
				}
			})
		}
	}
}

func TestResolveMergeLive(t *testing.T) {
	r := &Resolver{Strategy: Merge, Model: GoModel{}}
	base := clk(50, "Z")
	tests := []struct {
		name    string
		earlier Value
		later   Value
		want    Value
		write   bool // the later tab publishes a combined write
	}{
		{"objects are merged",
			map[string]any{"a": 1.0, "shared": "e"}, map[string]any{"b": 2.0, "shared": "l"},
			map[string]any{"a": 1.0, "b": 2.0, "shared": "l"}, true},
		{"nested objects are merged",
			map[string]any{"user": map[string]any{"name": "ann", "prefs": map[string]any{"dark": true}}},
			map[string]any{"user": map[string]any{"age": 3.0, "prefs": map[string]any{"lang": "fr"}}},
			map[string]any{"user": map[string]any{"name": "ann", "age": 3.0, "prefs": map[string]any{"dark": true, "lang": "fr"}}}, true},
		{"arrays inside objects are replaced: the later value, no new write",
			map[string]any{"list": []any{1.0, 2.0}}, map[string]any{"list": []any{3.0}},
			map[string]any{"list": []any{3.0}}, false},
		{"an object already holding the other: no new write",
			map[string]any{"a": 1.0}, map[string]any{"a": 1.0, "b": 2.0},
			map[string]any{"a": 1.0, "b": 2.0}, false},
		{"top-level arrays: later kept", []any{1.0}, []any{2.0}, []any{2.0}, false},
		{"scalars: later kept", 1.0, 2.0, 2.0, false},
		{"object against scalar: later kept", map[string]any{"a": 1.0}, "s", "s", false},
		{"scalar against object: later kept", "s", map[string]any{"a": 1.0}, map[string]any{"a": 1.0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			early := ent(tt.earlier, ver(clk(100, "E"), base, 2))
			late := ent(tt.later, ver(clk(200, "L"), base, 2))
			E, L := &tab{r: r, cur: early}, &tab{r: r, cur: late}

			de := E.receive(late, true)
			assert.Equal(t, Decision{Outcome: Take, Conflict: true}, de, "the earlier tab takes the later write")

			dl := L.receive(early, true)
			assert.True(t, dl.Conflict)
			assert.Equal(t, tt.want, L.cur.Value)
			if !tt.write {
				assert.Equal(t, Keep, dl.Outcome)
				assert.True(t, dl.Absorb, "the later tab adds the earlier write to its lineage")
				assert.Equal(t, E.cur, L.cur, "converged without a new write")
				return
			}
			require.Equal(t, Write, dl.Outcome)
			// L publishes the combined value as a successor of its write.
			combined := ent(dl.Value, ver(clk(201, "L"), late.Version.Clock, 3))
			L.cur = combined
			assert.Equal(t, Take, E.receive(combined, true).Outcome)
			assert.Equal(t, L.cur, E.cur, "both tabs end with the combined write")
		})
	}
}

func TestResolveMergeLineage(t *testing.T) {
	base := clk(50, "Z")
	early := ent(map[string]any{"a": 1.0}, ver(clk(100, "E"), base, 2))
	late := ent(map[string]any{"b": 1.0}, ver(clk(200, "L"), base, 2))
	// Two writes of tab L after early's: deeper and later, but built
	// without seeing early (TestMergeKeepsEveryConcurrentField's case).
	deepConcurrent := ent(map[string]any{"c": 1.0}, ver(clk(300, "L"), clk(250, "L"), 5))
	// The same, built on early: early is its ancestor.
	deepDescendant := ent(map[string]any{"a": 1.0, "c": 1.0}, built(ver(clk(300, "L"), clk(250, "L"), 5), early.Version))
	for _, s := range []Strategy{Merge, Custom} {
		r := &Resolver{Strategy: s, Model: GoModel{}, Custom: func(l, r Value) (Value, error) { return "custom", nil }}
		t.Run(s.String(), func(t *testing.T) {
			// STATE_RESPONSE copies are ordered by clock, never combined.
			assert.Equal(t, Decision{Outcome: Take, Conflict: true}, r.Resolve(early, late, false))
			assert.Equal(t, Decision{Outcome: Keep, Conflict: true, Stale: true}, r.Resolve(late, early, false))
			// An ancestor, live or not, whatever its depth and clock.
			for _, live := range []bool{true, false} {
				assert.Equal(t, Decision{Outcome: Keep, Stale: true}, r.Resolve(deepDescendant, early, live))
				assert.Equal(t, Decision{Outcome: Take}, r.Resolve(early, deepDescendant, live))
			}
			// Shallower and earlier but concurrent: combined when live.
			d := r.Resolve(deepConcurrent, early, true)
			assert.Equal(t, Write, d.Outcome)
			assert.True(t, d.Conflict)
			// Shallower but later: taken.
			assert.Equal(t, Take, r.Resolve(deepConcurrent, ent("y", ver(clk(500, "Y"), Clock{}, 1)), true).Outcome)
		})
	}
}

func TestResolveCustom(t *testing.T) {
	base := clk(50, "Z")
	early := ent(1.0, ver(clk(100, "E"), base, 2))
	late := ent(2.0, ver(clk(200, "L"), base, 2))
	boom := errors.New("boom")
	tests := []struct {
		name   string
		custom func(l, r Value) (Value, error)
		want   Decision
	}{
		{"combines local (later) and remote",
			func(l, r Value) (Value, error) { return fmt.Sprint(l, "+", r), nil },
			Decision{Outcome: Write, Value: "2+1", Conflict: true}},
		{"error keeps the local value",
			func(l, r Value) (Value, error) { return nil, boom },
			Decision{Outcome: Keep, Conflict: true, Err: boom}},
		{"nil resolver keeps the local value",
			nil,
			Decision{Outcome: Keep, Conflict: true, Err: ErrNoResolver}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Resolver{Strategy: Custom, Model: GoModel{}, Custom: tt.custom}
			assert.Equal(t, tt.want, r.Resolve(late, early, true))
			// The tab holding the earlier write never calls the resolver.
			assert.Equal(t, Decision{Outcome: Take, Conflict: true}, r.Resolve(early, late, true))
		})
	}
	t.Run("a function result is refused", func(t *testing.T) {
		r := &Resolver{Strategy: Custom, Model: GoModel{}, Custom: func(l, r Value) (Value, error) { return func() {}, nil }}
		d := r.Resolve(late, early, true)
		assert.Equal(t, Keep, d.Outcome)
		assert.Error(t, d.Err)
	})
}

func TestDeepMerge(t *testing.T) {
	m := GoModel{}
	tests := []struct {
		name           string
		earlier, later Value
		want           Value
	}{
		{"disjoint keys", map[string]any{"a": 1.0}, map[string]any{"b": 2.0}, map[string]any{"a": 1.0, "b": 2.0}},
		{"later wins on scalars", map[string]any{"a": 1.0}, map[string]any{"a": 2.0}, map[string]any{"a": 2.0}},
		{"later null wins", map[string]any{"a": 1.0}, map[string]any{"a": nil}, map[string]any{"a": nil}},
		{"later undefined wins", map[string]any{"a": 1.0}, map[string]any{"a": Undef}, map[string]any{"a": Undef}},
		{"arrays replaced", map[string]any{"a": []any{1.0, 2.0}}, map[string]any{"a": []any{}}, map[string]any{"a": []any{}}},
		{"object replaced by array", map[string]any{"a": map[string]any{"x": 1.0}}, map[string]any{"a": []any{1.0}}, map[string]any{"a": []any{1.0}}},
		{"three levels", map[string]any{"a": map[string]any{"b": map[string]any{"c": 1.0, "d": 1.0}}}, map[string]any{"a": map[string]any{"b": map[string]any{"d": 2.0}}},
			map[string]any{"a": map[string]any{"b": map[string]any{"c": 1.0, "d": 2.0}}}},
		{"non-objects: later", 1.0, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}},
		{"forbidden keys at the top are dropped from both sides",
			map[string]any{"__proto__": map[string]any{"polluted": true}, "ok": 1.0},
			map[string]any{"constructor": map[string]any{"prototype": 1.0}, "prototype": 2.0, "fine": 2.0},
			map[string]any{"ok": 1.0, "fine": 2.0}},
		{"forbidden keys in merged nested objects are dropped",
			map[string]any{"a": map[string]any{"__proto__": 1.0, "x": 1.0, "b": map[string]any{"constructor": 1.0}}},
			map[string]any{"a": map[string]any{"prototype": 1.0, "y": 1.0, "b": map[string]any{"__proto__": map[string]any{}}}},
			map[string]any{"a": map[string]any{"x": 1.0, "y": 1.0, "b": map[string]any{}}}},
		// Documented: only objects DeepMerge builds are cleaned; a subtree
		// present on one side only is carried over as it is, as
		// last-write-wins would carry the whole value.
		{"a one-sided subtree is carried over as it is",
			map[string]any{},
			map[string]any{"a": map[string]any{"__proto__": 1.0}},
			map[string]any{"a": map[string]any{"__proto__": 1.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := [2]string{fmt.Sprintf("%#v", tt.earlier), fmt.Sprintf("%#v", tt.later)}
			got := DeepMerge(m, tt.earlier, tt.later)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, [2]string{fmt.Sprintf("%#v", tt.earlier), fmt.Sprintf("%#v", tt.later)}, "inputs unmodified")
			if mm, ok := got.(map[string]any); ok && m.Kind(tt.earlier) == Object {
				mm["added"] = true // the result is a new object
				assert.Equal(t, before, [2]string{fmt.Sprintf("%#v", tt.earlier), fmt.Sprintf("%#v", tt.later)})
			}
		})
	}
}

func TestDeepMergeHostileDepth(t *testing.T) {
	m := GoModel{}
	var a, b Value = 1.0, 2.0
	for i := 0; i < 10000; i++ {
		a = map[string]any{"k": a}
		b = map[string]any{"k": b}
	}
	got := DeepMerge(m, a, b)
	// Below maxMergeDepth levels the later value is taken whole.
	for i := 0; i < maxMergeDepth; i++ {
		got = got.(map[string]any)["k"]
		b = b.(map[string]any)["k"]
	}
	assert.Equal(t, fmt.Sprintf("%p", b), fmt.Sprintf("%p", got), "the same map, not a copy")
}

func TestParseStrategy(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Strategy
	}{
		{"", LastWriteWins},
		{"last-write-wins", LastWriteWins},
		{"first-write-wins", FirstWriteWins},
		{"merge", Merge},
		{"custom", Custom},
	} {
		got, err := ParseStrategy(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
		if tt.in != "" {
			assert.Equal(t, tt.in, got.String())
		}
	}
	for _, bad := range []string{"lww", "Last-Write-Wins", "merge ", "strategy(0)"} {
		_, err := ParseStrategy(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "strategy(9)", Strategy(9).String())
}

// replica is one tab in the property test: it writes with its own HLC,
// observes every clock it receives, and applies remote writes it is told to
// Take.
type replica struct {
	id    string
	hlc   *HLC
	cur   Entry
	inbox []Entry
}

// order returns whether a wins over b under s for the convergence check.
func wins(s Strategy, a, b Version) bool {
	if s == FirstWriteWins {
		return a.Depth > b.Depth || (a.Depth == b.Depth && a.Clock.Less(b.Clock))
	}
	return b.Clock.Less(a.Clock)
}

// TestConvergenceProperty simulates two or three tabs that write one key at
// random times, with skewed wall clocks, and deliver each other's writes in
// random order (not even FIFO per sender). Once everything is delivered all
// tabs must hold the same version: the maximum of every write made under the
// strategy's order.
func TestConvergenceProperty(t *testing.T) {
	for _, s := range []Strategy{LastWriteWins, FirstWriteWins} {
		r := &Resolver{Strategy: s, Model: GoModel{}}
		rng := rand.New(rand.NewSource(1))
		for iter := 0; iter < 3000; iter++ {
			n := 2 + rng.Intn(2)
			reps := make([]*replica, n)
			skew := make([]int64, n)
			for i := range reps {
				reps[i] = &replica{id: string(rune('A' + i)), hlc: NewHLC(string(rune('A' + i)))}
				skew[i] = int64(rng.Intn(50)) - 25
			}
			var all []Version
			wall := int64(1000)
			deliver := func(rp *replica) {
				k := rng.Intn(len(rp.inbox))
				in := rp.inbox[k]
				rp.inbox = append(rp.inbox[:k], rp.inbox[k+1:]...)
				rp.hlc.Observe(in.Version.Clock)
				d := r.Resolve(rp.cur, in, rng.Intn(2) == 0)
				require.NotEqual(t, Write, d.Outcome)
				if d.Outcome == Take {
					rp.cur = in
				}
			}
			steps := 1 + rng.Intn(20)
			for st := 0; st < steps; st++ {
				wall += int64(rng.Intn(3))
				i := rng.Intn(n)
				rp := reps[i]
				if len(rp.inbox) > 0 && rng.Intn(2) == 0 {
					deliver(rp)
					continue
				}
				v := Version{Clock: rp.hlc.Now(wall + skew[i]), Base: rp.cur.Version.Clock, Depth: rp.cur.Version.Depth + 1}
				e := Entry{Value: fmt.Sprint(rp.id, st), Version: v}
				rp.cur = e
				all = append(all, v)
				for _, o := range reps {
					if o != rp {
						o.inbox = append(o.inbox, e)
						if rng.Intn(4) == 0 { // a duplicate delivery
							o.inbox = append(o.inbox, e)
						}
					}
				}
			}
			for _, rp := range reps {
				for len(rp.inbox) > 0 {
					deliver(rp)
				}
			}
			best := all[0]
			for _, v := range all[1:] {
				if wins(s, v, best) {
					best = v
				}
			}
			for _, rp := range reps {
				require.Equal(t, best, rp.cur.Version, "%v iteration %d: tab %s", s, iter, rp.id)
			}
		}
	}
}

// With Group set, custom leaves the combining to the caller (package sync
// resolves every conflicting key of an update in one call).
func TestResolveCustomGrouped(t *testing.T) {
	r := &Resolver{Strategy: Custom, Model: GoModel{}, Group: true}
	base := clk(50, "Z")
	early := ent(1.0, ver(clk(100, "E"), base, 2))
	late := ent(2.0, ver(clk(200, "L"), base, 2))
	assert.Equal(t, Decision{Outcome: Combine, Conflict: true}, r.Resolve(late, early, true))
	assert.Equal(t, Decision{Outcome: Take, Conflict: true}, r.Resolve(early, late, true))
	assert.Equal(t, Decision{Outcome: Keep, Conflict: true, Stale: true}, r.Resolve(late, early, false))
}
