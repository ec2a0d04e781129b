//go:build !(js && wasm)

// The harness drives a browser from outside, so it is built for the host
// only; doc.go keeps the package present for GOOS=js builds of ./... .

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/debugger"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// Timeouts of the harness. They are generous for a loaded 2-core CI
// machine; a test that needs a different bound passes it to WaitFor.
const (
	// StartTimeout bounds the start of the browser.
	StartTimeout = 60 * time.Second
	// LoadTimeout bounds opening a tab and loading its page.
	LoadTimeout = 30 * time.Second
	// CallTimeout bounds one Eval or protocol command.
	CallTimeout = 15 * time.Second
	// pollInterval is how often WaitFor evaluates its condition.
	pollInterval = 25 * time.Millisecond
)

// browserNames are the commands looked for on PATH when $CHROME is not set,
// in the order of tools/ensure-chromium.sh.
var browserNames = []string{"google-chrome", "google-chrome-stable", "chromium", "chromium-browser"}

// Browser is one headless Chromium process with one browser context (one
// profile): every tab it opens shares storage, BroadcastChannel and Web
// Locks with the others, as the tabs of a user's browser do.
type Browser struct {
	t      testing.TB
	ctx    context.Context // chromedp context of the browser's first tab
	cancel context.CancelFunc
	output *lockedBuffer // the browser's stdout and stderr

	mu      sync.Mutex
	servers []*httptest.Server
	tabs    []*Tab
}

// NewBrowser starts a headless Chromium for the test and stops it when the
// test ends. The browser is $CHROME, or the first of google-chrome,
// google-chrome-stable, chromium and chromium-browser on PATH; it gets a
// fresh profile in a temporary directory.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	execPath, err := findChrome()
	if err != nil {
		t.Fatal(err)
	}
	// Made before the cleanup below is registered, so that it is removed
	// after the browser has stopped writing to it.
	profile := t.TempDir()

	output := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(output),
		chromedp.DisableGPU,
		// Without these Chromium keeps trying to reach Google's hosts,
		// which this network does not have (see BROWSER-NOTES.md).
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// The tests use timers heavily (heartbeats, leases); a tab in
		// the background must not be throttled unless a test asks.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	)
	if os.Getuid() == 0 {
		// Chromium refuses to start its sandbox as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)

	b := &Browser{
		t:      t,
		ctx:    ctx,
		output: output,
		cancel: func() { cancel(); allocCancel() },
	}
	t.Cleanup(b.close)

	// The first Run starts the process. Its context must not carry a
	// timeout (that would stop the browser later), so bound it from here.
	if err := bounded(StartTimeout, b.cancel, func() error {
		return chromedp.Do(ctx)
	}); err != nil {
		t.Fatalf("starting %s: %v\nbrowser output:\n%s\nInstall Chromium with tools/ensure-chromium.sh, or set CHROME to a working Chrome.",
			execPath, err, output.tail(40))
	}
	return b
}

// findChrome returns the browser to run: $CHROME, or the first known name
// on PATH.
func findChrome() (string, error) {
	if c := os.Getenv("CHROME"); c != "" {
		p, err := exec.LookPath(c)
		if err != nil {
			return "", fmt.Errorf("CHROME=%s is not an executable: %v; unset it or point it at Chrome or Chromium", c, err)
		}
		return p, nil
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chrome or Chromium found: run tools/ensure-chromium.sh (or `make tools`), or set CHROME=/path/to/chrome")
}

// close closes the tabs, stops the browser and the servers. It runs as a
// cleanup of the test that made the browser.
func (b *Browser) close() {
	b.mu.Lock()
	tabs := b.tabs
	servers := b.servers
	b.tabs, b.servers = nil, nil
	b.mu.Unlock()

	for _, tab := range tabs {
		tab.cancel()
	}
	// Ask the browser to close gracefully, then kill it if it does not.
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	_ = chromedp.Cancel(ctx)
	cancel()
	b.cancel()
	for _, tab := range tabs {
		tab.wg.Wait()
	}
	if b.t.Failed() {
		if out := b.output.tail(40); out != "" {
			b.t.Logf("last lines of the browser's output:\n%s", out)
		}
	}
	// After the browser, so that no request is in flight.
	for _, s := range servers {
		s.Close()
	}
}

// Serve serves mounts, URL path prefixes mapped to directories as for
// serve.Handler, on a free port of 127.0.0.1 until the browser closes, and
// returns the base URL, such as "http://127.0.0.1:41234". 127.0.0.1 is a
// secure origin, so Web Locks and the other APIs work.
func (b *Browser) Serve(mounts map[string]string) string {
	return b.ServeHandler(serve.Handler(mounts))
}

// ServeHandler serves h as Serve serves its mounts: on a free port of
// 127.0.0.1 until the browser closes. It returns the base URL.
func (b *Browser) ServeHandler(h http.Handler) string {
	s := httptest.NewServer(h)
	b.mu.Lock()
	b.servers = append(b.servers, s)
	b.mu.Unlock()
	return s.URL
}

// ServeRepo serves the repository's demo layout (see serve.RepoMounts): the
// examples at / and the built npm package, npm/dist/, at /tabsync/. It
// returns the base URL. The test is skipped when the package has not been
// built, as `make test` does before the e2e tests; run `make build`.
func (b *Browser) ServeRepo(t testing.TB) string {
	t.Helper()
	mounts := serve.RepoMounts(RepoRoot(t))
	skipUnbuilt(t, mounts["/tabsync/"])
	return b.Serve(mounts)
}

// ServeTestPage serves the behaviour tests' page, e2e/testdata/page.html,
// at /page.html, with the built npm package at /tabsync/ and zustand's ESM
// build (from npm/node_modules) at /zustand/. It returns the base URL. The
// test is skipped when the package has not been built.
func (b *Browser) ServeTestPage(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	mounts := map[string]string{
		"/":         filepath.Join(root, "e2e", "testdata"),
		"/tabsync/": serve.RepoMounts(root)["/tabsync/"],
		"/zustand/": filepath.Join(root, "npm", "node_modules", "zustand", "esm"),
	}
	skipUnbuilt(t, mounts["/tabsync/"])
	if _, err := os.Stat(filepath.Join(mounts["/zustand/"], "vanilla.mjs")); err != nil {
		t.Skipf("zustand is not installed in npm/node_modules (%v): run `make build` first", err)
	}
	return b.Serve(mounts)
}

// skipUnbuilt skips the test when dist, the npm package's output, lacks a
// file a page loads.
func skipUnbuilt(t testing.TB, dist string) {
	t.Helper()
	for _, f := range []string{"tabsync.wasm", "tabsync-nopersist.wasm", "tabsync.js", "tabsync.mjs"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Skipf("the npm package is not built (%v): run `make build` first", err)
		}
	}
}

// RepoRoot returns the root of the tabsync repository, found from the
// working directory of the test (the package directory) upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/tabsync/tabsync\n") {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod of github.com/tabsync/tabsync at or above %s", wd)
		}
	}
}

// Tab is one page of a Browser.
type Tab struct {
	b      *Browser
	ctx    context.Context // chromedp context of this tab
	cancel context.CancelFunc
	id     target.ID
	url    string
	wg     sync.WaitGroup // the console collector

	// Console messages reach collect through chromedp's queue, on
	// another goroutine, so a message the page logged before a command
	// returned may not be collected yet when that command returns. The
	// listener counts them as they are read off the connection (in
	// order with the command replies) so that Console and Exceptions
	// can wait for collect to catch up.
	counting atomic.Bool
	seen     atomic.Int64

	mu         sync.Mutex
	console    []string
	collected  int64 // messages collected, to compare with seen
	exceptions []string
	closed     bool
}

// OpenTab opens url in a new tab of the browser, in the same browser
// context as its other tabs, and waits for the page's load event.
func (b *Browser) OpenTab(t testing.TB, url string) *Tab {
	t.Helper()
	tab := &Tab{b: b, url: url}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(tab.count))
	tab.ctx, tab.cancel = ctx, cancel
	b.mu.Lock()
	b.tabs = append(b.tabs, tab)
	b.mu.Unlock()

	// The first Run on a tab context creates the target; as for the
	// browser, its context must not carry a timeout.
	err := bounded(LoadTimeout, cancel, func() error {
		// Subscribe before navigating, so that messages the page logs
		// while it loads are kept.
		messages := chromedp.Console(ctx)
		tab.counting.Store(true)
		tab.wg.Add(1)
		go tab.collect(messages)
		return chromedp.Do(ctx)
	})
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tab.id = chromedp.FromContext(ctx).Target.TargetID

	lctx, lcancel := context.WithTimeout(ctx, LoadTimeout)
	defer lcancel()
	if err := chromedp.Do(lctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v%s", url, err, tab.consoleReport())
	}
	return tab
}

// collect records the console messages and uncaught exceptions of the tab
// until its context ends.
func (tab *Tab) collect(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	defer tab.wg.Done()
	for m, err := range messages {
		if err != nil {
			return
		}
		tab.mu.Lock()
		tab.console = append(tab.console, m.String())
		tab.collected++
		if m.IsException() {
			tab.exceptions = append(tab.exceptions, exceptionText(m))
		}
		tab.mu.Unlock()
	}
}

// exceptionText returns the message of an exception and where it was thrown.
func exceptionText(m chromedp.ConsoleMessage) string {
	text := m.Text
	if m.Exception != nil && m.Exception.Exception != nil && m.Exception.Exception.Description != "" {
		// The description holds the stack, which Text lacks.
		text = m.Exception.Exception.Description
	}
	if m.URL != "" {
		text += fmt.Sprintf(" (at %s:%d:%d)", m.URL, m.Line+1, m.Column+1)
	}
	return text
}

// count is the tab's chromedp listener; it runs on the goroutine that reads
// the browser's messages, so it must be quick.
func (tab *Tab) count(ev any) {
	if !tab.counting.Load() {
		return
	}
	switch ev.(type) {
	case *runtime.EventConsoleAPICalled, *runtime.EventExceptionThrown, *log.EventEntryAdded:
		tab.seen.Add(1)
	}
}

// sync waits, briefly, until collect has taken every console message read
// so far, so that what a command caused is in Console when it returns.
func (tab *Tab) sync() {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		tab.mu.Lock()
		done := tab.collected >= tab.seen.Load() || tab.closed
		tab.mu.Unlock()
		if done {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// URL returns the URL the tab was opened with.
func (tab *Tab) URL() string { return tab.url }

// Console returns the console messages of the tab so far, each as
// "level: text", for example "log: ready" or "error: failed".
// Uncaught exceptions are there too, as "exception: ...".
func (tab *Tab) Console() []string {
	tab.sync()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.console...)
}

// Exceptions returns the uncaught exceptions and unhandled promise
// rejections of the tab so far, each with its stack where there is one.
func (tab *Tab) Exceptions() []string {
	tab.sync()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.exceptions...)
}

// consoleReport formats the end of the tab's console for a failure message.
func (tab *Tab) consoleReport() string {
	lines := tab.Console()
	if len(lines) == 0 {
		return "\n(the tab's console is empty)"
	}
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return "\nlast console messages of the tab:\n\t" + strings.Join(lines, "\n\t")
}

// Eval evaluates the JavaScript expression js in the tab, waits for the
// promise it returns, if any, and decodes its value as JSON into out (out
// may be nil to ignore the value). A thrown exception, a rejected promise, a
// value that cannot be decoded or a result taking longer than CallTimeout
// fail the test. For statements, wrap them: `(async () => { ...; return x })()`.
// A paused tab (see Pause) evaluates nothing, so Eval on it times out.
func (tab *Tab) Eval(t testing.TB, js string, out any) {
	t.Helper()
	if err := tab.eval(CallTimeout, js, out); err != nil {
		t.Fatalf("%v%s", err, tab.consoleReport())
	}
}

func (tab *Tab) eval(timeout time.Duration, js string, out any) error {
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("evaluating %s: %w", abbrev(js), err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		return fmt.Errorf("evaluating %s: the result is undefined, want a value for %T", abbrev(js), out)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("evaluating %s: decoding %s into %T: %w", abbrev(js), abbrev(string(raw)), out, err)
	}
	return nil
}

// WaitFor evaluates the JavaScript expression jsCondition in the tab every
// few milliseconds until it is truthy (a promise is awaited), and fails the
// test if that does not happen within timeout. Exceptions thrown by the
// condition count as false, so it may refer to globals the page has not
// set yet.
func (tab *Tab) WaitFor(t testing.TB, jsCondition string, timeout time.Duration) {
	t.Helper()
	if err := tab.Await(jsCondition, timeout); err != nil {
		t.Fatal(err)
	}
}

// Await is WaitFor returning its failure, for callers that add what they
// know to it before failing.
func (tab *Tab) Await(jsCondition string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	expr := "(async () => !!(await (" + jsCondition + ")))()"
	var lastErr error
	for {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		var ok bool
		err := tab.eval(min(left, CallTimeout), expr, &ok)
		if err == nil && ok {
			return nil
		}
		if err == nil || time.Until(deadline) > 0 {
			// (An evaluation cut short by the deadline itself says
			// nothing about the condition.)
			lastErr = err
		}
		time.Sleep(min(pollInterval, max(time.Until(deadline), 0)))
	}
	why := "it stayed false"
	if lastErr != nil {
		why = "last error: " + lastErr.Error()
	}
	return fmt.Errorf("waiting %v for %s in %s: %s%s", timeout, abbrev(jsCondition), tab.url, why, tab.consoleReport())
}

// Close closes the tab as a user would (Target.closeTarget): the page gets
// pagehide and unload, but not beforeunload.
func (tab *Tab) Close(t testing.TB) {
	t.Helper()
	if !tab.markClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, target.CloseTarget, target.CloseTargetParams{TargetID: tab.id})
	tab.cancel()
	tab.wg.Wait()
	if err != nil {
		t.Fatalf("closing tab %s: %v", tab.url, err)
	}
}

// Crash kills the tab's renderer (Page.crash): no handler of the page runs,
// as when the process dies or is killed for memory. Crash returns once the
// browser reports the crash; the dead tab is then closed.
func (tab *Tab) Crash(t testing.TB) {
	t.Helper()
	if !tab.markClosed() {
		t.Fatalf("crashing tab %s: it is already closed", tab.url)
	}
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	crashed := chromedp.Events(ctx, inspector.TargetCrashed)
	// The renderer dies before it can answer, so the command itself
	// returns an error or nothing; the event is what tells.
	go chromedp.Call(ctx, page.Crash, cdp.Empty{})
	var err error
	for _, e := range crashed {
		err = e
		break
	}
	// Close the sad tab; the crash already released its locks.
	cctx, ccancel := context.WithTimeout(tab.b.ctx, CallTimeout)
	defer ccancel()
	_, _ = chromedp.CallBrowser(cctx, target.CloseTarget, target.CloseTargetParams{TargetID: tab.id})
	tab.cancel()
	tab.wg.Wait()
	if err != nil {
		t.Fatalf("crashing tab %s: no crash reported within %v: %v", tab.url, CallTimeout, err)
	}
}

// isClosed reports whether the tab was closed or crashed.
func (tab *Tab) isClosed() bool {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return tab.closed
}

func (tab *Tab) markClosed() bool {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if tab.closed {
		return false
	}
	tab.closed = true
	return true
}

// Pause stops all JavaScript of the tab at its next statement (Debugger.pause):
// timers, message handlers and promise callbacks stop running, while the
// tab keeps its Web Locks and stays open, as a hung or frozen tab does. A
// tab that is idle stops as soon as something (a timer, a message) would
// run. Resume undoes it. Eval and WaitFor time out on a paused tab.
func (tab *Tab) Pause(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, debugger.Enable, debugger.EnableParams{}); err != nil {
		t.Fatalf("pausing tab %s: Debugger.enable: %v", tab.url, err)
	}
	if _, err := chromedp.Call(ctx, debugger.Pause, cdp.Empty{}); err != nil {
		t.Fatalf("pausing tab %s: Debugger.pause: %v", tab.url, err)
	}
}

// Resume lets a tab stopped by Pause run again.
func (tab *Tab) Resume(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	// Resume fails when the page has not stopped yet (it ran no
	// JavaScript since Pause); disabling the debugger then drops the
	// pending pause, and resumes a stopped page as well.
	_, _ = chromedp.Call(ctx, debugger.Resume, debugger.ResumeParams{})
	if _, err := chromedp.Call(ctx, debugger.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("resuming tab %s: Debugger.disable: %v", tab.url, err)
	}
}

// Screenshot writes a PNG of the whole page, beyond the viewport, to path,
// creating its directory. It helps to look at what a failing test saw.
func (tab *Tab) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", tab.url, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Call runs one DevTools protocol command on the tab within CallTimeout
// and returns its result, for what the harness has no method for (the
// benchmarks read the heap with runtime.GetHeapUsage, for example). An error
// fails the test.
func Call[P, R any](t testing.TB, tab *Tab, cmd cdp.Command[P, R], params P) R {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		t.Fatalf("%s on %s: %v", cmd.Method, tab.url, err)
	}
	return r
}

// SetViewport sets the size of the tab's viewport in CSS pixels and its
// device scale factor: a screenshot then has width×scale by height×scale
// pixels.
func (tab *Tab) SetViewport(t testing.TB, width, height int64, scale float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(scale))); err != nil {
		t.Fatalf("setting the viewport of %s: %v", tab.url, err)
	}
}

// ViewportPNG returns a PNG of what the tab's viewport shows.
func (tab *Tab) ViewportPNG(t testing.TB) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, CallTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot of %s: %v", tab.url, err)
	}
	return png
}

// bounded runs f, and if it has not returned within timeout, calls stop
// (which must make f return) and reports the timeout.
func bounded(timeout time.Duration, stop func(), f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		stop()
		<-done
		return fmt.Errorf("no answer from the browser within %v", timeout)
	}
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// lockedBuffer collects the browser's output, which chromedp writes from
// its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the last 256 KiB: a long test must not grow it without bound.
	if b.buf.Len() > 256<<10 {
		rest := append([]byte(nil), b.buf.Bytes()[128<<10:]...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

// tail returns the last n lines written.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
