package conflict

import (
	"errors"
	"strconv"
)

// Version identifies one write of one key and what it was written over.
type Version struct {
	Clock Clock  // this write
	Base  Clock  // the write the writer held for this key when it wrote; zero if none
	Depth uint64 // writes in this value's lineage: the base's depth + 1
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
	return 0, errors.New("conflictStrategy " + strconv.Quote(name) + " is not one of last-write-wins, first-write-wins, merge, custom")
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
)

// Decision is the result of Resolver.Resolve.
type Decision struct {
	Outcome  Outcome
	Value    Value // the combined value, when Outcome is Write
	Conflict bool  // the writes were concurrent: neither writer had seen the other's
	Stale    bool  // the remote write was a duplicate or older than the local one
	Err      error // the custom resolver failed; Outcome is Keep
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
}

// Resolve decides what a tab holding local does with the remote write.
// live is true for a write that its writer has just made (STATE_UPDATE) and
// false for a copy of someone's current state (STATE_RESPONSE, restore): the
// latter is only ever ordered, never merged, so a lagging copy cannot bring
// back fields that a later write removed.
func (r *Resolver) Resolve(local, remote Entry, live bool) Decision {
	lv, rv := local.Version, remote.Version
	switch {
	case lv.IsZero():
		return Decision{Outcome: Take}
	case rv.Clock == lv.Clock || rv.Clock == lv.Base:
		// A duplicate, or the very write the local one replaced.
		return Decision{Outcome: Keep, Stale: true}
	case rv.Base == lv.Clock:
		// The writer had seen our value: a plain successor.
		return Decision{Outcome: Take}
	}
	later := lv.Clock.Less(rv.Clock)
	switch r.Strategy {
	case FirstWriteWins:
		return r.firstWriteWins(lv, rv)
	case Merge, Custom:
		if rv.Depth < lv.Depth && !later {
			// Built on less history and earlier: an ancestor we skipped past.
			return Decision{Outcome: Keep, Stale: true}
		}
		if later || !live {
			// The tab that holds the later write combines the two and
			// publishes the result; until it arrives, order by clock.
			return Decision{Outcome: boolOutcome(later), Conflict: true, Stale: !later}
		}
		return r.combine(local.Value, remote.Value)
	default: // LastWriteWins
		if later {
			return Decision{Outcome: Take, Conflict: true}
		}
		return Decision{Outcome: Keep, Conflict: rv.Depth >= lv.Depth, Stale: rv.Depth < lv.Depth}
	}
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
func (r *Resolver) combine(local, remote Value) Decision {
	if r.Strategy == Merge {
		m := r.Model
		if m.Kind(local) != Object || m.Kind(remote) != Object {
			// Arrays and scalars are replaced by the later write: ours.
			return Decision{Outcome: Keep, Conflict: true}
		}
		return Decision{Outcome: Write, Value: DeepMerge(m, remote, local), Conflict: true}
	}
	if r.Custom == nil {
		return Decision{Outcome: Keep, Conflict: true, Err: ErrNoResolver}
	}
	v, err := r.Custom(local, remote)
	if err != nil {
		return Decision{Outcome: Keep, Conflict: true, Err: err}
	}
	if r.Model != nil && r.Model.Kind(v) == Function {
		return Decision{Outcome: Keep, Conflict: true, Err: errors.New("customResolver returned a function, which cannot be synced")}
	}
	return Decision{Outcome: Write, Value: v, Conflict: true}
}

func boolOutcome(take bool) Outcome {
	if take {
		return Take
	}
	return Keep
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
