package gostring

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assigned is every category Unicode assigns a rune to (not Cn).
var assigned = []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
	unicode.Zs, unicode.Zl, unicode.Zp, unicode.Cc, unicode.Cf, unicode.Co}

func isAssigned(r rune) bool {
	return r < utf8.RuneSelf || unicode.In(r, assigned...)
}

// all reports whether every rune of s is assigned or an invalid byte.
func all(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				continue
			}
		}
		if !isAssigned(r) {
			return false
		}
	}
	return true
}

func TestQuoteIsStrconvQuoteForEveryAssignedRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !isAssigned(r) {
			continue
		}
		// Compared before asserting: a million assertions take seconds
		// under -race.
		s := "k" + string(r) + "\x00"
		if got, want := quote(s), strconv.Quote(s); got != want {
			require.Equal(t, want, got, "rune %U", r)
		}
	}
	// A rune Unicode has not assigned is written as it is.
	assert.Equal(t, "\"\u0378\"", quote("\u0378"))
	assert.Equal(t, `"\u0378"`, strconv.Quote("\u0378"))
}

func TestQuoteEscapesAsStrconv(t *testing.T) {
	for _, s := range []string{
		"", "plain", `a "quoted" \ key`, "\a\b\f\n\r\t\v\x00\x1f\x7f", "café", "ключ", "日本語", "😀",
		"\u00a0\u00ad\u200b\u2028\ufeff\U000e0001\U000f0000", "\xff", "\xc0\x80", "\xed\xa0\x80",
		"\xe0\x80\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x98", "a\xe2\x82", "\uFFFD",
	} {
		assert.Equal(t, strconv.Quote(s), quote(s), "%q", s)
	}
	assert.Equal(t, `"\ufffe"`, quote("\ufffe"), "a noncharacter is escaped")
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "k", "café\n", "\xff\xfe", "\u2028x", "😀\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if all(s) {
			assert.Equal(t, strconv.Quote(s), quote(s))
		}
	})
}

func TestIndexByteIsStringsIndexByte(t *testing.T) {
	for _, s := range []string{"", "a", "|", "ab|c|d", "abc", "\n\\x"} {
		for _, c := range []byte{'|', '\n', '\\', 'a', 'x'} {
			assert.Equal(t, strings.IndexByte(s, c), IndexByte(s, c), "%q %q", s, c)
		}
	}
}
