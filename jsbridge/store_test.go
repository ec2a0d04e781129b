//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteUpdateIsAppliedWithOneSetState(t *testing.T) {
	a, b := pair(t, "{x: 0, y: 0, z: 0}", "{throttleMs: 0}")
	b.set("{mine: 'b'}") // a key only b has, not in a's state
	eventually(t, "a to get b's key", func() bool { return a.get("mine") == `"b"` })
	calls, notes := b.store.Get("setStateCalls").Int(), b.store.Get("notifications").Int()
	remotes := b.log.Get("remote").Length()

	a.set("{x: 1, y: 2, z: 3}")

	eventually(t, "b to get the change", func() bool { return b.get("z") == "3" })
	assert.Equal(t, 1, b.store.Get("setStateCalls").Int()-calls, "one setState for the whole update")
	assert.Equal(t, 1, b.store.Get("notifications").Int()-notes, "so b's subscribers hear of it once")
	assert.Equal(t, `{"x":1,"y":2,"z":3,"mine":"b"}`, jsJSON(b.state()), "a shallow merge: b's other keys stay")
	assert.Equal(t, 1, b.log.Get("remote").Length()-remotes, "onRemoteUpdate once for the update")
}

func TestAppliedStateIsNotSentBack(t *testing.T) {
	a, b := pair(t, "{x: 0}", "{throttleMs: 0}")
	w := watch(t, a)

	a.set("{x: 1}")
	eventually(t, "b to get x", func() bool { return b.get("x") == "1" })
	// b's next own change goes out after anything applying x might have sent.
	b.set("{y: 1}")
	eventually(t, "a to get y", func() bool { return a.get("y") == "1" })
	eventually(t, "the watcher to see b's update", func() bool { return len(fromTab(w, b.tab, "STATE_UPDATE")) == 1 })

	ups := fromTab(w, b.tab, "STATE_UPDATE")
	assert.Equal(t, []string{"y"}, testModelKeys(ups[0].Get("payload").Get("state")), "b sends only its own change, never the x it applied")
}

// Stores written by hand often call listeners with the new state only.
func TestStoreWithoutPrevStateInItsListener(t *testing.T) {
	a, b := pairWith(t, "{x: 0, y: 0}", "{throttleMs: 0}", "{noPrevState: true}")
	w := watch(t, a)

	a.set("{x: 1}")
	eventually(t, "b to get x", func() bool { return b.get("x") == "1" })
	a.set("{y: 1}")
	eventually(t, "b to get y", func() bool { return b.get("y") == "1" })
	b.set("{x: 2}")
	eventually(t, "a to get b's x", func() bool { return a.get("x") == "2" })
	a.set("{y: 2}")
	eventually(t, "b to get the next y", func() bool { return b.get("y") == "2" })

	eventually(t, "the watcher to see a's three updates", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 3 })
	for _, up := range fromTab(w, a.tab, "STATE_UPDATE") {
		require.Len(t, testModelKeys(up.Get("payload").Get("state")), 1, "each update carries only the key that changed, known from the state seen last")
	}
	assert.Equal(t, "2", a.get("x"), "applying b's x was not taken for a change of a's own")
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
}

func TestStoreListenerIsRemovedByDestroy(t *testing.T) {
	store := jsTest.Call("createStore", jsEval("{x: 0}"))
	in := newInstance(t, store, jsEval("{channelName: 'listener'}"))
	in.start()
	assert.Equal(t, 1, store.Call("listeners").Int())
	in.stop()
	in.start()
	assert.Equal(t, 1, store.Call("listeners").Int(), "one subscription for the life of the instance")
	in.h.Call("destroy")
	assert.Equal(t, 0, store.Call("listeners").Int())
}

func TestStoreFailuresAreReported(t *testing.T) {
	// subscribe throws: reported, and the instance still answers and
	// receives (it only misses local changes).
	store := jsEval(`{getState: () => ({x: 0}), setState() {}, subscribe() { throw new Error('no subscriptions'); }}`)
	in := newInstance(t, store, jsEval("{channelName: 'subscribe-throws'}"))
	assert.NotPanics(t, in.start)
	require.NotEmpty(t, in.errors())
	assert.Contains(t, in.errors()[0], "start: store.subscribe failed")
	assert.Contains(t, in.errors()[0], "no subscriptions")
	assert.Equal(t, "no subscriptions", in.log.Get("errors").Index(0).Get("cause").Get("message").String(), "the cause is what the store threw")

	// getState throws.
	store = jsEval(`{getState() { throw new Error('no state'); }, setState() {}, subscribe: () => () => {}}`)
	in = newInstance(t, store, jsEval("{channelName: 'getstate-throws'}"))
	assert.NotPanics(t, in.start)
	require.NotEmpty(t, in.errors())
	assert.Contains(t, in.errors()[0], "store.getState failed")
}

func TestStoreSetStateThatThrowsIsReported(t *testing.T) {
	a, b := pair(t, "{x: 0}", "{throttleMs: 0}")
	b.store.Set("throwOnSet", "store is read-only")

	a.set("{x: 1}")

	eventually(t, "b to report the failed apply", func() bool { return len(b.errors()) > 0 })
	assert.Contains(t, b.errors()[0], "apply: store.setState threw while applying x from "+a.tab[len(a.tab)-6:])
	assert.Contains(t, b.errors()[0], "store is read-only")
	assert.Equal(t, 0, b.log.Get("remote").Length(), "onRemoteUpdate is not called for an update that did not apply")

	b.store.Set("throwOnSet", "")
	a.set("{x: 2}")
	eventually(t, "b to apply the next update", func() bool { return b.get("x") == "2" })
}

// Some stores notify their listeners later, batched in a microtask: by then
// the instance has finished applying, and the remote values it applied look
// like a local change. Sent again, object values (a new clone in each tab,
// never identical) would echo between the tabs for ever.
func TestStoreThatNotifiesLaterDoesNotEcho(t *testing.T) {
	a, b := pairWith(t, "{obj: {v: 0}, n: 0}", "{throttleMs: 0}", "{notifyLater: true}")
	w := watch(t, a)

	a.set("{obj: {v: 1}}")
	eventually(t, "b to get obj", func() bool { return b.get("obj") == `{"v":1}` })
	a.set("{n: 1}") // after b's notification of obj, whatever it sent
	eventually(t, "b to get n", func() bool { return b.get("n") == "1" })
	// The watcher is a receiver of its own: it may hear a message after b.
	eventually(t, "the watcher to see a's two updates", func() bool { return len(fromTab(w, a.tab, "STATE_UPDATE")) == 2 })
	assert.Empty(t, fromTab(w, b.tab, "STATE_UPDATE"), "b sends back nothing it applied")

	// b's own changes of the same keys still go out.
	b.set("{obj: {v: 2}}")
	eventually(t, "a to get b's obj", func() bool { return a.get("obj") == `{"v":2}` })
	b.set("{n: 2}")
	eventually(t, "a to get b's n", func() bool { return a.get("n") == "2" })
	eventually(t, "the watcher to see b's two updates", func() bool { return len(fromTab(w, b.tab, "STATE_UPDATE")) == 2 })
	assert.Len(t, fromTab(w, a.tab, "STATE_UPDATE"), 2, "and a sends none of them back")
}

// A store subscriber that derives a key from a remote change writes during
// the instance's setState: that write is the tab's own, and is synced.
func TestSubscriberWriteDuringARemoteApplyIsSynced(t *testing.T) {
	a, b := pair(t, "{x: 0, double: 0}", "{throttleMs: 0}")
	b.store.Call("subscribe", jsFunc("s", "if (s.double !== s.x * 2) this.setState({double: s.x * 2});").Call("bind", b.store))

	a.set("{x: 21}")

	eventually(t, "b to derive double", func() bool { return b.get("double") == "42" })
	eventually(t, "a to get b's double", func() bool { return a.get("double") == "42" })
	assert.Equal(t, "21", a.get("x"))
	assert.Equal(t, "21", b.get("x"))
}

// Two instances on one store and one channel in one tab: useBroadcastSync
// called in two components with the same store, or a module re-run by hot
// reloading. What one applies is no local change for the other: taken for
// one, object values bounced between the two for ever.
func TestTwoInstancesOnOneStoreDoNotEcho(t *testing.T) {
	channel := uniqueName(t, "ch")
	cfg := func() js.Value { return jsEval("{throttleMs: 0, channelName: '" + channel + "'}") }
	shared := jsTest.Call("createStore", jsEval("{obj: {v: 0}, n: 0}"))
	i1, i2 := newInstance(t, shared, cfg()), newInstance(t, shared, cfg())
	j := newInstance(t, jsTest.Call("createStore", jsEval("{obj: {v: 0}, n: 0}")), cfg())
	for _, in := range []*instance{i1, i2, j} {
		in.start()
	}
	eventually(t, "three instances", func() bool { return i1.connected() == 3 && i2.connected() == 3 && j.connected() == 3 })
	w := watch(t, j)

	i1.set("{obj: {v: 1}}")
	eventually(t, "j to get obj", func() bool { return j.get("obj") == `{"v":1}` })
	j.set("{obj: {v: 2}, n: 1}")
	eventually(t, "the shared store to get j's change", func() bool { return i1.get("obj") == `{"v":2}` && i1.get("n") == "1" })
	i1.set("{n: 2}")
	eventually(t, "j to get n = 2", func() bool { return j.get("n") == "2" })

	sent := len(fromTab(w, i1.tab, "STATE_UPDATE")) + len(fromTab(w, i2.tab, "STATE_UPDATE"))
	t.Logf("the two instances on one store sent %d updates for 2 local changes", sent)
	assert.LessOrEqual(t, sent, 8, "a few updates, not a storm")
	assert.Equal(t, `{"v":2}`, j.get("obj"))
	for _, in := range []*instance{i1, i2, j} {
		assert.Empty(t, in.errors())
	}
}
