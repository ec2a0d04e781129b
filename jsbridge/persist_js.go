//go:build js && wasm && !nopersist

package jsbridge

import (
	"context"
	"errors"
	"syscall/js"
	"time"

	"github.com/hack-pad/go-indexeddb/idb"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/persist"
	"github.com/tabsync/tabsync/protocol"
)

// The database: object store "state" holds one record per synced key,
// { key, value, version } (version in protocol.FormatStoredVersion's form, "" for
// a key a migration added), and "meta" holds under "schema" the
// persist.version the records were written under.
const (
	stateStore = "state"
	metaStore  = "meta"
	schemaKey  = "schema"
)

// openTimeout bounds how long a starting tab waits for the database before
// it syncs without it: an open stays blocked while a tab of an older
// tabsync keeps a connection it does not close.
const openTimeout = 10 * time.Second

// persistBuilt is true: this module stores what an instance with persist
// syncs (persist_off_js.go, in the module without IndexedDB, says false).
const persistBuilt = true

// persister keeps one instance's synced keys in IndexedDB. Every IndexedDB
// wait happens in a goroutine (go-indexeddb's Await), never inside a
// js.FuncOf callback. The goroutines step the engine only right after an
// Await returned, that is while the Go runtime runs because an IndexedDB
// event fired: still on the JavaScript thread, between two callbacks, so no
// locks are needed.
type persister struct {
	s        *Sync
	name     string
	version  uint
	migrate  js.Value
	strategy conflict.Strategy

	db      *idb.Database // nil while closed
	raw     js.Value      // the IDBDatabase behind db, for its events
	events  []js.Func     // listeners on raw
	opening bool
	off     bool // persistence is off for this tab; the reason was reported

	q         persist.Queue
	closeIdle bool // close the connection once the queue is empty (destroy)

	// Counters, for tests and measurements.
	transactions, puts, skipped, deletes int
	restoreTook                          time.Duration // open, migrate and read, at start
}

func newPersister(s *Sync) *persister {
	return &persister{
		s: s, name: s.opt.persistDB, version: s.opt.persistVersion,
		migrate: s.opt.persistMigrate, strategy: s.opt.engine.Strategy,
		raw: js.Undefined(),
	}
}

// fail reports a persistence failure; the state in memory is untouched and
// syncing goes on.
func (p *persister) fail(message string, err error) {
	var cause any
	if err != nil {
		message += ": " + err.Error()
		cause = err.Error()
	}
	p.s.report("persist", message, cause)
}

// disable turns persistence off for this tab and says why.
func (p *persister) disable(message string, err error) {
	p.off = true
	p.fail(message+"; this tab keeps syncing with the other tabs but stores nothing", err)
}

func indexedDBAvailable() bool {
	return typeOf(js.Global().Get("indexedDB")) == js.TypeObject
}

// open connects to the database, creating its stores if needed, and
// watches for another tab upgrading or deleting it.
func (p *persister) open(ctx context.Context) error {
	if !indexedDBAvailable() {
		return errNoIndexedDB
	}
	req, err := idb.Global().Open(ctx, p.name, p.version, func(db *idb.Database, _, _ uint) error {
		// Runs inside the upgradeneeded callback: create what is missing,
		// wait for nothing.
		names, _ := db.ObjectStoreNames()
		if !contains(names, stateStore) {
			if _, err := db.CreateObjectStore(stateStore, idb.ObjectStoreOptions{KeyPath: js.ValueOf("key")}); err != nil {
				return err
			}
		}
		if !contains(names, metaStore) {
			if _, err := db.CreateObjectStore(metaStore, idb.ObjectStoreOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	db, err := req.Await(ctx)
	if err != nil {
		return err
	}
	raw, err := req.Request.Result()
	if err != nil {
		return err
	}
	p.db, p.raw = db, raw
	p.listen(raw)
	return nil
}

var errNoIndexedDB = errors.New("IndexedDB is not available in this browser (private browsing, or storage blocked)")

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// listen handles another tab upgrading the database (versionchange with a
// newer version: close, so the upgrade is not blocked, and stop storing:
// this tab runs the older app), deleting it (versionchange with no version:
// close, so the deletion goes through, then open a fresh one and store
// everything again), and the browser closing the connection (storage
// cleared): reopen at the next write.
func (p *persister) listen(raw js.Value) {
	// One function for both events: each js.FuncOf costs the module.
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer p.s.recover("persist")
		if len(args) == 0 || !raw.Equal(p.raw) {
			return nil
		}
		ev := args[0]
		p.close()
		if ev.Get("type").String() == "close" {
			p.fail("the browser closed the database "+quote(p.name)+" (storage cleared?); it is opened again at the next change", nil)
			return nil
		}
		nv := ev.Get("newVersion") // versionchange
		if nv.IsNull() || nv.IsUndefined() {
			p.fail("the database "+quote(p.name)+" was deleted while this tab used it; it is created again with this tab's state", nil)
			go p.rewrite()
			return nil
		}
		p.disable("another tab upgraded the database "+quote(p.name)+" to version "+itoa(nv.Int())+" (this tab has version "+itoa(int(p.version))+"): reload this tab", nil)
		return nil
	})
	raw.Call("addEventListener", "versionchange", fn)
	raw.Call("addEventListener", "close", fn)
	p.events = append(p.events, fn)
}

// close drops the connection (idempotent).
func (p *persister) close() {
	if p.db != nil {
		_ = p.db.Close()
	}
	p.db, p.raw = nil, js.Undefined()
	for _, fn := range p.events {
		fn.Release()
	}
	p.events = nil
}

// load opens the database, runs the migration if the stored schema is
// older, and returns the stored entries. It runs in a goroutine.
func (p *persister) load(ctx context.Context) ([]protocol.Entry, error) {
	if err := p.open(ctx); err != nil {
		return nil, err
	}
	tx, err := p.db.Transaction(idb.TransactionReadWrite, stateStore, metaStore)
	if err != nil {
		return nil, err
	}
	meta, err := tx.ObjectStore(metaStore)
	if err != nil {
		return nil, err
	}
	st, err := tx.ObjectStore(stateStore)
	if err != nil {
		return nil, err
	}
	getSchema, err := meta.Get(js.ValueOf(schemaKey))
	if err != nil {
		return nil, err
	}
	schema, err := getSchema.Await(ctx)
	if err != nil {
		return nil, err
	}
	cursor, err := st.OpenCursor(idb.CursorNext)
	if err != nil {
		return nil, err
	}
	var entries []protocol.Entry
	bad := 0
	err = cursor.Iter(ctx, func(c *idb.CursorWithValue) error {
		rec, err := c.Value()
		if err != nil {
			return err
		}
		en, ok := readRecord(rec)
		if !ok {
			bad++
			return nil
		}
		entries = append(entries, en)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if bad > 0 {
		p.fail(itoa(bad)+" stored records of "+quote(p.name)+" are malformed and were ignored", nil)
	}
	from := uint(0)
	if typeOf(schema) == js.TypeNumber {
		from = uint(schema.Int())
	}
	switch {
	case from == p.version:
	case from > p.version:
		_ = tx.Abort()
		return nil, errors.New("the stored state has schema version " + itoa(int(from)) + ", newer than this tab's " + itoa(int(p.version)) + ": reload this tab")
	case from == 0 && len(entries) == 0:
		// A new database: nothing to migrate.
		if _, err := meta.PutKey(js.ValueOf(schemaKey), js.ValueOf(p.version)); err != nil {
			return nil, err
		}
	default:
		if entries, err = p.migrateIn(st, entries, from); err != nil {
			_ = tx.Abort()
			return nil, err
		}
		if _, err := meta.PutKey(js.ValueOf(schemaKey), js.ValueOf(p.version)); err != nil {
			return nil, err
		}
	}
	if err := tx.Await(ctx); err != nil {
		return nil, err
	}
	return entries, nil
}

// migrateIn calls migrate(state, from) with the stored state and writes its
// result, in the transaction that read the state and that bumps the schema:
// the migration runs once, even when two tabs of the new app start at once
// (IndexedDB runs their transactions one after the other, and the second
// finds the new schema).
func (p *persister) migrateIn(st *idb.ObjectStore, entries []protocol.Entry, from uint) ([]protocol.Entry, error) {
	if p.migrate.IsUndefined() {
		return entries, nil // no migrate function: the records are kept as they are
	}
	keys := make([]string, len(entries))
	vals := make([]conflict.Value, len(entries))
	for i, en := range entries {
		keys[i], vals[i] = en.Key, en.Value
	}
	state := jv(p.s.m.MakeObject(keys, vals))
	out, err := p.s.call(p.migrate, state, int(from))
	if err != nil {
		return nil, errors.New("persist.migrate threw: " + err.Error())
	}
	mig, ok := persist.Migrate(p.s.m, entries, out)
	if !ok {
		return nil, errors.New("persist.migrate must return a plain object of the migrated state")
	}
	for _, k := range mig.Deletes {
		if _, err := st.Delete(js.ValueOf(k)); err != nil {
			return nil, err
		}
	}
	for _, en := range mig.Puts {
		if _, err := st.Put(record(en)); err != nil {
			return nil, errors.New("cannot store the migrated value of " + quote(en.Key) + ": " + err.Error())
		}
	}
	return mig.Puts, nil
}

// record builds the stored form of an entry.
func record(en protocol.Entry) js.Value {
	r := jsObject.New()
	r.Set("key", en.Key)
	r.Set("value", jv(en.Value))
	v := ""
	if !en.Version.IsZero() {
		v = protocol.FormatStoredVersion(en.Version)
	}
	r.Set("version", v)
	return r
}

// readRecord reads a stored record; ok is false when it is malformed.
func readRecord(r js.Value) (protocol.Entry, bool) {
	if typeOf(r) != js.TypeObject {
		return protocol.Entry{}, false
	}
	k, v := r.Get("key"), r.Get("version")
	if typeOf(k) != js.TypeString || typeOf(v) != js.TypeString {
		return protocol.Entry{}, false
	}
	var ver conflict.Version
	if s := v.String(); s != "" {
		var ok bool
		if ver, ok = protocol.ParseVersion(s); !ok {
			return protocol.Entry{}, false
		}
	}
	return protocol.Entry{Key: k.String(), Entry: conflict.Entry{Value: r.Get("value"), Version: ver}}, true
}

// add queues what the engine asked to store (entries) and the records of
// the tombstones it collected (tombs), and starts a transaction unless one
// is running (then they go with the next one).
func (p *persister) add(entries, tombs []protocol.Entry) {
	if p.off {
		return
	}
	start := p.q.Add(entries)
	if len(tombs) > 0 {
		start = p.q.Delete(tombs)
	}
	if p.s.ps.final {
		p.writeFinal()
		return
	}
	if start && !p.opening {
		go p.run()
	}
}

// writeFinal writes everything not known to be stored, in this task and
// without reading first, as the last open tab is unloaded: a transaction
// that waits for its reads would never get to its writes once the page is
// gone. No other tab is open to write a newer value meanwhile (only a tab
// opened in this very moment could, and it reads the database first).
func (p *persister) writeFinal() {
	entries := p.q.Drain()
	if p.db == nil || len(entries) == 0 {
		return
	}
	tx, err := p.db.Transaction(idb.TransactionReadWrite, stateStore)
	if err != nil {
		return
	}
	st, err := tx.ObjectStore(stateStore)
	if err != nil {
		return
	}
	p.transactions++
	for _, en := range entries {
		if _, err := st.Put(record(en)); err == nil {
			p.puts++
		}
	}
	_ = tx.Commit()
}

// run writes batches until the queue is empty. It runs in a goroutine.
func (p *persister) run() {
	ctx := context.Background()
	if p.db == nil {
		if p.opening || p.off {
			return
		}
		p.opening = true
		err := p.open(ctx)
		p.opening = false
		if err != nil {
			p.fail("cannot open the database "+quote(p.name)+"; changes are not stored until it opens", err)
			return
		}
	}
	for batch := p.q.Take(); batch != nil; batch = p.q.Take() {
		err := p.write(ctx, batch)
		if err != nil {
			p.fail("storing "+itoa(len(batch))+" keys in "+quote(p.name)+" failed; they are stored with the next change", err)
		}
		if !p.q.Done(err == nil) || p.db == nil {
			break
		}
	}
	if p.closeIdle && !p.q.Busy() {
		p.close()
	}
}

// write stores entries in one readwrite transaction, each only if newer
// than the stored record (persist.ShouldWrite): reading and writing in one
// transaction, which IndexedDB runs alone on the store, across tabs.
func (p *persister) write(ctx context.Context, batch []protocol.Entry) error {
	if p.db == nil {
		return errors.New("the database is closed")
	}
	tx, err := p.db.Transaction(idb.TransactionReadWrite, stateStore)
	if err != nil {
		return err
	}
	st, err := tx.ObjectStore(stateStore)
	if err != nil {
		return err
	}
	// All reads first, in this task; their results come in order.
	gets := make([]*idb.Request, len(batch))
	for i, en := range batch {
		if gets[i], err = st.Get(js.ValueOf(en.Key)); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	p.transactions++
	for i, en := range batch {
		stored, err := result(ctx, gets[i])
		if err != nil {
			return err
		}
		var have conflict.Version
		if old, ok := readRecord(stored); ok {
			have = old.Version
		}
		if p.q.Deletes(en.Key) {
			// A collected tombstone: its record goes, unless a newer
			// write replaced it.
			if persist.ShouldDelete(p.strategy, have, en.Version) {
				if _, err := st.Delete(js.ValueOf(en.Key)); err != nil {
					_ = tx.Abort()
					return err
				}
				p.deletes++
			}
			continue
		}
		if !persist.ShouldWrite(p.strategy, have, en.Version) {
			p.skipped++
			continue
		}
		if _, err := st.Put(record(en)); err != nil {
			// DataCloneError: this value cannot be stored; the others can.
			p.fail("the value of "+quote(en.Key)+" cannot be stored", err)
			continue
		}
		p.puts++
	}
	return tx.Await(ctx)
}

// result returns a request's result, waiting for it unless it is done.
func result(ctx context.Context, r *idb.Request) (js.Value, error) {
	if state, err := r.ReadyState(); err == nil && state == "done" {
		if err := r.Err(); err != nil {
			return js.Undefined(), err
		}
		return r.Result()
	}
	return r.Await(ctx)
}

// rewrite opens the database again after it was deleted and stores every
// write this tab holds. It runs in a goroutine.
func (p *persister) rewrite() {
	if p.opening || p.off {
		return
	}
	p.opening = true
	err := p.open(context.Background())
	p.opening = false
	if err != nil {
		p.disable("cannot create the database "+quote(p.name)+" again", err)
		return
	}
	if p.s.e != nil {
		p.q.Add(p.s.e.Versioned())
	}
	if !p.q.Busy() {
		p.run()
	}
}

// restore runs when the tab starts: it reads the stored state (migrating
// it first if needed) and hands it to the Sync, which restores it into the
// engine and the store before the engine asks the other tabs for their
// state. It runs in a goroutine.
func (p *persister) restore() {
	// The deadline is a JavaScript timer, not a Go one (see the package
	// doc): the goroutine must only ever wake from a JavaScript task.
	ctx, cancel := context.WithCancel(context.Background())
	expire := js.FuncOf(func(js.Value, []js.Value) any { cancel(); return nil })
	timer := jsSetTimeout.Invoke(expire, openTimeout.Milliseconds())
	defer func() {
		jsClearTimeout.Invoke(timer)
		expire.Release()
		cancel()
	}()
	began := time.Now()
	var entries []protocol.Entry
	p.opening = true
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("go-indexeddb failed")
			}
		}()
		entries, err = p.load(ctx)
		return err
	}()
	p.opening = false
	switch {
	case err != nil:
		p.close()
		p.disable("cannot restore the state stored in "+quote(p.name), unwrapJS(err))
	}
	p.s.restored(entries)
	p.restoreTook = time.Since(began)
	switch {
	case !p.off && p.q.Len() > 0 && !p.q.Busy():
		p.run()
	case p.closeIdle && !p.q.Busy():
		p.close() // destroyed while restoring
	}
}

// unwrapJS turns a safejs error into its message.
func unwrapJS(err error) error {
	if jsErr, ok := thrownBy(err); ok {
		return errors.New(jsErr.Value.Get("message").String())
	}
	return err
}

// persistState is the Sync's side of persistence.
type persistState struct {
	p         *persister
	restoring bool       // the engine starts once the stored state is read
	final     bool       // the last open tab is being unloaded: write at once
	done      bool       // restored once; a later start() does not read again
	inbox     []inboxed  // messages that arrived while restoring
	waiting   []js.Value // resolve functions of the promises start() returned
}

// maxInbox bounds the messages kept while restoring; beyond it they are
// dropped, and the STATE_REQUEST sent once restored brings the state back.
const maxInbox = 1000

// startPersist begins restoring the stored state, when persist is on and
// this instance has not restored yet. It reports whether the engine must
// wait for the restore before it starts.
func (s *Sync) startPersist() bool {
	if !s.opt.persist {
		return false
	}
	if s.ps.p == nil {
		s.ps.p = newPersister(s)
	}
	switch {
	case s.ps.restoring:
		return true // started, stopped and started again while restoring
	case s.ps.done || s.ps.p.off:
		return false
	case !indexedDBAvailable():
		s.ps.p.disable("persist is on but "+errNoIndexedDB.Error(), nil)
		return false
	}
	s.ps.restoring = true
	go s.ps.p.restore()
	return true
}

// restored takes the stored entries: into the engine, then into the store
// in one setState, and only then does the engine start and ask the other
// tabs for their state; messages that arrived meanwhile follow.
func (s *Sync) restored(entries []protocol.Entry) {
	defer s.recover("persist")
	s.ps.restoring, s.ps.done = false, true
	inbox := s.ps.inbox
	s.ps.inbox = nil
	if s.e != nil && !s.destroyed {
		s.handle(s.e.Restore(now(), entries))
		if !s.channel.IsUndefined() {
			s.last = s.getState()
			s.handle(s.e.Start(now(), s.last))
			for _, m := range inbox {
				s.deliver(now(), m.msg, m.derr)
			}
		}
	}
	waiting := s.ps.waiting
	s.ps.waiting = nil
	for _, resolve := range waiting {
		resolve.Invoke()
	}
}

// inboxed is a message that arrived while restoring, read, or its drop.
type inboxed struct {
	msg  protocol.Message
	derr *protocol.Error
}

// held keeps a message that arrived while restoring; false when not restoring.
func (s *Sync) held(msg protocol.Message, derr *protocol.Error) bool {
	if !s.ps.restoring {
		return false
	}
	if len(s.ps.inbox) < maxInbox {
		s.ps.inbox = append(s.ps.inbox, inboxed{msg, derr})
	}
	return true
}

// eachHeldValue calls f with the values of the messages held while
// restoring: live, for sweepSlots.
func (s *Sync) eachHeldValue(f func(conflict.Value)) {
	for _, m := range s.ps.inbox {
		for _, en := range m.msg.Entries {
			f(en.Value)
		}
	}
}

// persistEntries hands the engine's Ready.Persist and Ready.Unpersist (the
// records of collected tombstones) to the persister. The values held in
// slots are read now: the writes wait in a queue, past the next sweep of
// the slots.
func (s *Sync) persistEntries(entries, tombs []protocol.Entry) {
	if s.ps.p != nil {
		for _, list := range [][]protocol.Entry{entries, tombs} {
			for i, en := range list {
				if h, ok := en.Value.(*held); ok {
					list[i].Value = h.value()
				}
			}
		}
		s.ps.p.add(entries, tombs)
	}
}

// started returns what handle.start() gives back: a promise resolved once
// the stored state is restored and the engine has started, or undefined
// when there is nothing to wait for.
func (s *Sync) started() js.Value {
	if !s.ps.restoring {
		return js.Undefined()
	}
	var resolveFn js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolveFn = args[0]
		return nil
	})
	promise := js.Global().Get("Promise").New(executor)
	executor.Release()
	// Calling the executor, a Go function, let the Go runtime run the
	// restore goroutine if it was ready: it may have finished by now.
	if s.ps.restoring {
		s.ps.waiting = append(s.ps.waiting, resolveFn)
	} else {
		resolveFn.Invoke()
	}
	return promise
}

// closePersist closes the database once the writes under way are done.
func (s *Sync) closePersist() {
	if p := s.ps.p; p != nil {
		p.closeIdle = true
		if !p.q.Busy() && !p.opening {
			p.close()
		}
	}
}

// stopUnloading stops the instance as its page is unloaded. When it is the
// last open tab, what it has not stored yet is written at once (see
// writeFinal); otherwise the other tabs store its last writes when they get
// its goodbye (see sync.Engine: a leaving peer's writes are stored).
func (s *Sync) stopUnloading() {
	s.ps.final = s.ps.p != nil && !s.ps.p.off && s.e != nil && s.e.Active() && s.e.ConnectedTabs() == 1
	s.Stop()
	if s.ps.final {
		s.ps.final = false
		s.ps.p.writeFinal()
	}
}
