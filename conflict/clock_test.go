package conflict

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHLCScenarios(t *testing.T) {
	type step struct {
		now     int64 // Now(now) when observe is zero
		observe Clock
		want    Clock // the clock Now returns, or Last after Observe
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first reading takes the wall", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
		}},
		{"same millisecond bumps the counter", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
			{now: 1000, want: Clock{1000, 1, "a"}},
			{now: 1000, want: Clock{1000, 2, "a"}},
			{now: 1001, want: Clock{1001, 0, "a"}},
		}},
		{"wall going backwards keeps counting from the last reading", []step{
			{now: 5000, want: Clock{5000, 0, "a"}},
			{now: 4000, want: Clock{5000, 1, "a"}},
			{now: 1, want: Clock{5000, 2, "a"}},
			{now: 5001, want: Clock{5001, 0, "a"}},
		}},
		{"observing a later peer moves past it", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
			{observe: Clock{9000, 7, "b"}, want: Clock{9000, 7, "a"}},
			{now: 1001, want: Clock{9000, 8, "a"}},
			{now: 9001, want: Clock{9001, 0, "a"}},
		}},
		{"observing an earlier peer changes nothing", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
			{observe: Clock{500, 99, "b"}, want: Clock{1000, 0, "a"}},
			{now: 1000, want: Clock{1000, 1, "a"}},
		}},
		{"same wall, higher counter", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
			{observe: Clock{1000, 4, "b"}, want: Clock{1000, 4, "a"}},
			{now: 1000, want: Clock{1000, 5, "a"}},
		}},
		{"equal wall and counter from a larger tab id still orders after it", []step{
			{now: 1000, want: Clock{1000, 0, "a"}},
			{observe: Clock{1000, 0, "z"}, want: Clock{1000, 0, "a"}},
			{now: 1000, want: Clock{1000, 1, "a"}},
		}},
		{"logical overflow borrows the next millisecond", []step{
			{observe: Clock{1000, math.MaxUint32 - 1, "b"}, want: Clock{1000, math.MaxUint32 - 1, "a"}},
			{now: 1000, want: Clock{1000, math.MaxUint32, "a"}},
			{now: 1000, want: Clock{1001, 0, "a"}},
			{now: 1000, want: Clock{1001, 1, "a"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHLC("a")
			var prev Clock
			for i, s := range tt.steps {
				var got Clock
				if s.observe.IsZero() {
					got = h.Now(s.now)
					assert.Truef(t, prev.Less(got), "step %d: %v not after %v", i, got, prev)
				} else {
					h.Observe(s.observe)
					got = h.Last()
				}
				require.Equalf(t, s.want, got, "step %d", i)
				prev = got
			}
		})
	}
}

// TestHLCMonotonic interleaves Now and Observe with a wall that jumps around
// and checks that every reading is after everything issued or observed.
func TestHLCMonotonic(t *testing.T) {
	h := NewHLC("me")
	var seen Clock
	wall := int64(1_700_000_000_000)
	for i := 0; i < 10000; i++ {
		switch i % 5 {
		case 0, 1:
			wall += int64(i%7) - 3 // forwards and backwards
			c := h.Now(wall)
			require.True(t, seen.Less(c), "reading %v not after %v", c, seen)
			require.Equal(t, "me", c.Tab)
			seen = c
		case 2:
			o := Clock{Wall: wall + int64(i%11) - 5, Logical: uint32(i % 3), Tab: "peer"}
			h.Observe(o)
			if seen.Less(o) {
				seen = o
			}
		default:
			c := h.Now(wall - 100)
			require.True(t, seen.Less(c))
			seen = c
		}
	}
}

func TestClockCompare(t *testing.T) {
	tests := []struct {
		a, b Clock
		want int
	}{
		{Clock{1, 0, "a"}, Clock{2, 0, "a"}, -1},
		{Clock{2, 0, "a"}, Clock{1, 9, "z"}, 1},
		{Clock{1, 1, "a"}, Clock{1, 2, "a"}, -1},
		{Clock{1, 1, "b"}, Clock{1, 1, "a"}, 1},
		{Clock{1, 1, "a"}, Clock{1, 1, "a"}, 0},
		{Clock{}, Clock{1, 0, "a"}, -1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.a.Compare(tt.b), "%v vs %v", tt.a, tt.b)
		assert.Equal(t, -tt.want, tt.b.Compare(tt.a), "%v vs %v", tt.b, tt.a)
		assert.Equal(t, tt.want < 0, tt.a.Less(tt.b))
	}
}

func TestClockStringRoundTrip(t *testing.T) {
	for _, c := range []Clock{
		{},
		{1, 0, "a"},
		{1_700_000_000_000, 42, "k2f9-x_Y"},
		{math.MaxInt64, math.MaxUint32, "t"},
		{5, 0, "tab.with.dots"}, // the tab is everything after the second dot
	} {
		s := c.String()
		got, ok := ParseClock(s)
		require.True(t, ok, "%q", s)
		assert.Equal(t, c, got, "%q", s)
	}
	assert.Equal(t, "", Clock{}.String())
	assert.Equal(t, "12.3.ab", Clock{12, 3, "ab"}.String())
}

func TestParseClockMalformed(t *testing.T) {
	for _, s := range []string{
		".",
		"..",
		"1..a",
		"1.2.",
		"1.2",
		"1",
		".1.a",
		"0.1.a",                   // wall must be positive
		"-5.1.a",                  // wall must be positive
		"x.1.a",                   // not a number
		"1.x.a",                   // not a number
		"1.-1.a",                  // negative counter
		"1.4294967296.a",          // counter over 32 bits
		"9223372036854775808.0.a", // wall over 63 bits
		"1.5e3.a",
		" 1.0.a",
	} {
		_, ok := ParseClock(s)
		assert.False(t, ok, "%q parsed", s)
	}
}
