//go:build js && wasm

package tablebridge

import (
	"sort"
	"strconv"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tabsync/tabsync/tables"
)

// outboxAsStored is n writes of one tab in the order IndexedDB's getAll
// returns them: by opId, as text ("t.10" before "t.2"), not as written.
func outboxAsStored(n int) []tables.Op {
	ops := make([]tables.Op, n)
	for i := range ops {
		seq := uint64(i + 1)
		ops[i] = tables.Op{OpID: "t." + strconv.FormatUint(seq, 10), Table: "big", Key: "k" + strconv.Itoa(i),
			Value: `{"i":1}`, Tab: "t", Seq: seq, At: 1_700_000_000_000 + int64(i/20)}
	}
	sort.Slice(ops, func(a, b int) bool { return ops[a].OpID < ops[b].OpID })
	return ops
}

func TestSortOpsPutsTheOutboxInTheOrderWritten(t *testing.T) {
	ops := outboxAsStored(2000)
	sortOps(ops)
	for i, op := range ops {
		if !assert.Equal(t, uint64(i+1), op.Seq) {
			break
		}
	}
}

// BenchmarkSortOps sorts an outbox of 10,000 writes as IndexedDB returns
// it: the leader does at start-up and every 5 s while writes are pending.
func BenchmarkSortOps(b *testing.B) {
	stored := outboxAsStored(10000)
	ops := make([]tables.Op, len(stored))
	for b.Loop() {
		copy(ops, stored)
		sortOps(ops)
	}
}

// storedRows is n rows as IndexedDB's getAll returns them (records of the
// rows store).
func storedRows(n int) js.Value {
	a := jsArray.New(n)
	for i := 0; i < n; i++ {
		a.SetIndex(i, rowToJS(tables.Row{Table: "big", Key: "k" + strconv.Itoa(i), Value: `{"i":` + strconv.Itoa(i) + `,"name":"player` + strconv.Itoa(i) + `","score":7}`,
			Version: uint64(i + 1), OpID: "t." + strconv.Itoa(i+1), Client: "c-1", Timestamp: 1_700_000_000_000}))
	}
	return a
}

// BenchmarkLoadRows reads 10,000 stored rows into Go, as start-up does:
// their JSON text copied once and read in Go.
func BenchmarkLoadRows(b *testing.B) {
	rows := storedRows(10000)
	for b.Loop() {
		out, err := loadRows(rows)
		if err != nil || len(out) != 10000 {
			b.Fatal(err, len(out))
		}
	}
}

// BenchmarkLoadRowsJS is how start-up read them before, for comparison: a
// js.Value per field.
func BenchmarkLoadRowsJS(b *testing.B) {
	rows := storedRows(10000)
	for b.Loop() {
		n := rows.Length()
		out := make([]tables.Row, n)
		for i := 0; i < n; i++ {
			out[i] = rowFromJS(rows.Index(i), "")
		}
	}
}

func TestLoadRowsReadsWhatRowToJSStores(t *testing.T) {
	rows := storedRows(3)
	got, err := loadRows(rows)
	assert.NoError(t, err)
	for i, r := range got {
		assert.Equal(t, rowFromJS(rows.Index(i), ""), r)
	}
	assert.Len(t, got, 3)
}

// storedOps is the outbox of n writes as getAll returns it.
func storedOps(n int) js.Value {
	ops := outboxAsStored(n)
	a := jsArray.New(n)
	for i, op := range ops {
		a.SetIndex(i, opToJS(op))
	}
	return a
}

func TestLoadOpsReadsWhatOpToJSStoresInTheOrderWritten(t *testing.T) {
	all := storedOps(30)
	got, err := loadOps(all)
	assert.NoError(t, err)
	var want []tables.Op
	for i := 0; i < all.Length(); i++ {
		op, ok := opFromJS(all.Index(i))
		assert.True(t, ok)
		want = append(want, op)
	}
	sortOps(want)
	assert.Equal(t, want, got)
}

// BenchmarkLoadOps reads an outbox of 10,000 writes, as start-up and the
// leader's rereading every 5 s do (BenchmarkLoadOpsJS: before).
func BenchmarkLoadOps(b *testing.B) {
	all := storedOps(10000)
	for b.Loop() {
		if out, err := loadOps(all); err != nil || len(out) != 10000 {
			b.Fatal(err, len(out))
		}
	}
}

func BenchmarkLoadOpsJS(b *testing.B) {
	all := storedOps(10000)
	for b.Loop() {
		var ops []tables.Op
		for i := 0; i < all.Length(); i++ {
			if op, ok := opFromJS(all.Index(i)); ok {
				ops = append(ops, op)
			}
		}
		sortOps(ops)
	}
}
