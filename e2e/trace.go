//go:build !(js && wasm)

package e2e

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// TraceEvent is one event of a browser trace (the Trace Event Format that
// chrome://tracing and DevTools' Performance panel read). Ts, Dur and TDur
// are in microseconds; TDur is the time the thread ran (Dur less the time
// the operating system had it wait), where Chromium records it; Tid tells
// a page's main thread from V8's background threads.
type TraceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	TDur float64        `json:"tdur"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args"`
}

// Trace records the browser's trace events of the given categories (for
// example "disabled-by-default-devtools.timeline", where Chromium reports
// its wasm code cache) while f runs, and returns them. Tracing is
// browser-wide: the events of every tab, including tabs f opens, are
// recorded; tab only carries the DevTools session.
func (tab *Tab) Trace(t testing.TB, categories []string, f func()) []TraceEvent {
	t.Helper()
	var (
		mu     sync.Mutex
		events []TraceEvent
		bad    error
	)
	done := make(chan struct{})
	lctx, stop := context.WithCancel(tab.ctx)
	defer stop()
	// Listen's callback must return fast and never panic: the events are
	// decoded here, as they are small, and the first error kept.
	err := chromedp.Listen(lctx, func(ev any) {
		switch ev := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			defer mu.Unlock()
			for _, v := range ev.Value {
				b, err := json.Marshal(v)
				var e TraceEvent
				if err == nil {
					err = json.Unmarshal(b, &e)
				}
				if err != nil {
					bad = err
					continue
				}
				events = append(events, e)
			}
		case *tracing.EventTracingComplete:
			close(done)
		}
	})
	if err != nil {
		t.Fatalf("tracing %s: %v", tab.url, err)
	}
	Call(t, tab, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig:  &tracing.TraceConfig{IncludedCategories: categories},
	})
	func() {
		// However f ends, tracing stops, or the browser keeps recording.
		defer Call(t, tab, tracing.End, cdp.Empty{})
		f()
	}()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("tracing %s: the trace did not complete within %v", tab.url, CallTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	if bad != nil {
		t.Fatalf("tracing %s: decoding an event: %v", tab.url, bad)
	}
	return events
}
