//go:build !(js && wasm)

package main

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"

	"github.com/tabsync/tabsync/e2e"
)

// sizes are the bounds of one run: every loop is bounded in count, every
// wait in time.
type sizes struct {
	latencyChanges int   // paced changes per latency measurement
	warmChanges    int   // paced changes before, not counted
	manyTabs       int   // the larger latency case
	burst          int   // changes of the throughput burst
	burstTabs      int   // tabs in the throughput figure
	scaleBytes     []int // other synced state in figure 3
	scaleChanges   int
	rounds         int // convergence rounds
	trials         int // leader and start-up trials
	memChanges     int
	persistBytes   []int
	persistChanges int
}

var fullSizes = sizes{
	latencyChanges: 500, warmChanges: 50, manyTabs: 8,
	burst: 20000, burstTabs: 3,
	scaleBytes: []int{1 << 10, 100 << 10, 1 << 20}, scaleChanges: 300,
	rounds: 50, trials: 10, memChanges: 10000,
	persistBytes: []int{1 << 10, 100 << 10, 1 << 20}, persistChanges: 500,
}

// quickSizes only check that the harness works (make test runs none of it).
var quickSizes = sizes{
	latencyChanges: 40, warmChanges: 5, manyTabs: 3,
	burst: 1000, burstTabs: 3,
	scaleBytes: []int{1 << 10, 100 << 10}, scaleChanges: 20,
	rounds: 5, trials: 2, memChanges: 500,
	persistBytes: []int{1 << 10}, persistChanges: 50,
}

// run is one `make bench`.
type run struct {
	t       *tb
	browser *e2e.Browser
	base    string
	root    string
	sz      sizes
	seq     int
	res     *Results
	log     func(format string, args ...any)

	profileDir string // -cpuprofile: where to write tabsync's CPU profiles
	gogc       string // -gogc: tabsync's module starts with this GOGC
}

// url of the bench page for impl on channel ch, with extra query parameters.
func (r *run) url(impl, ch string, extra ...string) string {
	q := url.Values{"impl": {impl}, "ch": {ch}}
	if r.gogc != "" {
		q.Set("gogc", r.gogc)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return r.base + "/index.html?" + q.Encode()
}

// channel returns a channel name used once in the run, so that no tab of
// an earlier measurement can hear a later one.
func (r *run) channel(prefix string) string {
	r.seq++
	return fmt.Sprintf("%s-%d", prefix, r.seq)
}

// figure measures one figure: f adds its rows. A failure of f is kept as
// the figure's error; the run goes on.
func (r *run) figure(id int, title, unit string, f func(fig *Figure)) {
	start := time.Now()
	r.log("figure %d: %s", id, title)
	fig := Figure{ID: id, Title: title, Unit: unit}
	if err := catch(func() { f(&fig) }); err != nil {
		fig.Error = err.Error()
		r.log("  figure %d failed: %v", id, err)
	}
	r.log("  figure %d took %v", id, time.Since(start).Round(time.Second))
	r.res.Figures = append(r.res.Figures, fig)
}

// try measures one row; a failure becomes a row with the reason.
func (r *run) try(fig *Figure, cas, impl string, f func() Row) {
	var row Row
	if err := catch(func() { row = f() }); err != nil {
		row = Row{Case: cas, Impl: impl, Missing: "failed: " + firstLine(err.Error())}
		r.log("  %s / %s failed: %v", cas, impl, err)
	} else {
		row.Case, row.Impl = cas, impl
		if v, ok := row.main(); ok {
			r.log("  %-22s %-18s %g", cas, impl, v)
		}
	}
	fig.Rows = append(fig.Rows, row)
}

// latencySet is one implementation's tabs for figures 1 and 3: tab 0 sets
// k to 0, 1, 2... one change at a time, each once every other tab has
// applied the previous one, and a change's latency is the time from its
// setState in tab 0 until the slowest of the other tabs' stores has it.
type latencySet struct {
	r      *run
	impl   string
	pages  []*page
	lat    []float64
	missed int
	clock  struct{ RTT, Offset float64 }
}

// openLatency opens the tabs of impl, fills the store with fill bytes of
// other synced state, and warms up.
func (r *run) openLatency(impl string, tabs, fill int) *latencySet {
	ls := &latencySet{r: r, impl: impl}
	ls.pages = r.openPages(tabs, r.url(implParam[impl], r.channel("lat")))
	sender, receivers := ls.pages[0], ls.pages[1:]
	if fill > 0 {
		info := eval[struct{ Items, JSON int }](sender, fmt.Sprintf("bench.fill(%d)", fill))
		for _, p := range receivers {
			p.WaitFor(r.t, fmt.Sprintf("bench.hasFill(%d)", info.Items), time.Minute)
		}
	}
	id := eval[string](receivers[0], "bench.startAcking()")
	ls.clock = job[struct{ RTT, Offset float64 }](sender, fmt.Sprintf("bench.clockOffset(%q)", id), time.Minute)
	ls.pace(r.sz.warmChanges, false)
	return ls
}

// pace makes n paced changes and, if keep, adds their latencies.
func (ls *latencySet) pace(n int, keep bool) {
	sender, receivers := ls.pages[0], ls.pages[1:]
	for _, p := range receivers {
		eval[string](p, "bench.startAcking()")
	}
	res := job[struct {
		Sent   []float64
		Missed int
	}](sender, fmt.Sprintf("bench.pace(%d, %d)", n, len(receivers)), 3*time.Minute)
	got := make([][]float64, len(receivers))
	for i, p := range receivers {
		got[i] = eval[[]float64](p, "bench.received()")
		p.Eval(ls.r.t, "bench.stopAcking()", nil)
	}
	if !keep {
		return
	}
	ls.missed += res.Missed
	for i, t0 := range res.Sent {
		worst, ok := 0.0, true
		for _, g := range got {
			if i >= len(g) || g[i] == 0 {
				ok = false
				break
			}
			worst = max(worst, g[i]-t0)
		}
		if ok {
			ls.lat = append(ls.lat, worst)
		}
	}
}

func (ls *latencySet) row() Row {
	row := distRow("", ls.impl, ls.lat)
	row.Extra = map[string]float64{
		"unanswered": float64(ls.missed),
		// The other tab's clock minus the sender's, estimated by a
		// ping-pong: near zero when the shared clock is sound.
		"clockOffsetMs": round(ls.clock.Offset),
		"clockRttMs":    round(ls.clock.RTT),
	}
	return row
}

// latencyRounds is how many turns the implementations take in a case
// whose tabs are all open at once.
const latencyRounds = 5

// latencyCase measures one case of figure 1 or 3 for every implementation.
// When their tabs are few, all are open at once and the implementations take
// turns, a fifth of the changes each time, in an order that changes every
// turn: a change in the machine's load then falls on all of them alike.
// With more tabs, one implementation's tabs are open at a time.
func (r *run) latencyCase(fig *Figure, cas string, tabs, changes, fill int) {
	r.latencyOf(fig, syncImpls, cas, tabs, changes, fill)
}

// latencyOf is latencyCase for the implementations impls.
func (r *run) latencyOf(fig *Figure, syncImpls []string, cas string, tabs, changes, fill int) {
	profile := fmt.Sprintf("latency-%dtabs-%s", tabs, sizeName(fill))
	if tabs*len(syncImpls) > 8 {
		for _, impl := range syncImpls {
			r.try(fig, cas, impl, func() Row {
				ls := r.openLatency(impl, tabs, fill)
				defer r.closePages(ls.pages)
				r.profiling(impl, profile, ls.pages[:2], func() { ls.pace(changes, true) })
				return ls.row()
			})
		}
		return
	}
	sets := make([]*latencySet, len(syncImpls))
	failed := make([]error, len(syncImpls))
	defer func() {
		for _, ls := range sets {
			if ls != nil {
				r.closePages(ls.pages)
			}
		}
	}()
	for i, impl := range syncImpls {
		failed[i] = catch(func() { sets[i] = r.openLatency(impl, tabs, fill) })
	}
	per := max(1, changes/latencyRounds)
	for round := range latencyRounds {
		for k := range syncImpls {
			i := (k + round) % len(syncImpls)
			if failed[i] != nil {
				continue
			}
			failed[i] = catch(func() {
				if round == 0 {
					r.profiling(syncImpls[i], profile, sets[i].pages[:2], func() { sets[i].pace(per, true) })
				} else {
					sets[i].pace(per, true)
				}
			})
		}
	}
	for i, impl := range syncImpls {
		r.try(fig, cas, impl, func() Row {
			if failed[i] != nil {
				panic(failure{failed[i].Error()})
			}
			return sets[i].row()
		})
	}
}

// burstResult is what a burst left in the receivers.
type burstResult struct {
	t0, t1  float64 // the sender's start and end
	lastT   float64 // the last apply in the slowest receiver
	applied int     // fewest applies of a receiver
	lost    int     // most keys of a receiver whose final value differs
}

// burst sets n changes in tab 0 with no pause and waits until the others
// hold the final state, or until they have applied nothing for 5 s. The
// receivers watch for it themselves: flooded with messages, a page may not
// answer DevTools for many seconds.
func (r *run) burst(pages []*page, n int) burstResult {
	return r.burstFrom(pages, n, 0, 0)
}

// burstFrom is burst with values from `from` on (a second burst changes
// every key again), spread over tasks of perTask changes when perTask is
// not 0 (bench.tasks).
func (r *run) burstFrom(pages []*page, n, from, perTask int) burstResult {
	sender, receivers := pages[0], pages[1:]
	watch := fmt.Sprintf("bench.awaitBurst(%d, 100, 5000, %d)", n, from)
	for _, p := range receivers {
		startJob(p, watch)
	}
	send := fmt.Sprintf("bench.burst(%d, 100, %d)", n, from)
	if perTask > 0 {
		send = fmt.Sprintf("bench.tasks(%d, %d, 100, %d)", n, perTask, from)
	}
	b := job[struct{ T0, T1 float64 }](sender, send, 5*time.Minute)
	res := burstResult{t0: b.T0, t1: b.T1, applied: math.MaxInt}
	for _, p := range receivers {
		pr := waitJob[struct {
			Applied int
			LastT   float64
			Differ  int
		}](p, watch, 5*time.Minute)
		res.lastT = max(res.lastT, pr.LastT)
		res.applied = min(res.applied, pr.Applied)
		res.lost = max(res.lost, pr.Differ)
	}
	return res
}

// throughput is figure 2.
func (r *run) throughput(impl string) Row {
	pages := r.openPages(r.sz.burstTabs, r.url(implParam[impl], r.channel("burst")))
	defer r.closePages(pages)
	var b burstResult
	r.profiling(impl, "burst", pages[:2], func() { b = r.burst(pages, r.sz.burst) })
	row := valueRow("", impl, float64(r.sz.burst)/(b.lastT-b.t0)*1000)
	row.Extra = map[string]float64{
		"lostKeys":  float64(b.lost),
		"applied":   float64(b.applied),
		"sendMs":    round(b.t1 - b.t0),
		"receiveMs": round(b.lastT - b.t0),
	}
	return row
}

// convergence is figure 4: both tabs write key c<i> at the same instant,
// for each round i (the rounds are 100 ms apart, each on its own key), and
// a round diverges when the tabs disagree on its key a second after.
func (r *run) convergence(impl string) Row {
	pages := r.openPages(2, r.url(implParam[impl], r.channel("conv")))
	defer r.closePages(pages)
	n := r.sz.rounds
	// Far enough ahead that both tabs have their series set up on a busy
	// machine: a tab that starts late writes its first rounds at once.
	t0 := eval[float64](pages[0], "bench.now()") + 2000
	type series struct {
		At   []float64
		Seen []bool
	}
	got := make([]series, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, p := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = catch(func() {
				got[i] = job[series](p, fmt.Sprintf("bench.writeSeries(%f, %d, 100, %q)", t0, n, fmt.Sprint("tab", i)), 2*time.Minute)
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			r.t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	a := eval[map[string]any](pages[0], fmt.Sprintf("bench.snapshot('c', %d)", n))
	b := eval[map[string]any](pages[1], fmt.Sprintf("bench.snapshot('c', %d)", n))
	divergent := 0
	for i := range n {
		k := fmt.Sprint("c", i)
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			divergent++
		}
	}
	var skew []float64
	concurrent := 0
	for i := range min(len(got[0].At), len(got[1].At)) {
		skew = append(skew, math.Abs(got[0].At[i]-got[1].At[i]))
		if !got[0].Seen[i] && !got[1].Seen[i] {
			concurrent++
		}
	}
	slices.Sort(skew)
	row := valueRow("", impl, float64(divergent))
	row.N = n
	row.Extra = map[string]float64{
		"writeSkewMedianMs": round(quantile(skew, 0.5)),
		// Rounds in which neither tab had the other's write when it
		// wrote its own: the conflicts proper.
		"concurrentRounds": float64(concurrent),
	}
	return row
}

// electors are the leader elections compared in figure 5: the page's impl
// parameter of each.
var electors = []struct{ name, impl string }{
	{implTabsync, "tabsync"},
	{implBCL + " (Web Locks)", "bcl-locks"},
	{implBCL + " (messages)", "bcl-msg"},
}

// handoverWait bounds the wait for a new leader: broadcast-channel's
// message elector sometimes never hands over, and each such wait would
// otherwise cost the run its full length.
const handoverWait = 10 * time.Second

// leaderState is a page's bench.leader plus whether it leads now.
type leaderState struct {
	StartedAt, LeaderAt, GrantedAt float64
	Leader                         bool
}

func leaders(pages []*page) []leaderState {
	out := make([]leaderState, len(pages))
	for i, p := range pages {
		out[i] = eval[leaderState](p, "({ ...bench.leader, leader: bench.isLeader() })")
	}
	return out
}

// waitLeader polls the pages until one of them leads and became leader
// after `after` (page clock), and returns its index and the time it did.
func waitLeader(pages []*page, after float64, timeout time.Duration) (int, leaderState, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for i, s := range leaders(pages) {
			if s.Leader && s.LeaderAt > after {
				return i, s, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1, leaderState{}, false
}

// killKinds are the ways a leader goes in figure 5.
var killKinds = []string{"closed", "closed hard", "crashed"}

// electionResult is figure 5 for one elector.
type electionResult struct {
	elect    []float64            // time to the first leader, per trial
	handover map[string][]float64 // by kill kind
	noLeader map[string]int       // handovers that had not happened handoverWait after
	// afterGrant is the part of each handover after the browser granted
	// the new leader the Web Lock, by kill kind.
	afterGrant map[string][]float64
	most       int   // most tabs leading at once, once settled
	failed     int   // trials that broke
	err        error // the last failure
}

// election is figure 5 for one elector: trials of five tabs opened
// together; in each, the time to the first leader, then the handover after
// the leader is closed, closed hard (its JavaScript stopped first, so that
// no handler of it runs) and crashed, one after the other. A trial that
// breaks keeps what it measured; the first one breaking stops the elector
// (it does not work here).
func (r *run) election(impl string) electionResult {
	res := electionResult{handover: map[string][]float64{}, noLeader: map[string]int{}, afterGrant: map[string][]float64{}}
	trials := r.sz.trials
	if impl == "bcl-msg" {
		// Its crashed leader is found by a 3 s poll: half the trials
		// keep the run within its time.
		trials = max(2, trials/2)
	}
	for trial := range trials {
		err := catch(func() { r.electionTrial(impl, &res) })
		if err != nil {
			res.failed++
			res.err = fmt.Errorf("trial %d: %w", trial+1, err)
			r.log("  %s: %v", impl, res.err)
			if trial == 0 {
				break
			}
		}
	}
	return res
}

func (r *run) electionTrial(impl string, res *electionResult) {
	pages := r.openPages(5, r.url(impl, r.channel("elect"), "role", "elect"))
	defer r.closePages(pages)
	if _, _, ok := waitLeader(pages, 0, 10*time.Second); !ok {
		r.t.Fatalf("no tab became leader within 10 s")
	}
	first, start := math.Inf(1), math.Inf(1)
	for _, s := range leaders(pages) {
		if s.LeaderAt > 0 {
			first = min(first, s.LeaderAt)
		}
		start = min(start, s.StartedAt)
	}
	res.elect = append(res.elect, first-start)
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, s := range leaders(pages) {
		if s.Leader {
			n++
		}
	}
	res.most = max(res.most, n)

	alive := slices.Clone(pages)
	for _, kind := range killKinds {
		li, _, ok := waitLeader(alive, 0, 20*time.Second)
		if !ok {
			r.t.Fatalf("no leader among %d tabs before the leader was to be %s", len(alive), kind)
		}
		gone := alive[li]
		alive = slices.Delete(alive, li, li+1)
		if kind == "closed hard" {
			// Before the clock starts: enabling the debugger on a page
			// with a large wasm module takes a while.
			// Debugger.pause stops the page at the next statement it runs:
			// an idle page (broadcast-channel's leader runs no timer)
			// would be closed before it ever stopped, unlike one that
			// runs a timer (tabsync's heartbeats). A timer due just
			// after the pause stops every page alike.
			eval[bool](gone, "setTimeout(() => {}, 50), true")
			gone.Pause(r.t)
			time.Sleep(200 * time.Millisecond)
		}
		offset := pageClock(alive[0])
		killed := goMillis(time.Now()) + offset
		switch kind {
		case "closed", "closed hard":
			gone.Close(r.t)
		case "crashed":
			gone.Crash(r.t)
		}
		if _, st, ok := waitLeader(alive, killed, handoverWait); ok {
			res.handover[kind] = append(res.handover[kind], st.LeaderAt-killed)
			if st.GrantedAt > killed {
				res.afterGrant[kind] = append(res.afterGrant[kind], st.LeaderAt-st.GrantedAt)
			}
		} else {
			res.noLeader[kind]++
			r.log("  %s: no new leader within %v after the leader was %s", impl, handoverWait, kind)
		}
	}
}

// startupPages are the pages of figure 6: the plain page, and the pages
// that load a wasm module through tabsync's loader, with the preload recipe
// of the README (Install) and, for tabsync, without it.
var startupPages = []struct {
	name, impl string
	preload    bool
}{
	{implBC, "bc", false},
	{implFloor, "floor", true},
	{implTabsync, "tabsync", true},
	{implTabsyncNoPreload, "tabsync", false},
}

// codeCacheDelay is how long a cold page of figure 6 stays open after it
// is ready: Chromium writes a module's compiled code to its code cache
// about 2 s after the module was compiled (V8 waits for the functions that
// run at start-up to be compiled), and drops the write when the page has
// closed.
const codeCacheDelay = 3 * time.Second

// settleDelay is the pause before each load of figure 6.
const settleDelay = 500 * time.Millisecond

// startup is figure 6 for one page: navigation start until the page's
// bench.ready, in a fresh tab. cold: helper clears the browser's HTTP cache
// and compiled code first (Network.clearBrowserCache clears both), and a
// page with a module stays open for codeCacheDelay after.
func (r *run) startup(helper *page, impl string, preload, cold bool) float64 {
	// The tab closed before this one goes on shutting down for a while
	// (a page with a Go module for longer), which would slow this load.
	time.Sleep(settleDelay)
	if cold {
		e2e.Call(r.t, helper.Tab, network.ClearBrowserCache, cdp.Empty{})
	}
	var extra []string
	if preload {
		extra = []string{"preload", "1"}
	}
	pages := r.openPages(1, r.url(impl, r.channel("start"), extra...))
	defer r.closePages(pages)
	v := eval[float64](pages[0], "bench.readyAt")
	if cold && impl != "bc" {
		time.Sleep(codeCacheDelay)
	}
	return v
}

// codeCache is a code-cache row of figure 6: what Chromium's trace says
// of tabsync's module in a cold load (cache cleared) and the warm load
// after it, with the preload recipe or without. Value: the compiled code the warm
// load took from the cache (KB; 0 if none); writtenKB, what the cold load
// wrote; lazyCompiles and lazyCompileMs, the functions V8 compiled on the
// page's thread as they were first called, and the time it took (traced,
// so slower than untraced); deserializeMs, reading the cached code.
func (r *run) codeCache(helper *page, preload bool) Row {
	cats := []string{"disabled-by-default-devtools.timeline", "v8.wasm", "devtools.timeline"}
	load := func(cold bool) wasmTrace {
		time.Sleep(settleDelay)
		if cold {
			e2e.Call(r.t, helper.Tab, network.ClearBrowserCache, cdp.Empty{})
		}
		events := helper.Trace(r.t, cats, func() {
			var extra []string
			if preload {
				extra = []string{"preload", "1"}
			}
			pages := r.openPages(1, r.url("tabsync", r.channel("cache"), extra...))
			defer r.closePages(pages)
			time.Sleep(codeCacheDelay)
		})
		return summarizeWasm(events)
	}
	cold := load(true)
	warm := load(false)
	if cold.written == 0 {
		r.t.Fatalf("the cold load wrote no compiled code to the cache")
	}
	row := valueRow("", "", warm.consumed/1024)
	row.Unit = "KB"
	row.Extra = map[string]float64{
		"writtenKB":         round(cold.written / 1024),
		"lazyCompilesCold":  float64(cold.lazy),
		"lazyCompileMsCold": round(cold.lazyMs),
		"lazyCompilesWarm":  float64(warm.lazy),
		"lazyCompileMsWarm": round(warm.lazyMs),
		"deserializeMsWarm": round(warm.deserializeMs),
		"cacheHitsWarm":     float64(warm.hits),
		"cacheHitsCold":     float64(cold.hits),
	}
	return row
}

// wasmTrace is what a trace says of a page's wasm module.
type wasmTrace struct {
	lazy          int     // functions compiled on first call
	lazyMs        float64 // and the time it took
	written       float64 // bytes of compiled code written to the cache
	consumed      float64 // bytes of compiled code taken from it
	hits          int
	deserializeMs float64
}

func summarizeWasm(events []e2e.TraceEvent) wasmTrace {
	var w wasmTrace
	for _, e := range events {
		switch e.Name {
		case "wasm.CompileLazy":
			w.lazy++
			w.lazyMs += e.Dur / 1000
		case "v8.wasm.cachedModule":
			if v, ok := e.Args["producedCacheSize"].(float64); ok {
				w.written += v
			}
		case "v8.wasm.moduleCacheHit":
			w.hits++
			if v, ok := e.Args["consumedCacheSize"].(float64); ok {
				w.consumed += v
			}
		case "wasm.Deserialize":
			w.deserializeMs += e.Dur / 1000
		}
	}
	return w
}

// taskCategories are the trace categories of a thread's tasks (RunTask).
var taskCategories = []string{"disabled-by-default-devtools.timeline", "devtools.timeline", "toplevel"}

// taskTrace is what a trace says of the tasks of the renderers' main
// threads (main) and of dedicated workers' threads (worker).
type taskTrace struct{ main, worker threadTasks }

// threadTasks are the tasks of some threads: how many, the longest by the
// clock and by the time the thread ran (the trace's tdur: a task of a page
// the operating system had wait, on a loaded machine, is long by the clock
// but not by that), and how many ran over 16 ms.
type threadTasks struct {
	n                   int
	longest, longestCPU float64 // ms
	over16CPU           int
}

func (tt *threadTasks) add(e e2e.TraceEvent) {
	tt.n++
	tt.longest = max(tt.longest, e.Dur/1000)
	tt.longestCPU = max(tt.longestCPU, e.TDur/1000)
	if e.TDur > 16000 {
		tt.over16CPU++
	}
}

// summarizeTasks sorts the RunTask events of a trace by their thread:
// CrRendererMain (a page's main thread; tabs of one site may share one)
// or DedicatedWorker thread, named by the trace's thread_name events.
func summarizeTasks(events []e2e.TraceEvent) taskTrace {
	type thread struct{ pid, tid int }
	names := map[thread]string{}
	for _, e := range events {
		if e.Ph == "M" && e.Name == "thread_name" {
			if name, ok := e.Args["name"].(string); ok {
				names[thread{e.Pid, e.Tid}] = name
			}
		}
	}
	var tt taskTrace
	for _, e := range events {
		if e.Ph != "X" || e.Name != "RunTask" {
			continue
		}
		switch names[thread{e.Pid, e.Tid}] {
		case "CrRendererMain":
			tt.main.add(e)
		case "DedicatedWorker thread":
			tt.worker.add(e)
		}
	}
	return tt
}

// memory is figure 7: the JS heap (after a collection) plus the wasm
// memory of each of two tabs, idle and after each of two runs of
// memChanges changes in tasks of memPerTask (so that a batching library
// still sends a message per task). Value: the larger tab's figure after the
// first run; idleMB, secondMB and the ratios growth (after the first run
// over idle, of the same tab) and secondGrowth (after the second over
// after the first). For the Worker variant each figure adds the worker's
// JS heap and wasm memory (also given apart: WorkerHeapMB, WorkerWasmMB).
func (r *run) memory(impl string) Row {
	pages := r.openPages(2, r.url(implParam[impl], r.channel("mem")))
	defer r.closePages(pages)
	// The Worker variant's worker: its JS heap, asked of both tabs at once
	// (each answer takes up to 20 s), and its wasm memory.
	worker := func() (heap, wasm []float64) {
		if impl != implTabsyncWorker {
			return make([]float64, len(pages)), make([]float64, len(pages))
		}
		for _, p := range pages {
			startJob(p, "bench.workerHeapBytes()")
		}
		for _, p := range pages {
			heap = append(heap, waitJob[float64](p, "bench.workerHeapBytes()", time.Minute))
			wasm = append(wasm, job[float64](p, "bench.workerWasmBytes()", time.Minute))
		}
		return heap, wasm
	}
	measure := func(i int, p *page, wHeap, wWasm []float64) (heap, wasm float64) {
		e2e.Call(r.t, p.Tab, heapprofiler.CollectGarbage, cdp.Empty{})
		u := e2e.Call(r.t, p.Tab, runtime.GetHeapUsage, cdp.Empty{})
		return u.UsedSize + wHeap[i], eval[float64](p, "bench.wasmBytes()") + wWasm[i]
	}
	var idleWasm float64 // the larger tab's wasm memory when idle
	totals := func() []float64 {
		wHeap, wWasm := worker()
		out := make([]float64, len(pages))
		for i, p := range pages {
			heap, wasm := measure(i, p, wHeap, wWasm)
			out[i] = (heap + wasm) / (1 << 20)
			idleWasm = max(idleWasm, wasm/(1<<20))
		}
		return out
	}
	idle := totals()
	idleWasmMB := idleWasm
	b := r.burstFrom(pages, r.sz.memChanges, 0, memPerTask)
	if b.lost > 0 {
		r.t.Fatalf("%d keys differ after the burst", b.lost)
	}
	row := Row{Extra: map[string]float64{}}
	worst, growth := 0.0, 0.0
	after := make([]float64, len(pages))
	wHeap, wWasm := worker()
	for i, p := range pages {
		heap, wasm := measure(i, p, wHeap, wWasm)
		name := []string{"sender", "receiver"}[i]
		row.Extra[name+"HeapMB"] = round(heap / (1 << 20))
		row.Extra[name+"WasmMB"] = round(wasm / (1 << 20))
		if impl == implTabsyncWorker {
			row.Extra[name+"WorkerHeapMB"] = round(wHeap[i] / (1 << 20))
			row.Extra[name+"WorkerWasmMB"] = round(wWasm[i] / (1 << 20))
		}
		after[i] = (heap + wasm) / (1 << 20)
		worst = max(worst, after[i])
		growth = max(growth, after[i]/idle[i])
	}
	b = r.burstFrom(pages, r.sz.memChanges, r.sz.memChanges, memPerTask)
	if b.lost > 0 {
		r.t.Fatalf("%d keys differ after the second burst", b.lost)
	}
	second, secondGrowth := 0.0, 0.0
	for i, v := range totals() {
		second = max(second, v)
		secondGrowth = max(secondGrowth, v/after[i])
	}
	row.Extra["idleMB"] = round(max(idle[0], idle[1]))
	row.Extra["idleWasmMB"] = round(idleWasmMB)
	row.Extra["growth"] = round(growth)
	row.Extra["secondMB"] = round(second)
	row.Extra["secondGrowth"] = round(secondGrowth)
	row.Value = ptr(round(worst))
	return row
}

// memPerTask is how many changes of figure 7 each task makes.
const memPerTask = 10

// wasmSizes returns the sizes of a built module, raw, gzip and brotli.
func (r *run) wasmSizes(file string) map[string]float64 {
	out := map[string]float64{}
	for name, suffix := range map[string]string{"raw": "", "gzip": ".gz", "brotli": ".br"} {
		fi, err := os.Stat(filepath.Join(r.root, "npm", "dist", file+suffix))
		if err != nil {
			r.t.Fatalf("%v: run `make build`", err)
		}
		out[name] = float64(fi.Size())
	}
	return out
}

// mainThread is figure 9: tabsync's work on the main thread of each of two
// tabs during memChanges changes in tasks of memPerTask, through the page's
// probe (bench.js): the longest callback tabsync ran (its channel listener,
// its end-of-task flush, its timers and the Go runtime's), the callbacks
// over 16 ms (a dropped frame at 60 Hz), the Long Tasks API's tasks of 50
// ms or more, and the Go collector's stop-the-world pauses and mark phases
// from GODEBUG=gctrace=1. Value: the longest callback of either tab.
//
// For the Worker variant (impl implTabsyncWorker) the callbacks timed are
// the page's side of it (its end-of-task post to the worker and its
// handler of the worker's patches), and the collector's figures are the
// worker's.
func (r *run) mainThread(impl string) Row {
	pages := r.openPages(2, r.url(implParam[impl], r.channel("main"), "probe", "1", "gc", "1"))
	defer r.closePages(pages)
	for _, p := range pages {
		eval[bool](p, "bench.probeOn()")
		if impl == implTabsyncWorker {
			job[bool](p, "bench.workerProbe('on')", time.Minute)
		}
	}
	var b burstResult
	var tasks taskTrace
	ran := false
	burst := func() {
		b = r.burstFrom(pages, r.sz.memChanges, 0, memPerTask)
		ran = true
	}
	if r.profileDir != "" {
		r.profiling(impl, "mainthread", pages, burst)
	} else if err := catch(func() { tasks = summarizeTasks(pages[0].Trace(r.t, taskCategories, burst)) }); err != nil {
		// A trace that does not complete in time (a heavily loaded
		// machine) loses its figures, not the burst's.
		if !ran {
			panic(failure{err.Error()})
		}
		r.log("  the trace of the burst failed, the row has no trace figures: %v", err)
	}
	if b.lost > 0 {
		r.t.Fatalf("%d keys differ after the burst", b.lost)
	}
	row := Row{Extra: map[string]float64{}}
	if tasks.main.n > 0 {
		row.Extra["traceLongestMs"] = round(tasks.main.longest)
		row.Extra["traceLongestCPUMs"] = round(tasks.main.longestCPU)
		row.Extra["traceOver16msCPU"] = float64(tasks.main.over16CPU)
		row.Extra["traceTasks"] = float64(tasks.main.n)
		if tasks.worker.n > 0 {
			row.Extra["traceWorkerLongestMs"] = round(tasks.worker.longest)
			row.Extra["traceWorkerLongestCPUMs"] = round(tasks.worker.longestCPU)
		}
	}
	var pauses, marks, markCPU, idleCPU []float64
	longest, longTasks, longMax := 0.0, 0.0, 0.0
	for i, p := range pages {
		pr := eval[struct {
			Tasks     float64
			MaxMs     float64
			MaxWarmMs float64
			Over16    float64
			LongTasks float64
			LongMaxMs float64
			Pauses    []float64
			Marks     []float64
			MarkCPU   []struct{ Assist, BG, Idle, STW float64 }
			PreMaxMs  float64
			Over16gc  float64
			Slow      []struct {
				Ms, GCMs, EndedGCMs float64
				N                   int
				Kind                string
			}
		}](p, "bench.probeOff()")
		name := []string{"sender", "receiver"}[i]
		row.Extra[name+"LongestMs"] = round(pr.MaxMs)
		// After the tab's first 100 callbacks, which run code for the
		// first time (V8 compiles wasm functions at their first call).
		row.Extra[name+"LongestWarmMs"] = round(pr.MaxWarmMs)
		row.Extra[name+"Over16ms"] = pr.Over16
		// Of the callbacks over 16 ms, those that a collection overlapped
		// (its interval from gctrace, on the page's clock).
		row.Extra[name+"Over16msWithGC"] = pr.Over16gc
		for j, c := range pr.Slow {
			r.log("  %s: callback %d of %.1f ms (%s), %.1f ms of it in a collection's interval, %.1f ms of collector CPU ended in it", name, c.N, c.Ms, c.Kind, c.GCMs, c.EndedGCMs)
			if j == 0 {
				row.Extra[name+"LongestGCMs"] = round(c.GCMs)
				row.Extra[name+"LongestGCCPUMs"] = round(c.EndedGCMs)
			}
		}
		row.Extra[name+"Callbacks"] = pr.Tasks
		// The longest callback before the burst: the tab's start-up.
		row.Extra[name+"StartupLongestMs"] = round(pr.PreMaxMs)
		longest = max(longest, pr.MaxMs)
		if pr.LongTasks < 0 {
			longTasks = -1
		} else if longTasks >= 0 {
			longTasks += pr.LongTasks
			longMax = max(longMax, pr.LongMaxMs)
		}
		pauses = append(pauses, pr.Pauses...)
		marks = append(marks, pr.Marks...)
		for _, c := range pr.MarkCPU {
			markCPU = append(markCPU, c.Assist+c.BG+c.Idle)
			idleCPU = append(idleCPU, c.Idle)
		}
		if impl == implTabsyncWorker {
			w := job[struct{ Pauses, Marks []float64 }](p, "bench.workerProbe('off')", time.Minute)
			pauses = append(pauses, w.Pauses...)
			marks = append(marks, w.Marks...)
		}
	}
	row.Extra["longTasks"] = longTasks
	row.Extra["longTaskMaxMs"] = round(longMax)
	row.Extra["gcCycles"] = float64(len(marks))
	if len(pauses) > 0 {
		slices.Sort(pauses)
		slices.Sort(marks)
		row.Extra["gcPauseP99Ms"] = round(quantile(pauses, 0.99))
		row.Extra["gcPauseMaxMs"] = round(pauses[len(pauses)-1])
		row.Extra["gcMarkP99Ms"] = round(quantile(marks, 0.99))
	}
	if len(markCPU) > 0 {
		// A cycle's marking as CPU time (a mark phase by the clock spans
		// the callbacks and JavaScript between them): all of it, and the
		// part the idle worker did, which runs to the end of the marking
		// in whatever callback lets the scheduler go idle.
		slices.Sort(markCPU)
		slices.Sort(idleCPU)
		row.Extra["gcMarkCPUP99Ms"] = round(quantile(markCPU, 0.99))
		row.Extra["gcMarkCPUMaxMs"] = round(markCPU[len(markCPU)-1])
		row.Extra["gcIdleCPUMaxMs"] = round(idleCPU[len(idleCPU)-1])
	}
	row.Value = ptr(round(longest))
	return row
}
