//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every callback of the config is the application's code: whatever it
// throws is reported through onError and syncing goes on.

func TestShouldSyncDecidesAndItsThrowIsReported(t *testing.T) {
	a, b := pair(t, "{n: 0, draft: false}", `{throttleMs: 0, shouldSync(prev, next) {
		if (next.n === 13) throw new Error('unlucky');
		return !next.draft;
	}}`)

	a.set("{n: 1}")
	eventually(t, "b to get n = 1", func() bool { return b.get("n") == "1" })

	a.set("{n: 2, draft: true}")
	a.set("{n: 13, draft: false}")
	assert.Equal(t, []string{"send: shouldSync failed; the change stays in this tab: JavaScript error: unlucky"}, a.errors())
	assert.True(t, a.log.Get("errors").Index(0).Get("cause").InstanceOf(js.Global().Get("Error")), "the cause is the Error shouldSync threw")

	a.set("{n: 14}")
	eventually(t, "b to get n = 14", func() bool { return b.get("n") == "14" })
	assert.Equal(t, "false", b.get("draft"), "the change shouldSync refused stayed in a")
	for _, r := range remoteKeys(b) {
		assert.NotContains(t, r, "draft")
	}
}

// remoteKeys returns the keys of each onRemoteUpdate call.
func remoteKeys(in *instance) [][]string {
	rs := in.log.Get("remote")
	out := make([][]string, rs.Length())
	for i := range out {
		out[i] = jsStrings(rs.Index(i).Get("keys"))
	}
	return out
}

// conflictOn makes b and a write key concurrently, b first: b writes while
// stopped, a writes and sends, then b starts and sends its earlier write,
// which a, holding the later one, resolves.
func conflictOn(t *testing.T, a, b *instance, bWrite, aWrite string) {
	t.Helper()
	b.stop()
	eventually(t, "a to see b leave", func() bool { return a.connected() == 1 })
	b.set(bWrite)
	pause(5 * time.Millisecond) // a's write must carry a later clock
	a.set(aWrite)
	b.start()
}

func TestCustomResolverCombinesConflictingWrites(t *testing.T) {
	a, b := pair(t, "{tags: []}", `{throttleMs: 0, conflictStrategy: 'custom',
		customResolver: (local, remote) => ({tags: [...new Set([...local.tags, ...remote.tags])].sort()})}`)

	conflictOn(t, a, b, "{tags: ['from-b']}", "{tags: ['from-a']}")

	eventually(t, "both to hold the combined value", func() bool {
		return a.get("tags") == `["from-a","from-b"]` && b.get("tags") == `["from-a","from-b"]`
	})
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
	assert.Positive(t, a.stats().Get("conflicts").Int())
}

func TestCustomResolverThatThrowsIsReported(t *testing.T) {
	a, b := pair(t, "{v: 0, w: 0}", `{throttleMs: 0, conflictStrategy: 'custom',
		customResolver(local, remote) { throw new Error('cannot decide'); }}`)

	conflictOn(t, a, b, "{v: 1}", "{v: 2}")

	eventually(t, "a to report the failed resolve", func() bool { return len(a.errors()) > 0 })
	assert.Contains(t, a.errors()[0], `resolve: customResolver failed for "v"; the local value stays`)
	assert.Contains(t, a.errors()[0], "cannot decide")
	assert.Equal(t, "2", a.get("v"))

	b.set("{w: 5}")
	eventually(t, "a to keep syncing", func() bool { return a.get("w") == "5" })
}

func TestOnRemoteUpdateThatThrowsIsReported(t *testing.T) {
	a, b := pair(t, "{n: 0}", `{throttleMs: 0, onRemoteUpdate(keys, source) { throw new TypeError('render failed'); }}`)

	a.set("{n: 1}")

	eventually(t, "b to report", func() bool { return len(b.errors()) > 0 })
	assert.Equal(t, "1", b.get("n"), "the store was updated before onRemoteUpdate threw")
	assert.Contains(t, b.errors()[0], "apply: onRemoteUpdate threw: JavaScript error: render failed")
	cause := b.log.Get("errors").Index(0).Get("cause")
	assert.True(t, cause.InstanceOf(js.Global().Get("TypeError")), "the cause is what onRemoteUpdate threw, stack and all")
	assert.Equal(t, "render failed", cause.Get("message").String())
	a.set("{n: 2}")
	eventually(t, "b to keep syncing", func() bool { return b.get("n") == "2" })
	assert.Len(t, b.errors(), 2)
}

func TestOnSyncStateChangeThatThrowsIsReported(t *testing.T) {
	cfg := jsEval(`{throttleMs: 0, channelName: 'state-throws', onSyncStateChange(s) { throw new Error('state ' + s); }}`)
	in := newInstance(t, emptyStore(), cfg)

	in.start()

	assert.True(t, in.active(), "a throwing onSyncStateChange does not stop the start")
	assert.Equal(t, []string{"start: onSyncStateChange threw: JavaScript error: state connected"}, in.errors())
	in.stop()
	assert.False(t, in.active())
	assert.Len(t, in.errors(), 2)
}

func TestOnErrorThatThrowsGoesToTheConsole(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	a, b := pair(t, "{n: 0}", `{throttleMs: 0,
		onError(e) { throw new Error('onError is broken'); },
		onRemoteUpdate() { throw new Error('so is onRemoteUpdate'); }}`)

	a.set("{n: 1}")

	eventually(t, "the report to reach the console", func() bool { return console.Get("lines").Length() > 0 })
	line := console.Get("lines").Index(0).String()
	assert.Contains(t, line, "[tabsync:"+b.tab[len(b.tab)-6:]+"] onError threw: JavaScript error: onError is broken; the error it was given:")
	assert.Equal(t, "1", b.get("n"))
	a.set("{n: 2}")
	eventually(t, "b to keep syncing", func() bool { return b.get("n") == "2" })
}

func TestInstancesWithoutOnErrorReportToTheConsole(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	a, b := pair(t, "{n: 0}", `{throttleMs: 0, onError: undefined, onRemoteUpdate() { throw new Error('oops'); }}`)

	a.set("{n: 1}")

	eventually(t, "the report to reach the console", func() bool { return console.Get("lines").Length() > 0 })
	assert.Equal(t, "[tabsync:"+b.tab[len(b.tab)-6:]+"] apply: onRemoteUpdate threw: JavaScript error: oops", console.Get("lines").Index(0).String())
}

// Applications stop or destroy an instance from inside its own callbacks
// (a React effect cleanup that runs during a render onRemoteUpdate caused).
func TestCallbacksMayStopOrDestroyTheirInstance(t *testing.T) {
	for _, method := range []string{"stop", "destroy"} {
		t.Run(method, func(t *testing.T) {
			channel := uniqueName(t, "ch")
			holder := jsEval("{}")
			a := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"'}"))
			cfg := jsEval("{throttleMs: 0, channelName: '" + channel + "'}")
			cfg.Set("onRemoteUpdate", jsFunc("", "this.h."+method+"();").Call("bind", holder))
			b := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), cfg)
			holder.Set("h", b.h)
			a.start()
			b.start()
			eventually(t, "two tabs", func() bool { return a.connected() == 2 && b.connected() == 2 })

			a.set("{n: 1}")

			eventually(t, "b to apply and stop", func() bool { return b.get("n") == "1" && !b.s.Active() })
			assert.True(t, b.s.timer.IsUndefined())
			eventually(t, "a to see b leave", func() bool { return a.connected() == 1 })
			a.set("{n: 2}")
			b2 := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"'}"))
			b2.start()
			eventually(t, "a new tab to get n = 2", func() bool { return b2.get("n") == "2" })
			assert.Equal(t, "1", b.get("n"))
			assert.Empty(t, b.errors())
		})
	}
}

// JavaScript code may throw anything, not only Errors. syscall/js's
// js.Error panics when asked for the message of a thrown string, null or
// number, so each of these used to turn into an internal error or worse.
func TestCallbacksThrowingNonErrorsAreReported(t *testing.T) {
	a, b := pair(t, "{n: 0, v: 0}", `{throttleMs: 0, conflictStrategy: 'custom',
		shouldSync(prev, next) { if (next.n === 13) throw 'unlucky'; return true; },
		customResolver() { throw 42; },
		onRemoteUpdate(keys) { if (keys.includes('n')) throw null; }}`)

	a.set("{n: 13}")
	require.NotEmpty(t, a.errors())
	assert.Equal(t, "send: shouldSync failed; the change stays in this tab: JavaScript error: unlucky", a.errors()[0])
	assert.Equal(t, "unlucky", a.log.Get("errors").Index(0).Get("cause").String(), "the cause is the thrown value")

	a.set("{n: 14}")
	eventually(t, "b to report onRemoteUpdate", func() bool { return len(b.errors()) > 0 })
	assert.Equal(t, "apply: onRemoteUpdate threw: JavaScript error: null", b.errors()[0])
	assert.True(t, b.log.Get("errors").Index(0).Get("cause").IsNull())

	conflictOn(t, a, b, "{v: 1}", "{v: 2}")
	eventually(t, "a to report the resolver", func() bool { return len(a.errors()) > 1 })
	assert.Contains(t, a.errors()[1], `resolve: customResolver failed for "v"; the local value stays: JavaScript error: 42`)

	b.store.Set("throwOnSet", "")
	b.store.Set("setState", jsFunc("", "throw 'read-only';"))
	a.set("{n: 15}")
	eventually(t, "b to report setState", func() bool { return len(b.errors()) > 1 })
	assert.Regexp(t, `^apply: store.setState threw while applying \w+ from [\w-]+: JavaScript error: read-only$`, b.errors()[1])
	for _, in := range []*instance{a, b} {
		for _, e := range in.errors() {
			assert.NotContains(t, e, "internal error")
		}
	}
}

func TestOnErrorAndOnSyncStateChangeThrowingNonErrors(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	cfg := jsEval(`{channelName: 'throws-non-errors', onError(e) { throw undefined; }, onSyncStateChange(s) { throw 'state ' + s; }}`)
	in := newInstance(t, emptyStore(), cfg)

	in.start()
	assert.True(t, in.active())
	lines := jsStrings(console.Get("lines"))
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "onError threw: JavaScript error: undefined; the error it was given:")
}

// A getter in the state that throws a string, met while listing the
// changed keys, is an internal error like any other: reported, and the
// module serves on.
func TestStateGetterThrowingAStringIsReported(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0}")
	a.store.Call("setState", jsEval("({n: 1, get boom() { throw 'revoked'; }})"), true)
	require.NotEmpty(t, a.errors())
	assert.Contains(t, a.errors()[0], "revoked")
	a.store.Call("setState", jsEval("{n: 2}"), true)
	eventually(t, "b to get n = 2", func() bool { return b.get("n") == "2" })
}
