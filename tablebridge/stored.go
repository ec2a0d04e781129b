package tablebridge

import (
	"strings"

	"github.com/tabsync/tabsync/tables"
)

// Start-up, and the leader's rereading of the outbox, read IndexedDB's
// records from the JSON text of getAll's result, copied once: a js.Value per
// field cost about twenty calls into JavaScript per record
// (BenchmarkLoadRows against BenchmarkLoadRowsJS, measured in Chromium).

// record is one stored record's fields, of the rows store ({t, k, v, d,
// ver, op, c, ts}) or the outbox ({opId, t, k, d, v, tab, seq, at}); see
// db_js.go.
type record struct {
	t, k, v, op, opID, c, tab string
	hasT, hasK, hasV, hasOpID bool // present as strings
	d                         bool
	ver, ts, seq, at          float64
}

// readRecords reads a JSON array of records, calling each with every one. A
// field of another type reads as its zero value (d: true only as true);
// names it does not know are skipped.
func readRecords(text string, each func(r *record)) error {
	sc := scanner{s: text}
	sc.ws()
	if sc.peek() != '[' {
		return sc.fail()
	}
	sc.i++
	sc.ws()
	if sc.peek() == ']' {
		sc.i++
		return sc.end()
	}
	for {
		var r record
		if err := sc.object(1, func(name string) error { return sc.field(&r, name) }); err != nil {
			return err
		}
		each(&r)
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return sc.end()
		default:
			return sc.fail()
		}
	}
}

// field reads the value of the field name of a record.
func (sc *scanner) field(r *record, name string) error {
	switch sc.kind() {
	case '"':
		var dst *string
		var has *bool
		switch name {
		case "t":
			dst, has = &r.t, &r.hasT
		case "k":
			dst, has = &r.k, &r.hasK
		case "v":
			dst, has = &r.v, &r.hasV
		case "opId":
			dst, has = &r.opID, &r.hasOpID
		case "op":
			dst = &r.op
		case "c":
			dst = &r.c
		case "tab":
			dst = &r.tab
		}
		if dst == nil {
			break
		}
		s, err := sc.str()
		*dst = strings.Clone(s) // not a slice of the whole text, which it would keep alive
		if has != nil {
			*has = true
		}
		return err
	case '0':
		var dst *float64
		switch name {
		case "ver":
			dst = &r.ver
		case "ts":
			dst = &r.ts
		case "seq":
			dst = &r.seq
		case "at":
			dst = &r.at
		}
		if dst == nil {
			break
		}
		x, err := sc.num()
		*dst = x
		return err
	case 't':
		if name == "d" {
			r.d = true
			return sc.literal("true")
		}
	}
	return sc.skip(2)
}

// readStoredRows reads the rows store's records.
func readStoredRows(text string) ([]tables.Row, error) {
	var out []tables.Row
	err := readRecords(text, func(r *record) {
		out = append(out, tables.Row{Table: r.t, Key: r.k, Value: r.v, Deleted: r.d, Version: uint64(max(r.ver, 0)),
			OpID: r.op, Client: r.c, Timestamp: int64(r.ts)})
	})
	return out, err
}

// readStoredOps reads the outbox's records, dropping one without its opId,
// table, key or value as strings (as opFromJS does).
func readStoredOps(text string) ([]tables.Op, error) {
	var out []tables.Op
	err := readRecords(text, func(r *record) {
		if r.hasOpID && r.hasT && r.hasK && r.hasV {
			out = append(out, tables.Op{OpID: r.opID, Table: r.t, Key: r.k, Delete: r.d, Value: r.v, Tab: r.tab,
				Seq: uint64(max(r.seq, 0)), At: int64(r.at)})
		}
	})
	return out, err
}

// end checks that nothing but whitespace is left.
func (sc *scanner) end() error {
	sc.ws()
	if sc.i < len(sc.s) {
		return sc.fail()
	}
	return nil
}
