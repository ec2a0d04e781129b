package conflict

import (
	"math"
	"strconv"

	"github.com/tabsync/tabsync/internal/decimal"
)

// Clock is a hybrid logical clock reading: wall-clock milliseconds, a logical
// counter for events within one millisecond or behind a peer's clock, and the
// id of the tab that made it. Clocks of different tabs never compare equal,
// so every tab orders any two writes the same way.
//
// A hybrid clock keeps Lamport's guarantee (a write made after seeing another
// has a larger clock) while staying close to wall time, so that a tab that
// was asleep and writes now still writes "later" than what it missed.
type Clock struct {
	Wall    int64  // milliseconds since the Unix epoch
	Logical uint32 // counter within Wall
	Tab     string // the writer's tab id; the final tie-break
}

// IsZero reports whether c is the zero clock, which stands for "no write".
func (c Clock) IsZero() bool { return c.Wall == 0 && c.Logical == 0 && c.Tab == "" }

// Compare returns -1, 0 or +1 as c is before, equal to or after o.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (c Clock) Compare(o Clock) int {
	switch {
	case c.Wall < o.Wall:
		return -1
	case c.Wall > o.Wall:
		return 1
	case c.Logical < o.Logical:
		return -1
	case c.Logical > o.Logical:
		return 1
	case c.Tab < o.Tab:
		return -1
	case c.Tab > o.Tab:
		return 1
	}
	return 0
}

// Less reports whether c is before o.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (c Clock) Less(o Clock) bool { return c.Compare(o) < 0 }

// String formats c as "wall.logical.tab", the form used on the wire.
func (c Clock) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.Wall, 10) + "." + strconv.FormatUint(uint64(c.Logical), 10) + "." + c.Tab
}

// ParseClock parses the form written by String. The empty string is the zero clock.
func ParseClock(s string) (Clock, bool) {
	if s == "" {
		return Clock{}, true
	}
	i := indexByte(s, '.')
	if i <= 0 {
		return Clock{}, false
	}
	j := indexByte(s[i+1:], '.')
	if j <= 0 {
		return Clock{}, false
	}
	j += i + 1
	wall, ok := decimal.ParsePositive(s[:i])
	if !ok {
		return Clock{}, false
	}
	logical, ok := decimal.ParseUint(s[i+1:j], math.MaxUint32)
	if !ok {
		return Clock{}, false
	}
	tab := s[j+1:]
	if tab == "" {
		return Clock{}, false
	}
	return Clock{Wall: wall, Logical: uint32(logical), Tab: tab}, true
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// HLC issues clock readings for one tab.
type HLC struct {
	tab  string
	last Clock
}

// NewHLC returns a clock for the tab with the given id.
func NewHLC(tab string) *HLC { return &HLC{tab: tab, last: Clock{Tab: tab}} }

// Now returns a reading after every reading this clock has issued or observed.
// now is the current wall time in milliseconds.
func (h *HLC) Now(now int64) Clock {
	if now > h.last.Wall {
		h.last = Clock{Wall: now, Tab: h.tab}
	} else {
		h.bump()
	}
	return h.last
}

// Observe moves the clock past a reading received from another tab, so that
// anything this tab writes afterwards orders after what it has seen.
func (h *HLC) Observe(c Clock) {
	if c.Wall > h.last.Wall || (c.Wall == h.last.Wall && c.Logical > h.last.Logical) {
		h.last = Clock{Wall: c.Wall, Logical: c.Logical, Tab: h.tab}
	}
}

// Last returns the latest reading issued or observed.
func (h *HLC) Last() Clock { return h.last }

func (h *HLC) bump() {
	if h.last.Logical == ^uint32(0) {
		// 4 billion events in one millisecond: borrow the next millisecond.
		h.last.Wall++
		h.last.Logical = 0
		return
	}
	h.last.Logical++
}
