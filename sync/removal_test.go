package sync_test

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// strategies are the four conflict strategies, configured; custom with a
// resolver that keeps this tab's values.
func strategies() map[string]tsync.Config {
	keepLocal := func(local, remote conflict.Value) (conflict.Value, error) { return local, nil }
	return map[string]tsync.Config{
		"last-write-wins":  {Strategy: conflict.LastWriteWins},
		"first-write-wins": {Strategy: conflict.FirstWriteWins},
		"merge":            {Strategy: conflict.Merge},
		"custom":           {Strategy: conflict.Custom, Custom: keepLocal},
	}
}

// A key removed in one tab (zustand's setState(next, true)) leaves every
// tab's store, and stays removed when a STATE_RESPONSE sent before the
// removal arrives late, and when a tab restores the old value from storage.
func TestRemovedKeyLeavesEveryTabAndStaysRemoved(t *testing.T) {
	for name, cfg := range strategies() {
		t.Run(name, func(t *testing.T) {
			cfg.Persist = true
			a, b, c := newTab(t, "a", cfg), newTab(t, "b", cfg), newTab(t, "c", cfg)
			h := &hub{tabs: []*tab{a, b}}
			a.start(t0)
			b.start(t0)
			h.settle(t0)
			written := a.set(t0+10, "draft", "hello", "title", "T")
			h.settle(t0 + 10)
			require.Equal(t, "hello", b.store["draft"])
			stored := written.Persist // what a stored: the old value of draft

			// c opens; a answers its request, and the answer is slow.
			c.start(t0 + 90)
			req := c.sentOf(protocol.StateRequest)
			require.Len(t, req, 1)
			a.deliver(t0+100, req...)
			resp := a.sentOf(protocol.StateResponse)
			require.Len(t, resp, 1)
			require.Contains(t, msgKeys(resp[0]), "draft")

			// a removes draft; b and c learn of it.
			h.tabs = append(h.tabs, c)
			h.skip()
			removal := a.remove(t0+110, "draft")
			require.NotEmpty(t, removal.Messages)
			b.deliver(t0+111, removal.Messages...)
			c.deliver(t0+111, removal.Messages...)
			for _, tb := range []*tab{a, b, c} {
				assert.NotContains(t, tb.store, "draft", "%s still has the removed key", tb.e.Tab())
			}
			assert.Equal(t, "T", b.store["title"])
			assert.Contains(t, entryKeys(removal.Persist), "draft", "the writer stores the removal")

			// The late answer carries the old value: it stays removed.
			c.deliver(t0+120, resp...)
			assert.NotContains(t, c.store, "draft", "a late STATE_RESPONSE brought the key back")
			assert.Equal(t, "T", c.store["title"], "the other keys of the late answer are taken")

			// A tab restoring the old value from storage: it stays removed
			// there, once the others answer, and in the others.
			d := newTab(t, "d", cfg)
			d.do(d.e.Restore(t0+150, stored))
			require.Equal(t, "hello", d.store["draft"])
			h.tabs = append(h.tabs, d)
			d.start(t0 + 150)
			h.settle(t0 + 150)
			h.tickAll(t0 + 2000)
			for _, tb := range h.tabs {
				assert.NotContains(t, tb.store, "draft", "%s has the key back after a restore", tb.e.Tab())
			}
			// And b restoring the old record itself changes nothing.
			b.do(b.e.Restore(t0+2100, stored))
			assert.NotContains(t, b.store, "draft")
		})
	}
}

// A write that knows of the removal sets the key again, in every tab.
func TestAKeyWrittenAfterItsRemovalIsBack(t *testing.T) {
	for name, cfg := range strategies() {
		t.Run(name, func(t *testing.T) {
			a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
			h := &hub{tabs: []*tab{a, b}}
			a.start(t0)
			b.start(t0)
			a.set(t0+10, "draft", "one")
			h.settle(t0 + 10)
			a.remove(t0+20, "draft")
			h.settle(t0 + 20)
			b.set(t0+30, "draft", "two")
			h.settle(t0 + 30)
			assert.Equal(t, "two", a.store["draft"])
			assert.Equal(t, "two", b.store["draft"])
		})
	}
}

// Tombstones are collected: many keys added and removed leave no trace once
// every tab holds the removals and TombstoneMs has passed, and while the
// rounds go on their number stays bounded by the removals of the last
// TombstoneMs and a ping interval or two.
func TestTombstonesDoNotGrowOverManyAddRemoveRounds(t *testing.T) {
	cfg := tsync.Config{PingMs: 1000, TombstoneMs: 2000, Persist: true}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)
	now := t0
	most := 0
	collected := map[string]bool{}
	note := func(rd tsync.Ready) {
		for _, en := range rd.Unpersist {
			collected[en.Key] = true
		}
	}
	for i := 0; i < 2000; i++ {
		k := "item" + strconv.Itoa(i)
		a.set(now, k, float64(i))
		h.settle(now)
		rd := b.remove(now+1, k)
		note(rd)
		h.settle(now + 1)
		if i%10 == 9 {
			now += 100
			for _, tb := range h.tabs {
				note(tb.tick(now))
			}
			h.settle(now)
		}
		most = max(most, len(a.e.Keys()), len(b.e.Keys()))
	}
	// 100 removals a second for TombstoneMs (2 s) plus up to two ping
	// intervals for the peer's agreeing ping: at most 400 held at once.
	t.Logf("keys held at most by one tab over 2,000 rounds: %d", most)
	assert.LessOrEqual(t, most, 400, "tombstones held at once")
	for end := now + 1000; now < end+4000; now += 500 {
		for _, tb := range h.tabs {
			note(tb.tick(now))
		}
		h.settle(now)
	}
	assert.Empty(t, a.e.Keys(), "a holds no tombstone once quiet")
	assert.Empty(t, b.e.Keys(), "b holds no tombstone once quiet")
	assert.Empty(t, a.store)
	assert.Empty(t, b.store)
	assert.Len(t, collected, 2000, "every stored tombstone is asked to go")
}

// A tombstone waits for every live tab: while one holds the old value (it
// missed the removal), nobody collects it, and anti-entropy hands it the
// removal.
func TestTombstoneWaitsForATabThatMissedTheRemoval(t *testing.T) {
	cfg := tsync.Config{PingMs: 1000, TombstoneMs: 2000}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	a.set(t0+10, "draft", "x")
	h.settle(t0 + 10)
	a.remove(t0+20, "draft")
	h.skip() // b never gets the removal
	require.Equal(t, "x", b.store["draft"])
	_, v, ok := a.e.Value("draft")
	require.True(t, ok)
	for now := t0 + 1000; now <= t0+8000; now += 1000 {
		h.tickAll(now)
	}
	assert.NotContains(t, b.store, "draft", "anti-entropy delivered the removal")
	assert.NotContains(t, a.store, "draft")
	_, held, _ := b.e.Value("draft")
	assert.True(t, held.Clock == v.Clock || held.IsZero(), "b holds a's removal or collected it")
}

func msgKeys(m protocol.Message) []string {
	var out []string
	for _, e := range m.Entries {
		out = append(out, e.Key)
	}
	return out
}

func entryKeys(entries []protocol.Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Key)
	}
	return out
}

// TestRemovedKeysStayRemoved is the simulator's property of removals, under
// every strategy (one per seed, in turn): tabs set and remove keys (objects
// of fields, so merge and custom combine), join (restoring from the shared
// IndexedDB), close, crash and freeze while the channel delays and loses
// messages; tombstones are collected as they would be, with a short
// TombstoneMs. Once quiet, every live tab agrees on each key, and a key is
// absent exactly when the latest write any live tab held of it (under the
// strategy's order) was a removal: no late message, STATE_RESPONSE or
// restore brought a removed key back, and no removal was lost.
func TestRemovedKeysStayRemoved(t *testing.T) {
	strategies := []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge, conflict.Custom}
	forSeeds(t, func(seed int64) (*sim.Net, string) {
		strategy := strategies[seed%int64(len(strategies))]
		r := rand.New(rand.NewSource(seed))
		w := randomWorkload(r, strategy)
		cfg := func(id string) tsync.Config {
			c := w.config(id)
			c.Persist, c.TombstoneMs, c.Custom = true, 1500, largerFields
			return c
		}
		n := sim.New(seed, w.faults, cfg)
		for i := 0; i < 2+r.Intn(3); i++ {
			n.Join()
		}
		keys := []string{"a", "b", "c"}
		for step := 0; step < 60; step++ {
			n.RunFor(int64(r.Intn(80)))
			live := n.LiveTabs()
			switch x := r.Intn(100); {
			case x < 45 && len(live) > 0:
				tb := live[r.Intn(len(live))]
				n.Write(tb, keys[r.Intn(len(keys))], map[string]any{tb.ID: float64(step)})
			case x < 75 && len(live) > 0:
				n.Remove(live[r.Intn(len(live))], keys[r.Intn(len(keys))])
			case x < 82 && len(n.Tabs) < 10:
				n.Join()
			case x < 86 && len(live) > 1:
				n.Close(live[r.Intn(len(live))])
			case x < 90 && len(live) > 1:
				n.Crash(live[r.Intn(len(live))])
			case x < 95 && len(live) > 1:
				tb := live[r.Intn(len(live))]
				n.Freeze(tb)
				n.RunFor(int64(100 + r.Intn(1000)))
				n.Resume(tb)
			}
		}
		for _, tb := range n.Tabs {
			n.Resume(tb)
		}
		n.Faults.Loss = 0
		n.RunFor(7_000)
		n.Join() // a tab opened now restores from the database
		n.RunFor(3_000)
		return n, first(violations(n), removalsHold(n, strategy, 1500))
	})
}

// removalsHold checks, for every key any live tab held a write of, that
// every live tab's store agrees on it, and that it is absent exactly when
// the latest of those writes was a removal: by clock, or under
// first-write-wins by depth then clock, except that a write made
// tombstoneMs after a removal counts as later than it (the removal is
// collected by then, and the key written afresh).
func removalsHold(n *sim.Net, strategy conflict.Strategy, tombstoneMs int64) string {
	later := func(a, b conflict.Version) bool {
		switch {
		case n.Removals[b.Clock] && a.Clock.Wall-b.Clock.Wall >= tombstoneMs:
			return true
		case n.Removals[a.Clock] && b.Clock.Wall-a.Clock.Wall >= tombstoneMs:
			return false
		}
		return beats(strategy, a, b)
	}
	live := n.LiveTabs()
	if len(live) == 0 {
		return ""
	}
	keys := map[string]bool{}
	for _, tb := range live {
		for k := range tb.Held {
			keys[k] = true
		}
	}
	for k := range keys {
		var latest conflict.Version
		for _, tb := range live {
			for _, v := range tb.Held[k] {
				if latest.IsZero() || later(v, latest) {
					latest = v
				}
			}
		}
		want, wantOK := live[0].Store[k]
		for _, tb := range live {
			got, ok := tb.Store[k]
			if ok != wantOK || fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Sprintf("key %s: %s has %v (present %v), %s has %v (present %v)", k, live[0].ID, want, wantOK, tb.ID, got, ok)
			}
		}
		if removed := n.Removals[latest.Clock]; removed == wantOK {
			return fmt.Sprintf("key %s: the latest write any live tab held, %s, removed it: %v; but the key is present: %v (%v)",
				k, protocol.FormatStoredVersion(latest), removed, wantOK, want)
		}
	}
	return ""
}

// Under merge, a field one tab removes stays removed although another tab,
// unaware of the removal, writes the object concurrently: it only carried
// the field over. A field the other tab wrote concurrently stays.
func TestMergeRemovedNestedFieldStaysRemoved(t *testing.T) {
	cfg := tsync.Config{Strategy: conflict.Merge}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	old := map[string]any{"theme": "dark", "font": "serif", "lang": "fr"}
	a.set(t0+10, "prefs", old)
	h.settle(t0 + 10)
	oldVersion := a.version("prefs")

	// a removes font and lang; b, not knowing, adds size and changes lang.
	ua := a.set(t0+20, "prefs", map[string]any{"theme": "dark"}).Messages
	ub := b.set(t0+20, "prefs", map[string]any{"theme": "dark", "font": "serif", "lang": "en", "size": 12.0}).Messages
	h.skip()
	a.deliver(t0+21, ub...)
	b.deliver(t0+21, ua...)
	h.settle(t0 + 21)

	want := map[string]any{"theme": "dark", "lang": "en", "size": 12.0}
	assert.Equal(t, want, a.store["prefs"], "font stays removed; lang, written concurrently, and size stay")
	assert.Equal(t, want, b.store["prefs"])
	assert.Equal(t, a.version("prefs"), b.version("prefs"))

	// A late STATE_RESPONSE, or a late update, carrying the old object
	// changes nothing.
	f := &forger{tab: "z"}
	late := f.msg(protocol.Message{Type: protocol.StateResponse, Req: "r1", To: "b",
		Entries: []protocol.Entry{{Key: "prefs", Entry: conflict.Entry{Value: old, Version: oldVersion}}}})
	b.deliver(t0+30, late)
	b.deliver(t0+31, f.msg(protocol.Message{Type: protocol.StateUpdate, Entries: late.Entries}))
	assert.Equal(t, want, b.store["prefs"])
}

// TestMergeRemovedFieldsStayRemoved is the merge property with removals:
// tabs add a new field to the object they hold, or remove one of its
// fields, concurrently, on a channel that delays messages (with the
// throttle or not). Once quiet, every tab holds the same object, and it
// holds every field ever added except those some write removed: every field
// written by a concurrent write is present after merge, unless a later write
// removed it (fields are never written twice here, so any removal of a
// field is later than its one write).
func TestMergeRemovedFieldsStayRemoved(t *testing.T) {
	forSeeds(t, func(seed int64) (*sim.Net, string) {
		r := rand.New(rand.NewSource(seed))
		var throttle int64
		if r.Intn(2) == 0 {
			throttle = 100
		}
		n := sim.New(seed, sim.Faults{MaxDelayMs: int64(r.Intn(40))}, func(string) tsync.Config {
			return tsync.Config{ThrottleMs: throttle, Strategy: conflict.Merge, PingMs: 1000}
		})
		tabs := make([]*sim.Tab, 2+r.Intn(3))
		for i := range tabs {
			tabs[i] = n.Join()
		}
		n.RunFor(50)
		var added []string
		removed := map[string]bool{}
		for i := 0; i < 10+r.Intn(30); i++ {
			tb := tabs[r.Intn(len(tabs))]
			v := map[string]any{}
			old, _ := tb.Store["obj"].(map[string]any)
			var held []string
			for k, x := range old {
				v[k] = x
				held = append(held, k)
			}
			if len(held) > 0 && r.Intn(3) == 0 {
				sort.Strings(held)
				f := held[r.Intn(len(held))]
				delete(v, f)
				removed[f] = true
			} else {
				f := fmt.Sprintf("f%d", i)
				v[f] = float64(i)
				added = append(added, f)
			}
			n.Write(tb, "obj", v)
			n.RunFor(int64(r.Intn(40)))
		}
		n.RunFor(10_000)
		if s := sameStateEverywhere(n); s != "" {
			return n, s
		}
		final, _ := tabs[0].Store["obj"].(map[string]any)
		for _, f := range added {
			if _, ok := final[f]; ok == removed[f] {
				return n, fmt.Sprintf("field %s (removed: %v) present: %v: final %v", f, removed[f], ok, final)
			}
		}
		return n, ""
	})
}
