//go:build !js

package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/tableproto"
)

// The reference design's flow, frame by frame: subscribe, set, the other
// client's update, delete, and a late subscriber's snapshot.
func TestReferenceFlow(t *testing.T) {
	s := start(t, nil)
	a, b := dialRaw(t, s), dialRaw(t, s)
	a.hello("")
	b.hello("")

	a.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "game_scores"})
	snap := a.expect(tableproto.Snapshot)
	assert.Equal(t, uint64(0), snap.TableVersion)
	assert.Empty(t, snap.Rows)
	a.expect(tableproto.Synced)
	b.subscribe("game_scores")

	ack := a.set("game_scores", "op_1", "player1", `{"name":"player1","score":1500}`)
	assert.Equal(t, uint64(1), ack.TableVersion)
	assert.False(t, ack.Duplicate)
	up := b.expect(tableproto.Update)
	assert.Equal(t, "game_scores", up.Table)
	assert.Equal(t, uint64(1), up.TableVersion)
	assert.Equal(t, "op_1", up.OpID)
	assert.Equal(t, "raw-TestReferenceFlow", up.OriginID)
	assert.Equal(t, tableproto.Change{Operation: tableproto.Set, Key: "player1", Value: tableproto.RawValue(`{"name":"player1","score":1500}`)}, up.Change)
	assert.InDelta(t, time.Now().UnixMilli(), up.Timestamp, 60000)
	own := a.expect(tableproto.Update) // the writer gets its own change too (stashed by set)
	assert.Equal(t, "op_1", own.OpID)

	a.set("game_scores", "op_2", "player2", `200`)
	b.expect(tableproto.Update)
	a.send(tableproto.Frame{Type: tableproto.Operation, Table: "game_scores", OpID: "op_3", Change: tableproto.Change{Operation: tableproto.Delete, Key: "player1"}})
	assert.Equal(t, uint64(3), a.ack("op_3").TableVersion)
	del := b.expect(tableproto.Update)
	assert.Equal(t, tableproto.Change{Operation: tableproto.Delete, Key: "player1"}, del.Change)
	assert.Equal(t, uint64(3), del.TableVersion)

	c := dialRaw(t, s)
	c.hello("")
	c.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "game_scores"})
	snap = c.expect(tableproto.Snapshot)
	assert.Equal(t, uint64(3), snap.TableVersion)
	require.Len(t, snap.Rows, 1)
	// The snapshot names the change that wrote each row, as its update did.
	assert.InDelta(t, time.Now().UnixMilli(), snap.Rows[0].Timestamp, 60000)
	snap.Rows[0].Timestamp = 0
	assert.Equal(t, []tableproto.Row{{Key: "player2", Value: tableproto.RawValue(`200`), OpID: "op_2", OriginID: "raw-TestReferenceFlow"}}, snap.Rows)
	assert.False(t, snap.More)
	assert.Equal(t, uint64(3), c.expect(tableproto.Synced).TableVersion)

	c.send(tableproto.Frame{Type: tableproto.Ping, ID: "p1"})
	assert.Equal(t, "p1", c.expect(tableproto.Pong).ID)
}

// subscribe with since sends the changes after it (deletes included),
// not a snapshot.
func TestResumeSince(t *testing.T) {
	s := start(t, nil)
	w := dial(t, s)
	ctx := ctx10(t)
	for i, k := range []string{"a", "b", "c", "a"} {
		v, err := w.Set(ctx, "t", k, i)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), v)
	}
	v, err := w.Delete(ctx, "t", "b")
	require.NoError(t, err)
	require.Equal(t, uint64(5), v)

	r := dialRaw(t, s)
	r.hello("")
	r.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "t", Since: 3})
	u1 := r.expect(tableproto.Update)
	u2 := r.expect(tableproto.Update)
	assert.Equal(t, uint64(4), u1.TableVersion)
	assert.Equal(t, tableproto.Change{Operation: tableproto.Set, Key: "a", Value: tableproto.RawValue("3")}, u1.Change)
	assert.Equal(t, uint64(5), u2.TableVersion)
	assert.Equal(t, tableproto.Change{Operation: tableproto.Delete, Key: "b"}, u2.Change)
	assert.Equal(t, uint64(5), r.expect(tableproto.Synced).TableVersion)

	// Up to date: nothing but synced; then live updates.
	r2 := dialRaw(t, s)
	r2.hello("")
	r2.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "t", Since: 5})
	assert.Equal(t, uint64(5), r2.expect(tableproto.Synced).TableVersion)
	_, err = w.Set(ctx, "t", "d", "x")
	require.NoError(t, err)
	assert.Equal(t, uint64(6), r2.expect(tableproto.Update).TableVersion)

	// A since ahead of the table: sinceAhead, then a snapshot.
	r3 := dialRaw(t, s)
	r3.hello("")
	r3.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "t", Since: 99})
	e := r3.expectError(tableproto.CodeSinceAhead)
	assert.Equal(t, uint64(6), e.TableVersion)
	snap := r3.expect(tableproto.Snapshot)
	assert.Len(t, snap.Rows, 3)
	r3.expect(tableproto.Synced)
}

// The same opId twice is applied once and acked with the same version,
// also after the relay restarted on the same data directory, and the
// versions keep counting upward.
func TestIdempotentAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, &server.Options{DataDir: dir})
	r := dialRaw(t, s)
	r.hello("")
	first := r.set("t", "op-same", "k", `1`)
	again := r.set("t", "op-same", "k", `2`) // a retry, even with another payload
	assert.Equal(t, first.TableVersion, again.TableVersion)
	assert.True(t, again.Duplicate)
	r.set("t", "op-other", "k2", `3`)
	require.NoError(t, s.Shutdown(context.Background()))

	s2 := start(t, &server.Options{DataDir: dir, History: 8}) // another --history: the existing stream is kept
	r2 := dialRaw(t, s2)
	r2.hello("")
	after := r2.set("t", "op-same", "k", `4`)
	assert.Equal(t, first.TableVersion, after.TableVersion)
	assert.True(t, after.Duplicate)
	next := r2.set("t", "op-new", "k3", `5`)
	assert.Equal(t, uint64(3), next.TableVersion)

	c := dial(t, s2)
	require.NoError(t, c.Subscribe(ctx10(t), "t"))
	assert.Equal(t, map[string]any{"k": 1.0, "k2": 3.0, "k3": 5.0}, rowsOf(t, c, "t"))
}

// Concurrent writers on one table: every subscriber sees every version
// once, in order, and ends with the same rows as a fresh snapshot.
func TestOrderingUnderConcurrentWriters(t *testing.T) {
	s := start(t, nil)
	ctx := ctx10(t)
	var subs []*client.Client
	for i := 0; i < 3; i++ {
		c := dial(t, s)
		require.NoError(t, c.Subscribe(ctx, "race"))
		subs = append(subs, c)
	}
	const writers, each = 6, 40
	var wg sync.WaitGroup
	versions := make(chan uint64, writers*each)
	for w := 0; w < writers; w++ {
		c := dial(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("k%d", i%7)
				var v uint64
				var err error
				if i%5 == 4 {
					v, err = c.Delete(ctx, "race", key)
				} else {
					v, err = c.Set(ctx, "race", key, map[string]int{"w": w, "i": i})
				}
				if !assert.NoError(t, err) {
					return
				}
				versions <- v
			}
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[uint64]bool{}
	for v := range versions {
		assert.False(t, seen[v], "version %d acked twice", v)
		seen[v] = true
	}
	assert.Len(t, seen, writers*each)
	fresh := dial(t, s)
	require.NoError(t, fresh.Subscribe(ctx, "race"))
	want := rowsOf(t, fresh, "race")
	for _, c := range subs {
		require.NoError(t, c.WaitVersion(ctx, "race", writers*each))

		assert.Equal(t, want, rowsOf(t, c, "race"))
		st := c.Stats()
		assert.Zero(t, st.Gaps)
		assert.Zero(t, st.Duplicates)
		assert.Equal(t, writers*each, st.Updates)
	}
}

// A connection's operations on one key are stored in the order it sent
// them, even when it sends the next before the previous one's ack: a set
// then a delete sent together must not leave the key set.
func TestAConnectionsWritesOfAKeyAreStoredInOrder(t *testing.T) {
	s := start(t, &server.Options{OpsPerSecond: 100000})
	r := dialRaw(t, s)
	r.hello("")
	const pairs = 200
	for i := 0; i < pairs; i++ {
		key := fmt.Sprintf("k%d", i)
		r.send(tableproto.Frame{Type: tableproto.Operation, Table: "order", OpID: fmt.Sprintf("raw.s%d", i),
			Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: tableproto.RawValue(`1`)}})
		r.send(tableproto.Frame{Type: tableproto.Operation, Table: "order", OpID: fmt.Sprintf("raw.d%d", i),
			Change: tableproto.Change{Operation: tableproto.Delete, Key: key}})
	}
	versions := map[string]uint64{}
	for len(versions) < 2*pairs {
		f := r.next()
		require.Equal(t, tableproto.Ack, f.Type, "%+v", f)
		versions[f.OpID] = f.TableVersion
	}
	for i := 0; i < pairs; i++ {
		assert.Less(t, versions[fmt.Sprintf("raw.s%d", i)], versions[fmt.Sprintf("raw.d%d", i)], "k%d: the delete was stored before the set", i)
	}
	c := dial(t, s)
	require.NoError(t, c.Subscribe(ctx10(t), "order"))
	assert.Empty(t, rowsOf(t, c, "order"), "every key was deleted last")
}

// A subscribed writer gets its own update before its ack, and an
// unsubscribed one its ack alone: the order that leaves its engine the
// least to do (an update after the ack is one more small transaction and
// tab message in the browser). The protocol allows either order; this pins
// the relay's, which table.apply chose for the latency of the others.
func TestASubscribedWritersUpdateComesBeforeItsAck(t *testing.T) {
	s := start(t, nil)
	w, r, solo := dialRaw(t, s), dialRaw(t, s), dialRaw(t, s)
	w.send(tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, ClientID: "writer"})
	w.expect(tableproto.Welcome)
	r.send(tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, ClientID: "reader"})
	r.expect(tableproto.Welcome)
	solo.send(tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, ClientID: "solo"})
	solo.expect(tableproto.Welcome)
	w.subscribe("t")
	r.subscribe("t")
	for i := range 20 {
		id := fmt.Sprint("w.", i)
		w.send(tableproto.Frame{Type: tableproto.Operation, Table: "t", OpID: id,
			Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue(fmt.Sprint(i))}})
		up := w.expect(tableproto.Update)
		assert.Equal(t, id, up.OpID)
		ack := w.expect(tableproto.Ack)
		assert.Equal(t, id, ack.OpID)
		assert.Equal(t, up.TableVersion, ack.TableVersion)
		assert.Equal(t, id, r.expect(tableproto.Update).OpID)

		id = fmt.Sprint("solo.", i)
		solo.send(tableproto.Frame{Type: tableproto.Operation, Table: "t", OpID: id,
			Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue(fmt.Sprint(i))}})
		assert.Equal(t, id, solo.expect(tableproto.Ack).OpID)
		assert.Equal(t, id, w.expect(tableproto.Update).OpID)
		assert.Equal(t, id, r.expect(tableproto.Update).OpID)
	}
}
