//go:build js && wasm

package jsbridge

import (
	_ "embed"
	"os"
	"regexp"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/exports"
)

// The tests run in headless Chromium (tools/wasmtest.sh), against the
// browser's own BroadcastChannel: two instances in one page each open their
// own BroadcastChannel object on the same name, and those do hear each
// other. Delivery happens in later tasks of the event loop, so a test waits
// by parking its goroutine (which lets the event loop run), never inside a
// js.FuncOf, and every wait is bounded (eventually).
//
// How it parks matters. Whenever JavaScript calls into Go, the Go runtime
// runs every runnable goroutine before it returns to JavaScript. A test
// goroutine woken by a Go timer (time.Sleep) can therefore run in the
// middle of an instance's callback: between the store's setState and
// onRemoteUpdate, say, where it sees a half-done step, or while the
// instance applies a remote update, where its own setState of a key being
// applied is not taken for a local change. So the test
// goroutine never sleeps on a Go timer: pause wakes it from a JavaScript
// setTimeout task of its own, when no callback is running, as if the test
// were a script of the page.

//go:embed helpers.js
var helpersJS string

//go:embed testdata/harness.js
var harnessJS string

// jsTest is globalThis.__tabsyncTest from testdata/harness.js.
var jsTest js.Value

// JavaScript globals only the tests use (the module caches its own in
// model_js.go).
var (
	jsObjectProto = js.Global().Get("Object").Get("prototype")
	jsGetProto    = js.Global().Get("Object").Get("getPrototypeOf")
	jsKeys        = js.Global().Get("Object").Get("keys")
)

func TestMain(m *testing.M) {
	// The way the npm wrapper does it, minus the bundler: evaluate the
	// same file before the module serves anything. The test page has no
	// Content-Security-Policy, so the Function constructor is allowed.
	js.Global().Get("Function").New(helpersJS).Invoke()
	js.Global().Get("Function").New(harnessJS).Invoke()
	jsTest = js.Global().Get("__tabsyncTest")
	installExports()
	os.Exit(m.Run())
}

// installExports hands helpers.js the module's exports, as the npm loader
// does with the instance it made (npm/src/loader.js).
func installExports() {
	js.Global().Get("__tabsyncHelpers").Set("exports", exports.Find())
}

// jsEval returns the value of a JavaScript expression.
func jsEval(expr string) js.Value {
	return js.Global().Get("Function").New("return (" + expr + ");").Invoke()
}

// jsFunc returns a JavaScript function with the given parameters and body.
func jsFunc(params, body string) js.Value {
	return js.Global().Get("Function").New(params, body)
}

// jsJSON is JSON.stringify(v), for comparing JavaScript values.
func jsJSON(v js.Value) string {
	return js.Global().Get("JSON").Call("stringify", v).String()
}

// jsStrings copies a JavaScript array of strings.
func jsStrings(a js.Value) []string {
	out := make([]string, a.Length())
	for i := range out {
		out[i] = a.Index(i).String()
	}
	return out
}

var (
	woken = make(chan struct{}, 1)
	wake  = js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case woken <- struct{}{}:
		default:
		}
		return nil
	})
)

// pause lets the event loop run for about d, and resumes the test in a
// JavaScript task of its own (see the comment at the top of this file).
func pause(d time.Duration) {
	jsSetTimeout.Invoke(wake, d.Milliseconds())
	<-woken
}

// eventually waits until cond holds, letting the event loop run in
// between, and fails the test if it does not within a generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const limit = 5 * time.Second
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		pause(5 * time.Millisecond)
	}
}

var (
	seq       int
	unsafeTab = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// uniqueName returns a name no other test uses, so that the channels of
// different tests never hear each other.
func uniqueName(t *testing.T, kind string) string {
	seq++
	name := unsafeTab.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return kind + "-" + name + "-" + strconv.Itoa(seq)
}

// instance is one createBroadcastSync instance with its store and the log
// of its callbacks.
type instance struct {
	t     *testing.T
	s     *Sync
	h     js.Value // the handle the wrapper gets
	store js.Value
	log   js.Value // { errors, states, remote }
	tab   string
}

// newInstance creates an instance over store with config (a JavaScript
// object, to which recording callbacks are added where it has none). It is
// destroyed when the test ends. It is not started.
func newInstance(t *testing.T, store, config js.Value) *instance {
	t.Helper()
	log := jsObject.New()
	if config.Type() == js.TypeObject {
		log = jsTest.Call("record", config)
	}
	tab := uniqueName(t, "tab")
	s, err := New(store, config, tab)
	require.NoError(t, err)
	in := &instance{t: t, s: s, h: s.Handle(), store: store, log: log, tab: tab}
	t.Cleanup(in.s.Destroy) // a test may have destroyed it through the handle already
	return in
}

// pair starts two instances on one channel, each over its own store with
// initial state, and waits until each counts the other.
func pair(t *testing.T, initial string, config string) (a, b *instance) {
	t.Helper()
	return pairWith(t, initial, config, "{}")
}

// pairWith is pair with options for the test store (see createStore in
// testdata/harness.js).
func pairWith(t *testing.T, initial, config, storeOptions string) (a, b *instance) {
	t.Helper()
	channel := uniqueName(t, "ch")
	mk := func() *instance {
		cfg := jsEval(config)
		cfg.Set("channelName", channel)
		return newInstance(t, jsTest.Call("createStore", jsEval(initial), jsEval(storeOptions)), cfg)
	}
	a, b = mk(), mk()
	a.start()
	b.start()
	eventually(t, "the two instances to see each other", func() bool {
		return a.connected() == 2 && b.connected() == 2
	})
	return a, b
}

func (in *instance) start()          { in.h.Call("start") }
func (in *instance) stop()           { in.h.Call("stop") }
func (in *instance) active() bool    { return in.h.Call("isActive").Bool() }
func (in *instance) connected() int  { return in.h.Call("getConnectedTabs").Int() }
func (in *instance) state() js.Value { return in.store.Call("getState") }
func (in *instance) stats() js.Value { return in.h.Call("getStats") }

// set calls the store's setState with a partial state given as a
// JavaScript expression.
func (in *instance) set(partial string) { in.store.Call("setState", jsEval(partial)) }

// get returns JSON.stringify(state[key]).
func (in *instance) get(key string) string { return jsJSON(in.state().Get(key)) }

// errors returns the messages given to onError, each as "phase: message".
func (in *instance) errors() []string {
	es := in.log.Get("errors")
	out := make([]string, es.Length())
	for i := range out {
		out[i] = es.Index(i).Get("phase").String() + ": " + es.Index(i).Get("message").String()
	}
	return out
}

// states returns what onSyncStateChange was given.
func (in *instance) states() []string { return jsStrings(in.log.Get("states")) }
