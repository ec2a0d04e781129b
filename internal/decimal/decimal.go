// Package decimal parses the decimal numbers of the wire format.
//
// It exists for the size of the wasm module: strconv.ParseInt and
// ParseUint bring strconv's error values (NumError and its messages) into a
// module that otherwise has no use for them, about 2 KB gzipped.
package decimal

// ParseUint is strconv.ParseUint(s, 10, 64) for a result at most max,
// without the error: "" and anything but the digits 0-9 (no sign, no
// underscores) is not a number, nor is a value above max.
func ParseUint(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		// d > max first: max-d would wrap around below zero.
		if d > 9 || d > max || n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ParsePositive is strconv.ParseInt(s, 10, 64) for a result above 0: an
// optional "+", then digits.
func ParsePositive(s string) (int64, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	n, ok := ParseUint(s, 1<<63-1)
	return int64(n), ok && n > 0
}
