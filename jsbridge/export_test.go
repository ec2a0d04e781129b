//go:build js && wasm

package jsbridge

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The paths through the export (export_js.go) that the other tests do not
// take: the patch applied by the watcher after the export returns, exports
// nested in one another, and a record too large for the kept inbox.

// TestTheDeferredPatchPath: an app without onRemoteUpdate gets its remote
// patches through the mask tabsync(1, ...) returns, applied by the watcher
// after the export (export_js.go, deferred). Every other jsbridge test has
// an onRemoteUpdate (harness.js record adds one), which keeps Go applying
// the patch itself.
func TestTheDeferredPatchPath(t *testing.T) {
	a, b := pair(t, "{n: 0, m: 0}", `{throttleMs: 0, onRemoteUpdate: undefined}`)
	require.True(t, b.s.opt.onRemoteUpdate.IsUndefined())

	a.set("{n: 1, m: 2}")
	eventually(t, "b to apply both keys", func() bool { return b.get("n") == "1" && b.get("m") == "2" })

	b.store.Set("setState", jsFunc("", "throw new Error('read-only');"))
	a.set("{n: 3}")
	eventually(t, "b to report setState", func() bool { return len(b.errors()) > 0 })
	assert.Regexp(t, `^apply: store.setState threw while applying n from [\w-]+: JavaScript error: read-only$`, b.errors()[0])
}

// TestAWriteFromOnRemoteUpdateInsideTheExport: with shouldSync (eager), a
// write onRemoteUpdate makes reaches Go at once, as tabsync(2, ...) nested
// in the tabsync(1, ...) that is applying the remote patch; both go on.
func TestAWriteFromOnRemoteUpdateInsideTheExport(t *testing.T) {
	channel := uniqueName(t, "ch")
	holder := jsEval("{}")
	a := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0, d: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"'}"))
	cfg := jsEval("{throttleMs: 0, channelName: '" + channel + "', shouldSync: () => true}")
	cfg.Set("onRemoteUpdate", jsFunc("keys", "if (keys.includes('n')) this.s.setState({d: this.s.getState().n * 2});").Call("bind", holder))
	b := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0, d: 0}")), cfg)
	holder.Set("s", b.store)
	a.start()
	b.start()
	eventually(t, "two tabs", func() bool { return a.connected() == 2 && b.connected() == 2 })
	for i := 1; i <= 5; i++ {
		a.set("{n: " + strconv.Itoa(i) + "}")
		eventually(t, "a to get d", func() bool { return a.get("d") == strconv.Itoa(2*i) })
	}
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}

// TestALargeRecordOfNonASCIIKeysBothWays: a task that changes more keys
// than the kept inbox holds (the record over 8 KB, in the buffer made for
// it), keys of two-, three- and four-byte UTF-8 characters, received with
// and without onRemoteUpdate.
func TestALargeRecordOfNonASCIIKeysBothWays(t *testing.T) {
	for _, cfg := range []string{`{throttleMs: 0}`, `{throttleMs: 0, onRemoteUpdate: undefined}`} {
		a, b := pair(t, "{}", cfg)
		a.store.Call("setState", jsEval(`(() => { const o = {}; for (let i = 0; i < 400; i++) o['ключ-é-€-😀-' + i] = 'значение ' + i; return o; })()`))
		eventually(t, "b to get every key", func() bool {
			return jsEval(`(s) => Object.keys(s).length`).Invoke(b.state()).Int() == 400
		})
		assert.Equal(t, `"значение 399"`, jsJSON(b.state().Get("ключ-é-€-😀-399")))
		b.store.Call("setState", jsEval(`{'ключ-é-€-😀-7': 'b'}`))
		eventually(t, "a to get b's write", func() bool { return jsJSON(a.state().Get("ключ-é-€-😀-7")) == `"b"` })
		assert.Empty(t, a.errors())
		assert.Empty(t, b.errors())
	}
}

// TestASubscriberStopsDuringTheDeferredApply: without onRemoteUpdate the
// watcher applies the remote patch after the export returned; a store
// subscriber that stops, starts again or destroys the instance meanwhile.
func TestASubscriberStopsDuringTheDeferredApply(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	a, b := pair(t, "{n: 0}", `{throttleMs: 0, onRemoteUpdate: undefined}`)
	holder := jsEval("{}")
	holder.Set("h", b.h)
	unsub := b.store.Call("subscribe", jsFunc("s", "if (s.n === 1) this.h.stop(); if (s.n === 3) this.h.destroy();").Call("bind", holder))
	defer unsub.Invoke()

	a.set("{n: 1}")
	eventually(t, "b to apply and stop", func() bool { return b.get("n") == "1" && !b.s.Active() })
	b.start()
	eventually(t, "b back", func() bool { return a.connected() == 2 && b.connected() == 2 })
	a.set("{n: 2}")
	eventually(t, "b to apply 2", func() bool { return b.get("n") == "2" })
	a.set("{n: 3}")
	eventually(t, "b to apply 3 and be destroyed", func() bool { return b.get("n") == "3" && !b.s.Active() })
	a.set("{n: 4}")
	pause(50 * time.Millisecond)
	assert.Equal(t, "3", b.get("n"))
	assert.Empty(t, b.errors())
	assert.Equal(t, 0, console.Get("lines").Length(), "console.error: %v", jsJSON(console.Get("lines")))
}

// TestAPostMessageThatThrowsIsReported: a message leaves through the outbox
// (outbox_js.go) and is posted by the watcher after the export returned;
// when postMessage throws for a reason other than a value (here the
// channel's own postMessage), Go hears of it (opPostFailed, the watcher's
// thrown) and reports the message with the browser's error, and the next
// message goes out once postMessage works again.
func TestAPostMessageThatThrowsIsReported(t *testing.T) {
	a, b := pair(t, "{n: 0}", `{throttleMs: 0}`)
	a.s.channel.Set("postMessage", jsFunc("", "throw new Error('refused');"))
	a.set("{n: 1}")
	eventually(t, "a to report the post", func() bool { return len(a.errors()) > 0 })
	assert.Equal(t, "send: postMessage failed for STATE_UPDATE: JavaScript error: refused", a.errors()[0])
	assert.Equal(t, "0", b.get("n"))

	a.s.channel.Delete("postMessage") // BroadcastChannel.prototype's again
	a.set("{n: 2}")
	eventually(t, "b to get the next change", func() bool { return b.get("n") == "2" })
	assert.Len(t, a.errors(), 1)
}

// TestAPostMessageThatThrowsIsReportedPastTheInt32sNumbers: the outbox's
// messages are numbered for opPostFailed, whose parameter is an int32: a
// page that sent 2^31 messages still hears of a post that threw.
func TestAPostMessageThatThrowsIsReportedPastTheInt32sNumbers(t *testing.T) {
	a, _ := pair(t, "{n: 0}", `{throttleMs: 0}`)
	outFirst = math.MaxInt32
	a.s.channel.Set("postMessage", jsFunc("", "throw new Error('refused');"))
	a.set("{n: 1}")
	eventually(t, "a to report the first post", func() bool { return len(a.errors()) == 1 })
	a.set("{n: 2}")
	eventually(t, "a to report the post past 2^31", func() bool { return len(a.errors()) == 2 })
	assert.Equal(t, "send: postMessage failed for STATE_UPDATE: JavaScript error: refused", a.errors()[1])
}

// TestAChangeShouldSyncMakesInsideTheExport: with shouldSync (eager), a
// setState that shouldSync itself makes reaches Go at once, as tabsync(2,
// ...) nested in the tabsync(2, ...) whose change shouldSync is judging.
// The nested call reads its changes into a localState of its own (local,
// sync_js.go): in the one the instance keeps, it would overwrite the keys
// the outer call's engine has yet to read after shouldSync returns.
func TestAChangeShouldSyncMakesInsideTheExport(t *testing.T) {
	channel := uniqueName(t, "ch")
	holder := jsEval("{}")
	cfg := jsEval("{throttleMs: 0, channelName: '" + channel + "'}")
	cfg.Set("shouldSync", jsFunc("prev, next", "if (next.n === 1 && next.m === 0) this.s.setState({m: 2}); return true;").Call("bind", holder))
	a := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0, m: 0}")), cfg)
	holder.Set("s", a.store)
	b := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0, m: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"'}"))
	a.start()
	b.start()
	eventually(t, "two tabs", func() bool { return a.connected() == 2 && b.connected() == 2 })

	a.set("{n: 1}")
	eventually(t, "b to get m", func() bool { return b.get("m") == "2" })
	pause(50 * time.Millisecond)
	assert.Equal(t, "1", b.get("n"), "the outer change's own value")
	assert.Equal(t, "1", a.get("n"))
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}
