package sync_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// BenchmarkDeliverOneKey is the engine's share of a receiving tab's path
// for a one-key STATE_UPDATE (jsbridge's BenchmarkReceiveOneKey is the
// whole path in a browser): Deliver of an update of an existing key, each
// one write later than the last, with the Go model. allocs/op are the
// engine's allocations per message received.
func BenchmarkDeliverOneKey(b *testing.B) {
	e := benchEngine(b, "receiver")
	msg := protocol.Message{Type: protocol.StateUpdate, Tab: "sender", Entries: []protocol.Entry{{Key: "count"}}}
	deliver := func(i int) {
		msg.Seq = uint64(i)
		msg.Entries[0].Value = float64(i % 256) // boxed without an allocation
		msg.Entries[0].Version = conflict.Version{Clock: conflict.Clock{Wall: t0 + int64(i), Tab: "sender"}, Depth: 1}
		if rd := e.Deliver(t0+int64(i), msg); rd.Patch == nil {
			b.Fatalf("message %d was not applied", i)
		}
	}
	warmThenTime(b, deliver)
}

// BenchmarkLocalChangeOneKey is the engine's share of a sending tab's path
// for a one-key change (jsbridge's BenchmarkLocalChangeOneKey is the whole
// path): LocalChange of an existing key with throttleMs 0, which sends it.
func BenchmarkLocalChangeOneKey(b *testing.B) {
	e := benchEngine(b, "sender")
	prev, next := map[string]any{"count": 0.0}, map[string]any{"count": 0.0}
	keys := []string{"count"}
	change := func(i int) {
		next["count"] = float64(i % 256)
		if rd := e.LocalChange(t0+int64(i), prev, next, keys); len(rd.Messages) != 1 {
			b.Fatalf("change %d sent %d messages", i, len(rd.Messages))
		}
	}
	warmThenTime(b, change)
}

// warmThenTime calls step with 1 to 1000 untimed, so that the engine's
// maps and buffers have grown, then times b.N more steps, with their
// allocations.
func warmThenTime(b *testing.B, step func(i int)) {
	for i := 1; i <= 1000; i++ {
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		step(1001 + i)
	}
}

// benchEngine is a started engine with no throttle.
func benchEngine(b *testing.B, id string) *tsync.Engine {
	e, err := tsync.New(tsync.Config{Tab: id, Model: gm})
	require.NoError(b, err)
	e.Start(t0, map[string]any{"count": 0.0})
	return e
}
