//go:build js && wasm

package jsbridge

import (
	"strconv"
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

// BenchmarkReceiveOneKey is a receiving tab's whole path for a one-key
// STATE_UPDATE from another tab: decode, resolve, the store's setState
// through the watcher, the timer re-armed. Its allocs/op are the Go
// allocations per message received (issue 13 asks for near zero). Run it
// with tools/wasmtest.sh -run '^$' -bench 'ReceiveOneKey|LocalChangeOneKey'
// ./jsbridge/.
func BenchmarkReceiveOneKey(b *testing.B) {
	in := benchInstance(b, "bench-receive")
	const sender = "tab-sender-0001"
	msg := protocol.Message{Type: protocol.StateUpdate, Tab: sender, Entries: []protocol.Entry{{Key: "count"}}}
	step := func(i int) {
		msg.Seq = uint64(i)
		msg.Entries[0].Value = js.ValueOf(i)
		msg.Entries[0].Version = conflict.Version{Clock: conflict.Clock{Wall: 1_700_000_000_000, Logical: uint32(i), Tab: sender}, Depth: uint64(i)}
		in.s.handle(in.s.e.Receive(now(), protocol.Encode(in.s.m, msg)))
	}
	i := 1
	for ; i <= 20000; i++ { // warm up, as BenchmarkEncodeDecode does
		step(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		step(i)
		i++
	}
	if got := in.state().Get("count").Int(); got != i-1 {
		b.Fatalf("the store holds count=%d, want %d", got, i-1)
	}
}

// BenchmarkLocalChangeOneKey is a sending tab's whole path for a one-key
// setState: the watcher's listener (JavaScript), the task's end (flush),
// the engine's LocalChange, the encoding and the postMessage.
func BenchmarkLocalChangeOneKey(b *testing.B) {
	in := benchInstance(b, "bench-local")
	set := in.store.Get("setState")
	step := func(i int) {
		set.Invoke(map[string]any{"count": i})
		in.s.flushLocal() // what the microtask at the task's end does
	}
	i := 1
	for ; i <= 20000; i++ {
		step(i)
	}
	sent := in.stats().Get("sent").Int()
	b.ReportAllocs()
	for b.Loop() {
		step(i)
		i++
	}
	if got := in.stats().Get("sent").Int() - sent; got < b.N {
		b.Fatalf("%d messages sent for %d changes", got, b.N)
	}
}

// benchInstance starts an instance over a store holding {count: 0},
// destroyed when the benchmark ends, on a channel of its own.
func benchInstance(b *testing.B, channel string) *instance {
	// Each run of the benchmark function on its own channel: what an
	// earlier run posted must not reach this one after it ends.
	seq++
	channel += "-" + strconv.Itoa(seq)
	store := jsTest.Call("createStore", jsEval("{count: 0}"))
	s, err := New(store, jsEval("{throttleMs: 0, channelName: '"+channel+"'}"), "tab-"+channel)
	if err != nil {
		b.Fatal(err)
	}
	in := &instance{s: s, h: s.Handle(), store: store, tab: "tab-" + channel}
	b.Cleanup(s.Destroy)
	in.start()
	return in
}
