//go:build !js

package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabsync/tabsync/tableproto"
)

// Storage layout: table T is the KV bucket "tabsync_T" (stream
// "KV_tabsync_T"), History 1, no TTL. A key K is stored under the subject
// "$KV.tabsync_T.<base64url(K)>"; the stream sequence of its message is the
// change's tableVersion. Headers: Nats-Msg-Id (the opId, for JetStream's
// dedupe), Tabsync-Origin (the writer's clientId), KV-Operation: DEL for a
// delete.
const (
	bucketPrefix = "tabsync_"
	originHeader = "Tabsync-Origin"
	kvOpHeader   = "KV-Operation"
)

var b64 = base64.RawURLEncoding

// row is the latest change of one key; deletes stay as tombstones so that
// a resume from an older version reports them.
type row struct {
	rev     uint64
	ts      int64 // ms since the epoch, JetStream's time of storing
	value   []byte
	deleted bool
	origin  string
	opID    string
}

// table is one table as this relay sees it: its bucket, and, once someone
// subscribed here, a copy of its latest rows kept current by one ordered
// JetStream consumer, from which it fans updates out to its subscribers.
type table struct {
	s      *Server
	name   string
	bucket string
	stream string
	subj   string // "$KV.<bucket>."

	ensureMu sync.Mutex
	ensured  bool

	startMu sync.Mutex
	started bool
	loaded  chan struct{}
	cc      jetstream.ConsumeContext

	mu      sync.Mutex
	version uint64
	rows    map[string]*row
	subs    map[*conn]struct{}
	// log holds the changes after logStart in version order (at most
	// Options.ResumeLog), so that a resume from since >= logStart gets every
	// change, not only each key's latest.
	log      []logEntry
	logStart uint64
	// early holds, in version order, changes this relay stored whose
	// acknowledgement came before the versions below them reached the
	// copy (see acked).
	early []earlyEntry
}

// maxEarly bounds table.early.
const maxEarly = 4096

type earlyEntry struct {
	key    string
	r      *row
	stored time.Time // when the relay published it
}

type logEntry struct {
	key string
	r   *row
}

func (s *Server) table(name string) *table {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[name]
	if t == nil {
		b := bucketPrefix + name
		t = &table{s: s, name: name, bucket: b, stream: "KV_" + b, subj: "$KV." + b + ".",
			loaded: make(chan struct{}), rows: map[string]*row{}, subs: map[*conn]struct{}{}}
		s.tables[name] = t
	}
	return t
}

// ensure creates the table's bucket if it does not exist and makes sure its
// stream remembers message ids for the dedupe window.
func (t *table) ensure(ctx context.Context) error {
	t.ensureMu.Lock()
	defer t.ensureMu.Unlock()
	if t.ensured {
		return nil
	}
	// The bucket's stream is created directly, with the dedupe window in
	// the same call: two relays creating it at once send the same config,
	// which JetStream accepts from both. (CreateKeyValue followed by
	// UpdateStream from two relays at once stalled a 3-node cluster for
	// 10 s.) The config is what nats.go's CreateKeyValue makes, so NATS
	// tools still see a KV bucket.
	js := t.s.js
	cfg := jetstream.StreamConfig{
		Name: t.stream, Description: "tabsync table " + t.name, Subjects: []string{t.subj + ">"},
		MaxMsgsPerSubject: int64(t.s.opts.History), MaxBytes: -1, MaxMsgs: -1, MaxMsgSize: -1, MaxConsumers: -1,
		Storage: jetstream.FileStorage, Replicas: t.s.opts.Replicas, Discard: jetstream.DiscardNew,
		AllowRollup: true, DenyDelete: true, AllowDirect: true, Duplicates: t.s.opts.DedupeWindow,
	}
	_, err := js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// It exists with another config (an older tabsync, another
		// --history): keep it, but make sure it remembers opIds long enough.
		var st jetstream.Stream
		if st, err = js.Stream(ctx, t.stream); err == nil {
			if old := st.CachedInfo().Config; old.Duplicates < t.s.opts.DedupeWindow {
				old.Duplicates = t.s.opts.DedupeWindow
				_, err = js.UpdateStream(ctx, old)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("table %s: creating its stream: %w", t.name, err)
	}
	t.ensured = true
	return nil
}

// load starts the table's consumer if it is not running and waits until
// the copy holds every change stored before the call.
func (t *table) load(ctx context.Context) error {
	if err := t.ensure(ctx); err != nil {
		return err
	}
	t.startMu.Lock()
	if !t.started {
		if err := t.startConsumer(ctx); err != nil {
			t.startMu.Unlock()
			return err
		}
		t.started = true
	}
	t.startMu.Unlock()
	select {
	case <-t.loaded:
	case <-ctx.Done():
		return fmt.Errorf("table %s: loading: %w", t.name, ctx.Err())
	}
	// Fresh, not only consistent: wait until the copy holds every change
	// stored before the subscribe (the consumer may be catching up, or
	// recovering from a lost NATS node).
	st, err := t.s.js.Stream(ctx, t.stream)
	if err != nil {
		return fmt.Errorf("table %s: stream: %w", t.name, err)
	}
	last := st.CachedInfo().State.LastSeq
	for {
		t.mu.Lock()
		v := t.version
		t.mu.Unlock()
		if v >= last {
			return nil
		}
		select {
		case <-time.After(2 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("table %s: at version %d, stored %d: %w", t.name, v, last, ctx.Err())
		}
	}
}

func (t *table) startConsumer(ctx context.Context) error {
	st, err := t.s.js.Stream(ctx, t.stream)
	if err != nil {
		return fmt.Errorf("table %s: stream: %w", t.name, err)
	}
	state := st.CachedInfo().State
	cons, err := t.s.js.OrderedConsumer(ctx, t.stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{t.subj + ">"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return fmt.Errorf("table %s: consumer: %w", t.name, err)
	}
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		// Nothing to load: the table's version is the stream's last sequence.
		t.mu.Lock()
		if !isClosed(t.loaded) {
			t.version = max(t.version, state.LastSeq)
			t.logStart = t.version
			close(t.loaded)
		}
		t.mu.Unlock()
	}
	// Short pulls and heartbeats: a consumer lost with a NATS node is
	// noticed and recreated (from the next version) within seconds.
	cc, err := cons.Consume(t.receive, jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		t.s.log.Debug("table consumer", "table", t.name, "err", err)
	}))
	if err != nil {
		return fmt.Errorf("table %s: consume: %w", t.name, err)
	}
	t.cc = cc
	return nil
}

func (t *table) stop() {
	t.startMu.Lock()
	defer t.startMu.Unlock()
	if t.cc != nil {
		t.cc.Stop()
		t.cc = nil
	}
}

// receive applies one change the consumer delivered (in stream order, one
// at a time) to the copy and sends it to every subscriber.
func (t *table) receive(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	key, kerr := b64.DecodeString(strings.TrimPrefix(m.Subject(), t.subj))
	h := m.Headers()
	r := &row{rev: seq, ts: meta.Timestamp.UnixMilli(), origin: h.Get(originHeader), opID: h.Get(jetstream.MsgIDHeader)}
	switch h.Get(kvOpHeader) {
	case "DEL", "PURGE":
		r.deleted = true
	default:
		r.value = m.Data()
	}
	if kerr != nil || tableproto.ValidKey(string(key)) != nil {
		// Not written by tabsync: it takes a version but is no row.
		t.s.log.Warn("table holds a key tabsync did not write; ignored", "table", t.name, "subject", m.Subject())
		key = nil
		r = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.delivered(seq, string(key), r, meta.Timestamp)
	if !isClosed(t.loaded) && meta.NumPending == 0 {
		t.logStart = t.version
		close(t.loaded)
	}
}

// delivered applies the consumer's change seq (r nil: not a row) under t.mu.
// Early changes below seq go first: the consumer passed their versions, so
// they were stored and then replaced by newer changes of their keys before it
// read them (JetStream keeps History changes per key); they are still
// changes, in version order. A seq the acknowledgement path applied already
// is skipped.
func (t *table) delivered(seq uint64, key string, r *row, stored time.Time) {
	if seq <= t.version {
		return
	}
	for len(t.early) > 0 && t.early[0].r.rev < seq {
		e := t.early[0]
		t.early = t.early[1:]
		if e.r.rev > t.version {
			t.apply(e.r.rev, e.key, e.r, e.stored, true, nil)
		}
	}
	if len(t.early) > 0 && t.early[0].r.rev == seq {
		t.early = t.early[1:]
	}
	t.apply(seq, key, r, stored, false, nil)
	t.applyEarly()
}

// acked fans out a change this relay stored as soon as JetStream
// acknowledged it with its version, without waiting for the consumer to
// deliver it back: about half the relay's hop. The consumer still delivers
// it, and delivered skips it then. A version that does not follow the
// copy's (another relay's change, or a concurrent one of this relay, is
// stored between) waits in t.early until the versions before it arrived,
// so every subscriber still sees the table's versions in order, with no gap
// and no duplicate. Changes made through other relays come only through
// the consumer. Nothing is done before the copy is loaded (the consumer
// delivers everything then), and t.early holds at most maxEarly changes
// (beyond, the consumer delivers them, as it would have anyway).
//
// ack, when the change is fanned out here, queues the writer's ack between
// its own update and the others' (see apply); acked reports whether it did.
func (t *table) acked(seq uint64, f *tableproto.Frame, origin string, stored time.Time, ack func()) (ackQueued bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !isClosed(t.loaded) || seq <= t.version {
		return false
	}
	r := &row{rev: seq, ts: time.Now().UnixMilli(), origin: origin, opID: f.OpID}
	if f.Change.Operation == tableproto.Delete {
		r.deleted = true
	} else {
		r.value = f.Change.Value
	}
	if seq > t.version+1 {
		if len(t.early) >= maxEarly {
			return false
		}
		i, found := slices.BinarySearchFunc(t.early, seq, func(e earlyEntry, v uint64) int { return compareRev(e.r.rev, v) })
		if !found {
			t.early = slices.Insert(t.early, i, earlyEntry{f.Change.Key, r, stored})
		}
		return false
	}
	t.apply(seq, f.Change.Key, r, stored, true, ack)
	t.applyEarly()
	return ack != nil
}

// applyEarly applies the early changes that follow the copy's version.
func (t *table) applyEarly() {
	for len(t.early) > 0 && t.early[0].r.rev <= t.version+1 {
		e := t.early[0]
		t.early = t.early[1:]
		if e.r.rev == t.version+1 {
			t.apply(e.r.rev, e.key, e.r, e.stored, true, nil)
		}
	}
	if len(t.early) == 0 {
		t.early = nil // let the backing array go
	}
}

// apply makes seq the copy's version with the change of key (r nil: a
// message that is no row) and, once loaded, logs it and queues its update
// for every subscriber; viaAck says which path brought it (for /metrics).
// ack, if not nil, is called once: after the update is queued for its
// writer's connections and before the others' (see below), or at the end
// when there is none to queue. t.mu is held; seq > t.version.
func (t *table) apply(seq uint64, key string, r *row, stored time.Time, viaAck bool, ack func()) {
	if ack != nil {
		defer func() {
			if ack != nil {
				ack()
			}
		}()
	}
	loaded := isClosed(t.loaded)
	if loaded && viaAck {
		t.s.metrics.ackPath.Add(1)
	} else if loaded {
		t.s.metrics.consumerPath.Add(1)
	}
	if loaded && seq != t.version+1 {
		// JetStream dropped the versions between (History older changes
		// of their keys) before this relay read them.
		t.s.metrics.compacted.Add(int64(seq - t.version - 1))
	}
	t.version = seq
	if r == nil {
		return
	}
	t.rows[key] = r
	if !loaded {
		return
	}
	t.log = append(t.log, logEntry{key, r})
	if over := len(t.log) - t.s.opts.ResumeLog; over > 0 {
		t.logStart = t.log[over-1].r.rev
		t.log = slices.Delete(t.log, 0, over)
	}
	if len(t.subs) > 0 {
		b, err := tableproto.Encode(t.updateFrame(key, r))
		if err == nil {
			// The writer's connections first, then its ack, then the other
			// clients: each queue wakes its connection's writer goroutine,
			// and Go runs the goroutine woken last first when this one
			// yields (the P's runnext), the others after the goroutines
			// queued before (the JetStream consumer's delivery of this same
			// change among them). So the other clients' writers, woken
			// last, run first: in TestRelayHopBench at the browsers' pace
			// (TABSYNC_HOP_BENCH=gap), with the ack or the writer's update
			// queued last, the update waited 70 to 100 us more. The writer
			// gets its update before its ack, the order in which its
			// engine has the least to do (the protocol allows either).
			for c := range t.subs {
				if c.id == r.origin {
					c.send(b, false)
				}
			}
			if ack != nil {
				ack()
				ack = nil
			}
			for c := range t.subs {
				if c.id != r.origin {
					c.send(b, false)
				}
			}
			t.s.metrics.fanout.observe(time.Since(stored).Seconds())
		}
	}
}

func (t *table) updateFrame(key string, r *row) tableproto.Frame {
	f := tableproto.Frame{Type: tableproto.Update, Table: t.name, TableVersion: r.rev, Timestamp: r.ts,
		OriginID: r.origin, OpID: r.opID, Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: r.value}}
	if r.deleted {
		f.Change = tableproto.Change{Operation: tableproto.Delete, Key: key}
	}
	return f
}

// subscribe sends c the catch-up for since (a snapshot, or the changes after
// since), then synced, and adds c to the subscribers, all under the table's
// lock so that live updates follow with no gap and no duplicate.
func (t *table) subscribe(c *conn, since uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	snapshot := since == 0
	if since > t.version {
		c.sendFrame(tableproto.Frame{Type: tableproto.Error, Code: tableproto.CodeSinceAhead, Table: t.name, TableVersion: t.version,
			Message: "since " + fmt.Sprint(since) + " is ahead of the table's version " + fmt.Sprint(t.version) + "; a snapshot follows"}, true)
		t.s.metrics.refused(tableproto.CodeSinceAhead)
		snapshot = true
	}
	if snapshot {
		t.sendSnapshot(c)
	} else if since >= t.logStart {
		// Every change after since, from the log.
		i, _ := slices.BinarySearchFunc(t.log, since+1, func(e logEntry, v uint64) int { return compareRev(e.r.rev, v) })
		for _, e := range t.log[i:] {
			c.sendFrame(t.updateFrame(e.key, e.r), true)
		}
	} else {
		// Older than the log: each key's latest change after since.
		var keys []string
		for k, r := range t.rows {
			if r.rev > since {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b string) int { return compareRev(t.rows[a].rev, t.rows[b].rev) })
		for _, k := range keys {
			c.sendFrame(t.updateFrame(k, t.rows[k]), true)
		}
	}
	c.sendFrame(tableproto.Frame{Type: tableproto.Synced, Table: t.name, TableVersion: t.version}, true)
	t.subs[c] = struct{}{}
}

// sendSnapshot sends the rows in chunks that stay well below the message
// limit, in version order.
func (t *table) sendSnapshot(c *conn) {
	keys := make([]string, 0, len(t.rows))
	for k, r := range t.rows {
		if !r.deleted {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return compareRev(t.rows[a].rev, t.rows[b].rev) })
	budget := t.s.opts.MaxMessageBytes / 2
	now := time.Now().UnixMilli()
	var rows []tableproto.Row
	size := 0
	flush := func(more bool) {
		c.sendFrame(tableproto.Frame{Type: tableproto.Snapshot, Table: t.name, TableVersion: t.version, Timestamp: now, Rows: rows, More: more}, true)
		rows, size = nil, 0
	}
	for _, k := range keys {
		r := t.rows[k]
		n := len(k)*2 + len(r.value) + 8
		if size > 0 && size+n > budget {
			flush(true)
		}
		rows = append(rows, tableproto.Row{Key: k, Value: r.value, OpID: r.opID, OriginID: r.origin, Timestamp: r.ts})
		size += n + len(r.opID) + len(r.origin) + 48
	}
	flush(false)
}

func compareRev(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (t *table) unsubscribe(c *conn) {
	t.mu.Lock()
	delete(t.subs, c)
	t.mu.Unlock()
}

// publish stores one change and returns its version; duplicate reports that
// the opId was seen within the dedupe window (the version is the original).
func (t *table) publish(ctx context.Context, f *tableproto.Frame, origin string) (version uint64, duplicate bool, err error) {
	m := nats.NewMsg(t.subj + b64.EncodeToString([]byte(f.Change.Key)))
	m.Header.Set(jetstream.MsgIDHeader, f.OpID)
	m.Header.Set(originHeader, origin)
	if f.Change.Operation == tableproto.Delete {
		m.Header.Set(kvOpHeader, "DEL")
	} else {
		m.Data = f.Change.Value
	}
	ack, err := t.s.js.PublishMsg(ctx, m)
	if err != nil {
		return 0, false, err
	}
	return ack.Sequence, ack.Duplicate, nil
}
