//go:build e2e && !(js && wasm)

package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFaults checks what the user sees when tabs crash, hang, reload in a
// loop, or run in a browser without IndexedDB or with one that fails.
// (A browser without BroadcastChannel: TestSync/NoBroadcastChannel; a
// transaction that aborts and a database deleted under a running tab:
// TestPersist.)
func TestFaults(t *testing.T) {
	s := newSuite(t)
	t.Run("CrashMidBurst", s.testCrashMidBurst)
	t.Run("FrozenTabCatchesUp", s.testFrozenTabCatchesUp)
	t.Run("ReloadLoop", s.testReloadLoop)
	t.Run("NoIndexedDB", s.testNoIndexedDB)
	t.Run("IndexedDBFailsToOpen", s.testIndexedDBFailsToOpen)
}

// A tab whose renderer dies in the middle of a throttled burst: the other
// tabs agree on the last value it managed to send and keep syncing among
// themselves.
func (s *suite) testCrashMidBurst(t *testing.T) {
	ch := channelFor(t)
	// Not from the pool: this tab is crashed, not closed.
	doomed := &testPage{Tab: s.b.OpenTab(t, s.base+"/page.html")}
	doomed.WaitFor(t, `window.pageReady === true`, LoadTimeout)
	doomed.setup(t, ch, `throttleMs: 50`, "{}")
	b, c := s.open(t, ""), s.open(t, "")
	b.setup(t, ch, ``, "{}")
	c.setup(t, ch, ``, "{}")
	for _, p := range []*testPage{b, c} {
		p.waitFor(t, `sync.getConnectedTabs() === 3`)
	}

	// The burst runs on in the page; the crash comes once some of it has
	// gone out.
	doomed.Eval(t, `burst("n", 1000, 2), true`, nil)
	b.waitFor(t, `store.getState().n >= 20`)
	doomed.Crash(t)

	// b and c end with the same value, whatever it is: the last one that
	// went out before the crash.
	var last int
	for settled := false; !settled; {
		var nb int
		b.Eval(t, `store.getState().n`, &nb)
		c.waitFor(t, fmt.Sprintf(`store.getState().n === %d`, nb))
		b.Eval(t, `store.getState().n`, &last)
		settled = last == nb // nothing more arrived meanwhile
	}
	t.Logf("the crashed tab's last value to arrive: n = %d of 999", last)
	assert.Less(t, last, 999, "the crash came before the end of the burst")

	// The others keep syncing (and count it out once it has been silent
	// for the peer timeout).
	b.set(t, `{after: 1}`)
	c.waitFor(t, `store.getState().after === 1`)
	c.set(t, `{after: 2}`)
	b.waitFor(t, `store.getState().after === 2`)
	for _, p := range []*testPage{b, c} {
		assert.Empty(t, p.calls(t).Errors)
	}
}

// A tab hung (its JavaScript stopped, as a frozen tab or one blocked in a
// long task) while the others write catches up once it runs again: it gets
// the backlog of messages, and answers the others.
func (s *suite) testFrozenTabCatchesUp(t *testing.T) {
	ch := channelFor(t)
	a, b, frozen := s.open(t, ""), s.open(t, ""), s.open(t, "")
	for _, p := range []*testPage{a, b, frozen} {
		p.setup(t, ch, `throttleMs: 0`, `{n: 0}`)
	}
	a.set(t, `{n: 1}`)
	frozen.waitFor(t, `store.getState().n === 1`)

	frozen.Pause(t)
	for i := 2; i <= 6; i++ {
		a.set(t, fmt.Sprintf(`{n: %d, ["a%d"]: %d}`, i, i, i))
		b.set(t, fmt.Sprintf(`{["b%d"]: %d}`, i, i))
	}
	b.waitFor(t, `store.getState().n === 6 && store.getState().a6 === 6`)
	frozen.Resume(t)

	frozen.waitFor(t, `store.getState().n === 6 && store.getState().a6 === 6 && store.getState().b6 === 6`)
	var sa, sf string
	a.waitFor(t, `store.getState().b6 === 6`)
	a.Eval(t, `canon(store.getState())`, &sa)
	frozen.Eval(t, `canon(store.getState())`, &sf)
	assert.Equal(t, sa, sf, "the resumed tab holds what the others hold")
	frozen.set(t, `{back: 1}`)
	a.waitFor(t, `store.getState().back === 1`)
	b.waitFor(t, `store.getState().back === 1`)
}

// A tab reloaded again and again while another writes: after each reload
// it shows the current state, and the other tabs do not count its old
// selves.
func (s *suite) testReloadLoop(t *testing.T) {
	ch := channelFor(t)
	a, r := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, `throttleMs: 0`, `{n: 0}`)
	r.setup(t, ch, `throttleMs: 0`, `{n: 0}`)
	for i := 1; i <= 4; i++ {
		a.set(t, fmt.Sprintf(`{n: %d, ["k%d"]: %d}`, i, i, i))
		r.Eval(t, `window.beforeReload = true, setTimeout(() => location.reload(), 0), true`, nil)
		a.set(t, fmt.Sprintf(`{during: %d}`, i)) // while r reloads
		r.WaitFor(t, `window.pageReady === true && window.beforeReload === undefined`, LoadTimeout)
		r.setup(t, ch, `throttleMs: 0`, `{n: 0}`)
		r.waitFor(t, fmt.Sprintf(`store.getState().n === %d && store.getState().k%d === %d && store.getState().during === %d`, i, i, i, i))
		a.waitFor(t, `sync.getConnectedTabs() === 2`)
	}
	r.set(t, `{fromR: 1}`)
	a.waitFor(t, `store.getState().fromR === 1`)
	assert.Empty(t, a.calls(t).Errors)
	assert.Empty(t, r.calls(t).Errors)
}

// Without IndexedDB, persistence is off and reported once; the tab syncs
// with the others as usual.
func (s *suite) testNoIndexedDB(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	p := &testPage{Tab: s.b.OpenTab(t, s.base+"/page.html?noidb")}
	t.Cleanup(func() {
		assert.Empty(t, p.Exceptions())
		p.Close(t)
	})
	p.WaitFor(t, `window.pageReady === true`, LoadTimeout)
	var supported map[string]bool
	p.Eval(t, `lib.isSupported()`, &supported)
	assert.False(t, supported["indexedDB"])
	other := s.open(t, "")
	p.setup(t, ch, persistConfig(db, ""), `{n: 0}`)
	other.setup(t, ch, `throttleMs: 0`, `{n: 0}`)
	p.set(t, `{n: 1}`)
	other.waitFor(t, `store.getState().n === 1`)
	other.set(t, `{n: 2}`)
	p.waitFor(t, `store.getState().n === 2`)
	c := p.calls(t)
	if assert.Len(t, c.Errors, 1, c.errorText()) {
		assert.Equal(t, "persist", c.Errors[0].Phase)
		assert.Contains(t, c.Errors[0].Message, "IndexedDB")
	}
	assert.Equal(t, []string{"connected"}, c.States)
}

// An IndexedDB that fails to open (a full disk, a profile the browser
// cannot write, a blocked upgrade): reported, and syncing goes on without
// it.
func (s *suite) testIndexedDBFailsToOpen(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	p, other := s.open(t, ""), s.open(t, "")
	p.Eval(t, `(() => {
		const open = IDBFactory.prototype.open;
		window.restoreOpen = () => { IDBFactory.prototype.open = open; };
		IDBFactory.prototype.open = function () { throw new DOMException("the disk is full", "QuotaExceededError"); };
		return true;
	})()`, nil)
	t.Cleanup(func() { p.Eval(t, `restoreOpen(), true`, nil) })
	other.setup(t, ch, `throttleMs: 0`, `{n: 5}`)
	other.set(t, `{n: 6}`)
	p.setup(t, ch, persistConfig(db, ""), `{n: 0}`)
	p.waitFor(t, `store.getState().n === 6`)
	p.set(t, `{n: 7}`)
	other.waitFor(t, `store.getState().n === 7`)
	c := p.calls(t)
	if assert.NotEmpty(t, c.Errors) {
		assert.Equal(t, "persist", c.Errors[0].Phase)
		assert.Contains(t, c.Errors[0].Message, "disk is full")
	}
	t.Logf("what the user's onError got: %s", c.errorText())
}
