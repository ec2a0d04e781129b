//go:build js && wasm

package jsbridge

import (
	_ "embed"
	"strconv"
	"syscall/js"
	"testing"
)

//go:embed testdata/crossings.js
var crossingsJS string

// jsCrossings is globalThis.__tabsyncCrossings (testdata/crossings.js),
// installed by crossings.
var jsCrossings js.Value

// crossings returns the counter of testdata/crossings.js, which has found
// the Go instance of wasm_exec.js.
func crossings(b *testing.B) js.Value {
	if jsCrossings.IsUndefined() {
		js.Global().Get("Function").New(crossingsJS).Invoke()
		jsCrossings = js.Global().Get("__tabsyncCrossings")
		found := js.FuncOf(func(js.Value, []js.Value) any { return nil })
		defer found.Release()
		if !jsCrossings.Call("find", found).Bool() {
			b.Fatal("crossings.js did not find the Go instance of wasm_exec.js")
		}
	}
	return jsCrossings
}

// countPerMessage runs drive(n) (a JavaScript function that handles n
// messages) with the counters of testdata/crossings.js on, and reports
// them per message.
//
// Call it after the timed loop: b.ResetTimer drops reported metrics.
func countPerMessage(b *testing.B, drive js.Value, n int) {
	c := crossings(b)
	r := c.Call("count", jsFunc("drive, n", "return () => drive(n)").Invoke(drive, n))
	per := func(i int) float64 { return float64(r.Index(i).Int()) / float64(n) }
	for i, unit := range []string{"js->go/msg", "go->js-calls/msg", "go->js-props/msg", "js.Values/msg", "value-reads/msg", "exports/msg"} {
		b.ReportMetric(per(i), unit)
	}
}

// BenchmarkReceiveOneKey is a receiving tab's whole path for a one-key
// STATE_UPDATE from another tab, from the channel's listener on: decode,
// resolve, the store's setState through the watcher, the timer re-armed.
// The messages are built in JavaScript, as the sending tab's channel
// delivers them, and handed to the instance's listener in a JavaScript
// loop: allocs/op are the Go allocations per message received (issue 13
// asks for near zero), and the counts of testdata/crossings.js, per
// message, are measured over 1,000 more messages. Run it with
// tools/wasmtest.sh -run '^$' -bench 'ReceiveOneKey|LocalChangeOneKey'
// ./jsbridge/.
func BenchmarkReceiveOneKey(b *testing.B) {
	in := benchInstance(b, "bench-receive")
	const sender = "tab-sender-0001"
	// deliver(n) hands the listener n updates of count, each one write
	// later than the last, as the channel would.
	deliver := jsFunc("listener", `
		let i = 0;
		return (n) => {
			for (const end = i + n; i < end;) {
				i++;
				listener({data: {type: "STATE_UPDATE", tabId: "`+sender+`", v: 1, seq: i,
					payload: {state: {count: i}, meta: {count: "1700000000000." + i + ".`+sender+`||" + i}}}});
			}
			return i;
		};`).Invoke(in.s.receiver)
	deliver.Invoke(20000) // warm up: the first thousands of calls in a fresh page run several times slower
	b.ReportAllocs()
	b.ResetTimer()
	deliver.Invoke(b.N)
	b.StopTimer()
	countPerMessage(b, deliver, 1000)
	last := deliver.Invoke(0).Int()
	if got := in.state().Get("count").Int(); got != last {
		b.Fatalf("the store holds count=%d, want %d", got, last)
	}
}

// BenchmarkLocalChangeOneKey is a sending tab's whole path for a one-key
// setState, in a JavaScript loop: the watcher's listener (JavaScript), the
// task's end (flush, what the microtask does), the engine's LocalChange,
// the message built and posted.
func BenchmarkLocalChangeOneKey(b *testing.B) {
	in := benchInstance(b, "bench-local")
	change := jsFunc("store, flush", `
		let i = 0;
		return (n) => {
			for (const end = i + n; i < end;) {
				i++;
				store.setState({count: i});
				flush();
			}
			return i;
		};`).Invoke(in.store, in.s.watcher.Get("flush"))
	change.Invoke(20000)
	sent := in.stats().Get("sent").Int()
	b.ReportAllocs()
	b.ResetTimer()
	change.Invoke(b.N)
	b.StopTimer()
	countPerMessage(b, change, 1000)
	if got := in.stats().Get("sent").Int() - sent; got < b.N+1000 {
		b.Fatalf("%d messages sent for %d changes", got, b.N+1000)
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
