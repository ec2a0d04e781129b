package conflict

import (
	"errors"
	"strconv"

	"github.com/tabsync/tabsync/internal/gostring"
)

// Version identifies one write of one key and what it was written over.
type Version struct {
	Clock Clock  // this write
	Base  Clock  // the write the writer held for this key when it wrote; zero if none
	Depth uint64 // writes in this value's lineage: the base's depth + 1
	// Lineage names the other writes this one was built on (merge and
	// custom only; see Lineage).
	Lineage Lineage
	// Gone remembers the fields removed from the value by this write and
	// the writes it was built on (merge only; see Removed).
	Gone []Removed
}

// IsZero reports whether v is the version of a key never written.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (v Version) IsZero() bool { return v.Clock.IsZero() }

// Entry is a key's value with its version.
type Entry struct {
	Value   Value
	Version Version
}

// Strategy decides between concurrent writes of one key.
type Strategy uint8

const (
	LastWriteWins Strategy = iota
	FirstWriteWins
	Merge
	Custom
)

var strategyNames = [...]string{"last-write-wins", "first-write-wins", "merge", "custom"}

func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return "strategy(" + strconv.Itoa(int(s)) + ")"
}

// ParseStrategy reads a strategy name as written in the config. The empty
// string is last-write-wins.
func ParseStrategy(name string) (Strategy, error) {
	if name == "" {
		return LastWriteWins, nil
	}
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return 0, errors.New("conflictStrategy " + gostring.Quote(name) + " is not one of last-write-wins, first-write-wins, merge, custom")
}

// Outcome says what a receiving tab does with a remote write.
type Outcome uint8

const (
	// Keep leaves the local value: the remote write is a duplicate, older than
	// the local one, or lost the conflict.
	Keep Outcome = iota
	// Take replaces the local value with the remote one.
	Take
	// Write replaces the local value with Decision.Value and publishes it as
	// a new write of this tab (merge and custom results).
	Write
	// Combine is custom's Write when Resolver.Group is set: the caller
	// combines the key with the others of the same update in one call of
	// its resolver, and then writes, keeps or absorbs.
	Combine
)

// Decision is the result of Resolver.Resolve.
type Decision struct {
	Outcome  Outcome
	Value    Value // the combined value, when Outcome is Write
	Conflict bool  // the writes were concurrent: neither writer had seen the other's
	Stale    bool  // the remote write was a duplicate or older than the local one
	// Absorb is set with Keep when the local value already holds what
	// combining the remote write would add (merge and custom): the tab
	// keeps its value and version, and adds the remote write to the
	// version's lineage (see Version.Absorb) rather than publish a write
	// equal to the one it holds. Without it, tabs combining each other's
	// combined writes would never stop.
	Absorb bool
	Err    error // the custom resolver failed; Outcome is Keep
}

// ErrNoResolver is returned for the custom strategy without a resolver.
var ErrNoResolver = errors.New("conflictStrategy is 'custom' but no customResolver was given")

// Resolver applies a Strategy.
type Resolver struct {
	Strategy Strategy
	Model    Model
	// Custom combines a local and a remote value; it is called in one tab
	// only, see the package documentation.
	Custom func(local, remote Value) (Value, error)
	// Group, under custom, makes Resolve return Combine instead of calling
	// Custom, for a caller that resolves every conflicting key of one update
	// in one call (package sync does: customResolver receives partial
	// states).
	Group bool
	// Tab is the id of the tab this resolver decides for. When set, under
	// custom only the tab that made the later write combines it with an
	// earlier one; another tab holding that write keeps it and waits for
	// the writer's result (see the package documentation). Empty: any tab
	// holding the later write combines, as under merge.
	Tab string
}

// Resolve decides what a tab holding local does with the remote write.
// live is true for a write that its writer has just made (STATE_UPDATE) and
// false for a copy of someone's current state (STATE_RESPONSE, restore).
func (r *Resolver) Resolve(local, remote Entry, live bool) Decision {
	lv, rv := local.Version, remote.Version
	if lv.IsZero() {
		return Decision{Outcome: Take}
	}
	if r.Strategy == Merge || r.Strategy == Custom {
		return r.resolveLineage(local, remote, live)
	}
	switch {
	case rv.Clock == lv.Clock || rv.Clock == lv.Base:
		// A duplicate, or the very write the local one replaced.
		return Decision{Outcome: Keep, Stale: true}
	case rv.Base == lv.Clock:
		// The writer had seen our value: a plain successor.
		return Decision{Outcome: Take}
	}
	if r.Strategy == FirstWriteWins {
		return r.firstWriteWins(lv, rv)
	}
	if lv.Clock.Less(rv.Clock) {
		return Decision{Outcome: Take, Conflict: true}
	}
	return Decision{Outcome: Keep, Conflict: rv.Depth >= lv.Depth, Stale: rv.Depth < lv.Depth}
}

// resolveLineage is the merge and custom rule: the lineages tell ancestors,
// successors and concurrent writes apart. Of two concurrent live writes, the
// tab holding the later combines them (under custom with Tab set, only the
// tab that made it) and the other takes the later one (then the combined
// write); a copy of state is only ordered by clock.
func (r *Resolver) resolveLineage(local, remote Entry, live bool) Decision {
	lv, rv := local.Version, remote.Version
	switch {
	case lv.Covers(rv.Clock):
		// A duplicate, or a write the local value already holds.
		return Decision{Outcome: Keep, Stale: true}
	case rv.Covers(lv.Clock):
		// The writer had seen our value: a successor.
		return Decision{Outcome: Take}
	}
	if lv.Clock.Less(rv.Clock) {
		return Decision{Outcome: Take, Conflict: true}
	}
	if !live {
		return Decision{Outcome: Keep, Conflict: true, Stale: true}
	}
	if r.Strategy == Custom && r.Tab != "" && lv.Clock.Tab != r.Tab {
		// Another tab's later write: its writer combines the two when this
		// remote write reaches it. Were every tab holding it to call the
		// resolver too, one conflict would give several concurrent results,
		// and a resolver that is not idempotent would combine those again.
		return Decision{Outcome: Keep, Conflict: true}
	}
	if r.Group && r.Strategy == Custom {
		return Decision{Outcome: Combine, Conflict: true}
	}
	return r.combine(local, remote)
}

// firstWriteWins orders writes by lineage depth (a write built on more
// history is further along), then by the earlier clock.
func (r *Resolver) firstWriteWins(lv, rv Version) Decision {
	switch {
	case rv.Depth > lv.Depth:
		return Decision{Outcome: Take, Conflict: true}
	case rv.Depth < lv.Depth:
		return Decision{Outcome: Keep, Stale: true}
	case rv.Clock.Less(lv.Clock):
		return Decision{Outcome: Take, Conflict: true}
	default:
		return Decision{Outcome: Keep, Conflict: true}
	}
}

// combine merges or calls the custom resolver; local is the later write.
func (r *Resolver) combine(local, remote Entry) Decision {
	v, changed, err := r.CombineEntries(local, remote)
	if !changed {
		// A failed resolver absorbs nothing: the remote write is not in
		// the local value.
		return Decision{Outcome: Keep, Conflict: true, Absorb: err == nil, Err: err}
	}
	return Decision{Outcome: Write, Value: v, Conflict: true}
}

// Combine combines two concurrent values of a key under merge or custom:
// later, the value of the later write, with earlier. changed is false when
// the result is later itself, or equal to it: merge of an array or a scalar
// (the later value is kept), of an object that holds the other already, a
// custom resolver that returned the later value, or one that failed (err
// says why).
func (r *Resolver) Combine(later, earlier Value) (v Value, changed bool, err error) {
	if r.Strategy == Merge {
		m := r.Model
		if m.Kind(later) != Object || m.Kind(earlier) != Object {
			return later, false, nil
		}
		v = DeepMerge(m, earlier, later)
		return v, !m.Equal(v, later), nil
	}
	if r.Custom == nil {
		return later, false, ErrNoResolver
	}
	v, err = r.Custom(later, earlier)
	if err != nil {
		return later, false, err
	}
	if r.Model != nil && r.Model.Kind(v) == Function {
		return later, false, errors.New("customResolver returned a function, which cannot be synced")
	}
	return v, r.Model == nil || !r.Model.Equal(v, later), nil
}

// CombineEntries is Combine with the versions of the two writes: under
// merge, a field that one write removed and the other only carried over
// (see Removed) stays removed.
func (r *Resolver) CombineEntries(later, earlier Entry) (v Value, changed bool, err error) {
	if r.Strategy != Merge {
		return r.Combine(later.Value, earlier.Value)
	}
	m := r.Model
	if m.Kind(later.Value) != Object || m.Kind(earlier.Value) != Object {
		return later.Value, false, nil
	}
	v = DeepMerge(m, earlier.Value, later.Value)
	v = Prune(m, v, later.Version.Gone, earlier)
	v = Prune(m, v, earlier.Version.Gone, later)
	return v, !m.Equal(v, later.Value), nil
}

// DeepMerge returns a new plain object holding the keys of both earlier and
// later: where both hold a plain object under a key they are merged the same
// way, otherwise later's value is kept. __proto__, constructor and prototype
// keys are ignored on both sides. Neither input is modified.
func DeepMerge(m Model, earlier, later Value) Value {
	return deepMerge(m, earlier, later, 0)
}

// maxMergeDepth bounds recursion on hostile, deeply nested values; below it
// the later value is taken whole.
const maxMergeDepth = 64

func deepMerge(m Model, earlier, later Value, depth int) Value {
	if depth >= maxMergeDepth || m.Kind(earlier) != Object || m.Kind(later) != Object {
		return later
	}
	laterKeys := m.Keys(later)
	inLater := make(map[string]bool, len(laterKeys))
	for _, k := range laterKeys {
		inLater[k] = true
	}
	var keys []string
	var vals []Value
	for _, k := range m.Keys(earlier) {
		if forbiddenKey(k) {
			continue
		}
		keys = append(keys, k)
		if !inLater[k] {
			vals = append(vals, m.Get(earlier, k))
			continue
		}
		delete(inLater, k) // written below, merged
		vals = append(vals, deepMerge(m, m.Get(earlier, k), m.Get(later, k), depth+1))
	}
	for _, k := range laterKeys {
		if forbiddenKey(k) || !inLater[k] {
			continue
		}
		keys = append(keys, k)
		vals = append(vals, m.Get(later, k))
	}
	return m.MakeObject(keys, vals)
}
