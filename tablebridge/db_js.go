//go:build js && wasm

package tablebridge

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"github.com/tabsync/tabsync/tables"
)

// The database (dbName, version 1), laid out in docs/TABLES.md:
//
//	rows    key [t, k]  {t, k, v, d, ver, op, c, ts}  the server's rows, tombstones (d) included
//	outbox  key opId    {opId, t, k, d, v, tab, seq, at}  writes the server has not acknowledged
//	tables  key t       {t, ver}  every change of t up to ver is in rows
//	meta    "clientId"  this browser's id, sent in hello
//
// v is the value's JSON text.
const (
	rowsStore   = "rows"
	outboxStore = "outbox"
	tablesStore = "tables"
	metaStore   = "meta"
	dbVersion   = 1
)

type database struct {
	db  *idb.Database
	raw js.Value // the IDBDatabase, for getAll
}

func openDB(ctx context.Context, name string) (*database, error) {
	if t := js.Global().Get("indexedDB"); t.Type() != js.TypeObject {
		return nil, errors.New("IndexedDB is not available in this browser (private browsing, or storage blocked)")
	}
	req, err := idb.Global().Open(ctx, name, dbVersion, func(db *idb.Database, _, _ uint) error {
		names, _ := db.ObjectStoreNames()
		have := map[string]bool{}
		for _, n := range names {
			have[n] = true
		}
		create := func(name string, keyPath any) error {
			if have[name] {
				return nil
			}
			opts := idb.ObjectStoreOptions{}
			if keyPath != nil {
				opts.KeyPath = js.ValueOf(keyPath)
			}
			_, err := db.CreateObjectStore(name, opts)
			return err
		}
		for _, s := range []struct {
			name string
			key  any
		}{{rowsStore, []any{"t", "k"}}, {outboxStore, "opId"}, {tablesStore, "t"}, {metaStore, nil}} {
			if err := create(s.name, s.key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db, err := req.Await(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := req.Request.Result()
	if err != nil {
		return nil, err
	}
	return &database{db: db, raw: raw}, nil
}

func (d *database) close() { _ = d.db.Close() }

// await waits, in a goroutine, for a raw IDBRequest.
func await(req js.Value) (js.Value, error) {
	if req.Get("readyState").String() == "done" {
		if e := req.Get("error"); e.Type() == js.TypeObject {
			return js.Undefined(), errors.New(e.Get("name").String() + ": " + e.Get("message").String())
		}
		return req.Get("result"), nil
	}
	done := make(chan error, 1)
	var ok, fail js.Func
	ok = js.FuncOf(func(js.Value, []js.Value) any { done <- nil; return nil })
	fail = js.FuncOf(func(js.Value, []js.Value) any {
		msg := "request failed"
		if e := req.Get("error"); e.Type() == js.TypeObject {
			msg = e.Get("name").String() + ": " + e.Get("message").String()
		}
		done <- errors.New(msg)
		return nil
	})
	req.Set("onsuccess", ok)
	req.Set("onerror", fail)
	err := <-done
	ok.Release()
	fail.Release()
	if err != nil {
		return js.Undefined(), err
	}
	return req.Get("result"), nil
}

// load reads everything stored, and this browser's client id (storing
// fallback as it when there is none yet). It runs in a goroutine.
func (d *database) load(fallback string) (s tables.Stored, clientID string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("reading IndexedDB failed")
		}
	}()
	tx := d.raw.Call("transaction", []any{rowsStore, outboxStore, tablesStore, metaStore}, "readwrite")
	rowsReq := tx.Call("objectStore", rowsStore).Call("getAll")
	opsReq := tx.Call("objectStore", outboxStore).Call("getAll")
	tblReq := tx.Call("objectStore", tablesStore).Call("getAll")
	meta := tx.Call("objectStore", metaStore)
	idReq := meta.Call("get", "clientId")
	id, err := await(idReq)
	if err != nil {
		return s, "", err
	}
	if id.Type() == js.TypeString && id.String() != "" {
		clientID = id.String()
	} else {
		clientID = fallback
		meta.Call("put", fallback, "clientId")
	}
	rows, err := await(rowsReq)
	if err != nil {
		return s, "", err
	}
	if s.Rows, err = loadRows(rows); err != nil {
		return s, "", err
	}
	ops, err := await(opsReq)
	if err != nil {
		return s, "", err
	}
	if s.Ops, err = loadOps(ops); err != nil {
		return s, "", err
	}
	tbls, err := await(tblReq)
	if err != nil {
		return s, "", err
	}
	for i := 0; i < tbls.Length(); i++ {
		t := tbls.Index(i)
		s.Versions = append(s.Versions, tables.TableVersion{Table: t.Get("t").String(), Version: uint64(t.Get("ver").Float())})
	}
	return s, clientID, nil
}

// loadRows reads the rows store's records (getAll's result) through their
// JSON text (stored.go).
func loadRows(rows js.Value) ([]tables.Row, error) {
	return readStoredRows(jsJSON.Call("stringify", rows).String())
}

// loadOps reads the outbox's records (getAll's result) through their JSON
// text, in the order they were written.
func loadOps(ops js.Value) ([]tables.Op, error) {
	out, err := readStoredOps(jsJSON.Call("stringify", ops).String())
	sortOps(out)
	return out, err
}

// sortOps puts the outbox in the order it was written (writer clock, tab,
// sequence): the order the tabs sent them in. IndexedDB returns it by opId
// as text ("t.10" before "t.2"), far from that order: the insertion sort
// this was took 196 ms for 10,000 writes in Chromium (BenchmarkSortOps).
func sortOps(ops []tables.Op) {
	slices.SortFunc(ops, func(a, b tables.Op) int {
		return cmp.Or(cmp.Compare(a.At, b.At), strings.Compare(a.Tab, b.Tab), cmp.Compare(a.Seq, b.Seq))
	})
}

// loadOutbox reads the outbox and the tables' names. It runs in a goroutine.
func (d *database) loadOutbox() (ops []tables.Op, names []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("reading the outbox failed")
		}
	}()
	tx := d.raw.Call("transaction", []any{outboxStore, tablesStore}, "readonly")
	opsReq := tx.Call("objectStore", outboxStore).Call("getAll")
	keysReq := tx.Call("objectStore", tablesStore).Call("getAllKeys")
	all, err := await(opsReq)
	if err != nil {
		return nil, nil, err
	}
	if ops, err = loadOps(all); err != nil {
		return nil, nil, err
	}
	keys, err := await(keysReq)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < keys.Length(); i++ {
		names = append(names, keys.Index(i).String())
	}
	return ops, names, nil
}

// commit runs one of the engine's transactions (tables.Txn) and waits for
// it to complete. It runs in a goroutine. Rows and versions are written only
// where newer than what is stored, reading first in the same transaction,
// which IndexedDB runs alone on these stores across every tab.
func (d *database) commit(ctx context.Context, t *tables.Txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("IndexedDB transaction failed")
		}
	}()
	tx, err := d.db.Transaction(idb.TransactionReadWrite, rowsStore, outboxStore, tablesStore)
	if err != nil {
		return err
	}
	rows, err := tx.ObjectStore(rowsStore)
	if err != nil {
		return err
	}
	outbox, _ := tx.ObjectStore(outboxStore)
	tbls, _ := tx.ObjectStore(tablesStore)
	for _, p := range t.Prune {
		if err := prune(ctx, rows, p); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	gets := make([]*idb.Request, len(t.Rows))
	for i, r := range t.Rows {
		if gets[i], err = rows.Get(js.ValueOf([]any{r.Table, r.Key})); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	vgets := make([]*idb.Request, len(t.Versions))
	for i, v := range t.Versions {
		if vgets[i], err = tbls.Get(js.ValueOf(v.Table)); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	for _, op := range t.AddOps {
		if _, err := outbox.Put(opToJS(op)); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	for _, id := range t.DelOps {
		if _, err := outbox.Delete(js.ValueOf(id)); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	for i, r := range t.Rows {
		old, err := result(ctx, gets[i])
		if err != nil {
			return err
		}
		if old.Type() == js.TypeObject && uint64(old.Get("ver").Float()) >= r.Version {
			continue
		}
		if _, err := rows.Put(rowToJS(r)); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	for i, v := range t.Versions {
		old, err := result(ctx, vgets[i])
		if err != nil {
			return err
		}
		if old.Type() == js.TypeObject && uint64(old.Get("ver").Float()) >= v.Version {
			continue
		}
		rec := jsObject.New()
		rec.Set("t", v.Table)
		rec.Set("ver", float64(v.Version))
		if _, err := tbls.Put(rec); err != nil {
			_ = tx.Abort()
			return err
		}
	}
	return tx.Await(ctx)
}

// prune deletes the stored rows a snapshot no longer lists.
func prune(ctx context.Context, rows *idb.ObjectStore, p tables.Prune) error {
	keep := make(map[string]bool, len(p.Except))
	for _, k := range p.Except {
		keep[k] = true
	}
	// Every [t, k] with a string k lies between [t] and [t, []]: arrays sort
	// after strings.
	kr, err := idb.NewKeyRangeBound(js.ValueOf([]any{p.Table}), js.ValueOf([]any{p.Table, []any{}}), false, true)
	if err != nil {
		return err
	}
	cur, err := rows.OpenCursorRange(kr, idb.CursorNext)
	if err != nil {
		return err
	}
	return cur.Iter(ctx, func(c *idb.CursorWithValue) error {
		v, err := c.Value()
		if err != nil {
			return err
		}
		if !keep[v.Get("k").String()] && (p.All || uint64(v.Get("ver").Float()) <= p.UpTo) {
			_, err = c.Delete()
		}
		return err
	})
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
