//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabsync/tabsync/e2e"
)

// failure is what tb's Fatal panics with; measure recovers it, so that a
// figure that breaks is reported as broken and the others still run.
type failure struct{ msg string }

// tb adapts the e2e harness, whose functions take a testing.TB, to a
// program. The embedded interface is nil: only the methods below are
// called by the harness (a call to any other panics, which measure also
// reports).
type tb struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	verbose  bool
}

func (t *tb) Helper()      {}
func (t *tb) Name() string { return "bench" }

func (t *tb) Fatal(args ...any) { t.fail(fmt.Sprint(args...)) }
func (t *tb) Fatalf(format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...))
}
func (t *tb) Skipf(format string, args ...any) { t.fail(fmt.Sprintf(format, args...)) }

func (t *tb) fail(msg string) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	panic(failure{msg})
}

func (t *tb) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *tb) Logf(format string, args ...any) {
	if t.verbose {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func (t *tb) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *tb) TempDir() string {
	dir, err := os.MkdirTemp("", "tabsync-bench-")
	if err != nil {
		t.fail(err.Error())
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// cleanup runs the cleanups, last registered first.
func (t *tb) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// catch runs f and returns the failure it panicked with, if any.
func catch(f func()) (err error) {
	defer func() {
		switch p := recover().(type) {
		case nil:
		case failure:
			err = fmt.Errorf("%s", p.msg)
		default:
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	f()
	return nil
}

// page is one bench page (bench/web/index.html) in a tab.
type page struct {
	*e2e.Tab
	t *tb
}

// openPages opens n tabs of url at once, as a user restoring a session
// does, and waits until each page's bench.ready has resolved.
func (r *run) openPages(n int, url string) []*page {
	pages := make([]*page, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = catch(func() { pages[i] = &page{r.browser.OpenTab(r.t, url), r.t} })
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			r.closePages(pages)
			r.t.Fatalf("opening tab %d of %d: %v", i+1, n, err)
		}
	}
	for _, p := range pages {
		p.WaitFor(r.t, "window.bench && bench.ready", e2e.LoadTimeout)
		var errs []string
		p.Eval(r.t, "bench.errors", &errs)
		if len(errs) > 0 {
			r.closePages(pages)
			r.t.Fatalf("%s reported errors: %s", p.URL(), strings.Join(errs, "; "))
		}
	}
	return pages
}

// closePages closes the tabs that are open.
func (r *run) closePages(pages []*page) {
	for _, p := range pages {
		if p != nil {
			_ = catch(func() { p.Close(r.t) })
		}
	}
}

// eval evaluates js in the page and returns its value decoded as T.
func eval[T any](p *page, js string) T {
	var v T
	p.Eval(p.t, js, &v)
	return v
}

// job runs the promise-returning expression js in the page without holding
// a DevTools call open for it (a call times out after e2e.CallTimeout), and
// waits up to timeout for its value.
func job[T any](p *page, js string, timeout time.Duration) T {
	startJob(p, js)
	return waitJob[T](p, js, timeout)
}

// startJob starts js in the page as job does, and returns at once.
func startJob(p *page, js string) {
	// The expression starts from a timer, after Eval has returned: a
	// synchronous loop must not hold the DevTools call open either.
	p.Eval(p.t, `(bench.job = null, (async () => {
			await new Promise((resolve) => setTimeout(resolve, 0));
			bench.job = { v: await (`+js+`) };
		})()
		.catch((e) => { bench.job = { err: String(e && e.stack || e) } }), true)`, nil)
}

// waitJob waits for the job started by startJob. The page may be too busy
// to answer for a while: WaitFor asks again until timeout.
func waitJob[T any](p *page, js string, timeout time.Duration) T {
	p.WaitFor(p.t, "bench.job", timeout)
	var out struct {
		V   T
		Err string
	}
	p.Eval(p.t, "bench.job", &out)
	if out.Err != "" {
		p.t.Fatalf("%s in %s: %s", abbrev(js), p.URL(), out.Err)
	}
	return out.V
}

// abbrev shortens js for a message.
func abbrev(js string) string {
	js = strings.Join(strings.Fields(js), " ")
	if len(js) > 80 {
		js = js[:77] + "..."
	}
	return js
}

// pageClock returns the offset of the pages' shared clock from this
// process's (page minus Go, in ms), bracketing a read of the page's clock
// by two of ours and keeping the tightest of a few tries.
func pageClock(p *page) float64 {
	best, offset := time.Duration(1<<62), 0.0
	for range 5 {
		t0 := time.Now()
		v := eval[float64](p, "bench.now()")
		t1 := time.Now()
		if d := t1.Sub(t0); d < best {
			best = d
			mid := t0.Add(d / 2)
			offset = v - float64(mid.UnixNano())/1e6
		}
	}
	return offset
}

// goMillis returns this process's wall clock in ms, to compare with
// pageClock.
func goMillis(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }
