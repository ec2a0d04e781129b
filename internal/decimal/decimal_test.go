package decimal

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

var inputs = []string{
	"", "0", "1", "+1", "-1", "+", "-", "00", "007", "+007", "1_000", "0x10", " 1", "1 ", "1.5", "１",
	"4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "+9223372036854775807",
	"18446744073709551615", "18446744073709551616", "99999999999999999999", "1700000000000",
}

func FuzzParse(f *testing.F) {
	for _, s := range inputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, max := range []uint64{0, 5, 9, 10, 100, math.MaxUint32, math.MaxUint64} {
			want, err := strconv.ParseUint(s, 10, 64)
			got, ok := ParseUint(s, max)
			wantOK := err == nil && want <= max
			assert.Equal(t, wantOK, ok, "ParseUint(%q, %d)", s, max)
			if wantOK {
				assert.Equal(t, want, got, "ParseUint(%q, %d)", s, max)
			}
		}
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := ParsePositive(s)
		assert.Equal(t, err == nil && want > 0, ok, "ParsePositive(%q)", s)
		if ok {
			assert.Equal(t, want, got, "ParsePositive(%q)", s)
		}
	})
}
