//go:build !(js && wasm)

package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/e2e"
)

// These tests cover what the program computes and writes from the figures;
// the browser part runs with `make bench` (or `go run ./bench -quick`).

func TestQuantileIsNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, 5.0, quantile(s, 0.5))
	assert.Equal(t, 10.0, quantile(s, 0.95))
	assert.Equal(t, 1.0, quantile(s, 0))
	assert.Equal(t, 10.0, quantile(s, 1))
}

func TestDistRowSummarisesUnsortedSamples(t *testing.T) {
	r := distRow("2 tabs", implTabsync, []float64{3, 1, 2})
	require.NotNil(t, r.Median)
	assert.Equal(t, 2.0, *r.Median)
	assert.Equal(t, 3.0, *r.Max)
	assert.Equal(t, 3, r.N)
	assert.Equal(t, []float64{3, 1, 2}, r.Samples, "the raw samples keep their order")

	assert.Equal(t, "no samples", distRow("x", implBC, nil).Missing)
}

func TestRatiosAreToTheReferenceOfTheSameCase(t *testing.T) {
	f := Figure{Rows: []Row{
		valueRow("2 tabs", implBC, 2),
		valueRow("2 tabs", implTabsync, 3),
		valueRow("8 tabs", implBC, 4),
		valueRow("8 tabs", implTabsync, 2),
		{Case: "8 tabs", Impl: implZST, Missing: "failed"},
	}}
	f.addRatios(implBC)
	require.NotNil(t, f.Rows[1].Ratio)
	assert.Equal(t, 1.5, *f.Rows[1].Ratio)
	assert.Equal(t, 0.5, *f.Rows[3].Ratio)
	assert.Nil(t, f.Rows[4].Ratio, "a row without a number has no ratio")
}

func TestTargetsAreCheckedAgainstTheSameRun(t *testing.T) {
	lat := distRow("2 tabs", implTabsync, []float64{1, 1, 1})
	res := &Results{Figures: []Figure{
		{ID: 1, Rows: []Row{distRow("2 tabs", implBC, []float64{1, 1, 1}), lat, distRow("2 tabs", implZST, []float64{2, 2, 2})}},
		{ID: 4, Rows: []Row{{Case: "2 tabs", Impl: implTabsync, Value: ptr(1), N: 50}}},
		{ID: 5, Rows: []Row{{Case: "handover, crashed", Impl: electors[0].name, Missing: "not yet available"}}},
	}}
	verdicts := map[string]string{}
	for _, tg := range targets(res) {
		verdicts[tg.name] = tg.verdict
	}
	assert.Equal(t, "met", verdicts["latency median ≤ 1.5× BroadcastChannel, 2 tabs"])
	assert.Equal(t, "met", verdicts["latency median below zustand-sync-tabs, 2 tabs"])
	assert.Equal(t, "missed", verdicts["zero divergent rounds"])
	assert.Equal(t, "n/a", verdicts["crashed leader replaced within 150 ms (median)"], "a figure not available is neither met nor missed")
}

func TestUpdateDocKeepsWhatIsWrittenByHand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	require.NoError(t, updateDoc(path, "first table\n"))
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	hand := strings.Replace(string(doc), endMark, endMark+"\n\n## Notes\n\nwritten by hand", 1)
	hand = strings.Replace(hand, "# Benchmarks\n", "# Benchmarks\n\nintro by hand\n", 1)
	require.NoError(t, os.WriteFile(path, []byte(hand), 0o644))

	require.NoError(t, updateDoc(path, "second table\n"))
	doc, err = os.ReadFile(path)
	require.NoError(t, err)
	s := string(doc)
	assert.Contains(t, s, "intro by hand")
	assert.Contains(t, s, "written by hand")
	assert.Contains(t, s, "second table")
	assert.NotContains(t, s, "first table")
	assert.Equal(t, 1, strings.Count(s, beginMark))
}

func TestChartsAreWellFormedSVG(t *testing.T) {
	r := distRow("2 tabs", implTabsync, []float64{0.5, 0.7, 3})
	r.Ratio = ptr(1.4)
	res := &Results{Date: "2026-01-01 00:00 UTC", Figures: []Figure{
		{ID: 1, Rows: []Row{distRow("2 tabs", implBC, []float64{0.4, 0.5}), r, {Case: "8 tabs", Impl: implZST, Missing: "failed: <x>"}}},
		{ID: 2, Rows: []Row{valueRow("4 tabs", implBC, 50000)}},
	}}
	out := charts(res)
	require.Contains(t, out, "latency.svg")
	require.Contains(t, out, "throughput.svg")
	for name, svg := range out {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				assert.Equal(t, "EOF", err.Error(), "%s is not well-formed XML", name)
				break
			}
		}
	}
	assert.Contains(t, out["latency.svg"], "(1.40×)")
}

func TestSummarizeWasmReadsChromiumsCodeCacheEvents(t *testing.T) {
	// The names and arguments as Chromium 156 reports them.
	events := []e2e.TraceEvent{
		{Name: "wasm.CompileLazy", Dur: 1500},
		{Name: "wasm.CompileLazy", Dur: 500},
		{Name: "wasm.CompileBaseline", Dur: 400}, // inside a CompileLazy
		{Name: "v8.wasm.cachedModule", Args: map[string]any{"producedCacheSize": 11386.0}},
		{Name: "v8.wasm.moduleCacheHit", Args: map[string]any{"consumedCacheSize": 11418.0, "url": "http://x/tabsync-nopersist.wasm"}},
		{Name: "wasm.Deserialize", Dur: 3100},
	}
	w := summarizeWasm(events)
	assert.Equal(t, 2, w.lazy)
	assert.InDelta(t, 2.0, w.lazyMs, 1e-9)
	assert.Equal(t, 11386.0, w.written)
	assert.Equal(t, 11418.0, w.consumed)
	assert.Equal(t, 1, w.hits)
	assert.InDelta(t, 3.1, w.deserializeMs, 1e-9)
	assert.Equal(t, wasmTrace{}, summarizeWasm(nil), "no events, nothing cached")
}

func TestSummarizeTasksSortsRunTasksByThread(t *testing.T) {
	// The thread names and the RunTask events as Chromium 156 reports
	// them: a page's main thread, a worker's, and the browser's own.
	name := func(pid, tid int, n string) e2e.TraceEvent {
		return e2e.TraceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: tid, Args: map[string]any{"name": n}}
	}
	task := func(pid, tid int, dur, tdur float64) e2e.TraceEvent {
		return e2e.TraceEvent{Name: "RunTask", Ph: "X", Pid: pid, Tid: tid, Dur: dur, TDur: tdur}
	}
	events := []e2e.TraceEvent{
		name(1, 10, "CrRendererMain"), name(1, 11, "DedicatedWorker thread"), name(2, 20, "CrBrowserMain"),
		task(1, 10, 120000, 9000), // long by the clock: the thread waited
		task(1, 10, 17000, 16500),
		task(1, 11, 30000, 25000),
		task(2, 20, 90000, 90000), // not a page's
		{Name: "FunctionCall", Ph: "X", Pid: 1, Tid: 10, Dur: 200000, TDur: 200000}, // not a task
	}
	tt := summarizeTasks(events)
	assert.Equal(t, threadTasks{n: 2, longest: 120, longestCPU: 16.5, over16CPU: 1}, tt.main)
	assert.Equal(t, threadTasks{n: 1, longest: 30, longestCPU: 25, over16CPU: 1}, tt.worker)
	assert.Equal(t, taskTrace{}, summarizeTasks(nil))
}
