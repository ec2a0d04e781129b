//go:build js && wasm

package jsbridge

import (
	_ "embed"
	"strconv"
	"syscall/js"
	"testing"
	"time"
)

//go:embed testdata/latency.js
var latencyJS string

// BenchmarkLatencyOneKey times the cross-tab path of a one-key change
// stage by stage (testdata/latency.js): a setState in one store until
// another store on the same channel has the value, with tabsync's two
// instances (tabsync) and with the hand-written sync over a plain
// BroadcastChannel that make bench compares against (plain), in one page.
// Both stores share the page's one thread, so each stage is a real
// browser's time for that stage, and total is the sum of the sending and
// the receiving tab's work plus the browser's delivery. Each metric is in
// milliseconds, the mean of the stage's fastest 90% (the test page's clock
// ticks in 100 µs steps); ns/op is the mean of a whole round, with the
// idle task between rounds. Run it with
// tools/wasmtest.sh -run '^$' -bench LatencyOneKey -benchtime 1000x ./jsbridge/.
func BenchmarkLatencyOneKey(b *testing.B) {
	if js.Global().Get("__tabsyncLatency").IsUndefined() {
		js.Global().Get("Function").New(latencyJS).Invoke()
	}
	for _, kind := range []string{"plain", "tabsync"} {
		b.Run(kind, func(b *testing.B) {
			seq++
			channel := "bench-latency-" + strconv.Itoa(seq)
			a := jsTest.Call("createStore", jsEval("{count: 0}"))
			r := jsTest.Call("createStore", jsEval("{count: 0}"))
			if kind == "tabsync" {
				for i, store := range []js.Value{a, r} {
					tab := "tab-" + channel + "-" + strconv.Itoa(i)
					s, err := New(store, jsEval("{throttleMs: 0, channelName: '"+channel+"'}"), tab)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(s.Destroy)
					s.Start()
				}
				// Until each counts the other: the first messages are
				// the greeting, not the path measured.
				pause(200 * time.Millisecond)
			}
			rt := js.Global().Get("__tabsyncLatency").Call("make", kind, a, r, channel)
			defer rt.Call("close")
			settled(b, rt.Call("run", 20)) // warm up
			b.ResetTimer()
			res := settled(b, rt.Call("run", b.N))
			b.StopTimer()
			keys := jsStrings(js.Global().Get("Object").Call("keys", res))
			for _, k := range keys {
				b.ReportMetric(res.Get(k).Float(), k+"-ms")
			}
		})
	}
}

// settled parks the benchmark's goroutine until promise settles, letting
// the event loop run, and returns what it resolved with.
func settled(b *testing.B, promise js.Value) js.Value {
	b.Helper()
	type result struct {
		v   js.Value
		err bool
	}
	done := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { done <- result{v: args[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any { done <- result{v: args[0], err: true}; return nil })
	defer ok.Release()
	defer fail.Release()
	promise.Call("then", ok, fail)
	r := <-done
	if r.err {
		b.Fatal("the promise was rejected: " + thrownValue{r.v}.Error())
	}
	return r.v
}
