package conflict

import (
	"math"
	"strconv"

	"github.com/tabsync/tabsync/internal/decimal"
)

// MaxGone bounds the removed fields a version remembers (Version.Gone):
// past it, the oldest removals are forgotten.
const MaxGone = 16

// MaxGonePath bounds how deep a remembered removed field may be: a field
// removed deeper is not remembered, and a concurrent write holding it
// brings it back.
const MaxGonePath = 8

// Removed is the tombstone of a field that a write removed from a key's
// object value, under merge: where the field was (Path, from the key's
// value down), the write that removed it (Clock), and a fingerprint of the
// value it held then (Hash, see Fingerprint). When the removing write is
// combined with a concurrent one, the field stays removed if the
// concurrent write holds that same value (it only carried the field over
// from before), and comes back if it holds another (it wrote the field
// concurrently); see "Removed fields" in the package documentation.
type Removed struct {
	Path  []string
	Clock Clock
	Hash  uint64
}

func (r Removed) equal(o Removed) bool {
	if r.Clock != o.Clock || r.Hash != o.Hash || len(r.Path) != len(o.Path) {
		return false
	}
	for i, p := range r.Path {
		if p != o.Path[i] {
			return false
		}
	}
	return true
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Removals returns the fields that next no longer holds and prev held:
// keys of plain objects, recursively where both hold a plain object under
// a key, at most MaxGonePath deep, each with clock c and the fingerprint of
// the value prev held.
func Removals(m Model, prev, next Value, c Clock) []Removed {
	var out []Removed
	removals(m, prev, next, c, nil, &out)
	return out
}

func removals(m Model, prev, next Value, c Clock, path []string, out *[]Removed) {
	if len(path) >= MaxGonePath || m.Kind(prev) != Object || m.Kind(next) != Object {
		return
	}
	for _, k := range m.Keys(prev) {
		if forbiddenKey(k) {
			continue
		}
		p := append(append([]string(nil), path...), k)
		nv := m.Get(next, k)
		if m.Kind(nv) == Undefined && !hasKey(m, next, k) {
			*out = append(*out, Removed{Path: p, Clock: c, Hash: Fingerprint(m, m.Get(prev, k))})
			continue
		}
		removals(m, m.Get(prev, k), nv, c, p, out)
	}
}

// Gone returns the removed fields a new write with value v, made at now,
// remembers: those of its parents and the new ones, less the fields v holds
// again (the write set them anew, knowing of the removal) and those older
// than ttl ms, one per path (the latest), at most MaxGone (the latest).
func Gone(m Model, v Value, now, ttl int64, lists ...[]Removed) []Removed {
	var out []Removed
	for _, l := range lists {
	next:
		for _, r := range l {
			if now-r.Clock.Wall >= ttl || hasPath(m, v, r.Path) {
				continue
			}
			for i, o := range out {
				if samePath(o.Path, r.Path) {
					if o.Clock.Less(r.Clock) {
						out[i] = r
					}
					continue next
				}
			}
			out = append(out, r)
		}
	}
	for len(out) > MaxGone {
		oldest := 0
		for i, r := range out {
			if r.Clock.Less(out[oldest].Clock) {
				oldest = i
			}
		}
		out = append(out[:oldest], out[oldest+1:]...)
	}
	return out
}

// hasPath reports whether v holds a field at path.
func hasPath(m Model, v Value, path []string) bool {
	for _, k := range path {
		if m.Kind(v) != Object || !hasKey(m, v, k) {
			return false
		}
		v = m.Get(v, k)
	}
	return true
}

// get returns the field of v at path, and whether there is one.
func get(m Model, v Value, path []string) (Value, bool) {
	for _, k := range path {
		if m.Kind(v) != Object || !hasKey(m, v, k) {
			return nil, false
		}
		v = m.Get(v, k)
	}
	return v, true
}

// Prune returns merged without the fields that the removals in gone took
// out and that other, a concurrent write, only carried over: other does not
// know of the removal (its version does not cover its clock) and holds the
// very value the removal saw. merged is not modified; the objects on the
// way to a pruned field are rebuilt.
func Prune(m Model, merged Value, gone []Removed, other Entry) Value {
	for _, r := range gone {
		if other.Version.Covers(r.Clock) {
			continue
		}
		if ov, ok := get(m, other.Value, r.Path); !ok || Fingerprint(m, ov) != r.Hash {
			continue
		}
		merged = without(m, merged, r.Path)
	}
	return merged
}

// without returns v with the field at path left out (v itself when it has
// none).
func without(m Model, v Value, path []string) Value {
	if len(path) == 0 || m.Kind(v) != Object || !hasKey(m, v, path[0]) {
		return v
	}
	keys := m.Keys(v)
	ks := make([]string, 0, len(keys))
	vs := make([]Value, 0, len(keys))
	for _, k := range keys {
		if forbiddenKey(k) {
			continue
		}
		x := m.Get(v, k)
		if k == path[0] {
			if len(path) == 1 {
				continue
			}
			x = without(m, x, path[1:])
		}
		ks = append(ks, k)
		vs = append(vs, x)
	}
	return m.MakeObject(ks, vs)
}

// Fingerprint hashes a value (FNV-1a, 64 bits) through m: equal values, as
// DeepEqual sees them, have equal fingerprints, whatever the order of their
// objects' keys. Nesting deeper than 64 levels is not looked into.
func Fingerprint(m Model, v Value) uint64 {
	h := uint64(14695981039346656037)
	fingerprint(m, v, &h, 0)
	return h
}

func fingerprint(m Model, v Value, h *uint64, depth int) {
	k := m.Kind(v)
	fnv(h, byte(k))
	if depth >= 64 {
		return
	}
	switch k {
	case Bool:
		if m.Truth(v) {
			fnv(h, 1)
		}
	case Number:
		bits := math.Float64bits(m.Num(v))
		for i := 0; i < 8; i++ {
			fnv(h, byte(bits>>(8*i)))
		}
	case String:
		fnvString(h, m.Str(v))
	case Array:
		n := m.Len(v)
		fnvString(h, strconv.Itoa(n))
		for i := 0; i < n; i++ {
			fingerprint(m, m.Index(v, i), h, depth+1)
		}
	case Object:
		keys := append([]string(nil), m.Keys(v)...)
		sortKeys(keys)
		for _, key := range keys {
			fnvString(h, key)
			fingerprint(m, m.Get(v, key), h, depth+1)
		}
	}
}

// fnv and fnvString add to an FNV-1a hash.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func fnv(h *uint64, b byte) {
	*h ^= uint64(b)
	*h *= 1099511628211
}

//go:noinline
func fnvString(h *uint64, s string) {
	for i := 0; i < len(s); i++ {
		fnv(h, s[i])
	}
	fnv(h, 0xff)
}

// sortKeys is an insertion sort: objects have few keys, and package sort
// would cost the wasm module.
func sortKeys(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// FormatGone writes removals in their wire and stored form: for each, its
// clock, its fingerprint and its path, every part behind its
// length ("len:text"), so that any key can be in a path.
func FormatGone(gone []Removed) string {
	s := ""
	for _, r := range gone {
		s += lengthPrefixed(strconv.Itoa(len(r.Path))) + lengthPrefixed(r.Clock.String()) + lengthPrefixed(strconv.FormatUint(r.Hash, 10))
		for _, p := range r.Path {
			s += lengthPrefixed(p)
		}
	}
	return s
}

// lengthPrefixed returns "len:p".
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func lengthPrefixed(p string) string { return strconv.Itoa(len(p)) + ":" + p }

// ParseGone reads FormatGone's form; valid checks each clock's tab id. At
// most MaxGone removals of paths 1 to MaxGonePath keys long.
func ParseGone(s string, valid func(tab string) bool) ([]Removed, bool) {
	next := func() (string, bool) {
		i := 0
		for i < len(s) && i < 8 && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i >= len(s) || s[i] != ':' {
			return "", false
		}
		n64, ok := decimal.ParseUint(s[:i], math.MaxInt32)
		if !ok || n64 > uint64(len(s)-i-1) {
			return "", false
		}
		n := int(n64)
		p := s[i+1 : i+1+n]
		s = s[i+1+n:]
		return p, true
	}
	var out []Removed
	for s != "" {
		if len(out) == MaxGone {
			return nil, false
		}
		np, ok1 := next()
		cs, ok2 := next()
		hs, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			return nil, false
		}
		n, okn := decimal.ParseUint(np, math.MaxInt32)
		c, okc := ParseClock(cs)
		hash, okh := decimal.ParseUint(hs, math.MaxUint64)
		if !okn || n < 1 || n > MaxGonePath || !okc || c.IsZero() || !valid(c.Tab) || !okh {
			return nil, false
		}
		r := Removed{Clock: c, Hash: hash, Path: make([]string, n)}
		for i := range r.Path {
			if r.Path[i], ok1 = next(); !ok1 {
				return nil, false
			}
		}
		out = append(out, r)
	}
	return out, true
}
