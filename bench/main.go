//go:build !(js && wasm)

// Command bench measures tabsync next to a plain BroadcastChannel and the
// npm libraries broadcast-channel and zustand-sync-tabs, each in several
// real tabs of one headless Chromium, in one run; it prints a table,
// writes the raw figures to docs/bench/results.json, draws
// docs/bench/latency.svg and docs/bench/throughput.svg, and rewrites the
// generated part of docs/BENCHMARKS.md.
//
// Run it with `make bench`, which builds the package and the pages first.
// By hand, from the repository root, after `make build` and
// `cd bench && npm ci && node web/build.mjs`:
//
//	CHROME=$(tools/ensure-chromium.sh) go run ./bench [-quick] [-only 1,2]
//
// -quick runs every figure with a few changes and trials and writes
// nothing: it checks the harness, its numbers mean nothing. -cpuprofile DIR
// records CPU profiles of tabsync's tabs in figures 1 to 3 (open them in
// Chrome DevTools) and prints their heaviest functions.
//
// Absolute times depend on the machine and what else runs on it; the
// ratios to the plain BroadcastChannel, measured in the same run, are what
// to compare between runs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"

	"github.com/tabsync/tabsync/e2e"
	"github.com/tabsync/tabsync/tools/devserver/serve"
)

func main() {
	quick := flag.Bool("quick", false, "a short run that checks the harness; writes nothing")
	only := flag.String("only", "", "comma-separated figures to run, such as 1,2,5 (default: all)")
	verbose := flag.Bool("v", false, "log the harness's details")
	timeout := flag.Duration("timeout", 15*time.Minute, "stop the run after this long")
	cpuprofile := flag.String("cpuprofile", "", "write CPU profiles of tabsync's tabs in figures 1 to 3 to this folder\n(with a tabsync.wasm built with its symbols); writes nothing else")
	gogc := flag.String("gogc", "", "start tabsync's module with this GOGC instead of the loader's (an experiment; the run is not written)")
	render := flag.Bool("render", false, "measure nothing: rewrite the charts and docs/BENCHMARKS.md from docs/bench/results.json")
	flag.Parse()

	t := &tb{verbose: *verbose}
	code := 0
	if *render {
		if err := catch(func() { code = rerender(t) }); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
		os.Exit(code)
	}
	if err := catch(func() { code = bench(t, *quick, *only, *timeout, *cpuprofile, *gogc) }); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	}
	t.cleanup()
	os.Exit(code)
}

func bench(t *tb, quick bool, only string, timeout time.Duration, profileDir, gogc string) int {
	start := time.Now()
	time.AfterFunc(timeout, func() {
		fmt.Fprintf(os.Stderr, "bench: the run took longer than -timeout=%v; stopping\n", timeout)
		os.Exit(2)
	})
	root := e2e.RepoRoot(t)
	web := filepath.Join(root, "bench", "web")
	dist := filepath.Join(root, "npm", "dist")
	for _, f := range []string{filepath.Join(dist, "tabsync.mjs"), filepath.Join(dist, "tabsync.wasm"), filepath.Join(web, "dist", "bench.js")} {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\nRun `make bench`, which builds the package and the bench pages first.\n", err)
			return 1
		}
	}
	figures := map[int]bool{}
	for _, f := range strings.Split(only, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			figures[n] = true
		} else if strings.TrimSpace(f) != "" {
			fmt.Fprintf(os.Stderr, "bench: -only %q: want figure numbers 1 to 10, such as 1,2\n", only)
			return 1
		}
	}
	want := func(n int) bool { return len(figures) == 0 || figures[n] }

	r := &run{
		t:    t,
		root: root,
		sz:   fullSizes,
		res: &Results{
			Date:  start.UTC().Format("2006-01-02 15:04 UTC"),
			Quick: quick,
			Machine: Machine{
				CPU:       cpuModel(),
				Cores:     goruntime.NumCPU(),
				Go:        goruntime.Version(),
				LoadStart: loadAvg(),
			},
		},
		log: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	}
	if quick {
		r.sz = quickSizes
	}
	r.gogc = gogc
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		r.profileDir = profileDir
		dist = profiledDist(t, root)
	}
	r.browser = e2e.NewBrowser(t)
	r.base = serveIsolated(t, map[string]string{"/": web, "/tabsync/": dist, "/floor/": goFloor(t, root)})
	r.res.Machine.Browser = browserVersion(r)
	r.res.Settings = []string{
		"tabsync: createBroadcastSync(store, { channelName, throttleMs: 0 }) (the default throttle of 100 ms would measure the throttle)",
		"BroadcastChannel and broadcast-channel: a hand-written sync posting the changed keys of each setState, applied with setState on arrival",
		"zustand-sync-tabs: the syncTabs middleware; writes go through an action of the store (the middleware does not see store.setState)",
		"every store is a zustand vanilla store; times are on the clock shared by the tabs (performance.timeOrigin + performance.now())",
	}
	r.log("bench: %s, %d cores, %s; browser %s", r.res.Machine.CPU, r.res.Machine.Cores, r.res.Machine.LoadStart, r.res.Machine.Browser)

	if want(1) {
		r.figure(1, "Cross-tab latency, one change at a time: setState in tab A until the slowest other tab's store has it", "ms", func(fig *Figure) {
			for _, tabs := range []int{2, r.sz.manyTabs} {
				r.latencyCase(fig, fmt.Sprintf("%d tabs", tabs), tabs, r.sz.latencyChanges, 0)
			}
			fig.addRatios(implBC)
			fig.Notes = append(fig.Notes, fmt.Sprintf("%d changes per row after %d not counted; each waits until every other tab has applied the previous one. With 2 tabs, all implementations' tabs are open at once and take turns of a fifth of the changes, so that the machine's load falls on all alike; with %d tabs, one implementation's tabs at a time.", r.sz.latencyChanges, r.sz.warmChanges, r.sz.manyTabs))
		})
	}
	if want(2) {
		r.figure(2, fmt.Sprintf("Throughput: a burst of %d changes with no pause, %d tabs; changes per second until the slowest receiver holds the final state", r.sz.burst, r.sz.burstTabs), "changes/s", func(fig *Figure) {
			cas := fmt.Sprintf("%d tabs", r.sz.burstTabs)
			for _, impl := range syncImpls {
				r.try(fig, cas, impl, func() Row { return r.throughput(impl) })
			}
			fig.addRatios(implBC)
			fig.Notes = append(fig.Notes, "Each change sets one of 100 keys; lostKeys counts the keys whose final value in the slowest receiver differs from the sender's (must be 0); applied counts the receiver's store updates (fewer than the changes when a library coalesces).")
		})
	}
	if want(3) {
		r.figure(3, "Latency of a one-key change while the store holds other synced data (2 tabs)", "ms", func(fig *Figure) {
			for _, bytes := range r.sz.scaleBytes {
				r.latencyCase(fig, sizeName(bytes), 2, r.sz.scaleChanges, bytes)
			}
			fig.addRatios(implBC)
			fig.Notes = append(fig.Notes, fmt.Sprintf("The other data is 10 keys of arrays of small records (about the JSON size named), synced before the %d measured changes.", r.sz.scaleChanges))
		})
	}
	if want(4) {
		r.figure(4, fmt.Sprintf("Convergence: %d rounds of two tabs writing the same key at the same instant; rounds that end with the tabs disagreeing", r.sz.rounds), "rounds", func(fig *Figure) {
			for _, impl := range syncImpls {
				r.try(fig, "2 tabs", impl, func() Row { return r.convergence(impl) })
			}
			fig.Notes = append(fig.Notes, "Each round writes its own key, 100 ms after the previous round. writeSkewMedianMs is how far apart the two writes of a round were; concurrentRounds counts the rounds in which neither tab had received the other's write when it made its own (on a loaded machine a tab's timer can fire late, and then the round is no conflict).")
		})
	}
	if want(5) {
		r.figure(5, "Leader election among 5 tabs opened together, and handover when the leader goes", "ms", func(fig *Figure) {
			ref := electors[1].name
			for _, el := range electors {
				res := r.election(el.impl)
				missing := ""
				if res.err != nil {
					missing = "failed: " + firstLine(res.err.Error())
					if el.impl == "tabsync" && len(res.elect) == 0 {
						missing = "not yet available (" + firstLine(res.err.Error()) + ")"
					}
				}
				add := func(cas string, samples []float64, extra map[string]float64) {
					row := distRow(cas, el.name, samples)
					if len(samples) == 0 && missing != "" {
						row.Missing = missing
					}
					if len(samples) > 0 {
						row.Extra = extra
					}
					fig.Rows = append(fig.Rows, row)
				}
				add("first leader", res.elect, map[string]float64{"mostLeadersAtOnce": float64(res.most), "failedTrials": float64(res.failed)})
				for _, kind := range killKinds {
					extra := map[string]float64{"noLeaderAfter10s": float64(res.noLeader[kind])}
					if g := slices.Sorted(slices.Values(res.afterGrant[kind])); len(g) > 0 {
						extra["afterLockGrantMedianMs"] = round(quantile(g, 0.5))
					}
					add("handover, "+kind, res.handover[kind], extra)
				}
			}
			fig.addRatios(ref)
			fig.Notes = append(fig.Notes,
				"First leader: from the first tab's start of its elector (for tabsync: its ready, once the wasm has loaded) until a tab is leader. Handover: from the moment the leader is closed until another tab is leader; mostLeadersAtOnce must be 1; noLeaderAfter10s counts handovers that had not happened 10 s after (not in the samples); afterLockGrantMedianMs is the part of a handover after the browser granted the new leader the Web Lock.",
				"closed: Target.closeTarget (pagehide and unload run); closed hard: the tab's JavaScript is paused first (Debugger.pause, which stops a page at the next statement it runs; a timer set just before makes every page run one, so that an idle leader is stopped too), so that none of its handlers runs; crashed: Page.crash kills the renderer.",
				"broadcast-channel's message elector is used with its defaults (fallbackInterval 3000 ms), in half as many trials; the page hides navigator.locks to select it. Ratios are to its Web Locks elector.")
		})
	}
	if want(6) {
		r.figure(6, "Start-up: navigation start until ready, fresh tab, cold (caches cleared) and warm", "ms", func(fig *Figure) {
			helpers := r.openPages(1, r.url("bc", r.channel("helper")))
			defer r.closePages(helpers)
			cold, warm := map[string][]float64{}, map[string][]float64{}
			for trial := range r.sz.trials + 1 {
				for i := range startupPages {
					p := startupPages[(i+trial)%len(startupPages)] // alternate which goes first
					if err := catch(func() {
						c := r.startup(helpers[0], p.impl, p.preload, true)
						w := r.startup(helpers[0], p.impl, p.preload, false)
						if trial > 0 { // the browser's first loads warm up the machine
							cold[p.name] = append(cold[p.name], c)
							warm[p.name] = append(warm[p.name], w)
						}
					}); err != nil {
						r.log("  start-up of %s failed: %v", p.name, err)
					}
				}
			}
			for _, c := range []struct {
				name    string
				samples map[string][]float64
			}{{"page ready, cold", cold}, {"page ready, warm", warm}} {
				for _, p := range startupPages {
					fig.Rows = append(fig.Rows, distRow(c.name, p.name, c.samples[p.name]))
				}
			}
			fig.addRatios(implBC)
			r.try(fig, "wasm code cache, KB", implTabsync, func() Row { return r.codeCache(helpers[0], true) })
			r.try(fig, "wasm code cache, KB", implTabsyncNoPreload, func() Row { return r.codeCache(helpers[0], false) })
			for _, file := range []string{"tabsync-nopersist.wasm", "tabsync.wasm"} {
				r.try(fig, file+", KB", implTabsync, func() Row {
					s := r.wasmSizes(file)
					row := valueRow("", "", s["raw"]/1024)
					row.Unit = "KB"
					row.Extra = map[string]float64{"gzipKB": round(s["gzip"] / 1024), "brotliKB": round(s["brotli"] / 1024)}
					return row
				})
			}
			fig.Notes = append(fig.Notes,
				fmt.Sprintf("%d loads of each after one not counted, alternating; each a cold load (the browser's HTTP cache and compiled code cleared by Network.clearBrowserCache; a page with a module stays open %v after, for Chromium to write its compiled code) then a warm one. Every page loads the same bench bundle; the Go floor's and tabsync's pages also the ESM entry and the module, through tabsync's loader (br from the test server, which says Cache-Control: no-cache, so a warm load revalidates each file: 304).", r.sz.trials, codeCacheDelay),
				"Preload: the page's head has the README's recipe, <link rel=\"modulepreload\"> of tabsync.mjs and <link rel=\"preload\" as=\"fetch\" crossorigin> of the module (the Go floor's is its own module); \"no preload\" loads the same page without them.",
				"wasm code cache: a traced cold load of tabsync's page, then a warm one, with the preload recipe and without. value: the compiled code the warm load took from Chromium's code cache (v8.wasm.moduleCacheHit); writtenKB: what the cold load wrote (v8.wasm.cachedModule); lazyCompiles and lazyCompileMs: the functions V8 compiled on the page's thread at their first call (wasm.CompileLazy; tracing slows them); deserializeMsWarm: reading the cached code.")
		})
	}
	if want(7) {
		r.figure(7, fmt.Sprintf("Memory per tab after %d changes in tasks of %d: JS heap after a collection plus wasm memory (the larger of 2 tabs)", r.sz.memChanges, memPerTask), "MB", func(fig *Figure) {
			for _, impl := range syncImpls {
				r.try(fig, "2 tabs", impl, func() Row { return r.memory(impl) })
			}
			fig.addRatios(implBC)
		})
	}
	if want(8) {
		r.figure(8, "Persistence (tabsync's persist): restore time and write cost", "ms", func(fig *Figure) {
			r.persistence(fig)
		})
	}

	if want(9) {
		r.figure(9, fmt.Sprintf("Main thread: the longest callback tabsync runs in a tab during %d changes in tasks of %d (2 tabs), long tasks and the Go collector's pauses", r.sz.memChanges, memPerTask), "ms", func(fig *Figure) {
			for _, impl := range []string{implTabsync, implTabsyncWorker} {
				r.try(fig, "2 tabs", impl, func() Row { return r.mainThread(impl) })
			}
			fig.Notes = append(fig.Notes,
				"Timed in the page: each call of tabsync's channel listener, of its end-of-task microtask and of every timer callback (its own and the Go runtime's, where the collector's background work runs); long tasks from the Long Tasks API (50 ms or more); the collector's stop-the-world pauses (two per cycle) and mark phases from GODEBUG=gctrace=1. LongestWarmMs: the longest after a tab's first 100 callbacks (which run code for the first time); Over16msWithGC: the callbacks over 16 ms that a collection overlapped; LongestGCMs: how much of the longest one a collection's interval covered; LongestGCCPUMs: the collector's CPU time (gctrace's cpu fields: pauses, assists, background and idle marking) of the cycles that ended inside it; gcMarkCPU…: a cycle's marking in CPU time (the mark phase by the clock spans the JavaScript between callbacks), gcIdleCPUMaxMs the most of it the idle worker did; StartupLongestMs: the longest callback before the burst (the tab's start-up).",
				"tabsync in a Worker (the experiment of figure 10): the page's callbacks are its end-of-task post of the changed keys to the worker and its handler of the worker's patches; the collector's figures are the worker's.")
		})
	}
	if want(10) {
		r.figure(10, "The Worker experiment: tabsync's engine in the page or in a dedicated Worker (2 tabs), latency and memory", "ms", func(fig *Figure) {
			r.latencyOf(fig, workerImpls, "latency, 2 tabs", 2, r.sz.latencyChanges, 0)
			fig.addRatios(implBC)
			for _, impl := range workerImpls[1:] {
				r.try(fig, fmt.Sprintf("memory after %d changes, MB", r.sz.memChanges), impl, func() Row {
					row := r.memory(impl)
					row.Unit = "MB"
					return row
				})
			}
			fig.Notes = append(fig.Notes,
				"tabsync in a Worker: the page keeps the zustand store; at the end of each task it posts the changed keys and values to a dedicated Worker, which holds a mirror store synced by tabsync (createBroadcastSync, throttleMs 0, in the worker) and posts the other tabs' changes back, applied with setState (bench/web/src/worker.js). An experiment: not in the npm package.",
				"Latency as in figure 1 (2 tabs, the implementations taking turns). Memory as in figure 7 (the larger of 2 tabs after the changes in tasks of 10); for the Worker variant, the page's JS heap and wasm memory plus the worker's (its JS heap from performance.measureUserAgentSpecificMemory, as DevTools' heap usage covers the page's isolate only; it is taken at Chromium's next collection rather than after a forced one).")
		})
	}

	r.res.Machine.LoadEnd = loadAvg()
	r.res.Seconds = round(time.Since(start).Seconds())
	fmt.Println(textReport(r.res))
	if quick || profileDir != "" || gogc != "" {
		fmt.Fprintf(os.Stderr, "bench: run done in %v; numbers not written (-quick, -cpuprofile or -gogc)\n", time.Since(start).Round(time.Second))
		return failed(r.res)
	}
	if len(figures) > 0 {
		keepOthers(root, r.res)
	}
	if err := writeOutputs(root, r.res); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "bench: done in %v; wrote docs/bench/ and docs/BENCHMARKS.md\n", time.Since(start).Round(time.Second))
	return 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// keepOthers adds to res, measured with -only, the figures of the previous
// results.json that it did not measure, each marked with the date of its
// run: the ratios of a figure stay those of one run.
func keepOthers(root string, res *Results) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "bench", "results.json"))
	if err != nil {
		return
	}
	var old Results
	if json.Unmarshal(b, &old) != nil {
		return
	}
	for _, f := range old.Figures {
		if _, ok := figureByID(res, f.ID); ok {
			continue
		}
		if f.Date == "" {
			f.Date = old.Date
		}
		res.Figures = append(res.Figures, f)
	}
	slices.SortFunc(res.Figures, func(a, b Figure) int { return a.ID - b.ID })
}

// rerender rewrites the outputs from the results of the last run, for a
// change to how they are presented.
func rerender(t *tb) int {
	root := e2e.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "bench", "results.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		fmt.Fprintln(os.Stderr, "bench: docs/bench/results.json:", err)
		return 1
	}
	fmt.Println(textReport(&res))
	if err := writeOutputs(root, &res); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// failed returns 1 when a figure or row of the sync implementations broke
// (for -quick, where that is what is checked).
func failed(res *Results) int {
	for _, f := range res.Figures {
		if f.Error != "" {
			return 1
		}
		for _, row := range f.Rows {
			if strings.HasPrefix(row.Missing, "failed") {
				return 1
			}
		}
	}
	return 0
}

func sizeName(bytes int) string {
	switch {
	case bytes >= 1<<20:
		return fmt.Sprintf("%d MB", bytes>>20)
	case bytes >= 1<<10:
		return fmt.Sprintf("%d KB", bytes>>10)
	}
	return fmt.Sprintf("%d B", bytes)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return goruntime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return goruntime.GOARCH
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return "load " + strings.Join(f[:3], " ")
}

// browserVersion reads the browser's version from a page's user agent.
func browserVersion(r *run) string {
	pages := r.openPages(1, r.url("bc", r.channel("version")))
	defer r.closePages(pages)
	v := e2e.Call(r.t, pages[0].Tab, browser.GetVersion, cdp.Empty{})
	_, version, _ := strings.Cut(v.Product, "/")
	return "Chromium " + version + " (headless)"
}

// serveIsolated serves mounts as e2e's Browser.Serve does, with the two
// headers that make the pages cross-origin isolated: there, Chromium gives
// performance.now() a resolution of 5 µs instead of 100 µs, which the
// sub-millisecond latencies need.
func serveIsolated(t *tb, mounts map[string]string) string {
	h := serve.Handler(mounts)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.ServeHTTP(w, req)
	}))
	// Closed before the browser (cleanups run last first); Close waits
	// for the requests in flight.
	t.Cleanup(s.Close)
	return s.URL
}

// writeOutputs writes results.json, the charts and the table.
func writeOutputs(root string, res *Results) error {
	dir := filepath.Join(root, "docs", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for name, svg := range charts(res) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	return updateDoc(filepath.Join(root, "docs", "BENCHMARKS.md"), markdownReport(res))
}

// figureByID returns the figure with id, if it ran.
func figureByID(res *Results, id int) (*Figure, bool) {
	i := slices.IndexFunc(res.Figures, func(f Figure) bool { return f.ID == id })
	if i < 0 {
		return nil, false
	}
	return &res.Figures[i], true
}
