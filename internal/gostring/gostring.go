// Package gostring holds the string functions of the standard library the
// wasm-bound packages (sync, leader, conflict, protocol, jsbridge) need,
// without what they would link into the module without persistence:
//
//   - Quote writes a string as a double-quoted Go string literal, as
//     strconv.Quote does. Built with the tag nopersist
//     (tabsync-nopersist.wasm), it does so without strconv.Quote, which
//     decides which runes to escape with Unicode's tables of printable
//     characters (strconv.IsPrint): nothing else in that module needs them,
//     and they and the code reading them cost it about 6.7 KB gzipped
//     (README.md, Size). It returns what strconv.Quote returns for every
//     string of ASCII, invalid UTF-8 and runes Unicode assigns (in the
//     version Go's unicode package carries): it escapes the same controls,
//     format characters, separators and private-use runes (a short list
//     instead of the tables) and writes every other assigned rune as it
//     is. It differs only for runes Unicode has not assigned, which it
//     writes as they are where strconv.Quote writes \u or \U. Every other
//     build links strconv.Quote anyway (tabsync.wasm through
//     go-indexeddb's fmt), and Quote is strconv.Quote there: a second
//     quoting function cost tabsync.wasm 0.6 KB gzipped.
//   - IndexByte is strings.IndexByte: importing strings links the unicode
//     package and its initialised tables (3 KB gzipped).
//
// internal/purity's TestTheModuleWithoutPersistenceImportsNoStrings keeps strings out.
package gostring

const hex = "0123456789abcdef"

// quote is Quote in the module without persistence (quote_nopersist.go):
// s double-quoted with Go escapes, as strconv.Quote writes it (see the
// package comment for the runes where it differs).
func quote(s string) string {
	// At most 4 bytes out per byte in (\xff), and one array written by
	// index: appending costs the module a growth check per append.
	b := make([]byte, 4*len(s)+2)
	b[0] = '"'
	w := 1
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= 0x80 {
			r, n = decode(s[i:])
		}
		esc, digits := byte(0), 0 // the letter after \, and hex digits
		switch {
		case n == 0: // not UTF-8: the byte, as strconv.Quote writes it
			r, n, esc, digits = rune(s[i]), 1, 'x', 2
		case r == '"' || r == '\\':
			esc = byte(r)
		case r >= ' ' && r < 0x7f:
		case r < 0x80: // an ASCII control
			if j := IndexByte("\a\b\f\n\r\t\v", byte(r)); j >= 0 {
				esc = "abfnrtv"[j]
			} else {
				esc, digits = 'x', 2
			}
		case !invisible(r):
		case r < 0x10000:
			esc, digits = 'u', 4
		default:
			esc, digits = 'U', 8
		}
		if esc == 0 {
			w += copy(b[w:], s[i:i+n])
		} else {
			b[w], b[w+1] = '\\', esc
			w += 2
			for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
				b[w] = hex[r>>shift&0xf]
				w++
			}
		}
		i += n
	}
	b[w] = '"'
	return string(b[:w+1])
}

// invisible reports the runes above ASCII that Quote escapes: those
// Unicode assigns and strconv.Quote escapes (controls, format characters,
// separators, private use; generated from Go's unicode tables and checked
// against strconv by TestQuoteIsStrconvQuoteForEveryAssignedRune), and the
// noncharacters.
func invisible(r rune) bool {
	if r&0xfffe == 0xfffe || r >= 0xfdd0 && r <= 0xfdef {
		return true
	}
	for _, x := range notPrinted {
		if r < x[0] {
			return false
		}
		if r <= x[1] {
			return true
		}
	}
	return false
}

// notPrinted lists, in order, the ranges of assigned runes above ASCII
// that strconv.IsPrint rejects.
var notPrinted = [...][2]rune{
	{0x80, 0xa0}, {0xad, 0xad}, {0x600, 0x605}, {0x61c, 0x61c}, {0x6dd, 0x6dd},
	{0x70f, 0x70f}, {0x890, 0x891}, {0x8e2, 0x8e2}, {0x1680, 0x1680}, {0x180e, 0x180e},
	{0x2000, 0x200f}, {0x2028, 0x202f}, {0x205f, 0x2064}, {0x2066, 0x206f}, {0x3000, 0x3000},
	{0xe000, 0xf8ff}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
	{0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
	{0xf0000, 0xffffd}, {0x100000, 0x10fffd},
}

// decode returns the first rune of s, whose first byte is not ASCII, and
// its length in bytes, or a length of 0 if s does not start with a valid
// UTF-8 sequence (overlong, a surrogate, past U+10FFFF or cut short), where
// unicode/utf8.DecodeRuneInString returns RuneError and 1. It reads the rune
// with a range loop (the runtime's decoder, in every module) rather than
// with unicode/utf8.
func decode(s string) (rune, int) {
	for _, r := range s {
		switch {
		case r == 0xfffd && (len(s) < 3 || s[:3] != "\uFFFD"):
			return r, 0
		case r < 0x800:
			return r, 2
		case r < 0x10000:
			return r, 3
		default:
			return r, 4
		}
	}
	return 0, 0
}

// IndexByte is strings.IndexByte.
func IndexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
