//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"testing"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
)

// BenchmarkEncodeDecode is the model's share of a one-key STATE_UPDATE: the
// sender builds the wire object, the receiver reads it back. Run it with
// tools/wasmtest.sh -run '^$' -bench EncodeDecode ./jsbridge/ to compare
// changes to the hot path (make bench measures the whole path in tabs).
func BenchmarkEncodeDecode(b *testing.B) {
	m, err := loadHelpers()
	if err != nil {
		b.Fatal(err)
	}
	const sender, receiver = "tab-sender-0001", "tab-receiver-0001"
	m.intern(sender) // as New does
	b.Run("interned", func(b *testing.B) { benchEncodeDecode(b, m, sender, receiver) })
	plain := *m
	plain.interned = nil
	b.Run("not-interned", func(b *testing.B) { benchEncodeDecode(b, &plain, sender, receiver) })
}

func benchEncodeDecode(b *testing.B, m *model, sender, receiver string) {
	msg := protocol.Message{Type: protocol.StateUpdate, Tab: sender, Seq: 1, Entries: []protocol.Entry{{
		Key: "count",
		Entry: conflict.Entry{
			Value:   js.ValueOf(42),
			Version: conflict.Version{Clock: conflict.Clock{Wall: 1_700_000_000_000, Logical: 3, Tab: sender}, Depth: 1},
		},
	}}}
	rc := protocol.Receiver{Tab: receiver}
	// Warm up first: the first thousands of calls in a fresh page run
	// several times slower (compilation, the first collections).
	for range 20000 {
		msg.Seq++
		protocol.Decode(m, protocol.Encode(m, msg), rc)
	}
	b.ReportAllocs()
	for b.Loop() {
		msg.Seq++
		wire := protocol.Encode(m, msg)
		if _, derr := protocol.Decode(m, wire, rc); derr != nil {
			b.Fatal(derr)
		}
	}
}
