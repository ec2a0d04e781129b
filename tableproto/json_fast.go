//go:build !js

package tableproto

// The relay's write path without encoding/json's reflection (issue 12): at
// the browsers' pace the machine is cold between two writes, and every
// microsecond of code on the path costs several. appendFrame writes every
// frame but a snapshot byte for byte as encodeReflect does, and
// decodeOperation reads an operation frame of the usual shape, leaving all
// else to decodeReflect. FuzzEncodeMatchesReflect and
// FuzzDecodeOperationMatchesReflect hold them to their references.

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// frameSize is a capacity for f's text that fits it in one allocation
// unless its strings need escaping.
func frameSize(f Frame) int {
	n := 240 + len(f.Type) + len(f.ClientID) + len(f.Token) + len(f.Table) + len(f.OpID) +
		len(f.OriginID) + len(f.Code) + len(f.Message) + len(f.ID)
	if f.Type == Operation || f.Type == Update {
		n += len(f.Change.Operation) + len(f.Change.Key) + len(f.Change.Value)
	}
	return n
}

// appendFrame appends the JSON text of f, a frame without limits and not a
// snapshot, as encodeReflect writes it: the wire struct's fields in its
// order, each omitted when empty, strings as encoding/json writes them
// without HTML escaping, and an operation's or update's value compacted.
// It reports false, having written part of the frame, if the value is not
// JSON.
func appendFrame(b []byte, f Frame) ([]byte, bool) {
	b = append(b, `{"type":`...)
	b = appendString(b, string(f.Type))
	if f.V != 0 {
		b = append(b, `,"v":`...)
		b = strconv.AppendInt(b, int64(f.V), 10)
	}
	if f.ClientID != "" {
		b = append(b, `,"clientId":`...)
		b = appendString(b, f.ClientID)
	}
	if f.Token != "" {
		b = append(b, `,"token":`...)
		b = appendString(b, f.Token)
	}
	if f.Table != "" {
		b = append(b, `,"table":`...)
		b = appendString(b, f.Table)
	}
	if f.Since != 0 {
		b = append(b, `,"since":`...)
		b = strconv.AppendUint(b, f.Since, 10)
	}
	if f.OpID != "" {
		b = append(b, `,"opId":`...)
		b = appendString(b, f.OpID)
	}
	if f.Type == Operation || f.Type == Update {
		b = append(b, `,"payload":{"operation":`...)
		b = appendString(b, string(f.Change.Operation))
		b = append(b, `,"key":`...)
		b = appendString(b, f.Change.Key)
		if len(f.Change.Value) > 0 { // a set's null value is the text "null"
			b = append(b, `,"value":`...)
			var ok bool
			if b, ok = appendCompact(b, f.Change.Value); !ok {
				return b, false
			}
		}
		b = append(b, '}')
	}
	if f.More {
		b = append(b, `,"more":true`...)
	}
	if f.TableVersion != 0 {
		b = append(b, `,"tableVersion":`...)
		b = strconv.AppendUint(b, f.TableVersion, 10)
	}
	if f.OriginID != "" {
		b = append(b, `,"originId":`...)
		b = appendString(b, f.OriginID)
	}
	if f.Timestamp != 0 {
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, f.Timestamp, 10)
	}
	if f.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	if f.Code != "" {
		b = append(b, `,"code":`...)
		b = appendString(b, string(f.Code))
	}
	if f.Message != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, f.Message)
	}
	if f.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, f.ID)
	}
	return append(b, '}'), true
}

// maxDepth is encoding/json's limit on a text's nesting (its scanner's
// maxNestingDepth), counted from the text's top: an operation's value is
// two levels into a frame Decode reads (frame, payload), and one into the
// payload encodeReflect has compacted as a text of its own.
const maxDepth = 10000

// appendCompact appends the JSON text v compacted, as encoding/json writes
// a json.RawMessage, and reports whether v is JSON that encodeReflect
// writes (not nested deeper than maxDepth-1).
func appendCompact(b []byte, v []byte) ([]byte, bool) {
	if deeperThan(v, maxDepth-1) {
		return b, false
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, v); err != nil {
		return b, false
	}
	return buf.Bytes(), true
}

// deeperThan reports whether the JSON text v nests arrays and objects more
// than limit levels deep. A valid text that does takes over 2*limit bytes,
// so the usual value is not scanned.
func deeperThan(v []byte, limit int) bool {
	if len(v) <= 2*limit {
		return false
	}
	depth := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json writes
// it with SetEscapeHTML(false): " and \ escaped, \b \f \n \r \t, other
// bytes below 0x20 as \u00xx, each byte of invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 as \u2028 and \u2029; all else as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeOperation reads b if it is an operation frame of the shape clients
// send: an object of some of "type" (which must be "operation"), "table",
// "opId" and "payload" (which it needs), each once, the strings plain (no
// escape, no control character, valid UTF-8: their text is their value),
// and the payload an object of "operation" and "key" (plain strings, both
// needed) and "value" (any JSON, compacted), each once. It reports false
// for anything else, which decodeReflect then reads or refuses: names in
// another case, escapes, null, duplicates, a malformed value.
func decodeOperation(b []byte) (Frame, bool) {
	s := scanner{b: b}
	var f Frame
	var seen uint8
	if !s.consume('{') {
		return Frame{}, false
	}
	for {
		name, ok := s.plainString()
		if !ok || !s.consume(':') {
			return Frame{}, false
		}
		var bit uint8
		switch string(name) {
		case "type":
			bit = 1
			t, ok := s.plainString()
			if !ok || string(t) != string(Operation) {
				return Frame{}, false
			}
		case "table":
			bit = 2
			t, ok := s.plainString()
			if !ok {
				return Frame{}, false
			}
			f.Table = string(t)
		case "opId":
			bit = 4
			id, ok := s.plainString()
			if !ok {
				return Frame{}, false
			}
			f.OpID = string(id)
		case "payload":
			bit = 8
			if !s.change(&f.Change) {
				return Frame{}, false
			}
		default:
			return Frame{}, false
		}
		if seen&bit != 0 {
			return Frame{}, false
		}
		seen |= bit
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			break
		}
		return Frame{}, false
	}
	s.space()
	if s.i != len(b) || seen&(1|8) != 1|8 {
		return Frame{}, false
	}
	f.Type = Operation
	return f, true
}

// scanner reads the JSON text b from b[i] on.
type scanner struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c came next.
func (s *scanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString skips whitespace and reads a string without escapes or
// control characters, in valid UTF-8, returning its text.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			t := s.b[start:s.i]
			s.i++
			return t, utf8.Valid(t)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// change reads an operation's payload into c.
func (s *scanner) change(c *Change) bool {
	var seen uint8
	if !s.consume('{') {
		return false
	}
	for {
		name, ok := s.plainString()
		if !ok || !s.consume(':') {
			return false
		}
		var bit uint8
		switch string(name) {
		case "operation":
			bit = 1
			op, ok := s.plainString()
			if !ok {
				return false
			}
			switch string(op) { // the two operations without an allocation
			case string(Set):
				c.Operation = Set
			case string(Delete):
				c.Operation = Delete
			default:
				c.Operation = Op(op)
			}
		case "key":
			bit = 2
			k, ok := s.plainString()
			if !ok {
				return false
			}
			c.Key = string(k)
		case "value":
			bit = 4
			v, ok := s.value()
			if !ok {
				return false
			}
			c.Value = v
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return seen&(1|2) == 1|2
		}
		return false
	}
}

// value reads any JSON value and returns it compacted: it finds where the
// value ends (a , or } outside strings and brackets), and json.Compact
// checks that what it found is one JSON value.
func (s *scanner) value() (RawValue, bool) {
	s.space()
	start, depth := s.i, 0
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
		case '{', '[':
			if depth++; depth > maxDepth-2 { // encoding/json's limit, with the frame and the payload
				return nil, false
			}
		case ']':
			depth--
		case '}':
			if depth == 0 {
				return compact(s.b[start:s.i])
			}
			depth--
		case ',':
			if depth == 0 {
				return compact(s.b[start:s.i])
			}
		}
	}
	return nil, false
}

func compact(v []byte) (RawValue, bool) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}
