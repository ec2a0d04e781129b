//go:build nopersist

package gostring

// Quote writes s as a double-quoted Go string literal as strconv.Quote does,
// without strconv's tables of printable runes (see the package comment).
func Quote(s string) string { return quote(s) }
