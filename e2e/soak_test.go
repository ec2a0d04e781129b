//go:build e2e && !(js && wasm)

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Soak parameters. SOAK_DURATION sets how long the tabs write and fail
// (make soak: 60s); make test runs the short default.
const (
	soakTabs        = 8
	soakLongLived   = 2                // tabs 0 and 1 are never crashed or reloaded: their memory is measured
	soakDefault     = 12 * time.Second // as SOAK_DURATION_TEST in the Makefile
	soakWriteMinMs  = 40
	soakWriteMaxMs  = 200
	soakCrashEvery  = 4 * time.Second
	soakFreezeEvery = 3 * time.Second
	soakReloadEvery = 2 * time.Second
	// Memory bounds per long-lived tab over the run, after a full
	// collection: generous, to tell a leak (growth with every message)
	// from the noise of a garbage-collected heap.
	soakMaxHeapGrowth = 8 << 20  // JavaScript heap
	soakMaxWasmGrowth = 32 << 20 // wasm linear memory (it never shrinks)
)

func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		return soakDefault
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "SOAK_DURATION=%q: want a duration such as 60s or 10m", v)
	return d
}

// soakMemory is one tab's memory after a full collection.
type soakMemory struct{ heap, wasm float64 }

func (p *testPage) memory(t *testing.T) soakMemory {
	t.Helper()
	Call(t, p.Tab, heapprofiler.CollectGarbage, cdp.Empty{})
	u := Call(t, p.Tab, runtime.GetHeapUsage, cdp.Empty{})
	var wasm float64
	p.Eval(t, `wasmBytes()`, &wasm)
	return soakMemory{heap: u.UsedSize, wasm: wasm}
}

// TestSoak opens 8 tabs with leader election and persistence on, which
// write random keys for SOAK_DURATION while tabs are reloaded at random
// and one is crashed and one frozen (then resumed) every few seconds. At
// the end every live tab holds the same state, which is the one the clocks
// of all writes seen on the channel say must have won (no write that went
// out is lost), there is one leader, the database holds that state too,
// and the memory of the tabs that lived through it all has not grown
// beyond soakMaxHeapGrowth and soakMaxWasmGrowth.
func TestSoak(t *testing.T) {
	duration := soakDuration(t)
	s := newSuite(t)
	ch, db := channelFor(t), dbFor(t)
	config := fmt.Sprintf(`throttleMs: 50, enableLeaderElection: true, leaderHeartbeatMs: 500, persist: {dbName: %q}`, db)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("soak: %d tabs for %v, seed %d", soakTabs, duration, seed)

	observer := s.open(t, "")
	observer.Eval(t, fmt.Sprintf(`soak.observe(%q), true`, ch), nil)

	var (
		tabs                      = make([]*testPage, soakTabs)
		writes                    int // by tabs that are gone
		crashes, freezes, reloads int
		errors                    []string
	)
	// start opens (or, for a reloaded page, sets up again) tab i and
	// starts its writer.
	start := func(i int) {
		tabs[i].setup(t, ch, config, "{}")
		tabs[i].Eval(t, fmt.Sprintf(`soak.start(%d, %d), true`, soakWriteMinMs, soakWriteMaxMs), nil)
	}
	open := func(i int) {
		tab := s.b.OpenTab(t, s.base+"/page.html")
		t.Cleanup(func() { tab.Close(t) })
		tab.WaitFor(t, `window.pageReady === true`, LoadTimeout)
		tabs[i] = &testPage{Tab: tab}
		start(i)
	}
	// gone records what a tab about to be crashed or reloaded did.
	gone := func(p *testPage) {
		var r struct {
			Writes int `json:"writes"`
			Calls  calls
		}
		p.Eval(t, `({writes: soak.stop(), calls})`, &r)
		writes += r.Writes
		for _, e := range r.Calls.Errors {
			errors = append(errors, e.Phase+": "+e.Message)
		}
		assert.Empty(t, p.Exceptions())
	}
	for i := range tabs {
		open(i)
	}
	for _, p := range tabs {
		p.WaitFor(t, fmt.Sprintf(`sync.getConnectedTabs() === %d`, soakTabs), wait)
	}
	time.Sleep(time.Second) // warm up: the first writes, the first records stored
	before := make([]soakMemory, soakLongLived)
	for i := range before {
		before[i] = tabs[i].memory(t)
	}

	// The faults take turns, each when its time has come (the one waiting
	// longest first): a crash every soakCrashEvery, a freeze every
	// soakFreezeEvery, a reload every soakReloadEvery or so. The wasm
	// memory of the long-lived tabs is sampled as it goes, to show its
	// trend.
	began := time.Now()
	next := map[string]time.Time{
		"crash":  began.Add(soakCrashEvery),
		"freeze": began.Add(soakFreezeEvery),
		"reload": began.Add(soakReloadEvery),
	}
	var samples []float64
	for time.Since(began) < duration {
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		due := ""
		for what, at := range next {
			if time.Now().After(at) && (due == "" || at.Before(next[due])) {
				due = what
			}
		}
		switch due {
		case "crash":
			next[due] = time.Now().Add(soakCrashEvery)
			i := soakLongLived + rng.IntN(soakTabs-soakLongLived)
			gone(tabs[i])
			tabs[i].Eval(t, `soak.start(1, 5), true`, nil) // crash it mid-burst
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			tabs[i].Crash(t)
			crashes++
			open(i)
			var w float64
			tabs[0].Eval(t, `wasmBytes()`, &w)
			samples = append(samples, w)
		case "freeze":
			next[due] = time.Now().Add(soakFreezeEvery)
			p := tabs[rng.IntN(soakTabs)]
			p.Pause(t)
			time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
			p.Resume(t)
			freezes++
		case "reload":
			next[due] = time.Now().Add(soakReloadEvery/2 + time.Duration(rng.Int64N(int64(soakReloadEvery))))
			i := soakLongLived + rng.IntN(soakTabs-soakLongLived)
			gone(tabs[i])
			tabs[i].Eval(t, `window.beforeReload = true, setTimeout(() => location.reload(), 0), true`, nil)
			tabs[i].WaitFor(t, `window.pageReady === true && window.beforeReload === undefined`, LoadTimeout)
			start(i)
			reloads++
		}
	}
	ran := time.Since(began)
	for _, p := range tabs {
		gone(p)
	}

	// Settle: every tab holds what the observer says won, and nothing more
	// arrives meanwhile.
	var want map[string]any
	deadline := time.Now().Add(60 * time.Second)
	divergent := 0
	for {
		var next map[string]any
		observer.Eval(t, `soak.expected()`, &next)
		divergent = 0
		for _, p := range tabs {
			var got map[string]any
			p.Eval(t, `soak.state()`, &got)
			for _, k := range []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"} {
				if !assert.ObjectsAreEqual(next[k], got[k]) {
					divergent++
				}
			}
		}
		settled := divergent == 0 && want != nil && assert.ObjectsAreEqual(want, next)
		want = next
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}

	var seen struct {
		Updates   int `json:"updates"`
		Responses int `json:"responses"`
		Entries   int `json:"entries"`
	}
	observer.Eval(t, `soak.seen`, &seen)
	// One leader once settled.
	leaders := 0
	assert.Eventually(t, func() bool {
		leaders = 0
		for _, p := range tabs {
			var l bool
			p.Eval(t, `sync.isLeader()`, &l)
			if l {
				leaders++
			}
		}
		return leaders == 1
	}, wait, 100*time.Millisecond, "one leader once settled")
	var stored map[string]any
	require.Eventually(t, func() bool {
		stored = readDB(t, observer, db).values()
		return assert.ObjectsAreEqual(want, stored)
	}, wait, 200*time.Millisecond, "the database holds the converged state")

	after := make([]soakMemory, soakLongLived)
	for i := range after {
		after[i] = tabs[i].memory(t)
	}
	mb := func(b float64) string { return fmt.Sprintf("%.2f MB", b/(1<<20)) }
	report := fmt.Sprintf("soak report: %v with %d tabs (%d crashes, %d freezes, %d reloads)\n", ran.Round(time.Millisecond), soakTabs, crashes, freezes, reloads)
	report += fmt.Sprintf("  changes made: %d (not counting the bursts cut short by the crashes); on the wire: %d updates, %d state responses, %d key versions\n", writes, seen.Updates, seen.Responses, seen.Entries)
	report += fmt.Sprintf("  divergence at the end: %d keys (of %d tabs × 8 keys)\n", divergent, soakTabs)
	for i := range after {
		report += fmt.Sprintf("  tab %d memory: JS heap %s -> %s (%+.2f MB), wasm %s -> %s (%+.2f MB)\n", i,
			mb(before[i].heap), mb(after[i].heap), (after[i].heap-before[i].heap)/(1<<20),
			mb(before[i].wasm), mb(after[i].wasm), (after[i].wasm-before[i].wasm)/(1<<20))
	}
	report += "  tab 0 wasm memory at each crash (MB):"
	for _, w := range samples {
		report += fmt.Sprintf(" %.1f", w/(1<<20))
	}
	report += "\n"
	report += fmt.Sprintf("  leaders at the end: %d\n", leaders)
	report += fmt.Sprintf("  onError reports: %d", len(errors))
	t.Log(report)
	for _, e := range errors {
		t.Logf("  onError: %s", e)
	}

	assert.Zero(t, divergent, "every live tab holds what the clocks say won")
	assert.Len(t, want, 8, "every key was written")
	assert.Positive(t, crashes)
	assert.Positive(t, freezes)
	for i := range after {
		assert.Less(t, after[i].heap-before[i].heap, float64(soakMaxHeapGrowth), "tab %d's JS heap grew", i)
		assert.Less(t, after[i].wasm-before[i].wasm, float64(soakMaxWasmGrowth), "tab %d's wasm memory grew", i)
	}
	for _, e := range errors {
		// A persistence write may fail when a tab is killed in the middle
		// of it; anything else is a bug.
		if strings.HasPrefix(e, "persist:") {
			continue
		}
		t.Errorf("unexpected onError report: %s", e)
	}
}
