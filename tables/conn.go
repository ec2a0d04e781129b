package tables

import (
	"strconv"

	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/protocol"
	"github.com/tabsync/tabsync/tableproto"
)

// election carries out what the elector asked: its messages go to the other
// tabs, its lock operations to the caller, and a change of role opens or
// closes the connection.
func (e *Engine) election(now int64, r *Ready, out leader.Output) {
	for i := range out.Messages {
		m := out.Messages[i]
		m.Tab = e.cfg.Tab
		r.Posts = append(r.Posts, TabMsg{Kind: KindElection, From: e.cfg.Tab, Election: &m})
	}
	r.Locks = append(r.Locks, out.Locks...)
	if !out.RoleChanged {
		return
	}
	if out.Leader && !e.leading {
		e.leading = true
		e.attempt = 0
		e.dialAt = now
		e.sweepAt = now + e.cfg.SweepMs
		r.LoadOutbox = true // a tab may have crashed between storing a write and posting it
		e.setStatus(r, StatusConnecting)
	} else if !out.Leader && e.leading {
		e.leading = false
		e.drop(r)
		e.setStatus(r, StatusConnecting)
	}
}

// drop closes this tab's connection, if any, and forgets its state.
func (e *Engine) drop(r *Ready) {
	if e.conn != connNone {
		r.Close = true
	}
	e.reset()
	e.dialAt = 0
}

// reset forgets the state of the connection that ended.
func (e *Engine) reset() {
	e.conn = connNone
	clear(e.inflight)
	e.sent = nil
	for _, t := range e.tables {
		t.sub, t.snap = subNone, nil
	}
}

// LockGranted, LockLost and LockHeld pass the results of the election's
// Web Locks operations.
func (e *Engine) LockGranted(now int64) Ready {
	var r Ready
	e.election(now, &r, e.el.LockGranted(now))
	return r
}

// LockLost: the lock was stolen.
func (e *Engine) LockLost(now int64) Ready {
	var r Ready
	e.election(now, &r, e.el.LockLost(now))
	return r
}

// LockHeld answers a QueryLock.
func (e *Engine) LockHeld(now int64, held bool) Ready {
	var r Ready
	e.election(now, &r, e.el.LockHeld(now, held))
	return r
}

// Connected: the WebSocket asked for by Dial is open.
func (e *Engine) Connected(now int64) Ready {
	var r Ready
	if !e.leading || e.conn != connDialing {
		r.Close = true // a socket nobody asked for any more
		return r
	}
	e.conn, e.connSince, e.lastHeard = connHello, now, now
	r.Frames = append(r.Frames, tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version,
		ClientID: e.cfg.ClientID, Token: e.cfg.Token})
	return r
}

// Disconnected: the WebSocket closed, or could not be opened; reason says
// why, for onError ("" reports nothing). Not called after Ready.Close.
func (e *Engine) Disconnected(now int64, reason string) Ready {
	var r Ready
	if e.conn == connNone {
		return r
	}
	if reason != "" {
		e.report(now, &r, PhaseConnect, "closed", reason+"; reconnecting")
	}
	e.retry(now, &r)
	return r
}

// retry ends the connection and schedules the next dial, with exponential
// backoff and jitter.
func (e *Engine) retry(now int64, r *Ready) {
	e.reset()
	if !e.leading {
		return
	}
	d := e.cfg.BackoffMinMs << min(e.attempt, 20)
	d = min(d, e.cfg.BackoffMaxMs)
	d = d/2 + int64(e.random()%uint64(d/2+1)) // full jitter over the upper half
	e.attempt++
	e.dialAt = now + d
	e.setStatus(r, StatusOffline)
	e.post(r, TabMsg{Kind: KindStatus, Status: StatusOffline})
}

// post adds a message for the other tabs: a write (KindOp) or server
// changes (KindChange) once the step's transaction committed, so that a
// tab that reads IndexedDB meanwhile (one starting) gets them either from
// what it reads or from the message; the rest at once.
func (e *Engine) post(r *Ready, m TabMsg) {
	m.From = e.cfg.Tab
	if m.Kind == KindOp || m.Kind == KindChange {
		r.PostsAfterStore = append(r.PostsAfterStore, m)
		return
	}
	r.Posts = append(r.Posts, m)
}

func (e *Engine) subscribe(r *Ready, t *table) {
	t.sub, t.snap = subWaiting, nil
	r.Frames = append(r.Frames, tableproto.Frame{Type: tableproto.Subscribe, Table: t.name, Since: t.version})
}

// sendOp sends op unless it is in flight already or an earlier write of
// its key still waits for the server: the server may store the operations
// of a connection concurrently, so two writes of one key in flight at once
// could be stored in the other order (a delete, then the set sent before
// it, bringing the key back). sendNext sends the next one after the ack.
func (e *Engine) sendOp(now int64, r *Ready, op *Op) {
	if !e.leading || e.conn != connReady {
		return
	}
	if _, sent := e.inflight[op.OpID]; sent {
		return
	}
	if ops := e.byKey[op.Table+"\x00"+op.Key]; len(ops) > 0 && ops[0] != op {
		return
	}
	e.inflight[op.OpID] = now
	e.sent = append(e.sent, sentOp{op.OpID, now})
	f := tableproto.Frame{Type: tableproto.Operation, Table: op.Table, OpID: op.OpID,
		Change: tableproto.Change{Operation: tableproto.Set, Key: op.Key, Value: tableproto.RawValue(op.Value)}}
	if op.Delete {
		f.Change.Operation, f.Change.Value = tableproto.Delete, nil
	}
	r.Frames = append(r.Frames, f)
}

// sendNext sends the oldest pending write of a key, once the one before it
// left the outbox.
func (e *Engine) sendNext(now int64, r *Ready, tbl, key string) {
	if ops := e.byKey[tbl+"\x00"+key]; len(ops) > 0 {
		e.sendOp(now, r, ops[0])
	}
}

// online updates the status once the connection is welcomed and every
// table has caught up.
func (e *Engine) online(r *Ready) {
	if e.conn != connReady {
		return
	}
	for _, t := range e.tables {
		if t.sub != subSynced {
			return
		}
	}
	if e.status != StatusOnline {
		e.setStatus(r, StatusOnline)
		e.post(r, TabMsg{Kind: KindStatus, Status: StatusOnline})
	}
}

// Receive steps the engine with a frame from the server (decoded by the
// caller; a frame that does not decode is reported by the caller and not
// passed on).
func (e *Engine) Receive(now int64, f tableproto.Frame) Ready {
	var r Ready
	if !e.leading || e.conn < connHello {
		e.Dropped["stale"]++
		return r
	}
	e.lastHeard = now
	if e.conn == connHello && f.Type != tableproto.Welcome && f.Type != tableproto.Error {
		e.hostile(now, &r, "order", "the server sent "+string(f.Type)+" before welcome")
		return r
	}
	switch f.Type {
	case tableproto.Welcome:
		e.welcome(now, &r, f)
	case tableproto.Snapshot:
		e.snapshot(now, &r, f)
	case tableproto.Synced:
		e.synced(now, &r, f)
	case tableproto.Update:
		e.update(now, &r, f)
	case tableproto.Ack:
		e.ack(now, &r, f)
	case tableproto.Error:
		e.serverError(now, &r, f)
	case tableproto.Pong:
	default:
		e.hostile(now, &r, "type", "the server sent a frame of type "+strconv.Quote(string(f.Type))+", which clients do not accept")
	}
	return r
}

func (e *Engine) hostile(now int64, r *Ready, kind, msg string) {
	e.report(now, r, PhaseProtocol, kind, msg+"; dropped")
}

func (e *Engine) welcome(now int64, r *Ready, f tableproto.Frame) {
	if e.conn != connHello {
		e.hostile(now, r, "welcome", "the server sent a second welcome")
		return
	}
	if f.V != tableproto.Version {
		e.hostile(now, r, "version", "the server speaks protocol version "+strconv.Itoa(f.V))
		r.Close = true
		e.retry(now, r)
		return
	}
	e.conn, e.attempt, e.nextPing = connReady, 0, now+e.cfg.PingMs
	for _, name := range e.Tables() {
		e.subscribe(r, e.tables[name])
	}
	for _, id := range e.order {
		if op := e.outbox[id]; op != nil {
			e.sendOp(now, r, op)
		}
	}
	e.online(r)
}

// subscribed returns the table a server frame is about, when this
// connection subscribed to it.
func (e *Engine) subscribed(now int64, r *Ready, f tableproto.Frame) *table {
	t := e.tables[f.Table]
	if t == nil || t.sub == subNone {
		e.hostile(now, r, "table", "the server sent "+string(f.Type)+" for table "+strconv.Quote(f.Table)+", which this browser did not subscribe to")
		return nil
	}
	return t
}

func (e *Engine) snapshot(now int64, r *Ready, f tableproto.Frame) {
	t := e.subscribed(now, r, f)
	if t == nil {
		return
	}
	if t.sub != subWaiting {
		e.hostile(now, r, "snapshot", "the server sent a snapshot of "+strconv.Quote(t.name)+" after it had caught up")
		return
	}
	if f.TableVersion < t.version && !t.reset {
		e.hostile(now, r, "backwards", "the server's snapshot of "+strconv.Quote(t.name)+" is at version "+
			strconv.FormatUint(f.TableVersion, 10)+", older than this browser's "+strconv.FormatUint(t.version, 10))
		return
	}
	for _, row := range f.Rows {
		if len(row.Value) == 0 || tableproto.ValidKey(row.Key) != nil {
			// A snapshot is one cut: applied without this row, its key
			// would read as deleted. Ask again on a new connection.
			e.hostile(now, r, "snapshot", "the server sent a malformed row in its snapshot of "+strconv.Quote(t.name)+" (reconnecting for another)")
			r.Close = true
			e.retry(now, r)
			return
		}
	}
	t.snap = append(t.snap, f.Rows...)
	t.snapTS = f.Timestamp
	if f.More {
		return
	}
	rows := t.snap
	t.snap = nil
	e.applySnapshot(r, t, f.TableVersion, f.Timestamp, rows, OriginServer)
}

// applySnapshot replaces the server state of t with rows at version v,
// keeping pending writes (they stay in the overlay and are sent again) and
// rows the server ordered after the cut (a write of ours acknowledged
// before the snapshot arrived).
func (e *Engine) applySnapshot(r *Ready, t *table, v uint64, ts int64, rows []tableproto.Row, origin string) {
	in := make(map[string]bool, len(rows))
	last := make(map[string]int, len(rows)) // a key named twice: the last row, as JSON.parse reads it
	for i, sr := range rows {
		last[sr.Key] = i
	}
	var changed []Row
	except := make([]string, 0, len(rows))
	for i, sr := range rows {
		if last[sr.Key] != i {
			continue
		}
		in[sr.Key] = true
		except = append(except, sr.Key)
		nr := snapshotRow(t.name, sr, v, ts)
		old := t.rows[sr.Key]
		if old != nil && !t.reset {
			if old.Version > v || sameChange(old, nr) {
				continue // ordered after the cut, or unchanged
			}
			if old.OpID == "" && !old.Deleted && old.Value == nr.Value {
				// The change held, now named (a row stored from an older
				// server's snapshot): no event.
				t.rows[sr.Key] = nr
				changed = append(changed, *nr)
				continue
			}
		}
		before := e.ident(t.name, sr.Key)
		t.rows[sr.Key] = nr
		changed = append(changed, *nr)
		e.changed(r, t.name, sr.Key, before, origin)
	}
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		old := t.rows[k]
		if in[k] || old.Deleted || (old.Version > v && !t.reset) {
			continue
		}
		before := e.ident(t.name, k)
		nr := &Row{Table: t.name, Key: k, Deleted: true, Version: v, Timestamp: ts}
		t.rows[k] = nr
		changed = append(changed, *nr)
		e.changed(r, t.name, k, before, origin)
	}
	reset := t.reset
	t.reset = false
	t.version = v
	if e.leading {
		tx := r.txn()
		tx.Prune = append(tx.Prune, Prune{Table: t.name, UpTo: v, Except: except, All: reset})
		tx.Rows = append(tx.Rows, changed...)
		tx.Versions = append(tx.Versions, TableVersion{Table: t.name, Version: v})
		e.post(r, TabMsg{Kind: KindChange, Table: t.name, Rows: changed, Version: v, Snapshot: true, Reset: reset})
	}
}

// snapshotRow is a snapshot's row as held: at the snapshot's version v,
// with the change that wrote it when the server named it (servers before
// the snapshot's "changes" did not: then no opId, and the snapshot's
// time). A malformed opId or originId is dropped, not trusted.
func snapshotRow(tbl string, sr tableproto.Row, v uint64, ts int64) *Row {
	nr := &Row{Table: tbl, Key: sr.Key, Value: string(sr.Value), Version: v, Timestamp: ts}
	if sr.OpID != "" && tableproto.ValidOpID(sr.OpID) == nil {
		nr.OpID = sr.OpID
		if sr.OriginID != "" && tableproto.ValidClientID(sr.OriginID) == nil {
			nr.Client = sr.OriginID
		}
		if sr.Timestamp > 0 {
			nr.Timestamp = sr.Timestamp
		}
	}
	return nr
}

// sameChange reports whether a snapshot's row is the change held already:
// the same opId, or, when the server did not name the change, the same
// value.
func sameChange(old, nr *Row) bool {
	if old.Deleted || old.Value != nr.Value {
		return false
	}
	return nr.OpID == "" || nr.OpID == old.OpID
}

func (e *Engine) synced(now int64, r *Ready, f tableproto.Frame) {
	t := e.subscribed(now, r, f)
	if t == nil {
		return
	}
	if t.sub != subWaiting || len(t.snap) > 0 {
		e.hostile(now, r, "synced", "the server sent synced for "+strconv.Quote(t.name)+" out of turn")
		return
	}
	if f.TableVersion < t.version {
		e.hostile(now, r, "backwards", "the server says "+strconv.Quote(t.name)+" is at version "+
			strconv.FormatUint(f.TableVersion, 10)+", older than this browser's "+strconv.FormatUint(t.version, 10))
	}
	t.sub = subSynced
	if f.TableVersion > t.version {
		t.version = f.TableVersion
		r.txn().Versions = append(r.Store.Versions, TableVersion{Table: t.name, Version: t.version})
		e.post(r, TabMsg{Kind: KindChange, Table: t.name, Version: t.version})
	}
	e.online(r)
}

func (e *Engine) update(now int64, r *Ready, f tableproto.Frame) {
	t := e.subscribed(now, r, f)
	if t == nil {
		return
	}
	if f.TableVersion <= t.version {
		e.hostile(now, r, "backwards", "the server sent an update of "+strconv.Quote(t.name)+" at version "+
			strconv.FormatUint(f.TableVersion, 10)+", not after this browser's "+strconv.FormatUint(t.version, 10))
		return
	}
	del := f.Change.Operation == tableproto.Delete
	if (!del && (f.Change.Operation != tableproto.Set || len(f.Change.Value) == 0)) || tableproto.ValidKey(f.Change.Key) != nil {
		e.hostile(now, r, "update", "the server sent a malformed update of "+strconv.Quote(t.name))
		return
	}
	row := Row{Table: t.name, Key: f.Change.Key, Value: string(f.Change.Value), Deleted: del,
		Version: f.TableVersion, OpID: f.OpID, Client: f.OriginID, Timestamp: f.Timestamp}
	if del {
		row.Value = ""
	}
	msg := TabMsg{Kind: KindChange, Table: t.name, Version: f.TableVersion}
	if own := e.outbox[f.OpID]; own != nil && f.OpID != "" {
		msg.Acks = append(msg.Acks, Ack{OpID: f.OpID, Version: f.TableVersion})
		r.txn().DelOps = append(r.Store.DelOps, f.OpID)
	}
	e.applyRows(r, t, []Row{row}, msg.Acks, nil, false, OriginServer)
	t.version = f.TableVersion
	msg.Rows = []Row{row}
	tx := r.txn()
	tx.Rows = append(tx.Rows, row)
	tx.Versions = append(tx.Versions, TableVersion{Table: t.name, Version: t.version})
	e.post(r, msg)
	if len(msg.Acks) > 0 {
		e.sendNext(now, r, t.name, row.Key)
	}
}

// applyRows applies server rows (each only if newer than the row held),
// then removes acknowledged and refused operations from the outbox, firing
// an event for every key whose shown value changed.
func (e *Engine) applyRows(r *Ready, t *table, rows []Row, acks []Ack, refused []string, snapshot bool, origin string) {
	type tk struct{ t, k string }
	var keys []tk
	before := map[tk]string{}
	note := func(tbl, key string) {
		x := tk{tbl, key}
		if _, ok := before[x]; !ok {
			before[x] = e.ident(tbl, key)
			keys = append(keys, x)
		}
	}
	for _, row := range rows {
		note(t.name, row.Key)
	}
	for _, a := range acks {
		if op := e.outbox[a.OpID]; op != nil {
			note(op.Table, op.Key)
		}
	}
	for _, id := range refused {
		if op := e.outbox[id]; op != nil {
			note(op.Table, op.Key)
		}
	}
	for i := range rows {
		row := rows[i]
		old := t.rows[row.Key]
		if snapshot && old != nil && !row.Deleted && sameChange(old, &row) {
			continue // a snapshot's row this tab holds already
		}
		if snapshot && old != nil && row.Deleted && old.Deleted {
			continue // a key gone already
		}
		if snapshot && old != nil && old.OpID == "" && !old.Deleted && !row.Deleted && old.Value == row.Value {
			// The change held, now named: no event (see applySnapshot).
			t.rows[row.Key] = &row
			before[tk{t.name, row.Key}] = e.ident(t.name, row.Key)
			continue
		}
		if old == nil || row.Version > old.Version {
			t.rows[row.Key] = &row
		}
	}
	// Remember every acknowledged opId, also of writes this tab has not
	// heard of yet: their writer's message may come after the connected
	// tab's, and must not make them pending again.
	for _, a := range acks {
		e.removeOp(a.OpID)
		e.remember(a.OpID)
	}
	for _, id := range refused {
		e.removeOp(id)
		e.remember(id)
	}
	for _, x := range keys {
		e.changed(r, x.t, x.k, before[x], origin)
	}
}

func (e *Engine) ack(now int64, r *Ready, f tableproto.Frame) {
	op := e.outbox[f.OpID]
	if op == nil {
		if !e.acked[f.OpID] {
			e.hostile(now, r, "ack", "the server acknowledged "+strconv.Quote(f.OpID)+", an operation this browser did not send")
		}
		return
	}
	if _, sent := e.inflight[f.OpID]; !sent || f.TableVersion == 0 || f.Table != op.Table {
		e.hostile(now, r, "ack", "the server acknowledged "+strconv.Quote(f.OpID)+" before it was sent, or without a version")
		return
	}
	t := e.table(op.Table)
	var rows []Row
	// The write is now the key's server state at its version, unless the
	// server has sent a later state of the key (then the table's version
	// is at or past it).
	if old := t.rows[op.Key]; f.TableVersion > t.version && (old == nil || f.TableVersion > old.Version) {
		row := Row{Table: op.Table, Key: op.Key, Value: op.Value, Deleted: op.Delete, Version: f.TableVersion, OpID: op.OpID, Client: e.cfg.ClientID, Timestamp: now}
		rows = append(rows, row)
		r.txn().Rows = append(r.Store.Rows, row)
	}
	acks := []Ack{{OpID: op.OpID, Version: f.TableVersion}}
	r.txn().DelOps = append(r.Store.DelOps, op.OpID)
	e.applyRows(r, t, rows, acks, nil, false, OriginServer)
	e.post(r, TabMsg{Kind: KindChange, Table: t.name, Rows: rows, Acks: acks})
	e.sendNext(now, r, op.Table, op.Key)
}

func (e *Engine) serverError(now int64, r *Ready, f tableproto.Frame) {
	msg := "the server refused"
	if f.OpID != "" {
		msg += " operation " + strconv.Quote(f.OpID)
	}
	if f.Table != "" {
		msg += " on table " + strconv.Quote(f.Table)
	}
	msg += ": " + string(f.Code) + ": " + f.Message
	if f.Code == tableproto.CodeSinceAhead {
		if t := e.tables[f.Table]; t != nil && t.sub == subWaiting {
			t.reset = true // the snapshot that follows replaces everything
		}
	}
	op := e.outbox[f.OpID]
	if op == nil || f.OpID == "" {
		e.report(now, r, PhaseServer, string(f.Code), msg)
		return
	}
	if _, sent := e.inflight[op.OpID]; !sent {
		e.hostile(now, r, "error", "the server refused "+strconv.Quote(f.OpID)+" before it was sent")
		return
	}
	if f.Code.Retry() || f.Code.Fatal() {
		delete(e.inflight, op.OpID) // sent again later, with the same opId
		if e.resendAt == 0 {
			e.resendAt = now + e.cfg.BackoffMinMs
		}
		e.report(now, r, PhaseServer, string(f.Code), msg+"; it will be sent again")
		return
	}
	// Refused for good (a bad key, a value too big, forbidden): the write
	// cannot ever be stored, so it leaves the outbox and the key shows the
	// server's value again.
	e.report(now, r, PhaseServer, string(f.Code)+"/"+op.OpID, msg+"; the write is dropped")
	r.txn().DelOps = append(r.Store.DelOps, op.OpID)
	e.applyRows(r, e.table(op.Table), nil, nil, []string{op.OpID}, false, OriginServer)
	e.post(r, TabMsg{Kind: KindChange, Table: op.Table, Refused: []string{op.OpID}})
	e.sendNext(now, r, op.Table, op.Key)
}

// ReceiveTab steps the engine with a message from another tab of this
// browser.
func (e *Engine) ReceiveTab(now int64, m TabMsg) Ready {
	var r Ready
	if !e.running || m.From == e.cfg.Tab || !protocol.ValidID(m.From) {
		return r
	}
	switch m.Kind {
	case KindElection:
		if m.Election == nil || m.Election.Tab != m.From {
			e.report(now, &r, PhaseReceive, "election", "a tab sent a malformed election message; dropped")
			return r
		}
		e.election(now, &r, e.el.Receive(now, *m.Election))
		if e.leading && m.Election.Type == protocol.LeaderElection {
			// A tab starting or probing: tell it how the connection is.
			e.post(&r, TabMsg{Kind: KindStatus, Status: e.status})
		}
	case KindOp:
		e.tabOp(now, &r, m.Op, OriginLocalTab)
	case KindTouch:
		if tableproto.ValidTable(m.Table) == nil {
			e.touch(now, &r, m.Table)
		}
	case KindChange:
		if e.leading {
			return r // only this tab's own connection changes its tables
		}
		if tableproto.ValidTable(m.Table) != nil {
			e.report(now, &r, PhaseReceive, "change", "a tab sent changes of a malformed table; dropped")
			return r
		}
		e.tabChange(&r, m)
	case KindStatus:
		if !e.leading && (m.Status == StatusOffline || m.Status == StatusConnecting || m.Status == StatusOnline) {
			e.leaderStatus = m.Status
			e.setStatus(&r, m.Status)
		}
	default:
		e.report(now, &r, PhaseReceive, "kind", "a tab sent a message of kind "+strconv.Quote(m.Kind)+"; dropped")
	}
	return r
}

// tabOp learns a write another tab stored (or the outbox sweep found).
func (e *Engine) tabOp(now int64, r *Ready, op *Op, origin string) {
	if op == nil || tableproto.ValidTable(op.Table) != nil || tableproto.ValidKey(op.Key) != nil ||
		tableproto.ValidOpID(op.OpID) != nil || (!op.Delete && op.Value == "") {
		e.report(now, r, PhaseReceive, "op", "a tab sent a malformed write; dropped")
		return
	}
	if e.outbox[op.OpID] != nil || e.acked[op.OpID] {
		return
	}
	cp := *op
	e.touch(now, r, cp.Table)
	before := e.ident(cp.Table, cp.Key)
	e.addOp(&cp)
	e.changed(r, cp.Table, cp.Key, before, origin)
	e.sendOp(now, r, &cp)
}

func (e *Engine) tabChange(r *Ready, m TabMsg) {
	t := e.table(m.Table)
	if m.Reset {
		// The server lost data: the connected tab replaced the table
		// with the rows it sent; keys it did not list are gone.
		in := map[string]bool{}
		for _, row := range m.Rows {
			in[row.Key] = true
		}
		for k, old := range t.rows {
			if !in[k] && !old.Deleted {
				before := e.ident(t.name, k)
				t.rows[k] = &Row{Table: t.name, Key: k, Deleted: true, Version: m.Version}
				e.changed(r, t.name, k, before, OriginServerTab)
			}
		}
		for _, row := range m.Rows {
			if old := t.rows[row.Key]; old != nil {
				old.Version = 0 // let the new row in
			}
		}
		t.version = 0
	}
	e.applyRows(r, t, m.Rows, m.Acks, m.Refused, m.Snapshot && !m.Reset, OriginServerTab)
	t.version = max(t.version, m.Version)
}

// OutboxLoaded passes the outbox and the names of the tables IndexedDB
// holds, as read for Ready.LoadOutbox. Writes no tab posted (the writer
// crashed after storing them) are learned and, by the connected tab, sent
// and posted to the others; tables this tab did not know (another tab
// stored them after this one restored) are subscribed to from scratch.
func (e *Engine) OutboxLoaded(now int64, ops []Op, tbls []string) Ready {
	var r Ready
	for _, name := range tbls {
		if tableproto.ValidTable(name) == nil {
			e.touch(now, &r, name)
		}
	}
	for i := range ops {
		op := ops[i]
		if e.outbox[op.OpID] != nil || e.acked[op.OpID] {
			continue
		}
		e.tabOp(now, &r, &op, OriginLocalTab)
		if e.leading {
			e.post(&r, TabMsg{Kind: KindOp, Op: &op})
		}
	}
	return r
}

// Tick runs what is due at now.
func (e *Engine) Tick(now int64) Ready {
	var r Ready
	if !e.running {
		return r
	}
	e.election(now, &r, e.el.Tick(now))
	if !e.leading {
		return r
	}
	if e.leading && !e.el.IsLeader(now) && e.conn != connNone {
		// The lease ran out (this tab did not run for a while): hold no
		// connection until the election confirms this tab still leads.
		e.drop(&r)
		e.dialAt = now + e.cfg.BackoffMinMs
		e.setStatus(&r, StatusConnecting)
		e.post(&r, TabMsg{Kind: KindStatus, Status: StatusConnecting})
		return r
	}
	switch e.conn {
	case connNone:
		if e.dialAt != 0 && now >= e.dialAt {
			e.conn, e.connSince, e.dialAt = connDialing, now, 0
			r.Dial = true
			if e.status != StatusConnecting {
				e.setStatus(&r, StatusConnecting)
				e.post(&r, TabMsg{Kind: KindStatus, Status: StatusConnecting})
			}
		}
	case connDialing, connHello:
		if now-e.connSince >= e.cfg.ConnectTimeoutMs {
			r.Close = true
			e.report(now, &r, PhaseConnect, "timeout", "the server did not answer within "+strconv.FormatInt(e.cfg.ConnectTimeoutMs, 10)+" ms; reconnecting")
			e.retry(now, &r)
		}
	case connReady:
		if now-e.lastHeard >= e.cfg.StallMs || e.oldestInflight(now) >= e.cfg.AckTimeoutMs {
			r.Close = true
			e.report(now, &r, PhaseConnect, "stalled", "the server stopped answering; reconnecting")
			e.retry(now, &r)
			return r
		}
		if now >= e.nextPing {
			e.nextPing = now + e.cfg.PingMs
			r.Frames = append(r.Frames, tableproto.Frame{Type: tableproto.Ping})
		}
		if e.resendAt != 0 && now >= e.resendAt {
			e.resendAt = 0
			for _, id := range e.order {
				if op := e.outbox[id]; op != nil {
					e.sendOp(now, &r, op)
				}
			}
		}
		if now >= e.sweepAt {
			e.sweepAt = now + e.cfg.SweepMs
			r.LoadOutbox = true
		}
	}
	return r
}

func (e *Engine) oldestInflight(now int64) int64 {
	if at, ok := e.oldestSent(); ok {
		return now - at
	}
	return 0
}

// oldestSent returns when the oldest operation still in flight was sent:
// the first entry of sent (kept in send order) that is still in flight
// with that time; entries before it are dropped, so this is O(1)
// amortized.
func (e *Engine) oldestSent() (int64, bool) {
	for len(e.sent) > 0 {
		s := e.sent[0]
		if at, ok := e.inflight[s.id]; ok && at == s.at {
			return s.at, true
		}
		e.sent = e.sent[1:]
	}
	return 0, false
}

type sentOp struct {
	id string
	at int64
}

// NextDeadline returns when Tick must next be called; 0: no timer needed.
func (e *Engine) NextDeadline() int64 {
	if !e.running {
		return 0
	}
	d := e.el.NextDeadline()
	at := func(t int64) {
		if t != 0 && (d == 0 || t < d) {
			d = t
		}
	}
	if e.leading {
		switch e.conn {
		case connNone:
			at(e.dialAt)
		case connDialing, connHello:
			at(e.connSince + e.cfg.ConnectTimeoutMs)
		case connReady:
			at(e.lastHeard + e.cfg.StallMs)
			at(e.nextPing)
			at(e.resendAt)
			at(e.sweepAt)
			if sent, ok := e.oldestSent(); ok {
				at(sent + e.cfg.AckTimeoutMs)
			}
		}
	}
	return d
}
