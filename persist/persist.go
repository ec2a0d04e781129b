package persist

import (
	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
)

// ShouldWrite reports whether mine replaces stored, the version of the
// record the database holds for the key (stored.IsZero() when there is none
// or it has no version). It is the receiving rule of the conflict strategy
// for a copy of state (not a live write): a duplicate or an older write is
// kept out, a later one goes in.
func ShouldWrite(s conflict.Strategy, stored, mine conflict.Version) bool {
	if mine.IsZero() {
		return false
	}
	r := conflict.Resolver{Strategy: s}
	d := r.Resolve(conflict.Entry{Version: stored}, conflict.Entry{Version: mine}, false)
	return d.Outcome == conflict.Take
}

// ShouldDelete reports whether the stored record of a key goes when a tab
// collects the key's tombstone tomb (sync's Ready.Unpersist): when it holds
// that tombstone, or a write the tombstone replaces (one whose own
// transaction came after the tombstone's was skipped or lost). A newer
// write stays.
func ShouldDelete(s conflict.Strategy, stored, tomb conflict.Version) bool {
	if stored.IsZero() || tomb.IsZero() {
		return false
	}
	return stored.Equal(tomb) || ShouldWrite(s, stored, tomb)
}

// Queue coalesces entries to persist into batches, one per transaction, with
// at most one transaction in flight. It is not safe for concurrent use.
type Queue struct {
	pending  map[string]int // key → index in order
	order    []protocol.Entry
	inFlight []protocol.Entry
	busy     bool
	// del and inFlightDel mark the keys of order and inFlight whose entry
	// is a collected tombstone to delete (see Delete), not one to put.
	del, inFlightDel map[string]bool
}

// Add queues entries; a key already queued keeps its place and takes the
// entry given last. It reports whether the caller should start a
// transaction now (none is in flight).
func (q *Queue) Add(entries []protocol.Entry) (start bool) {
	for _, en := range entries {
		q.put(en, false)
	}
	return !q.busy && len(q.order) > 0
}

// Delete queues the deletion of the records of collected tombstones (sync's
// Ready.Unpersist): each key's record goes in the transaction if it still
// holds that tombstone or a write it replaces (ShouldDelete). Like Add, the
// entry given last for a key wins. It reports whether the caller should
// start a transaction now.
func (q *Queue) Delete(tombs []protocol.Entry) (start bool) {
	for _, en := range tombs {
		q.put(en, true)
	}
	return !q.busy && len(q.order) > 0
}

// Deletes reports whether the batch in flight deletes key's record (see
// Delete) rather than puts its entry.
func (q *Queue) Deletes(key string) bool { return q.inFlightDel[key] }

func (q *Queue) put(en protocol.Entry, del bool) {
	if q.pending == nil {
		q.pending = map[string]int{}
	}
	if del {
		if q.del == nil {
			q.del = map[string]bool{}
		}
		q.del[en.Key] = true
	} else {
		delete(q.del, en.Key)
	}
	if i, ok := q.pending[en.Key]; ok {
		q.order[i] = en
		return
	}
	q.pending[en.Key] = len(q.order)
	q.order = append(q.order, en)
}

// Take returns the next batch and marks it in flight, or nil when there is
// nothing to write or a transaction is already in flight.
func (q *Queue) Take() []protocol.Entry {
	if q.busy || len(q.order) == 0 {
		return nil
	}
	q.busy = true
	q.inFlight, q.inFlightDel = q.order, q.del
	q.order, q.pending, q.del = nil, nil, nil
	return q.inFlight
}

// Done ends the transaction in flight. When it failed (ok false) its entries
// go back in the queue, behind any newer entry of the same key queued since,
// to be written with the next batch; a failure does not by itself start a
// new transaction, so a full disk is not hammered. It reports whether the
// caller should start the next transaction now.
func (q *Queue) Done(ok bool) (again bool) {
	failed, del := q.inFlight, q.inFlightDel
	q.inFlight, q.inFlightDel, q.busy = nil, nil, false
	if !ok {
		newer := len(q.order) > 0
		for _, en := range failed {
			if _, queued := q.pending[en.Key]; !queued {
				q.put(en, del[en.Key])
			}
		}
		return newer
	}
	return len(q.order) > 0
}

// Drain empties the queue and returns every entry not known to be stored:
// the batch in flight (whose transaction may never finish) followed by the
// waiting entries, one per key, the waiting one when a key is in both. It is
// what a page being unloaded writes at once. Deletions are dropped: a page
// being unloaded writes without reading, and a tombstone's record left
// behind is collected by the next tab that collects the tombstone.
func (q *Queue) Drain() []protocol.Entry {
	var out []protocol.Entry
	for _, en := range q.inFlight {
		if _, waiting := q.pending[en.Key]; !waiting && !q.inFlightDel[en.Key] {
			out = append(out, en)
		}
	}
	for _, en := range q.order {
		if !q.del[en.Key] {
			out = append(out, en)
		}
	}
	q.order, q.pending, q.del = nil, nil, nil
	return out
}

// Len returns the number of keys waiting (not counting the batch in flight).
func (q *Queue) Len() int { return len(q.order) }

// Busy reports whether a transaction is in flight.
func (q *Queue) Busy() bool { return q.busy }

// Migration is what a schema migration writes.
type Migration struct {
	Puts    []protocol.Entry // every key of the migrated state
	Deletes []string         // stored keys the migrated state no longer has
}

// Migrate computes the records of the migrated state. stored are the
// records read from the database; migrated is the object returned by the
// application's migrate function, read through m. A key of migrated keeps
// the version of the stored record of the same key (none for a key the
// migration added); stored keys missing from migrated are deleted. Function
// values and the keys __proto__, constructor and prototype are left out. ok
// is false when migrated is not a plain object.
func Migrate(m conflict.Model, stored []protocol.Entry, migrated conflict.Value) (Migration, bool) {
	var mig Migration
	if m.Kind(migrated) != conflict.Object {
		return mig, false
	}
	versions := make(map[string]conflict.Version, len(stored))
	for _, en := range stored {
		versions[en.Key] = en.Version
	}
	keep := map[string]bool{}
	for _, k := range m.Keys(migrated) {
		if k == "__proto__" || k == "constructor" || k == "prototype" {
			continue
		}
		v := m.Get(migrated, k)
		if m.Kind(v) == conflict.Function {
			continue
		}
		keep[k] = true
		mig.Puts = append(mig.Puts, protocol.Entry{Key: k, Entry: conflict.Entry{Value: v, Version: versions[k]}})
	}
	for _, en := range stored {
		if !keep[en.Key] {
			mig.Deletes = append(mig.Deletes, en.Key)
		}
	}
	return mig, true
}
