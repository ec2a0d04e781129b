package sync_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/sim"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// stored is a database record as the browser layer reads it back.
func stored(key string, v any, version conflict.Version) protocol.Entry {
	return protocol.Entry{Key: key, Entry: conflict.Entry{Value: v, Version: version}}
}

func persistedKeys(rd tsync.Ready) []string {
	var out []string
	for _, e := range rd.Persist {
		out = append(out, e.Key)
	}
	return out
}

func TestRestoreBeforeStartThenNewerPeerWinsOlderLoses(t *testing.T) {
	// Tab a wrote two keys long ago; the database holds them.
	a := newTab(t, "a", tsync.Config{ThrottleMs: 0})
	a.start(t0)
	a.set(t0+1, "theme", "dark")
	a.set(t0+2, "count", 1.0)
	db := []protocol.Entry{
		stored("theme", "dark", a.version("theme")),
		stored("count", 1.0, a.version("count")),
	}
	a.stop(t0 + 3)

	// Tab b opens with its defaults, restores, then starts.
	b := newTab(t, "b", tsync.Config{ThrottleMs: 0, Persist: true})
	b.store = map[string]any{"theme": "light", "count": 0.0}
	rd := b.do(b.e.Restore(t0+10, db))
	require.NotNil(t, rd.Patch)
	assert.Equal(t, "", rd.Patch.Source, "a restore names no tab")
	assert.Empty(t, rd.Messages, "restoring sends nothing")
	assert.Empty(t, rd.Persist, "what was read is not written back")
	assert.Equal(t, "dark", b.store["theme"], "the stored write beats the default")
	assert.Equal(t, a.version("count"), b.version("count"), "restored with its version")

	start := b.start(t0 + 11)
	assert.Equal(t, []protocol.Type{protocol.TabPing, protocol.StateRequest}, msgTypes(start.Messages))

	// A peer answers: its newer count wins, its older theme (a write that
	// the stored one replaced) loses.
	c := newTab(t, "c", tsync.Config{ThrottleMs: 0})
	c.store = map[string]any{}
	c.do(c.e.Restore(t0, nil))
	c.start(t0)
	c.deliver(t0, a.sentOf(protocol.StateUpdate)[1]) // count=1 only
	c.set(t0+20, "count", 2.0)
	req := start.Messages[1]
	c.deliver(t0+21, req)
	// c ranks second (it heard of a): it answers after the stagger, and,
	// started 21 ms before, one stagger more.
	c.tick(t0 + 150)
	resp := c.sentOf(protocol.StateResponse)
	require.Len(t, resp, 1)
	b.deliver(t0+151, resp...)
	assert.Equal(t, 2.0, b.store["count"], "a newer write from a peer beats the restored one")
	assert.Equal(t, "dark", b.store["theme"])
}

func TestRestoreLosesToALocalChangeMadeWhileRestoring(t *testing.T) {
	b := newTab(t, "b", tsync.Config{ThrottleMs: 0, Persist: true})
	old := conflict.Version{Clock: conflict.Clock{Wall: t0 - 1000, Tab: "z"}, Depth: 1}
	b.set(t0, "count", 5.0) // the app wrote before the database answered
	b.do(b.e.Restore(t0+5, []protocol.Entry{stored("count", 1.0, old)}))
	assert.Equal(t, 5.0, b.store["count"])
	rd := b.start(t0 + 6)
	assert.Equal(t, []string{"count"}, persistedKeys(rd), "the change is sent and stored at start")
}

func TestRestoreSkipsExcludedKeysAndTakesUnversionedOnlyOverDefaults(t *testing.T) {
	b := newTab(t, "b", tsync.Config{ExcludeKeys: []string{"secret"}, Persist: true})
	v := conflict.Version{Clock: conflict.Clock{Wall: t0, Tab: "z"}, Depth: 1}
	b.set(t0, "written", "local")
	rd := b.do(b.e.Restore(t0+1, []protocol.Entry{
		stored("secret", "leak", v),
		stored("added", "by migration", conflict.Version{}),
		stored("written", "by migration", conflict.Version{}),
	}))
	require.NotNil(t, rd.Patch)
	assert.Equal(t, []string{"added"}, rd.Patch.Keys)
	assert.NotContains(t, b.store, "secret")
	assert.Equal(t, "local", b.store["written"], "a migrated value with no version never beats a write")
}

func TestTheWriterPersistsOncePerFlushReceiversDoNot(t *testing.T) {
	cfg := tsync.Config{ThrottleMs: 100, ExcludeKeys: []string{"secret"}, Persist: true}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)

	// A burst of five changes: the leading edge and the trailing edge, two
	// flushes, two lists to persist, each the entries sent.
	var persisted [][]string
	record := func(rd tsync.Ready) {
		if len(rd.Persist) > 0 {
			persisted = append(persisted, persistedKeys(rd))
		}
	}
	record(a.set(t0+10, "count", 1.0))
	record(a.set(t0+20, "count", 2.0, "secret", "s"))
	record(a.set(t0+30, "name", "x", "act", func() {}))
	record(a.set(t0+40, "count", 3.0))
	record(a.tick(t0 + 110))
	assert.Equal(t, [][]string{{"count"}, {"count", "name"}}, persisted, "excluded keys and functions are never persisted")
	last := a.sentOf(protocol.StateUpdate)[1]

	// The receiver applies the update and persists nothing: one change is
	// written once, not once per tab.
	rd := b.deliver(t0+111, last)
	require.NotNil(t, rd.Patch)
	assert.Empty(t, rd.Persist)
	assert.Equal(t, 3.0, b.store["count"])
}

func TestPersistOffAsksForNothing(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 0})
	a.start(t0)
	assert.Empty(t, a.set(t0+1, "count", 1.0).Persist)
}

func TestALeavingWritersWritesAreStoredByTheOthers(t *testing.T) {
	cfg := tsync.Config{ThrottleMs: 0, Persist: true, PingMs: 1000}
	a, b, c := newTab(t, "a", cfg), newTab(t, "b", cfg), newTab(t, "c", cfg)
	h := &hub{tabs: []*tab{a, b, c}}
	for _, tb := range h.tabs {
		tb.start(t0)
	}
	h.settle(t0)
	a.set(t0+1, "count", 1.0)
	b.set(t0+2, "name", "x")
	h.settle(t0 + 2)

	// a closes right after its change: its transaction may never commit.
	// The others store a's writes (only if newer: usually a read), and not b's.
	a.stop(t0 + 3)
	var got [][]string
	for _, tb := range []*tab{b, c} {
		rd := tb.deliver(t0+3, a.sentOf(protocol.TabPing)[len(a.sentOf(protocol.TabPing))-1])
		got = append(got, persistedKeys(rd))
	}
	assert.Equal(t, [][]string{{"count"}, {"count"}}, got)

	// A crashed tab is counted out after the peer timeout: the same.
	h.skip()
	var expired []string
	for now := t0 + 1000; now <= t0+10_000; now += 1000 {
		rd := c.tick(now)
		expired = append(expired, persistedKeys(rd)...)
		b.tick(now) // b stays alive: c keeps hearing from it
		h.settle(now)
	}
	assert.Empty(t, expired, "b is alive; a's writes were stored already")
}

func TestAWriteOfAGoneTabArrivingInAResponseIsStored(t *testing.T) {
	cfg := tsync.Config{ThrottleMs: 0, Persist: true}
	a, b := newTab(t, "a", cfg), newTab(t, "b", cfg)
	h := &hub{tabs: []*tab{a, b}}
	a.start(t0)
	b.start(t0)
	h.settle(t0)
	a.set(t0+1, "count", 1.0)
	b.set(t0+2, "name", "x")
	h.settle(t0 + 2)
	a.stop(t0 + 3)
	h.settle(t0 + 3)

	// c joins; b answers with a's count and its own name. Nobody alive wrote
	// count: c stores it (the database keeps it only if newer).
	c := newTab(t, "c", cfg)
	h.tabs = append(h.tabs, c)
	c.start(t0 + 100)
	for _, m := range c.sent {
		b.deliver(t0+100, m)
	}
	c.read = len(c.sent)
	b.tick(t0 + 100) // b answers the request
	var persisted []string
	for _, m := range b.sent[b.read:] {
		persisted = append(persisted, persistedKeys(c.deliver(t0+100, m))...)
	}
	assert.Equal(t, []string{"count"}, persisted)
	assert.Equal(t, 1.0, c.store["count"])
	assert.Equal(t, "x", c.store["name"])
}

func TestVersionedListsEveryWriteForARewrite(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 0, Persist: true})
	a.store = map[string]any{"default": 1.0}
	a.start(t0)
	a.set(t0+1, "b", 2.0)
	a.set(t0+2, "a", 1.0)
	var got []string
	for _, e := range a.e.Versioned() {
		got = append(got, e.Key)
	}
	assert.Equal(t, []string{"a", "b"}, got, "sorted, and never the unwritten default")
}

// TestPersistedStateIsTheConvergedState runs random workloads (writes,
// joins that restore from the database, closes, crashes right after
// changes, lost messages, transactions landing in any order) and then opens
// one more tab: every live tab and the database end with the same writes.
//
// Each run is three times as long as the other properties' (a database,
// one more tab, ten more seconds), so it runs a tenth of -seeds (at least
// 100) per strategy.
func TestPersistedStateIsTheConvergedState(t *testing.T) {
	for _, s := range []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge} {
		t.Run(s.String(), func(t *testing.T) {
			sim.ForSeeds(t, max(100, sim.Seeds()/10), func(seed int64) (*sim.Net, string) {
				r := rand.New(rand.NewSource(seed))
				w := randomWorkload(r, s)
				w.persist = true
				n := w.run(seed)
				n.Join()
				n.RunFor(10_000)
				agree := sameStateEverywhere(n)
				if s != conflict.Merge {
					agree = converged(n, s)
				}
				return n, first(violations(n), agree, noExcludedKeys(n), dbMatches(n))
			})
		})
	}
}

func dbMatches(n *sim.Net) string {
	live := n.LiveTabs()
	if len(live) == 0 {
		return ""
	}
	t := live[0]
	want := map[string]string{}
	for _, k := range t.Engine.Keys() {
		v, ver, _ := t.Engine.Value(k)
		if !ver.IsZero() {
			want[k] = fmt.Sprintf("%v@%s", v, protocol.FormatVersion(ver))
		}
	}
	got := map[string]string{}
	for k, en := range n.DB {
		got[k] = fmt.Sprintf("%v@%s", en.Value, protocol.FormatVersion(en.Version))
	}
	for k, w := range want {
		if got[k] != w {
			return fmt.Sprintf("key %s: the tabs hold %s, the database %q", k, w, got[k])
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("the database holds %s=%s, which no tab has", k, g)
		}
	}
	return ""
}
