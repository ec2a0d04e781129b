//go:build js && wasm

package tablebridge

import (
	"context"
	"strconv"
	"syscall/js"
	"time"

	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/tables"
)

// APIVersion is globalThis.__tabsyncTables.version: the contract between
// this module and the npm wrapper's hooks, which the wrapper checks before
// it uses a module (a module of another version is refused with an error
// naming the version, not half used). 2: onEvent(at, n) and send(ws, at,
// n) read text from the module's memory (wire_js.go, textArgs), where 1
// passed onEvent eight arguments and sent frames itself.
const APIVersion = 2

var jsPromise = js.Global().Get("Promise")

// now is Date.now(), read through the runtime's clock (the glue's
// runtime.walltime, one import call) rather than syscall/js (a call into
// JavaScript and a js.Value): it is on every step's path.
func now() int64 { return time.Now().UnixMilli() }

// Install registers globalThis.__tabsyncTables = {version, create} and calls
// globalThis.__tabsyncTablesOnReady if the loader set it.
func Install() {
	api := jsObject.New()
	api.Set("version", APIVersion)
	api.Set("create", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 2 {
			panic("create(options, hooks)")
		}
		for _, h := range []string{"listen", "send"} {
			if args[1].Get(h).Type() != js.TypeFunction {
				panic("create(options, hooks): hooks." + h + " is missing (load the module through the tabsync npm package)")
			}
		}
		return newInstance(args[0], args[1]).handle()
	}))
	js.Global().Set("__tabsyncTables", api)
	if f := js.Global().Get("__tabsyncTablesOnReady"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
}

type job struct {
	r    tables.Ready
	done func(error) // called once the Store committed (or failed)
}

// instance is one IndexedDBSync in one tab: the engine and its I/O.
type instance struct {
	id                                      int32 // in instances from its start to its stop (export_js.go)
	tab, dbName, serverURL, clientID, token string
	tableNames                              []string
	hooks                                   js.Value // listen, send, onEvent, onStatus, onSettled, onError
	// The hooks the module calls, looked up once (a property read is a
	// call into JavaScript and a js.Value each time).
	onEvent, onStatus, onSettled, onError, sendHook js.Value
	// status and pending as last reported through onStatus.
	status   string
	pending  int
	reported bool

	e       *tables.Engine
	db      *database
	started bool
	stopped bool

	queue []job
	busy  bool

	timer   js.Value
	timerAt int64
	tick    js.Func

	bc    js.Value
	onMsg js.Func

	ws        js.Value
	wsOpen    bool  // ws fired open (send before it throws; after close it is dropped)
	sock      int32 // numbers the sockets: the export drops a message of one dropped
	wsFuncs   []wsListener
	wsMessage js.Value // the message listener, hooks.listen's

	lock lockState
}

func newInstance(opts, hooks js.Value) *instance {
	s := &instance{
		tab: opts.Get("tabId").String(), dbName: opts.Get("dbName").String(),
		serverURL: opts.Get("serverUrl").String(), clientID: opts.Get("clientId").String(),
		hooks: hooks, ws: js.Undefined(), timer: js.Undefined(), wsMessage: js.Undefined(),
	}
	s.onEvent, s.onStatus, s.onSettled, s.onError = hooks.Get("onEvent"), hooks.Get("onStatus"), hooks.Get("onSettled"), hooks.Get("onError")
	s.sendHook = hooks.Get("send")
	lastID++
	s.id = lastID
	if t := opts.Get("token"); t.Type() == js.TypeString {
		s.token = t.String()
	}
	if ts := opts.Get("tables"); ts.Type() == js.TypeObject {
		for i := 0; i < ts.Length(); i++ {
			s.tableNames = append(s.tableNames, ts.Index(i).String())
		}
	}
	return s
}

// channelName is shared by the tabs of one database and server: the
// BroadcastChannel and the Web Lock of the election.
func (s *instance) channelName() string {
	return "tabsync-tables:" + s.dbName + ":" + s.serverURL
}

func (s *instance) report(phase, message string) {
	e := jsObject.New()
	e.Set("phase", phase)
	e.Set("message", message)
	e.Set("tabId", s.tab)
	invoke("onError", s.onError, e)
}

// invoke calls the hook f unless it is missing; a hook that throws is
// logged and does not stop syncing.
func invoke(name string, f js.Value, args ...any) {
	defer func() {
		if r := recover(); r != nil {
			// The application's callback threw: it must not stop syncing.
			js.Global().Get("console").Call("error", "tabsync: "+name+" threw", jsErr(r))
		}
	}()
	if f.Type() == js.TypeFunction {
		f.Invoke(args...)
	}
}

func jsErr(r any) any {
	if e, ok := r.(js.Error); ok {
		return e.Value
	}
	if e, ok := r.(error); ok {
		return e.Error()
	}
	return "panic"
}

// promise returns a JavaScript promise and the functions that settle it.
func promise() (js.Value, func(any), func(string)) {
	var resolve, reject js.Value
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p := jsPromise.New(exec) // runs exec at once
	exec.Release()
	return p, func(v any) { resolve.Invoke(v) }, func(msg string) {
		reject.Invoke(js.Global().Get("Error").New("tabsync: " + msg))
	}
}

// handle returns the object the npm wrapper calls.
func (s *instance) handle() js.Value {
	h := jsObject.New()
	fn := func(name string, f func(args []js.Value) any) {
		h.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any { return f(args) }))
	}
	// id names the instance in the export's calls (set, delete and the
	// socket's messages go through it, see export_js.go), and kick lets
	// the goroutines such a call started run.
	h.Set("id", s.id)
	fn("kick", func([]js.Value) any { return nil })
	fn("start", func([]js.Value) any { return s.start() })
	fn("get", func(a []js.Value) any {
		s.touch(a[0].String())
		if v, ok := s.e.Get(a[0].String(), a[1].String()); ok {
			return v
		}
		return js.Undefined()
	})
	fn("getAll", func(a []js.Value) any {
		tbl := a[0].String()
		s.touch(tbl)
		out := jsObject.New()
		for _, k := range s.e.Keys(tbl) {
			v, _ := s.e.Get(tbl, k)
			out.Set(k, v)
		}
		return out
	})
	fn("status", func([]js.Value) any { return s.e.Status() })
	fn("pending", func([]js.Value) any { return s.e.Pending() })
	fn("leading", func([]js.Value) any { return s.e.Leading() })
	fn("stop", func([]js.Value) any { s.stop(); return nil })
	return h
}

func (s *instance) touch(tbl string) {
	r, err := s.e.Touch(now(), tbl)
	if err == nil {
		s.handleReady(r, nil)
	}
}

// start opens the database, restores the engine from it and starts it;
// the promise resolves once the engine runs.
func (s *instance) start() js.Value {
	p, resolve, reject := promise()
	go func() {
		db, err := openDB(context.Background(), s.dbName)
		if err != nil {
			reject("cannot open IndexedDB database " + strconv.Quote(s.dbName) + ": " + err.Error())
			return
		}
		stored, clientID, err := db.load(s.clientID)
		if err != nil {
			db.close()
			reject("cannot read IndexedDB database " + strconv.Quote(s.dbName) + ": " + err.Error())
			return
		}
		e, err := tables.New(tables.Config{Tab: s.tab, ClientID: clientID, Token: s.token, Tables: s.tableNames,
			Seed: uint64(js.Global().Get("Math").Call("random").Float() * (1 << 53))})
		if err != nil {
			db.close()
			reject(err.Error())
			return
		}
		s.db, s.e = db, e
		instances[s.id] = s // the export's calls reach it from now on
		e.Restore(stored)
		s.listen()
		s.started = true
		s.handleReady(e.Start(now()), nil)
		resolve(nil)
	}()
	return p
}

// write is set or delete, numbered seq by the caller, settled through
// hooks.onSettled(seq, opId, error) once the value and its outbox entry are
// committed (error is "" then), or at once when it is refused.
func (s *instance) write(tbl, key, value string, del bool, seq int32) {
	settle := func(id, msg string) { invoke("onSettled", s.onSettled, seq, id, msg) }
	if s.stopped {
		settle("", "this instance was disconnected")
		return
	}
	var r tables.Ready
	var id string
	var err error
	if del {
		r, id, err = s.e.Delete(now(), tbl, key)
	} else {
		r, id, err = s.e.Set(now(), tbl, key, value)
	}
	if err != nil {
		settle("", err.Error())
		return
	}
	s.handleReady(r, func(err error) {
		if err != nil {
			settle("", "storing "+strconv.Quote(key)+" failed: "+err.Error())
			return
		}
		settle(id, "")
	})
}

// handleReady carries out a Ready (see tables.Ready): at once what does not
// wait for IndexedDB, then the rest in order after the transactions before
// it.
func (s *instance) handleReady(r tables.Ready, done func(error)) {
	s.carryOut(r)
	if !r.Deferred() && !s.busy && len(s.queue) == 0 {
		if done != nil {
			done(nil)
		}
		s.arm()
		return
	}
	s.queue = append(s.queue, job{r: r, done: done})
	s.arm()
	if !s.busy {
		s.busy = true
		spawn(s.drain)
	}
}

// drain runs the deferred part of the queued Readies in order. It runs in a
// goroutine, woken only by IndexedDB events. The transactions of the
// Readies waiting at one time are merged into one (a burst of writes costs
// one IndexedDB transaction, not one each); a Ready that prunes a table
// starts a new one, since its prune must not run after the rows queued
// before it.
func (s *instance) drain() {
	for len(s.queue) > 0 {
		n := 1
		for n < len(s.queue) && n < maxBatch && (s.queue[n].r.Store == nil || len(s.queue[n].r.Store.Prune) == 0) {
			n++
		}
		batch := s.queue[:n:n]
		s.queue = s.queue[n:]
		var err error
		if tx := merge(batch); tx != nil && s.db != nil {
			err = s.db.commit(context.Background(), tx)
		}
		if err != nil {
			s.report(tables.PhaseStore, "an IndexedDB transaction failed: "+err.Error())
		}
		for _, j := range batch {
			if err == nil {
				s.finish(j.r)
			}
			if j.done != nil {
				j.done(err)
			}
		}
		s.arm()
	}
	s.busy = false
	if s.stopped && s.db != nil {
		s.db.close()
	}
}

// maxBatch bounds how many Readies share one transaction.
const maxBatch = 1000

// merge joins the transactions of a batch: prunes first (only the first
// Ready may prune), then for each key the newest row, the outbox entries
// added and removed, and each table's highest version.
func merge(batch []job) *tables.Txn {
	var out *tables.Txn
	rowAt := map[[2]string]int{}
	verAt := map[string]int{}
	for _, j := range batch {
		tx := j.r.Store
		if tx == nil {
			continue
		}
		if out == nil {
			out = &tables.Txn{}
		}
		out.Prune = append(out.Prune, tx.Prune...)
		for _, r := range tx.Rows {
			k := [2]string{r.Table, r.Key}
			if i, ok := rowAt[k]; ok {
				if r.Version > out.Rows[i].Version {
					out.Rows[i] = r
				}
				continue
			}
			rowAt[k] = len(out.Rows)
			out.Rows = append(out.Rows, r)
		}
		out.AddOps = append(out.AddOps, tx.AddOps...)
		out.DelOps = append(out.DelOps, tx.DelOps...)
		for _, v := range tx.Versions {
			if i, ok := verAt[v.Table]; ok {
				out.Versions[i].Version = max(out.Versions[i].Version, v.Version)
				continue
			}
			verAt[v.Table] = len(out.Versions)
			out.Versions = append(out.Versions, v)
		}
	}
	return out
}

// carryOut does the part of a Ready that does not wait for IndexedDB.
func (s *instance) carryOut(r tables.Ready) {
	for _, f := range r.Frames {
		s.send(f)
	}
	s.post(r.Posts)
	for _, ev := range r.Events {
		at, n := textArgs(appendEvent(textBuf(), ev))
		invoke("onEvent", s.onEvent, at, n)
	}
	for _, op := range r.Locks {
		s.lockOp(op)
	}
	if r.Close {
		s.closeSocket()
	}
	if r.Dial {
		s.dial()
	}
	for _, e := range r.Errors {
		s.report(e.Phase, e.Message)
	}
	// Reported when it changed only: most steps (an update from another
	// device) change neither, and the call would cross into JavaScript
	// with a string each time.
	if st, n := s.e.Status(), s.e.Pending(); st != s.status || n != s.pending || !s.reported {
		s.status, s.pending, s.reported = st, n, true
		invoke("onStatus", s.onStatus, st, n)
	}
}

// finish does the part of a Ready that waits for its transaction, once it
// committed.
func (s *instance) finish(r tables.Ready) {
	s.post(r.PostsAfterStore)
	if r.LoadOutbox && s.db != nil {
		spawn(func() {
			ops, names, err := s.db.loadOutbox()
			if err != nil {
				s.report(tables.PhaseStore, "reading the outbox failed: "+err.Error())
				return
			}
			if !s.stopped {
				s.handleReady(s.e.OutboxLoaded(now(), ops, names), nil)
			}
		})
	}
}

func (s *instance) post(msgs []tables.TabMsg) {
	if !s.bc.IsUndefined() && s.bc.Truthy() {
		for _, m := range msgs {
			s.bc.Call("postMessage", msgToJS(m))
		}
	}
}

// arm sets the one timer for the engine's next deadline.
func (s *instance) arm() {
	if s.e == nil || s.stopped {
		return
	}
	d := s.e.NextDeadline()
	if d == s.timerAt {
		return
	}
	if !s.timer.IsUndefined() {
		js.Global().Call("clearTimeout", s.timer)
		s.timer = js.Undefined()
	}
	s.timerAt = d
	if d == 0 {
		return
	}
	s.timer = js.Global().Call("setTimeout", s.tick, max(d-now(), 0))
}

// listen opens the BroadcastChannel and the timer callback.
func (s *instance) listen() {
	s.tick = js.FuncOf(func(js.Value, []js.Value) any {
		s.timer, s.timerAt = js.Undefined(), 0
		if !s.stopped {
			s.handleReady(s.e.Tick(now()), nil)
		}
		return nil
	})
	s.onMsg = js.FuncOf(func(_ js.Value, args []js.Value) any {
		if s.stopped || len(args) == 0 {
			return nil
		}
		m, ok := msgFromJS(args[0].Get("data"))
		if !ok {
			s.report(tables.PhaseReceive, "a malformed message on the tables' BroadcastChannel was dropped")
			return nil
		}
		s.handleReady(s.e.ReceiveTab(now(), m), nil)
		return nil
	})
	s.bc = js.Global().Get("BroadcastChannel").New(s.channelName())
	s.bc.Call("addEventListener", "message", s.onMsg)
}

// stop leaves: the lock goes to another tab, which takes the connection.
func (s *instance) stop() {
	delete(instances, s.id)
	if s.stopped || !s.started {
		s.stopped = true
		return
	}
	r := s.e.Stop(now())
	s.carryOut(tables.Ready{Locks: r.Locks, Close: r.Close, Posts: r.Posts})
	s.stopped = true
	s.closeSocket()
	if !s.timer.IsUndefined() {
		js.Global().Call("clearTimeout", s.timer)
	}
	s.bc.Call("close")
	s.bc = js.Undefined()
	if !s.busy {
		s.db.close()
	} // else drain closes it when done
}

// lockState carries out the election's Web Locks operations: a granted
// lock's callback returns a promise that releasing resolves; a lock stolen
// from this tab rejects its request with an AbortError.
type lockState struct {
	gen     int
	held    bool
	abort   js.Value // cancels the queued request
	release js.Value // resolves the held lock's promise
}

func (s *instance) lockOp(op leader.Op) {
	l := &s.lock
	switch op {
	case leader.RequestLock:
		s.cancelLock()
		s.askLock(false)
	case leader.StealLock:
		s.cancelLock()
		s.askLock(true)
	case leader.ReleaseLock:
		s.cancelLock()
	case leader.QueryLock:
		held := l.held
		js.Global().Call("queueMicrotask", js.FuncOf(func(js.Value, []js.Value) any {
			if !s.stopped {
				s.handleReady(s.e.LockHeld(now(), held && s.lock.held), nil)
			}
			return nil
		}))
	}
}

func (s *instance) cancelLock() {
	l := &s.lock
	l.gen++
	if !l.abort.IsUndefined() && l.abort.Truthy() {
		l.abort.Call("abort")
	}
	if !l.release.IsUndefined() && l.release.Truthy() {
		l.release.Invoke()
	}
	l.abort, l.release, l.held = js.Undefined(), js.Undefined(), false
}

func (s *instance) askLock(steal bool) {
	l := &s.lock
	g := l.gen
	opts := jsObject.New()
	opts.Set("mode", "exclusive")
	if steal {
		opts.Set("steal", true)
	} else {
		l.abort = js.Global().Get("AbortController").New()
		opts.Set("signal", l.abort.Get("signal"))
	}
	granted := js.FuncOf(func(js.Value, []js.Value) any {
		if g != l.gen || s.stopped {
			return js.Undefined() // cancelled meanwhile: give it back
		}
		l.abort = js.Undefined()
		p, resolve, _ := promise()
		l.release = js.FuncOf(func(js.Value, []js.Value) any { resolve(nil); return nil }).Value
		l.held = true
		s.handleReady(s.e.LockGranted(now()), nil)
		return p
	})
	failed := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if g != l.gen || s.stopped {
			return nil // one we cancelled
		}
		wasHeld := l.held
		l.held, l.release = false, js.Undefined()
		if wasHeld {
			s.handleReady(s.e.LockLost(now()), nil)
		} else if len(args) > 0 {
			s.report("leader", "a Web Locks request failed: "+js.Global().Get("String").Invoke(args[0]).String())
		}
		return nil
	})
	js.Global().Get("navigator").Get("locks").Call("request", s.channelName(), opts, granted).
		Call("then", js.FuncOf(func(js.Value, []js.Value) any { return nil }), failed)
}
