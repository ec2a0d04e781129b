package tables_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/tableproto"
	"github.com/tabsync/tabsync/tables"
)

// The scenarios step one or two engines by hand: the test plays the server
// (frames in and out), the Web Locks manager and the BroadcastChannel, and
// records what every step asked for.

const t0 = int64(1_700_000_000_000)

type tab struct {
	t      testing.TB
	e      *tables.Engine
	now    int64
	frames []tableproto.Frame
	posts  []tables.TabMsg
	events []tables.Event
	errs   []tables.Error
	txns   []tables.Txn
	dial   bool
	closed bool
}

func newTab(t testing.TB, id string, tbls ...string) *tab {
	t.Helper()
	e, err := tables.New(tables.Config{Tab: id, ClientID: "browser1", Tables: tbls, Seed: 1})
	require.NoError(t, err)
	return &tab{t: t, e: e, now: t0}
}

func (tb *tab) do(r tables.Ready) tables.Ready {
	if r.Store != nil {
		tb.txns = append(tb.txns, *r.Store)
	}
	tb.events = append(tb.events, r.Events...)
	tb.posts = append(tb.posts, r.Posts...)
	tb.posts = append(tb.posts, r.PostsAfterStore...) // the harness's transactions commit at once
	tb.frames = append(tb.frames, r.Frames...)
	tb.errs = append(tb.errs, r.Errors...)
	tb.dial = tb.dial || r.Dial
	tb.closed = tb.closed || r.Close
	return r
}

// online starts the tab, grants it the lock, opens its connection and
// welcomes it; every table is answered with synced at version v.
func (tb *tab) online(v uint64) {
	tb.t.Helper()
	if tb.e.Status() == tables.StatusOffline {
		r := tb.do(tb.e.Start(tb.now))
		require.Contains(tb.t, r.Locks, leader.RequestLock)
	}
	tb.do(tb.e.LockGranted(tb.now))
	require.True(tb.t, tb.e.Leading())
	tb.tick(0)
	require.True(tb.t, tb.dial, "the leader dials")
	tb.do(tb.e.Connected(tb.now))
	require.Equal(tb.t, tableproto.Hello, tb.frames[len(tb.frames)-1].Type)
	tb.recv(tableproto.Frame{Type: tableproto.Welcome, V: tableproto.Version, ClientID: "browser1"})
	for _, name := range tb.e.Tables() {
		tb.recv(tableproto.Frame{Type: tableproto.Synced, Table: name, TableVersion: v})
	}
	require.Equal(tb.t, tables.StatusOnline, tb.e.Status())
}

// tick advances the clock by ms, ticking at every deadline on the way.
func (tb *tab) tick(ms int64) {
	end := tb.now + ms
	for {
		d := tb.e.NextDeadline()
		if d == 0 || d > end {
			break
		}
		tb.now = max(tb.now, d)
		tb.do(tb.e.Tick(tb.now))
	}
	tb.now = end
	tb.do(tb.e.Tick(tb.now))
}

func dropped(e *tables.Engine) int {
	n := 0
	for _, c := range e.Dropped {
		n += c
	}
	return n
}

func (tb *tab) recv(f tableproto.Frame) tables.Ready { return tb.do(tb.e.Receive(tb.now, f)) }

func (tb *tab) set(tbl, key, value string) string {
	tb.t.Helper()
	r, id, err := tb.e.Set(tb.now, tbl, key, value)
	require.NoError(tb.t, err)
	tb.do(r)
	return id
}

func (tb *tab) sentOps() []string {
	var ids []string
	for _, f := range tb.frames {
		if f.Type == tableproto.Operation {
			ids = append(ids, f.OpID)
		}
	}
	return ids
}

func (tb *tab) get(tbl, key string) string {
	v, ok := tb.e.Get(tbl, key)
	if !ok {
		return "<none>"
	}
	return v
}

func update(tbl string, v uint64, key, value, opID, client string) tableproto.Frame {
	return tableproto.Frame{Type: tableproto.Update, Table: tbl, TableVersion: v, OpID: opID, OriginID: client,
		Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: tableproto.RawValue(value)}}
}

func TestAWriteOfflineIsStoredShownAndSentOnConnectWithItsOpID(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.do(a.e.Start(a.now))
	a.txns = nil
	id := a.set("scores", "p1", `{"score":1}`)

	require.Len(t, a.txns, 1, "value and outbox entry in one transaction")
	assert.Equal(t, id, a.txns[0].AddOps[0].OpID)
	require.Len(t, a.events, 1)
	assert.Equal(t, tables.Event{Table: "scores", Operation: "set", Key: "p1", Value: `{"score":1}`, Origin: "local", OpID: id, Timestamp: t0}, a.events[0])
	assert.Equal(t, 1, a.e.Pending())
	assert.Empty(t, a.sentOps(), "offline: nothing sent")

	a.online(0)
	assert.Equal(t, []string{id}, a.sentOps())
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id, TableVersion: 1})
	assert.Equal(t, 0, a.e.Pending())
	assert.Len(t, a.events, 1, "an acknowledgement is not a change")
	assert.Equal(t, `{"score":1}`, a.get("scores", "p1"))
	last := a.txns[len(a.txns)-1]
	assert.Equal(t, []string{id}, last.DelOps)
	assert.Equal(t, uint64(1), last.Rows[0].Version)
}

func TestAReconnectSendsUnacknowledgedWritesAgainWithTheSameOpIDs(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	id1 := a.set("scores", "p1", `1`)
	id2 := a.set("scores", "p2", `2`)
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id1, TableVersion: 1})
	a.do(a.e.Disconnected(a.now, "network down"))
	assert.Equal(t, tables.StatusOffline, a.e.Status())
	a.frames = nil
	a.tick(tables.DefaultBackoffMaxMs)
	a.do(a.e.Connected(a.now))
	a.recv(tableproto.Frame{Type: tableproto.Welcome, V: 1})
	require.Equal(t, tableproto.Subscribe, a.frames[1].Type)
	assert.Equal(t, uint64(0), a.frames[1].Since, "the ack does not move the table's version; updates do")
	assert.Equal(t, []string{id2}, a.sentOps())
	// The server had stored it before the connection broke.
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id2, TableVersion: 2, Duplicate: true})
	assert.Equal(t, 0, a.e.Pending())
}

func TestAnotherDevicesChangeOverridingAPendingWriteFiresOneEventWithTheServersValue(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	id := a.set("scores", "p1", `"mine"`)
	// Another device's write is ordered after ours; its update comes before our ack.
	a.recv(update("scores", 2, "p1", `"theirs"`, "other.1", "browser2"))
	assert.Equal(t, `"mine"`, a.get("scores", "p1"), "still pending: ours shows")
	a.recv(update("scores", 1, "p1", `"mine"`, id, "browser1"))
	assert.NotEmpty(t, a.errs, "an update going backwards is reported")
	a.errs = nil
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id, TableVersion: 1})
	assert.Equal(t, `"theirs"`, a.get("scores", "p1"))
	require.Len(t, a.events, 2)
	assert.Equal(t, "server", a.events[1].Origin)
	assert.Equal(t, `"theirs"`, a.events[1].Value)
	assert.Equal(t, uint64(2), a.events[1].Version)
	assert.Empty(t, a.errs)
}

func TestASnapshotKeepsPendingWritesAndRowsOrderedAfterItsCut(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.recv(update("scores", 1, "old", `1`, "x.1", "browser2"))
	a.recv(update("scores", 2, "same", `2`, "x.2", "browser2"))
	pending := a.set("scores", "p", `"pending"`)
	a.do(a.e.Disconnected(a.now, ""))
	a.tick(tables.DefaultBackoffMaxMs)
	a.do(a.e.Connected(a.now))
	a.recv(tableproto.Frame{Type: tableproto.Welcome, V: 1})
	a.events = nil
	// The log no longer reaches back: a snapshot in two chunks.
	a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "scores", TableVersion: 7, More: true,
		Rows: []tableproto.Row{{Key: "new", Value: tableproto.RawValue(`3`)}}})
	assert.Empty(t, a.events, "nothing applied before the last chunk")
	a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "scores", TableVersion: 7,
		Rows: []tableproto.Row{{Key: "same", Value: tableproto.RawValue(`2`)}}})
	a.recv(tableproto.Frame{Type: tableproto.Synced, Table: "scores", TableVersion: 7})
	assert.Equal(t, "<none>", a.get("scores", "old"))
	assert.Equal(t, `3`, a.get("scores", "new"))
	assert.Equal(t, `"pending"`, a.get("scores", "p"))
	assert.Equal(t, 1, a.e.Pending())
	assert.Contains(t, a.sentOps(), pending)
	ops := map[string]string{}
	for _, ev := range a.events {
		ops[ev.Key] = ev.Operation
	}
	assert.Equal(t, map[string]string{"old": "delete", "new": "set"}, ops, "one event per change; the unchanged row fires none")
	last := a.txns[len(a.txns)-1]
	require.Len(t, last.Prune, 1)
	assert.Equal(t, tables.Prune{Table: "scores", UpTo: 7, Except: []string{"new", "same"}}, last.Prune[0])
}

// A snapshot row names the change that wrote it (its opId and originId):
// a row with the value held but written by another change is that change,
// so the ack of this tab's own write, stored with the same value as a
// change before it and learned from a snapshot, fires nothing (it fired
// with the row of the change before it, value right, origin wrong).
func TestASnapshotRowWithAnUnchangedValueTakesItsChangesOpID(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.recv(update("scores", 1, "k", `1`, "other.1", "browser2"))
	id := a.set("scores", "k", `1`)
	a.do(a.e.Disconnected(a.now, ""))
	a.tick(tables.DefaultBackoffMaxMs)
	a.do(a.e.Connected(a.now))
	a.recv(tableproto.Frame{Type: tableproto.Welcome, V: 1})
	a.events = nil
	// The server stored the write before the connection broke, and sends a
	// snapshot instead of the updates after 1.
	a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "scores", TableVersion: 2, Timestamp: t0 + 5,
		Rows: []tableproto.Row{{Key: "k", Value: tableproto.RawValue(`1`), OpID: id, OriginID: "browser1", Timestamp: t0 + 1}}})
	a.recv(tableproto.Frame{Type: tableproto.Synced, Table: "scores", TableVersion: 2})
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id, TableVersion: 2, Duplicate: true})
	assert.Equal(t, 0, a.e.Pending())
	assert.Empty(t, a.events, "the write was shown already; the ack changes nothing")

	var rows []tables.Row
	for _, tx := range a.txns {
		rows = append(rows, tx.Rows...)
	}
	var stored *tables.Row
	for i := range rows {
		if rows[i].Key == "k" && rows[i].Version == 2 {
			stored = &rows[i]
		}
	}
	require.NotNil(t, stored, "the snapshot's row is stored")
	assert.Equal(t, id, stored.OpID)
	assert.Equal(t, "browser1", stored.Client)
	assert.Equal(t, t0+1, stored.Timestamp)
}

// A snapshot's payload is read as JSON.parse reads it: a key named twice
// holds its last row, and one event fires for it. (The core stored the
// last row and fired the first's value: FuzzStep.)
func TestASnapshotNamingAKeyTwiceHoldsTheLastRow(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.do(a.e.Disconnected(a.now, ""))
	a.tick(tables.DefaultBackoffMaxMs)
	a.do(a.e.Connected(a.now))
	a.recv(tableproto.Frame{Type: tableproto.Welcome, V: 1})
	a.events = nil
	a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "scores", TableVersion: 3, Rows: []tableproto.Row{
		{Key: "k", Value: tableproto.RawValue(`1`), OpID: "x.1"}, {Key: "k", Value: tableproto.RawValue(`2`), OpID: "x.2"}}})
	assert.Equal(t, `2`, a.get("scores", "k"))
	require.Len(t, a.events, 1)
	assert.Equal(t, `2`, a.events[0].Value)
	assert.Equal(t, "x.2", a.events[0].OpID)
}

// A snapshot row without a value (or with a bad key) cannot be applied, and
// the snapshot cannot be applied without it (its key would read as
// deleted): the tab drops it, reports it, stores nothing, and asks again on
// a new connection.
func TestASnapshotWithAMalformedRowIsDroppedAndAskedAgain(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.recv(update("scores", 1, "k", `"kept"`, "x.1", "browser2"))
	a.do(a.e.Disconnected(a.now, ""))
	a.tick(tables.DefaultBackoffMaxMs)
	a.do(a.e.Connected(a.now))
	a.recv(tableproto.Frame{Type: tableproto.Welcome, V: 1})
	a.events, a.txns, a.errs = nil, nil, nil
	n := dropped(a.e)
	r := a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "scores", TableVersion: 3, Rows: []tableproto.Row{
		{Key: "other", Value: tableproto.RawValue(`1`)}, {Key: "broken", Value: nil}}})
	assert.Greater(t, dropped(a.e), n)
	assert.True(t, r.Close, "the connection is closed, to be dialled again")
	assert.Equal(t, tables.StatusOffline, a.e.Status())
	require.NotEmpty(t, a.errs)
	assert.Contains(t, a.errs[0].Message, "malformed row")
	assert.Empty(t, a.events)
	assert.Empty(t, a.txns, "nothing stored")
	assert.Equal(t, `"kept"`, a.get("scores", "k"))
}

func TestHostileFramesAreDroppedReportedAndChangeNothing(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(5)
	a.recv(update("scores", 6, "k", `"good"`, "x.1", "browser2"))
	a.events, a.txns = nil, nil
	for _, f := range []tableproto.Frame{
		update("scores", 6, "k", `"replayed"`, "x.2", "browser2"),                  // version not after ours
		update("scores", 3, "k", `"backwards"`, "x.3", "browser2"),                 // going backwards
		update("other", 9, "k", `"unsubscribed"`, "x.4", "browser2"),               // a table we did not ask for
		{Type: tableproto.Ack, Table: "scores", OpID: "forged.1", TableVersion: 9}, // an op we never sent
		{Type: tableproto.Snapshot, Table: "scores", TableVersion: 2},              // snapshot after synced
		{Type: tableproto.Type("surprise")},                                        // unknown type
		{Type: tableproto.Operation, Table: "scores", OpID: "x.5"},                 // a client frame
		{Type: tableproto.Update, Table: "scores", TableVersion: 10, OpID: "x.6"},  // no operation
		{Type: tableproto.Synced, Table: "scores", TableVersion: 1},                // out of turn
	} {
		n := dropped(a.e)
		a.recv(f)
		assert.Greater(t, dropped(a.e), n, "dropped: %+v", f)
	}
	assert.NotEmpty(t, a.errs, "reported (each kind at most once per ErrorCooldownMs)")
	assert.Empty(t, a.events)
	assert.Empty(t, a.txns, "nothing stored")
	assert.Equal(t, `"good"`, a.get("scores", "k"))
	assert.Equal(t, uint64(6), a.e.Version("scores"))
	assert.Equal(t, tables.StatusOnline, a.e.Status(), "the connection stays")
	for _, e := range a.errs {
		assert.Equal(t, tables.PhaseProtocol, e.Phase)
	}
}

func TestAFollowerRoutesItsWritesThroughTheLeaderAndSeesEveryOrigin(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	b := newTab(t, "tabB", "scores")
	b.do(b.e.Start(b.now))
	require.False(t, b.e.Leading())
	deliver := func(from, to *tab) {
		for _, m := range from.posts {
			to.do(to.e.ReceiveTab(to.now, m))
		}
		from.posts = nil
	}
	deliver(a, b)
	assert.Equal(t, tables.StatusOnline, b.e.Status(), "the leader tells a new tab how the connection is")

	id := b.set("scores", "p1", `1`)
	assert.Empty(t, b.frames, "a follower sends nothing to the server")
	deliver(b, a)
	assert.Equal(t, []string{id}, a.sentOps(), "the leader sends the follower's write")
	a.recv(update("scores", 1, "p1", `1`, id, "browser1"))
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id, TableVersion: 1})
	a.recv(update("scores", 2, "p2", `2`, "other.1", "browser2"))
	deliver(a, b)
	aid := a.set("scores", "p3", `3`)
	deliver(a, b)

	origins := func(evs []tables.Event) map[string]string {
		m := map[string]string{}
		for _, ev := range evs {
			m[ev.OpID] = ev.Origin
		}
		return m
	}
	assert.Equal(t, map[string]string{id: "local-tab", "other.1": "server", aid: "local"}, origins(a.events))
	assert.Equal(t, map[string]string{id: "local", "other.1": "server-tab", aid: "local-tab"}, origins(b.events))
	assert.Len(t, a.events, 3)
	assert.Len(t, b.events, 3)
	assert.Equal(t, 1, b.e.Pending(), "aid is pending in every tab")
}

func TestBadInputIsRefusedBeforeAnythingIsStored(t *testing.T) {
	a := newTab(t, "tabA")
	a.do(a.e.Start(a.now))
	for _, c := range []struct{ tbl, key, value string }{
		{"bad table!", "k", "1"},
		{"", "k", "1"},
		{"t", "", "1"},
		{"t", "k", ""},
	} {
		r, _, err := a.e.Set(a.now, c.tbl, c.key, c.value)
		assert.Error(t, err, "%+v", c)
		assert.Nil(t, r.Store)
	}
	_, err := tables.New(tables.Config{Tab: "bad id!", ClientID: "c"})
	assert.Error(t, err)
	_, err = tables.New(tables.Config{Tab: "t", ClientID: ""})
	assert.Error(t, err)
}

func TestAWriteRefusedForGoodLeavesTheOutboxAndTheKeyShowsTheServersValueAgain(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.recv(update("scores", 1, "k", `"server"`, "x.1", "browser2"))
	id := a.set("scores", "k", `"too big"`)
	a.recv(tableproto.Frame{Type: tableproto.Error, Table: "scores", OpID: id, Code: tableproto.CodeValueTooBig, Message: "too big"})
	assert.Equal(t, 0, a.e.Pending())
	assert.Equal(t, `"server"`, a.get("scores", "k"))
	require.NotEmpty(t, a.errs)
	assert.Equal(t, tables.PhaseServer, a.errs[len(a.errs)-1].Phase)
	last := a.events[len(a.events)-1]
	assert.Equal(t, `"server"`, last.Value)
}

func TestARetryableRefusalSendsTheWriteAgainLater(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	id := a.set("scores", "k", `1`)
	a.recv(tableproto.Frame{Type: tableproto.Error, Table: "scores", OpID: id, Code: tableproto.CodeUnavailable})
	assert.Equal(t, 1, a.e.Pending())
	a.tick(tables.DefaultBackoffMinMs)
	assert.Equal(t, []string{id, id}, a.sentOps())
}

func TestAConnectionThatStopsAnsweringIsReplaced(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	a.set("scores", "k", `1`)
	a.tick(tables.DefaultAckTimeoutMs)
	assert.True(t, a.closed)
	assert.Equal(t, tables.StatusOffline, a.e.Status())
	assert.NotEmpty(t, a.errs)
}

// The Quick Start: set then delete of one key, the second awaited only until
// stored locally. tabsync-server stores the operations of one connection
// concurrently, so two writes of a key in flight at once may be ordered the
// other way round: the delete at version 1, the set at 2, and the deleted
// key comes back for good, with a third event. A key's next write is sent
// only once the server has acknowledged (or refused for good) the one
// before it.
func TestAKeysWritesAreSentOneAtATimeSoTheServerCannotReorderThem(t *testing.T) {
	a := newTab(t, "tabA")
	a.online(0)
	set := a.set("game_scores", "player1", `{"score":1500}`)
	r, del, err := a.e.Delete(a.now, "game_scores", "player1")
	require.NoError(t, err)
	a.do(r)
	other := a.set("game_scores", "player2", `1`)
	assert.Equal(t, []string{set, other}, a.sentOps(), "the delete waits for the set's ack; another key does not")
	a.recv(tableproto.Frame{Type: tableproto.Snapshot, Table: "game_scores", TableVersion: 0})
	a.recv(tableproto.Frame{Type: tableproto.Synced, Table: "game_scores", TableVersion: 0})
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "game_scores", OpID: set, TableVersion: 1})
	assert.Equal(t, []string{set, other, del}, a.sentOps(), "the set's ack sends the delete")
	a.recv(update("game_scores", 1, "player1", `{"score":1500}`, set, "browser1"))
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "game_scores", OpID: other, TableVersion: 2})
	a.recv(update("game_scores", 2, "player2", `1`, other, "browser1"))
	a.recv(tableproto.Frame{Type: tableproto.Update, Table: "game_scores", TableVersion: 3, OpID: del, OriginID: "browser1",
		Change: tableproto.Change{Operation: tableproto.Delete, Key: "player1"}})
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "game_scores", OpID: del, TableVersion: 3})
	assert.Equal(t, "<none>", a.get("game_scores", "player1"))
	assert.Equal(t, 0, a.e.Pending())
	var ops []string
	for _, ev := range a.events {
		if ev.Key == "player1" {
			ops = append(ops, ev.Origin+" "+ev.Operation)
		}
	}
	assert.Equal(t, []string{"local set", "local delete"}, ops, "one event per change")
	assert.Zero(t, dropped(a.e))
}

// A write refused for a while (rate limited, storage unavailable) holds back
// the later writes of its key: they are sent again after it, in order.
func TestARetryableRefusalHoldsBackTheKeysLaterWrites(t *testing.T) {
	a := newTab(t, "tabA", "scores")
	a.online(0)
	id1 := a.set("scores", "k", `1`)
	id2 := a.set("scores", "k", `2`)
	assert.Equal(t, []string{id1}, a.sentOps())
	a.recv(tableproto.Frame{Type: tableproto.Error, Table: "scores", OpID: id1, Code: tableproto.CodeRateLimited})
	a.tick(tables.DefaultBackoffMinMs)
	assert.Equal(t, []string{id1, id1}, a.sentOps())
	a.recv(tableproto.Frame{Type: tableproto.Ack, Table: "scores", OpID: id1, TableVersion: 1})
	assert.Equal(t, []string{id1, id1, id2}, a.sentOps())
}
