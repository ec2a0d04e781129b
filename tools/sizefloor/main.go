//go:build js && wasm

// Command sizefloor is the size floor of the tabsync module: a program that
// imports only syscall/js and go-indexeddb and uses its API (open,
// transaction, get, put, cursor). tools/sizecheck.sh compares
// tabsync.wasm with it.
package main

import (
	"context"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"
)

func main() {
	js.Global().Set("x", js.ValueOf(1))
	go func() {
		ctx := context.Background()
		req, err := idb.Global().Open(ctx, "db", 1, func(db *idb.Database, oldVersion, newVersion uint) error {
			_, err := db.CreateObjectStore("kv", idb.ObjectStoreOptions{})
			return err
		})
		if err != nil {
			return
		}
		db, err := req.Await(ctx)
		if err != nil {
			return
		}
		tx, _ := db.Transaction(idb.TransactionReadWrite, "kv")
		st, _ := tx.ObjectStore("kv")
		r, _ := st.Get(js.ValueOf("k"))
		v, _ := r.Await(ctx)
		st.PutKey(js.ValueOf("k"), v)
		cur, _ := st.OpenCursor(idb.CursorNext)
		cur.Iter(ctx, func(c *idb.CursorWithValue) error { _, err := c.Value(); return err })
		tx.Await(ctx)
	}()
	select {}
}
