package conflict

// MaxSeen bounds a Lineage: at most this many tabs' latest writes are named
// one by one; older ones fold into the floor. It keeps a version, and so
// every message and stored record, bounded however many tabs have written a
// key over the life of an application (each page load is a new tab id).
const MaxSeen = 8

// Lineage is what a write of a key was built on, beyond its own Clock: for
// each other tab that wrote into its history, the latest write of that tab
// it includes (Seen), and a Floor at or before which every write counts as
// included. It is a per-key version vector whose entries are hybrid clocks,
// bounded by MaxSeen; the merge and custom strategies use it to tell a
// write's ancestors from writes made concurrently with it (see the package
// documentation). Last-write-wins and first-write-wins leave it empty.
//
// Seen holds at most MaxSeen clocks of distinct tabs, all after Floor, in no
// particular order; Floor is zero when nothing was folded.
type Lineage struct {
	Floor Clock
	Seen  []Clock
}

// IsZero reports whether l names no write.
func (l Lineage) IsZero() bool { return len(l.Seen) == 0 && l.Floor.IsZero() }

// Equal reports whether l and o name the same writes.
func (l Lineage) Equal(o Lineage) bool {
	if l.Floor != o.Floor || len(l.Seen) != len(o.Seen) {
		return false
	}
	for i, c := range l.Seen {
		if c != o.Seen[i] {
			return false
		}
	}
	return true
}

// Equal reports whether v and o are the same version, lineage included.
func (v Version) Equal(o Version) bool {
	if v.Clock != o.Clock || v.Base != o.Base || v.Depth != o.Depth || !v.Lineage.Equal(o.Lineage) || len(v.Gone) != len(o.Gone) {
		return false
	}
	for i, r := range v.Gone {
		if !r.equal(o.Gone[i]) {
			return false
		}
	}
	return true
}

// Covers reports whether the write c is part of the history of the version
// v: its own clock or one before it by the same tab, a write named in its
// lineage or before one by the same tab, or a write at or before the floor.
//
// A tab's writes form a chain under merge and custom (see the package
// documentation), so a history holding one write of a tab holds every
// earlier write of that tab: one clock per tab is enough.
func (v Version) Covers(c Clock) bool {
	if c.IsZero() || c.Compare(v.Lineage.Floor) <= 0 {
		return true
	}
	if c.Tab == v.Clock.Tab {
		return c.Compare(v.Clock) <= 0
	}
	for _, s := range v.Lineage.Seen {
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
	var l Lineage
	for _, p := range parents {
		if l.Floor.Less(p.Lineage.Floor) {
			l.Floor = p.Lineage.Floor
		}
	}
	for _, p := range parents {
		l.add(self, p.Clock)
		for _, s := range p.Lineage.Seen {
			l.add(self, s)
		}
	}
	return l
}

// Absorb returns v with o added to its lineage: v's value already holds
// what o wrote (see Decision.Absorb).
func (v Version) Absorb(o Version) Version {
	v.Lineage = Descend(v.Clock.Tab, Version{Lineage: v.Lineage}, o)
	return v
}

// add puts c in l.Seen, replacing an earlier clock of its tab, unless it is
// a write of self, at or before the floor, or no write. Past MaxSeen clocks
// the oldest folds into the floor.
func (l *Lineage) add(self string, c Clock) {
	if c.Compare(l.Floor) <= 0 || c.Tab == self {
		return
	}
	oldest := 0
	for i, s := range l.Seen {
		if s.Tab == c.Tab {
			if s.Less(c) {
				l.Seen[i] = c
			}
			return
		}
		if s.Less(l.Seen[oldest]) {
			oldest = i
		}
	}
	if len(l.Seen) == MaxSeen {
		// The floor rises to the oldest, which leaves; every other clock
		// is after it.
		if c.Less(l.Seen[oldest]) {
			l.Floor = c
			return
		}
		l.Floor = l.Seen[oldest]
		l.Seen[oldest] = c
		return
	}
	l.Seen = append(l.Seen, c)
}

// String formats l as "floor,clock,clock…" (the floor empty when zero), the
// form used on the wire; the zero lineage is "".
func (l Lineage) String() string {
	if l.IsZero() {
		return ""
	}
	s := l.Floor.String()
	for _, c := range l.Seen {
		s += "," + c.String()
	}
	return s
}

// ParseLineage parses the form written by Lineage.String. valid checks each
// clock's tab id. A lineage naming one tab twice, or more than MaxSeen, is
// rejected: no tab writes one.
func ParseLineage(s string, valid func(tab string) bool) (Lineage, bool) {
	var l Lineage
	for start, i := 0, 0; s != "" && i <= len(s); i++ {
		if i < len(s) && s[i] != ',' {
			continue
		}
		c, ok := ParseClock(s[start:i])
		n := len(l.Seen)
		if !ok || (!c.IsZero() && !valid(c.Tab)) || (start > 0 && c.IsZero()) || n == MaxSeen {
			return Lineage{}, false
		}
		if start == 0 {
			l.Floor = c
		} else if l.add("", c); len(l.Seen) == n {
			return Lineage{}, false // a tab named twice, or one at or before the floor
		}
		start = i + 1
	}
	return l, true
}
