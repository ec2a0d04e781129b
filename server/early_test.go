//go:build !js

package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tableproto"
)

// loadedTable is a table whose copy is loaded at version v, with one
// subscriber whose frames stay in its queue (writing is set, so no writer
// goroutine starts and no socket is needed).
func loadedTable(t *testing.T, v uint64) (*table, *conn) {
	s, err := New(nil)
	require.NoError(t, err)
	tb := s.table("t")
	tb.version, tb.logStart = v, v
	close(tb.loaded)
	c := &conn{s: s, writing: true, wake: make(chan struct{}, 1)}
	tb.subs[c] = struct{}{}
	return tb, c
}

// versionsSent decodes the subscriber's queued updates and empties the queue.
func versionsSent(t *testing.T, c *conn) []uint64 {
	c.mu.Lock()
	q := c.queue
	c.queue, c.qbytes = nil, 0
	c.mu.Unlock()
	var out []uint64
	for _, b := range q {
		f, perr := tableproto.Decode(b)
		require.Nil(t, perr)
		require.Equal(t, tableproto.Update, f.Type)
		out = append(out, f.TableVersion)
	}
	return out
}

func op(key, value string) *tableproto.Frame {
	return &tableproto.Frame{Type: tableproto.Operation, Table: "t", OpID: "op-" + key,
		Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: tableproto.RawValue(value)}}
}

func consumerRow(v uint64, value string) *row {
	return &row{rev: v, ts: 1, value: []byte(value), origin: "other", opID: "other-" + value}
}

// The acknowledgement path's ordering rule: a change this relay stored is
// sent on its publish acknowledgement only when its version follows the
// copy's; otherwise it waits for the consumer to deliver the versions
// before it. The consumer's later delivery of a version already sent is
// not sent again, and a version the consumer skipped (compacted) does not
// hold the changes after it.
func TestAckedChangesGoOutInVersionOrderOnce(t *testing.T) {
	tb, c := loadedTable(t, 10)
	lock := func(f func()) { tb.mu.Lock(); defer tb.mu.Unlock(); f() }
	now := time.Now()

	tb.acked(12, op("a", `1`), "me", now, nil)
	tb.acked(14, op("b", `2`), "me", now, nil)
	assert.Empty(t, versionsSent(t, c), "11 and 13 (other relays' changes) are not here yet")

	lock(func() { tb.delivered(11, "x", consumerRow(11, `"x"`), now) })
	assert.Equal(t, []uint64{11, 12}, versionsSent(t, c), "11 from the consumer releases 12")
	lock(func() { tb.delivered(12, "a", consumerRow(12, `1`), now) })
	assert.Empty(t, versionsSent(t, c), "12 was sent on its ack")
	lock(func() { tb.delivered(13, "y", consumerRow(13, `"y"`), now) })
	assert.Equal(t, []uint64{13, 14}, versionsSent(t, c))
	lock(func() { tb.delivered(14, "b", consumerRow(14, `2`), now) })

	tb.acked(15, op("c", `3`), "me", now, nil)
	assert.Equal(t, []uint64{15}, versionsSent(t, c), "follows the copy: sent at once")
	lock(func() { tb.delivered(15, "c", consumerRow(15, `3`), now) })
	tb.acked(15, op("c", `3`), "me", now, nil)
	assert.Empty(t, versionsSent(t, c), "neither the consumer's copy nor a second ack sends it again")

	// 16 and 17 were replaced before the consumer read them (History 1):
	// it delivers 18 next. 17, acknowledged here, still goes out, first.
	tb.acked(17, op("d", `4`), "me", now, nil)
	lock(func() { tb.delivered(18, "d", consumerRow(18, `5`), now) })
	assert.Equal(t, []uint64{17, 18}, versionsSent(t, c))
	tb.acked(16, op("e", `6`), "me", now, nil)
	assert.Empty(t, versionsSent(t, c), "an ack behind the copy is dropped")
	assert.Empty(t, tb.early)

	assert.Equal(t, int64(4), tb.s.metrics.ackPath.Load(), "12, 14, 15, 17 and none other")
	assert.Equal(t, int64(3), tb.s.metrics.consumerPath.Load(), "11, 13, 18")
	assert.Equal(t, int64(1), tb.s.metrics.compacted.Load(), "16")
	assert.Equal(t, `5`, string(tb.rows["d"].value))
	assert.Equal(t, uint64(18), tb.version)
}

// Before the copy is loaded, and beyond maxEarly waiting changes, the
// acknowledgement path does nothing: the consumer delivers everything.
func TestAckedChangesLeaveTheRestToTheConsumer(t *testing.T) {
	s, err := New(nil)
	require.NoError(t, err)
	tb := s.table("t")
	tb.acked(1, op("a", `1`), "me", time.Now(), nil)
	assert.Zero(t, tb.version)
	assert.Empty(t, tb.rows)

	tb, c := loadedTable(t, 0)
	for v := uint64(2); v < maxEarly+10; v++ {
		tb.acked(v, op("k", `1`), "me", time.Now(), nil)
	}
	assert.Len(t, tb.early, maxEarly)
	tb.mu.Lock()
	tb.delivered(1, "k", consumerRow(1, `0`), time.Now())
	tb.mu.Unlock()
	sent := versionsSent(t, c)
	require.Len(t, sent, maxEarly+1)
	for i, v := range sent {
		require.Equal(t, uint64(i+1), v)
	}
}

// acked calls its ack exactly once when it fans the change out, whoever
// is subscribed (the writer, others, no one) and even when the update
// cannot be encoded, after the writer's update and before the others';
// and never when it does not (not loaded, early, behind the copy, early
// list full), reporting which, so that doOperation sends the ack itself.
// An early change applied later does not call it.
func TestAckedCallsTheAckOnceExactlyWhenItReportsIt(t *testing.T) {
	type call struct{ writerQueued, otherQueued int }
	var calls []call
	var writer, other *conn
	ack := func() {
		c := call{-1, -1}
		if writer != nil {
			c.writerQueued = len(writer.queue)
		}
		if other != nil {
			c.otherQueued = len(other.queue)
		}
		calls = append(calls, c)
	}
	check := func(msg string, queued bool, want ...call) {
		t.Helper()
		assert.Equal(t, len(want) > 0, queued, msg)
		assert.Equal(t, want, calls, msg)
		calls = nil
	}

	s, err := New(nil)
	require.NoError(t, err)
	check("not loaded", s.table("t").acked(1, op("a", `1`), "me", time.Now(), ack))

	tb, c := loadedTable(t, 0)
	other = c
	writer = &conn{s: tb.s, id: "me", writing: true, wake: make(chan struct{}, 1)}
	tb.subs[writer] = struct{}{}
	check("the writer and another subscribed", tb.acked(1, op("a", `1`), "me", time.Now(), ack), call{1, 0})
	check("early", tb.acked(3, op("b", `2`), "me", time.Now(), ack))
	check("behind the copy", tb.acked(1, op("a", `1`), "me", time.Now(), ack))
	check("follows, with an early one after it", tb.acked(2, op("c", `3`), "me", time.Now(), ack), call{2, 1})
	assert.Equal(t, []uint64{1, 2, 3}, versionsSent(t, other))
	assert.Equal(t, []uint64{1, 2, 3}, versionsSent(t, writer))
	check("a value that cannot be encoded", tb.acked(4, op("d", `{`), "me", time.Now(), ack), call{0, 0})
	assert.Empty(t, versionsSent(t, other))

	delete(tb.subs, writer)
	delete(tb.subs, other)
	writer, other = nil, nil
	check("no subscriber", tb.acked(5, op("e", `5`), "me", time.Now(), ack), call{-1, -1})
	for v := uint64(7); v < maxEarly+7; v++ {
		tb.acked(v, op("k", `1`), "me", time.Now(), nil)
	}
	check("the early list full", tb.acked(maxEarly+7, op("k", `1`), "me", time.Now(), ack))
	tb.mu.Lock()
	tb.delivered(6, "k", consumerRow(6, `0`), time.Now())
	tb.mu.Unlock()
	check("early changes applied later", false)
}
