package conflict_test

import (
	"fmt"

	"github.com/tabsync/tabsync/conflict"
)

// Two tabs write the same key concurrently; under last-write-wins each tab
// resolves the other's write and both keep the one with the later clock.
func ExampleResolver_lastWriteWins() {
	r := &conflict.Resolver{Strategy: conflict.LastWriteWins, Model: conflict.GoModel{}}
	a := conflict.Entry{Value: "from A", Version: conflict.Version{Clock: conflict.Clock{Wall: 1000, Tab: "A"}, Depth: 1}}
	b := conflict.Entry{Value: "from B", Version: conflict.Version{Clock: conflict.Clock{Wall: 1002, Tab: "B"}, Depth: 1}}

	fmt.Println("tab A:", r.Resolve(a, b, true).Outcome == conflict.Take) // takes B's write
	fmt.Println("tab B:", r.Resolve(b, a, true).Outcome == conflict.Take) // keeps its own
	// Output:
	// tab A: true
	// tab B: false
}

// Under first-write-wins the write built on more history wins; between
// writes of equal depth, the earlier one.
func ExampleResolver_firstWriteWins() {
	r := &conflict.Resolver{Strategy: conflict.FirstWriteWins, Model: conflict.GoModel{}}
	a := conflict.Entry{Value: "from A", Version: conflict.Version{Clock: conflict.Clock{Wall: 1000, Tab: "A"}, Depth: 1}}
	b := conflict.Entry{Value: "from B", Version: conflict.Version{Clock: conflict.Clock{Wall: 1002, Tab: "B"}, Depth: 1}}

	fmt.Println("tab A takes B's write:", r.Resolve(a, b, true).Outcome == conflict.Take)
	fmt.Println("tab B takes A's write:", r.Resolve(b, a, true).Outcome == conflict.Take)
	// Output:
	// tab A takes B's write: false
	// tab B takes A's write: true
}

// Under merge the tab holding the later write deep-merges the two and
// publishes the result; the tab holding the earlier write takes the later
// one and then the merged write.
func ExampleResolver_merge() {
	r := &conflict.Resolver{Strategy: conflict.Merge, Model: conflict.GoModel{}}
	earlier := conflict.Entry{
		Value:   map[string]any{"theme": "dark", "user": map[string]any{"name": "ann"}},
		Version: conflict.Version{Clock: conflict.Clock{Wall: 1000, Tab: "A"}, Depth: 1},
	}
	later := conflict.Entry{
		Value:   map[string]any{"lang": "fr", "user": map[string]any{"age": 30.0}},
		Version: conflict.Version{Clock: conflict.Clock{Wall: 1002, Tab: "B"}, Depth: 1},
	}

	fmt.Println(r.Resolve(earlier, later, true).Outcome == conflict.Take) // tab A
	d := r.Resolve(later, earlier, true)                                  // tab B
	fmt.Println(d.Outcome == conflict.Write, d.Value)
	// Output:
	// true
	// true map[lang:fr theme:dark user:map[age:30 name:ann]]
}

// Under custom the tab holding the later write calls Custom(local, remote)
// with its own, later value as local.
func ExampleResolver_custom() {
	r := &conflict.Resolver{
		Strategy: conflict.Custom,
		Model:    conflict.GoModel{},
		Custom: func(local, remote conflict.Value) (conflict.Value, error) {
			return local.(float64) + remote.(float64), nil
		},
	}
	earlier := conflict.Entry{Value: 2.0, Version: conflict.Version{Clock: conflict.Clock{Wall: 1000, Tab: "A"}, Depth: 1}}
	later := conflict.Entry{Value: 3.0, Version: conflict.Version{Clock: conflict.Clock{Wall: 1002, Tab: "B"}, Depth: 1}}

	d := r.Resolve(later, earlier, true)
	fmt.Println(d.Outcome == conflict.Write, d.Value)
	// Output: true 5
}

// DeepMerge ignores keys that could change a prototype in JavaScript.
func ExampleDeepMerge() {
	m := conflict.GoModel{}
	earlier := map[string]any{"a": 1.0, "__proto__": map[string]any{"admin": true}}
	later := map[string]any{"b": 2.0, "constructor": "x"}
	fmt.Println(conflict.DeepMerge(m, earlier, later))
	// Output: map[a:1 b:2]
}

// A write whose writer had seen the local value is simply taken.
func ExampleResolver_successor() {
	r := &conflict.Resolver{Strategy: conflict.FirstWriteWins, Model: conflict.GoModel{}}
	v1 := conflict.Version{Clock: conflict.Clock{Wall: 1000, Tab: "A"}, Depth: 1}
	v2 := conflict.Version{Clock: conflict.Clock{Wall: 1005, Tab: "B"}, Base: v1.Clock, Depth: 2}
	fmt.Println(r.Resolve(conflict.Entry{Version: v1}, conflict.Entry{Version: v2}, true).Outcome == conflict.Take)
	d := r.Resolve(conflict.Entry{Version: v2}, conflict.Entry{Version: v1}, true)
	fmt.Println(d.Outcome == conflict.Keep, d.Stale)
	// Output:
	// true
	// true true
}
