package persist_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/persist"
	"github.com/tabsync/tabsync/protocol"
)

func clk(wall int64, tab string) conflict.Clock { return conflict.Clock{Wall: wall, Tab: tab} }

func ver(c, base conflict.Clock, depth uint64) conflict.Version {
	return conflict.Version{Clock: c, Base: base, Depth: depth}
}

func ent(key string, v any, version conflict.Version) protocol.Entry {
	return protocol.Entry{Key: key, Entry: conflict.Entry{Value: v, Version: version}}
}

func keys(entries []protocol.Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Key)
	}
	return out
}

func TestShouldWriteOnlyNewer(t *testing.T) {
	v1 := ver(clk(10, "a"), conflict.Clock{}, 1)
	v2 := ver(clk(20, "b"), v1.Clock, 2)
	concurrentLater := ver(clk(30, "c"), conflict.Clock{}, 1)

	for _, s := range []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge, conflict.Custom} {
		t.Run(s.String(), func(t *testing.T) {
			assert.True(t, persist.ShouldWrite(s, conflict.Version{}, v1), "nothing stored: write")
			assert.False(t, persist.ShouldWrite(s, v1, v1), "the same write is stored: skip")
			assert.True(t, persist.ShouldWrite(s, v1, v2), "a successor replaces its base")
			assert.False(t, persist.ShouldWrite(s, v2, v1), "the base never replaces its successor")
			assert.False(t, persist.ShouldWrite(s, v1, conflict.Version{}), "a value with no version is never written")
		})
	}

	// Concurrent writes follow the strategy's order, the one tabs converge to.
	assert.True(t, persist.ShouldWrite(conflict.LastWriteWins, v2, concurrentLater), "lww: the later clock")
	assert.False(t, persist.ShouldWrite(conflict.LastWriteWins, concurrentLater, v2))
	assert.False(t, persist.ShouldWrite(conflict.FirstWriteWins, v2, concurrentLater), "fww: the deeper write stays")
	assert.True(t, persist.ShouldWrite(conflict.FirstWriteWins, concurrentLater, v2))
}

// Two tabs' transactions land in either order: the database ends with the
// same record.
func TestShouldWriteEitherOrderEndsTheSame(t *testing.T) {
	a := ver(clk(50, "a"), clk(10, "x"), 2)
	b := ver(clk(50, "b"), clk(10, "x"), 2)
	for _, s := range []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge} {
		land := func(first, second conflict.Version) conflict.Version {
			db := conflict.Version{}
			for _, v := range []conflict.Version{first, second} {
				if persist.ShouldWrite(s, db, v) {
					db = v
				}
			}
			return db
		}
		assert.Equal(t, land(a, b), land(b, a), s.String())
	}
}

func TestQueueCoalescesWhileATransactionRuns(t *testing.T) {
	var q persist.Queue
	v := func(n int64) conflict.Version { return ver(clk(n, "a"), conflict.Clock{}, 1) }

	require.True(t, q.Add([]protocol.Entry{ent("count", 1.0, v(1))}), "idle: start a transaction")
	first := q.Take()
	assert.Equal(t, []string{"count"}, keys(first))
	assert.Nil(t, q.Take(), "one transaction at a time")

	// Three flushes while the first transaction runs...
	assert.False(t, q.Add([]protocol.Entry{ent("count", 2.0, v(2)), ent("name", "x", v(2))}))
	assert.False(t, q.Add([]protocol.Entry{ent("count", 3.0, v(3))}))
	assert.False(t, q.Add([]protocol.Entry{ent("name", "y", v(4))}))
	assert.Equal(t, 2, q.Len())

	// ...become one batch with the latest entry of each key, in first-seen order.
	require.True(t, q.Done(true))
	next := q.Take()
	assert.Equal(t, []string{"count", "name"}, keys(next))
	assert.Equal(t, 3.0, next[0].Value)
	assert.Equal(t, "y", next[1].Value)
	assert.False(t, q.Done(true), "nothing left")
	assert.False(t, q.Busy())
}

func TestQueueFailedBatchWaitsForTheNextWrite(t *testing.T) {
	var q persist.Queue
	v := func(n int64) conflict.Version { return ver(clk(n, "a"), conflict.Clock{}, 1) }
	q.Add([]protocol.Entry{ent("a", 1.0, v(1)), ent("b", 1.0, v(1))})
	q.Take()
	q.Add([]protocol.Entry{ent("b", 2.0, v(2))})

	// The failed batch goes back, behind the newer b queued meanwhile; the
	// newer entry starts the next transaction.
	require.True(t, q.Done(false))
	batch := q.Take()
	assert.ElementsMatch(t, []string{"a", "b"}, keys(batch))
	for _, e := range batch {
		if e.Key == "b" {
			assert.Equal(t, 2.0, e.Value, "the failed older b does not replace the newer one")
		}
	}

	// A failure with nothing new does not retry on its own (a full disk is
	// not hammered); the next Add does.
	assert.False(t, q.Done(false))
	assert.Equal(t, 2, q.Len())
	assert.True(t, q.Add(nil))
}

func TestMigrateKeepsVersionsAddsAndDeletes(t *testing.T) {
	m := conflict.GoModel{}
	v1 := ver(clk(10, "a"), conflict.Clock{}, 1)
	v2 := ver(clk(20, "b"), conflict.Clock{}, 1)
	stored := []protocol.Entry{ent("count", 3.0, v1), ent("name", "x", v2), ent("old", true, v1)}
	migrated := map[string]any{
		"count":     map[string]any{"value": 3.0}, // reshaped
		"name":      "x",                          // untouched
		"added":     "new",                        // new key
		"fn":        func() {},                    // never stored
		"__proto__": map[string]any{},             // never stored
	}

	mig, ok := persist.Migrate(m, stored, migrated)
	require.True(t, ok)
	got := map[string]protocol.Entry{}
	for _, e := range mig.Puts {
		got[e.Key] = e
	}
	assert.ElementsMatch(t, []string{"added", "count", "name"}, keys(mig.Puts))
	assert.Equal(t, v1, got["count"].Version, "a reshaped value keeps the version of its write")
	assert.Equal(t, map[string]any{"value": 3.0}, got["count"].Value)
	assert.Equal(t, v2, got["name"].Version)
	assert.True(t, got["added"].Version.IsZero(), "an added key has no write behind it")
	assert.Equal(t, []string{"old"}, mig.Deletes)

	_, ok = persist.Migrate(m, stored, []any{1.0})
	assert.False(t, ok, "migrate must return a plain object")
}

func TestQueueDrainGivesEverythingNotKnownStored(t *testing.T) {
	var q persist.Queue
	v := func(n int64) conflict.Version { return ver(clk(n, "a"), conflict.Clock{}, 1) }
	q.Add([]protocol.Entry{ent("a", 1.0, v(1)), ent("b", 1.0, v(1))})
	q.Take() // in flight
	q.Add([]protocol.Entry{ent("b", 2.0, v(2)), ent("c", 2.0, v(2))})

	got := q.Drain()
	assert.Equal(t, []string{"a", "b", "c"}, keys(got))
	assert.Equal(t, 2.0, got[1].Value, "the waiting b, newer than the one in flight")
	assert.Equal(t, 0, q.Len())
}

// A collected tombstone's record goes when it still holds the tombstone or
// a write the tombstone replaces; a newer write stays.
func TestShouldDeleteOnlyWhatTheTombstoneReplaces(t *testing.T) {
	old := ver(clk(10, "a"), conflict.Clock{}, 1)
	tomb := ver(clk(20, "b"), old.Clock, 2)
	newer := ver(clk(30, "c"), tomb.Clock, 3)
	for _, s := range []conflict.Strategy{conflict.LastWriteWins, conflict.FirstWriteWins, conflict.Merge, conflict.Custom} {
		assert.True(t, persist.ShouldDelete(s, tomb, tomb), "%s: the tombstone itself", s)
		assert.True(t, persist.ShouldDelete(s, old, tomb), "%s: a write its transaction never replaced", s)
		assert.False(t, persist.ShouldDelete(s, newer, tomb), "%s: a newer write", s)
		assert.False(t, persist.ShouldDelete(s, conflict.Version{}, tomb), "%s: nothing stored", s)
	}
}

// Deletions queue like puts: the last entry given for a key wins, a failed
// batch keeps them, and a page being unloaded does not write them.
func TestQueueDeletes(t *testing.T) {
	var q persist.Queue
	v := ver(clk(10, "a"), conflict.Clock{}, 1)
	require.True(t, q.Delete([]protocol.Entry{ent("gone", nil, v), ent("back", nil, v)}))
	q.Add([]protocol.Entry{ent("back", 1.0, v)})
	batch := q.Take()
	assert.Equal(t, []string{"gone", "back"}, keys(batch))
	assert.True(t, q.Deletes("gone"))
	assert.False(t, q.Deletes("back"), "set again after the deletion was queued")
	q.Done(false)
	batch = q.Take()
	assert.True(t, q.Deletes("gone"), "a failed deletion is tried again")
	assert.Equal(t, []string{"back"}, keys(q.Drain()), "unloading writes the puts only")
	_ = batch
}
