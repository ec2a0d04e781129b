package tablebridge

// readFrame is the browser's decoder of server frames, in Go: the module
// copies a message's text once (two calls into JavaScript) and reads it
// here, where JSON.parse and a js.Value per field cost two calls or more
// each, and every string or object among them a reference the Go glue must
// later finalize (BenchmarkReadUpdate: about a tenth of the time, measured
// in Chromium). It is strict JSON (RFC 8259) like JSON.parse, and like
// JSON.parse the last of repeated names wins. It is plain Go, so it is
// tested natively against encoding/json (read_test.go, FuzzReadFrame).

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tabsync/tabsync/tableproto"
)

// maxDepth bounds the nesting of a frame's values (JSON.parse has no limit
// but the stack; a value nested this deep is not one a client wrote).
const maxDepth = 1000

var (
	errNotJSON  = errors.New("not JSON")
	errTooDeep  = errors.New("nested deeper than 1000")
	errNotFrame = errors.New("not a JSON object with a string type")
)

// readFrame decodes a server frame from its JSON text. A field of the wrong
// type is an error: the frame is dropped and reported. notJSON tells a text
// that is not JSON at all from a malformed frame.
func readFrame(text string) (f tableproto.Frame, notJSON bool, err error) {
	sc := scanner{s: text}
	sc.ws()
	if sc.peek() != '{' {
		if err := sc.skipDocument(); err != nil {
			return f, true, err
		}
		return f, false, errNotFrame
	}
	var typ, payload, changes span
	var typeSeen bool
	var ferr error // the first wrong field type; the text is still checked to its end
	wrong := func(name, want string) {
		if ferr == nil {
			ferr = errors.New(name + " must be a " + want)
		}
	}
	err = sc.object(0, func(name string) error {
		k := sc.kind()
		if k == 'n' { // null: as if absent
			return sc.skip(1)
		}
		str := func(dst *string) error {
			if k != '"' {
				wrong(name, "string")
				return sc.skip(1)
			}
			s, err := sc.str()
			*dst = s
			return err
		}
		num := func(dst *float64) error {
			if k != '0' {
				wrong(name, "number")
				return sc.skip(1)
			}
			x, err := sc.num()
			*dst = x
			return err
		}
		switch name {
		case "type":
			typeSeen = k == '"'
			if !typeSeen {
				return sc.skip(1)
			}
			s, err := sc.str()
			typ = span{ok: true}
			f.Type = tableproto.Type(s)
			return err
		case "v":
			var x float64
			err := num(&x)
			f.V = int(x)
			return err
		case "clientId":
			return str(&f.ClientID)
		case "table":
			return str(&f.Table)
		case "opId":
			return str(&f.OpID)
		case "originId":
			return str(&f.OriginID)
		case "code":
			var c string
			err := str(&c)
			f.Code = tableproto.Code(c)
			return err
		case "message":
			return str(&f.Message)
		case "id":
			return str(&f.ID)
		case "tableVersion":
			var x float64
			err := num(&x)
			if err == nil && k == '0' && (x < 0 || x > 1<<53 || x != float64(uint64(x))) {
				if ferr == nil {
					ferr = errors.New("tableVersion must be a whole number from 0 to 2^53")
				}
				x = 0
			}
			f.TableVersion = uint64(x)
			return err
		case "timestamp":
			var x float64
			err := num(&x)
			f.Timestamp = int64(x)
			return err
		case "duplicate", "more":
			if k != 't' && k != 'f' {
				wrong(name, "boolean")
				return sc.skip(1)
			}
			b := k == 't'
			if name == "more" {
				f.More = b
			} else {
				f.Duplicate = b
			}
			return sc.skip(1)
		case "payload":
			return sc.capture(&payload)
		case "changes":
			return sc.capture(&changes)
		}
		return sc.skip(1)
	})
	if err == nil {
		sc.ws()
		if sc.i < len(sc.s) {
			err = sc.fail()
		}
	}
	if err != nil {
		return tableproto.Frame{}, true, err
	}
	if !typeSeen || !typ.ok {
		return tableproto.Frame{}, false, errNotFrame
	}
	if ferr != nil {
		return f, false, ferr
	}
	switch f.Type {
	case tableproto.Update:
		if payload.kind != '{' {
			return f, false, errors.New("payload must be an object")
		}
		err = readChange(text[payload.start:payload.end], &f.Change)
	case tableproto.Snapshot:
		if payload.kind != '{' {
			return f, false, errors.New("payload must be an object")
		}
		if changes.ok && changes.kind != '{' && changes.kind != '[' && changes.kind != 'n' {
			return f, false, errors.New("changes must be an object")
		}
		var ch map[string]rowChange
		if changes.kind == '{' {
			if ch, err = readChanges(text[changes.start:changes.end]); err != nil {
				return f, false, err
			}
		}
		f.Rows, err = readRows(text[payload.start:payload.end], ch)
	}
	return f, false, err
}

// span is where a captured value is in the text, and its kind.
type span struct {
	ok         bool
	kind       byte // as scanner.kind
	start, end int
}

type rowChange struct {
	opID, originID string
	timestamp      int64
}

// readChange reads an update's payload {operation, key, value}.
func readChange(text string, c *tableproto.Change) error {
	sc := scanner{s: text}
	var ferr error
	err := sc.object(0, func(name string) error {
		k := sc.kind()
		switch name {
		case "operation", "key":
			if k == 'n' {
				return sc.skip(1)
			}
			if k != '"' {
				if ferr == nil {
					ferr = errors.New(name + " must be a string")
				}
				return sc.skip(1)
			}
			s, err := sc.str()
			if name == "key" {
				c.Key = s
			} else {
				c.Operation = tableproto.Op(s)
			}
			return err
		case "value":
			var v span
			if err := sc.capture(&v); err != nil {
				return err
			}
			c.Value = tableproto.RawValue(compact(text[v.start:v.end]))
			return nil
		}
		return sc.skip(1)
	})
	if err != nil {
		return err
	}
	return ferr
}

// readChanges reads a snapshot's changes: {key: {opId, originId, timestamp}}.
// An entry that is not an object is ignored, as an older server's absence.
func readChanges(text string) (map[string]rowChange, error) {
	sc := scanner{s: text}
	out := map[string]rowChange{}
	err := sc.object(0, func(key string) error {
		if sc.kind() != '{' {
			delete(out, key)
			return sc.skip(1)
		}
		var c rowChange
		var ferr error
		err := sc.object(1, func(name string) error {
			k := sc.kind()
			if k == 'n' {
				return sc.skip(2)
			}
			switch name {
			case "opId", "originId":
				if k != '"' {
					if ferr == nil {
						ferr = errors.New("changes." + key + ": " + name + " must be a string")
					}
					return sc.skip(2)
				}
				s, err := sc.str()
				if name == "opId" {
					c.opID = s
				} else {
					c.originID = s
				}
				return err
			case "timestamp":
				if k != '0' {
					if ferr == nil {
						ferr = errors.New("changes." + key + ": timestamp must be a number")
					}
					return sc.skip(2)
				}
				x, err := sc.num()
				c.timestamp = int64(x)
				return err
			}
			return sc.skip(2)
		})
		if err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
		out[key] = c
		return nil
	})
	return out, err
}

// readRows reads a snapshot's payload {key: value}, in the text's order (a
// repeated key keeps its first place and its last value).
func readRows(text string, ch map[string]rowChange) ([]tableproto.Row, error) {
	sc := scanner{s: text}
	var rows []tableproto.Row
	var at map[string]int
	err := sc.object(0, func(key string) error {
		var v span
		if err := sc.capture(&v); err != nil {
			return err
		}
		r := tableproto.Row{Key: key, Value: tableproto.RawValue(compact(text[v.start:v.end]))}
		if c, ok := ch[key]; ok {
			r.OpID, r.OriginID, r.Timestamp = c.opID, c.originID, c.timestamp
		}
		if i, ok := at[key]; ok {
			rows[i] = r
			return nil
		}
		if at == nil {
			at = map[string]int{}
		}
		at[key] = len(rows)
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

// compact returns JSON text v without the whitespace between its tokens.
func compact(v string) string {
	n := 0
	in, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			n++
		}
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		}
	}
	if n == 0 {
		return v
	}
	b := make([]byte, 0, len(v)-n)
	in, esc = false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue
		}
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		}
		b = append(b, c)
	}
	return string(b)
}

// scanner reads JSON text.
type scanner struct {
	s string
	i int
}

func (sc *scanner) fail() error { return errNotJSON }

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

// kind skips whitespace and names the next value: '{', '[', '"', '0' (a
// number), 't', 'f', 'n', or 0 if none can start here.
func (sc *scanner) kind() byte {
	sc.ws()
	switch c := sc.peek(); c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// skipDocument checks that the whole text is one JSON value.
func (sc *scanner) skipDocument() error {
	if err := sc.skip(0); err != nil {
		return err
	}
	sc.ws()
	if sc.i < len(sc.s) {
		return sc.fail()
	}
	return nil
}

// capture skips the next value, recording where it is.
func (sc *scanner) capture(sp *span) error {
	sp.ok, sp.kind = true, sc.kind()
	sp.start = sc.i
	err := sc.skip(1)
	sp.end = sc.i
	return err
}

// object reads an object, calling member with each name, positioned at its
// value, which member must consume.
func (sc *scanner) object(depth int, member func(name string) error) error {
	if depth > maxDepth {
		return errTooDeep
	}
	sc.ws()
	if sc.peek() != '{' {
		return sc.fail()
	}
	sc.i++
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	for {
		sc.ws()
		if sc.peek() != '"' {
			return sc.fail()
		}
		name, err := sc.str()
		if err != nil {
			return err
		}
		sc.ws()
		if sc.peek() != ':' {
			return sc.fail()
		}
		sc.i++
		if err := member(name); err != nil {
			return err
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return sc.fail()
		}
	}
}

// skip checks and passes the next value.
func (sc *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch sc.kind() {
	case '{':
		return sc.object(depth, func(string) error { return sc.skip(depth + 1) })
	case '[':
		sc.i++
		sc.ws()
		if sc.peek() == ']' {
			sc.i++
			return nil
		}
		for {
			if err := sc.skip(depth + 1); err != nil {
				return err
			}
			sc.ws()
			switch sc.peek() {
			case ',':
				sc.i++
			case ']':
				sc.i++
				return nil
			default:
				return sc.fail()
			}
		}
	case '"':
		_, err := sc.str()
		return err
	case '0':
		_, err := sc.num()
		return err
	case 't':
		return sc.literal("true")
	case 'f':
		return sc.literal("false")
	case 'n':
		return sc.literal("null")
	}
	return sc.fail()
}

func (sc *scanner) literal(word string) error {
	if len(sc.s)-sc.i < len(word) || sc.s[sc.i:sc.i+len(word)] != word {
		return sc.fail()
	}
	sc.i += len(word)
	return nil
}

// num reads a number with JSON's grammar.
func (sc *scanner) num() (float64, error) {
	start := sc.i
	digits := func() int {
		n := 0
		for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
			sc.i++
			n++
		}
		return n
	}
	if sc.peek() == '-' {
		sc.i++
	}
	if sc.peek() == '0' {
		sc.i++
	} else if digits() == 0 {
		return 0, sc.fail()
	}
	if sc.peek() == '.' {
		sc.i++
		if digits() == 0 {
			return 0, sc.fail()
		}
	}
	if c := sc.peek(); c == 'e' || c == 'E' {
		sc.i++
		if c := sc.peek(); c == '+' || c == '-' {
			sc.i++
		}
		if digits() == 0 {
			return 0, sc.fail()
		}
	}
	x, err := strconv.ParseFloat(sc.s[start:sc.i], 64)
	if err != nil {
		// Out of range: JSON.parse gives ±Infinity, a value no field takes.
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return x, nil
		}
		return 0, sc.fail()
	}
	return x, nil
}

// str reads a string, decoding its escapes. A lone surrogate becomes
// U+FFFD, as it does when JavaScript hands such a string to Go.
func (sc *scanner) str() (string, error) {
	sc.i++ // the opening quote
	start := sc.i
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		if c == '"' {
			s := sc.s[start:sc.i]
			sc.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", sc.fail()
		}
		sc.i++
	}
	b := []byte(sc.s[start:sc.i])
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			sc.i++
			return string(b), nil
		case c < 0x20:
			return "", sc.fail()
		case c != '\\':
			b = append(b, c)
			sc.i++
			continue
		}
		sc.i++
		if sc.i >= len(sc.s) {
			return "", sc.fail()
		}
		e := sc.s[sc.i]
		sc.i++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := sc.hex4()
			if !ok {
				return "", sc.fail()
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if sc.i+1 < len(sc.s) && sc.s[sc.i] == '\\' && sc.s[sc.i+1] == 'u' {
					save := sc.i
					sc.i += 2
					var ok2 bool
					if r2, ok2 = sc.hex4(); !ok2 {
						return "", sc.fail()
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						sc.i = save // not a pair: the second is read on its own
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", sc.fail()
		}
	}
	return "", sc.fail()
}

func (sc *scanner) hex4() (rune, bool) {
	if len(sc.s)-sc.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(sc.s[sc.i : sc.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	sc.i += 4
	return r, true
}
