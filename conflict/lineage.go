package conflict

// MaxSeen bounds a Lineage: at most this many tabs' latest writes are named
// one by one; older ones fold into the floor. It keeps a version, and so
// every message and stored record, bounded however many tabs have written a
// key over the life of an application (each page load is a new tab id).
const MaxSeen = 8

// Lineage is what a write of a key was built on, beyond its own Clock: for
// each other tab that wrote into its history, the latest write of that tab
// it includes (Seen), and a Floor below which every write counts as
// included. It is a per-key version vector whose entries are hybrid clocks,
// bounded by MaxSeen; the merge and custom strategies use it to tell a
// write's ancestors from writes made concurrently with it (see the package
// documentation). Last-write-wins and first-write-wins do not need it and
// leave it empty.
//
// Seen is sorted by tab id, unused slots (zero clocks) at the end; Floor is
// zero when nothing was folded. A Lineage is comparable with ==.
type Lineage struct {
	Seen  [MaxSeen]Clock
	Floor Clock
}

// IsZero reports whether l names no write.
func (l Lineage) IsZero() bool { return l.Seen[0].IsZero() && l.Floor.IsZero() }

// Covers reports whether the write c is part of the history of the version
// v: its own clock or one before it by the same tab, a write named in its
// lineage or before one by the same tab, or a write at or before the floor.
//
// A tab's writes form a chain under merge and custom (a tab never drops a
// write of its own for a concurrent one, it keeps it until the combined
// write arrives), so a history holding one write of a tab holds every
// earlier write of that tab: one clock per tab is enough.
func (v Version) Covers(c Clock) bool {
	switch {
	case c.IsZero():
		return true
	case c.Tab == v.Clock.Tab:
		return c.Compare(v.Clock) <= 0
	case !v.Lineage.Floor.IsZero() && c.Compare(v.Lineage.Floor) <= 0:
		return true
	}
	for _, s := range v.Lineage.Seen {
		if s.IsZero() {
			break
		}
		if s.Tab == c.Tab {
			return c.Compare(s) <= 0
		}
	}
	return false
}

// Descend returns the lineage of a new write by tab self built on the
// versions in parents (the value the tab held, and for a combined write the
// remote one): every parent's clock and lineage, the latest write per tab,
// self's own writes left out (the new clock stands for them), bounded by
// MaxSeen with the oldest folded into the floor.
func Descend(self string, parents ...Version) Lineage {
	var seen []Clock
	var floor Clock
	add := func(c Clock) {
		if c.IsZero() || c.Tab == self {
			return
		}
		for i, s := range seen {
			if s.Tab == c.Tab {
				if s.Less(c) {
					seen[i] = c
				}
				return
			}
		}
		seen = append(seen, c)
	}
	for _, p := range parents {
		add(p.Clock)
		for _, s := range p.Lineage.Seen {
			add(s)
		}
		if floor.Less(p.Lineage.Floor) {
			floor = p.Lineage.Floor
		}
	}
	return bound(seen, floor)
}

// bound keeps the MaxSeen latest clocks of seen, folds the others into
// floor, drops those at or below the floor, and sorts what is left by tab.
func bound(seen []Clock, floor Clock) Lineage {
	// Newest first (an insertion sort: a few entries).
	for i := 1; i < len(seen); i++ {
		for j := i; j > 0 && seen[j-1].Less(seen[j]); j-- {
			seen[j], seen[j-1] = seen[j-1], seen[j]
		}
	}
	for len(seen) > MaxSeen {
		if floor.Less(seen[len(seen)-1]) {
			floor = seen[len(seen)-1]
		}
		seen = seen[:len(seen)-1]
	}
	var l Lineage
	l.Floor = floor
	n := 0
	for _, c := range seen {
		if floor.IsZero() || floor.Less(c) {
			l.Seen[n] = c
			n++
		}
	}
	for i := 1; i < n; i++ {
		for j := i; j > 0 && l.Seen[j].Tab < l.Seen[j-1].Tab; j-- {
			l.Seen[j], l.Seen[j-1] = l.Seen[j-1], l.Seen[j]
		}
	}
	return l
}

// String formats l as "floor,clock,clock…" (the floor empty when zero), the
// form used on the wire; the zero lineage is "".
func (l Lineage) String() string {
	if l.IsZero() {
		return ""
	}
	s := l.Floor.String()
	for _, c := range l.Seen {
		if c.IsZero() {
			break
		}
		s += "," + c.String()
	}
	return s
}

// ParseLineage parses the form written by Lineage.String. valid checks each
// clock's tab id. A lineage naming one tab twice, or more than MaxSeen, is
// rejected: no tab writes one.
func ParseLineage(s string, valid func(tab string) bool) (Lineage, bool) {
	var l Lineage
	if s == "" {
		return l, true
	}
	parts := 0
	start := 0
	var seen []Clock
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ',' {
			continue
		}
		c, ok := ParseClock(s[start:i])
		if !ok || (!c.IsZero() && !valid(c.Tab)) {
			return Lineage{}, false
		}
		if parts == 0 {
			l.Floor = c
		} else {
			if c.IsZero() || len(seen) == MaxSeen {
				return Lineage{}, false
			}
			for _, o := range seen {
				if o.Tab == c.Tab {
					return Lineage{}, false
				}
			}
			seen = append(seen, c)
		}
		parts++
		start = i + 1
	}
	floor := l.Floor
	l = bound(seen, floor)
	return l, true
}

// Absorb returns v with o added to its lineage: v's value already holds
// what o wrote (see Decision.Absorb).
func (v Version) Absorb(o Version) Version {
	v.Lineage = Descend(v.Clock.Tab, Version{Lineage: v.Lineage}, o)
	return v
}
