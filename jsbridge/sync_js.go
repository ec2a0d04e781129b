//go:build js && wasm

package jsbridge

import (
	"errors"
	"strconv"
	"syscall/js"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// Sync is one createBroadcastSync instance in one tab.
type Sync struct {
	m      *model
	e      *tsync.Engine
	opt    options
	tab    string
	prefix string // "[tabsync:abc123]"
	store  js.Value
	// problems found in the config: Start reports them and does not sync.
	problems []string

	channel  js.Value // the open BroadcastChannel, or undefined
	receiver js.Value // the channel's listener (the watcher's connect)
	onTimer  js.Func
	timer    js.Value
	timerAt  int64

	// kick is what the watcher calls after every kickEvery-th export call
	// (every call when the instance persists): a js.FuncOf that does
	// nothing, so that Go's scheduler runs the goroutines the export calls
	// started and the collector's background mark workers (export_js.go).
	kick js.Func
	// watcher is the instance's JavaScript side (helpers.js watch), set
	// by the first Start: it reads the messages received and hears the
	// store's changes, which it batches by task, and hands both to Go
	// through the module's export (export_js.go), and posts the messages
	// Go leaves in the outbox (outbox_js.go). applyFn and applyRecordFn
	// are its functions Go calls.
	watcher       js.Value
	applyFn       js.Value
	applyRecordFn js.Value
	last          js.Value // the store's state when it started last
	// reading is true while the message the watcher has just read is
	// delivered: only its patches can be applied by mask (see apply).
	reading bool

	// The export (export_js.go): exportID names the instance to it.
	// receiving is true inside its opReceive, whose patch, when nothing
	// else is left to do (mayDefer), the watcher applies after it returns:
	// deferred is its mask, or -1, and deferredPatch the patch, for
	// opThrew.
	exportID      int32
	changes       localState // a task's local changes, read again for each (local)
	receiving     bool
	mayDefer      bool
	deferred      float64
	deferredPatch *tsync.Patch

	handleFunc   js.Func // call(method, arg) behind Handle(), released by Destroy
	lifecycle    []func()
	resumeOnShow bool
	destroyed    bool

	ps persistState  // IndexedDB persistence (persist_js.go)
	el electionState // Web Locks of leader election (leader_js.go)
	// resumeOnResume: stopped by the page lifecycle's freeze; start again
	// on resume.
	resumeOnResume bool
	// electionWarning is reported by Start (a mode the browser lacks).
	electionWarning string
}

// New creates an instance for store with the user's config. It does not
// start syncing.
func New(store, config js.Value, tab string) (*Sync, error) {
	m, err := loadHelpers()
	if err != nil {
		return nil, err
	}
	if !protocol.ValidID(tab) {
		return nil, errors.New("tab id " + quote(tab) + " must be 1 to 64 letters, digits, - or _")
	}
	s := &Sync{m: m, tab: tab, store: store, timer: js.Undefined(), channel: js.Undefined(), watcher: js.Undefined(), receiver: js.Undefined()}
	s.el.lock = js.Undefined()
	s.prefix = "[tabsync:" + tab[max(0, len(tab)-6):] + "]"
	s.opt, s.problems = parseConfig(config, store, tab, m)
	if len(s.problems) > 0 {
		return s, nil
	}
	cfg := s.opt.engine
	if !s.opt.shouldSync.IsUndefined() {
		cfg.ShouldSync = func(prev, next conflict.Value) (bool, error) {
			r, err := s.call(s.opt.shouldSync, jv(prev), jv(next))
			return err == nil && truthy(r), err
		}
	}
	if !s.opt.customResolver.IsUndefined() {
		cfg.Custom = func(local, remote conflict.Value) (conflict.Value, error) {
			r, err := s.call(s.opt.customResolver, jv(local), jv(remote))
			return r, err
		}
	}
	cfg.Election, s.electionWarning = election(s.opt)
	if s.e, err = tsync.New(cfg); err != nil {
		s.problems = append(s.problems, err.Error())
	} else {
		syncs = append(syncs, s) // its values are live (sweepSlots)
	}
	return s, nil
}

// now is the wall clock in milliseconds, Date.now(): one call that returns
// a number. time.Now would link the time package into the module, 55 KB
// gzipped.
func now() int64 { return int64(jsDateNow.Invoke().Float()) }

// Start begins syncing. Problems with the config, or a browser without
// BroadcastChannel, make it a no-op that reports "disconnected".
func (s *Sync) Start() { s.start(js.Undefined()) }

// start is Start with what the wrapper recorded when start() was called
// before the module loaded (see takeEarly), or undefined.
func (s *Sync) start(early js.Value) {
	defer s.recover("start")
	if s.destroyed || s.Active() {
		return
	}
	if len(s.problems) > 0 {
		s.report("start", "not syncing: "+join(s.problems, "; "), nil)
		s.stateChange("disconnected")
		return
	}
	bc := js.Global().Get("BroadcastChannel")
	if bc.Type() != js.TypeFunction {
		s.log("BroadcastChannel is not available: not syncing")
		s.stateChange("disconnected")
		return
	}
	ch, err := catch(func() js.Value { return bc.New(s.opt.channelName) })
	if err != nil {
		s.report("start", "cannot open BroadcastChannel "+s.opt.channelName+": "+err.Error(), err)
		s.stateChange("disconnected")
		return
	}
	if s.onTimer.IsUndefined() {
		s.onTimer = js.FuncOf(func(js.Value, []js.Value) any {
			defer s.recover("send")
			s.timerAt = 0
			s.handle(s.e.Tick(now()))
			return nil
		})
	}
	s.last = s.getState()
	if !s.subscribe() {
		ch.Call("close")
		s.stateChange("disconnected")
		return
	}
	s.channel = ch
	s.receiver = s.watcher.Call("connect", s.channel)
	s.watchLifecycle()
	if typeOf(early) == js.TypeObject {
		s.takeEarly(early)
	}
	s.log("Started")
	if s.electionWarning != "" {
		s.report("leader", s.electionWarning, nil)
	}
	if !s.startPersist() {
		s.handle(s.e.Start(now(), s.last))
	}
	s.stateChange("connected")
	if _, on := s.e.Election(); on && !s.e.IsLeader(now()) {
		s.stateChange("follower") // until elected
	}
}

// takeEarly hands the engine, before it starts, the changes the store made
// after start() was called and before the module had loaded, which the
// wrapper recorded (npm/src/instance.js, recordEarly): { state, keys, at },
// the state at start() and the keys changed since, each with the time of
// its last change, in time order. They are the user's writes, made at
// those times: recorded while the engine is stopped, they go out when it
// starts, and they win or lose against the open tabs' values as any write
// does. The keys left unchanged stay the tab's initial state, which yields
// to the open tabs.
func (s *Sync) takeEarly(early js.Value) {
	before, keys, at := early.Get("state"), early.Get("keys"), early.Get("at")
	if typeOf(keys) != js.TypeObject || typeOf(at) != js.TypeObject {
		return
	}
	n := min(keys.Length(), at.Length())
	for i := 0; i < n; {
		t := int64(at.Index(i).Float())
		var group []string
		for ; i < n && int64(at.Index(i).Float()) == t; i++ {
			if k := keys.Index(i); typeOf(k) == js.TypeString {
				group = append(group, k.String())
			}
		}
		if len(group) > 0 {
			s.handle(s.e.LocalChange(min(t, now()), before, s.last, group))
		}
	}
}

// Stop ends syncing at once: pending changes and a goodbye go out, the
// channel closes and no timer stays behind.
func (s *Sync) Stop() {
	defer s.recover("stop")
	if !s.Active() {
		return
	}
	s.flushLocal()
	s.handle(s.e.Stop(now()))
	drainOut() // the goodbye, queued when stopped inside an export
	s.watcher.Call("disconnect")
	s.channel.Call("close")
	s.channel = js.Undefined()
	s.clearTimer()
	s.log("Stopped")
	s.stateChange("disconnected")
}

// Destroy stops and releases everything the instance holds.
func (s *Sync) Destroy() {
	s.Stop()
	if s.destroyed {
		return
	}
	s.destroyed = true
	if !s.watcher.IsUndefined() {
		s.call(s.watcher.Get("unsubscribe"))
	}
	for i, x := range syncs {
		// Not slices.DeleteFunc: its dictionary puts *Sync in an
		// interface, which links time.Duration's String (4 KB).
		if x == s {
			last := len(syncs) - 1
			syncs[i], syncs[last] = syncs[last], nil // nil: the array would keep it
			syncs = syncs[:last]
			break
		}
	}
	for _, undo := range s.lifecycle {
		undo()
	}
	s.closePersist()
	s.releaseElection()
	s.lifecycle = nil
	if !s.kick.IsUndefined() {
		s.kick.Release()
	}
	if !s.onTimer.IsUndefined() {
		s.onTimer.Release()
	}
	// The handle's methods go too: while they are registered they keep
	// the instance, its engine and every JavaScript value it holds (the
	// store, its state, the callbacks) alive, and a React app creates and
	// destroys an instance on every mount. The wrapper drops the handle
	// once destroy() returns; a call after that does nothing (the Go
	// runtime logs "call to released function").
	if !s.handleFunc.IsUndefined() {
		s.handleFunc.Release()
	}
}

// Active reports whether the instance is syncing.
//
//go:noinline
func (s *Sync) Active() bool {
	return !s.channel.IsUndefined() && s.e != nil && (s.e.Active() || s.ps.restoring)
}

// subscribe creates the instance's JavaScript side once for its life
// (helpers.js watch), which listens to the store, so that changes made
// while stopped are sent by the next start(): Go hears of the changes of a
// task once, at its end, or of each change at once when the config has
// shouldSync, which judges changes one by one. It reports false when the
// watcher could not be made (the module cannot sync then).
func (s *Sync) subscribe() bool {
	if !s.watcher.IsUndefined() {
		return true
	}
	lastExportID++
	s.exportID = lastExportID
	s.kick = js.FuncOf(func(js.Value, []js.Value) any { return nil })
	// Every 32nd call: in back-to-back runs of figures 1, 7 and 9 (load 3
	// to 7) the collector's mark phase p99 went from 44-45 ms to 26-27 ms
	// and the longest callback from 32-38 ms to 18-27 ms against no kick,
	// while a kick costs about 40 µs, which every call would add to the
	// path of a message.
	kickEvery := 32
	if s.opt.persist && persistBuilt {
		kickEvery = 1
	}
	rc := s.e.Receiver()
	lim := rc.Limits.WithDefaults()
	w, err := s.call(s.m.watch, s.store, !s.opt.shouldSync.IsUndefined(), s.last, lim.MaxBytes, lim.MaxDepth, s.tab, rc.AppVersion, s.exportID, s.kick.Value, kickEvery)
	if err != nil {
		s.report("start", "internal error (please report it): "+err.Error(), err)
		return false
	}
	s.watcher = w
	s.applyFn, s.applyRecordFn = w.Get("apply"), w.Get("applyRecord")
	if failed := w.Get("failed"); !failed.IsUndefined() {
		s.report("start", "store.subscribe failed: "+thrownValue{failed}.Error(), js.Error{Value: failed})
	}
	return true
}

// local hands the engine a task's local changes as the watcher read them
// (helpers.js watch): obj and prev are the states with shouldSync,
// undefined otherwise.
//
// The changes are read into s.changes, kept between calls, unless this
// call is nested in another export call (the outer one may still be
// reading them: shouldSync calls the app). prev is nil without
// shouldSync, the engine's one reader of it, which keeps js.Undefined from
// being boxed.
func (s *Sync) local(in inbound, obj, prev js.Value) {
	next := &s.changes
	if exporting > 1 {
		next = new(localState)
	}
	unpackLocal(in.record, obj, next)
	var before conflict.Value
	if !s.opt.shouldSync.IsUndefined() {
		before = prev
	}
	if len(next.keys) > 0 {
		s.handle(s.e.LocalChange(in.now, before, next, next.keys))
	}
	sweepSlots()
}

// flushLocal hands the engine the local changes the watcher holds for the
// end of the task, before a step that must see them (stop, a flush).
func (s *Sync) flushLocal() {
	if !s.watcher.IsUndefined() {
		s.watcher.Call("flush")
	}
}

// receive takes a message as the watcher read it (see unpack).
func (s *Sync) receive(in inbound) {
	if in.check == checkThrew {
		r := lines{in.record}
		for range 6 {
			r.next()
		}
		s.report("receive", "internal error (please report it): JavaScript error: "+r.next(), nil)
		return
	}
	msg, derr := unpack(in, s.e.Receiver())
	if !s.held(msg, derr) {
		s.reading = true
		defer func() { s.reading = false }()
		s.deliver(in.now, msg, derr)
	}
	sweepSlots()
}

// deliver hands the engine a received message, or its drop.
func (s *Sync) deliver(now int64, msg protocol.Message, derr *protocol.Error) {
	if derr != nil {
		s.handle(s.e.Drop(now, derr))
		return
	}
	s.handle(s.e.Deliver(now, msg))
}

func (s *Sync) getState() js.Value {
	v, err := s.call(s.store.Get("getState"))
	if err != nil {
		s.report("apply", "store.getState failed: "+err.Error(), err)
		return js.Undefined()
	}
	return v
}

// handle carries out one engine step: post, apply, report, re-arm the timer.
func (s *Sync) handle(rd tsync.Ready) {
	if rd.Received != nil && s.opt.debug {
		s.log("Received: " + rd.Received.Type.String() + " from " + short(rd.Received.Tab))
	}
	for _, msg := range rd.Messages {
		s.post(msg)
	}
	for _, op := range rd.Locks {
		s.lockOp(op)
	}
	// Inside the export's receive the watcher applies the patch after Go
	// returns, when nothing after it here calls JavaScript.
	s.mayDefer = s.receiving && len(rd.Persist) == 0 && len(rd.Unpersist) == 0 && len(rd.Errors) == 0 && rd.Role == ""
	if rd.Patch != nil {
		s.apply(rd.Patch, rd.Received)
	}
	if len(rd.Persist) > 0 || len(rd.Unpersist) > 0 {
		s.persistEntries(rd.Persist, rd.Unpersist)
	}
	for _, err := range rd.Errors {
		var cause any
		if err.Cause != nil {
			cause = err.Cause
		}
		s.report(err.Phase, err.Message, cause)
	}
	if rd.Role != "" {
		s.stateChange(rd.Role)
	}
	s.arm()
}

// post sends one message, through the outbox (outbox_js.go): inside an
// export the watcher posts it after the export returned, otherwise at once.
// A value the browser cannot clone fails the whole postMessage: see
// postFailed.
func (s *Sync) post(msg protocol.Message) {
	if s.channel.IsUndefined() {
		return
	}
	s.queue(msg)
	if exporting == 0 {
		drainOut()
	}
	if s.opt.debug {
		s.log("Sent: " + msg.Type.String())
	}
}

// apply hands remote values to the store in one setState, which zustand
// shallow-merges, so the store's subscribers are notified once. The
// watcher applies them, so that the patch's keys are not taken for local
// changes: by a number naming the entries of the message from which they
// came, the usual case, or by a record of the patch.
func (s *Sync) apply(p *tsync.Patch, from *protocol.Message) {
	var r js.Value
	// The mask names entries of the message the watcher read last: only
	// the message being read now is that one (one held while restoring is
	// delivered after others were read).
	if !s.reading {
		from = nil
	}
	mask, ok := patchMask(from, p.Keys, p.Values)
	if ok && s.mayDefer && s.deferred < 0 && p.Source != "" && !s.opt.debug && s.opt.onRemoteUpdate.IsUndefined() {
		s.deferred, s.deferredPatch = mask, p
		return
	}
	if ok {
		// An int: up to 255 it is handed over without an allocation.
		r = s.applyFn.Invoke(int(mask))
	} else {
		r = s.applyRecordFn.Invoke(patchRecord(p.Keys, p.Values)...)
	}
	if typeOf(r) != js.TypeNumber {
		s.applyFailed(p, r)
		return
	}
	if p.Source == "" {
		s.log("Restored [" + join(p.Keys, ", ") + "]")
		return // restored from IndexedDB: not a remote update
	}
	if s.opt.debug {
		s.log("Applied remote state from " + short(p.Source) + " [" + join(p.Keys, ", ") + "]")
	}
	if !s.opt.onRemoteUpdate.IsUndefined() {
		keys := make([]any, len(p.Keys))
		for i, k := range p.Keys {
			keys[i] = k
		}
		if _, err := s.call(s.opt.onRemoteUpdate, js.ValueOf(keys), p.Source); err != nil {
			s.report("apply", "onRemoteUpdate threw: "+err.Error(), err)
		}
	}
}

// applyFailed reports what the store's setState threw while applying p.
func (s *Sync) applyFailed(p *tsync.Patch, thrown js.Value) {
	s.reportThrown("apply", "store.setState threw while applying "+join(p.Keys, ", ")+" from "+short(p.Source), thrown)
}

// reportThrown reports what the application's code threw, as message and
// what it threw.
func (s *Sync) reportThrown(phase, message string, thrown js.Value) {
	err := thrownValue{thrown}
	s.report(phase, message+": "+err.Error(), err)
}

// arm keeps one JavaScript timer at the engine's next deadline.
func (s *Sync) arm() {
	if s.e == nil || !s.Active() {
		s.clearTimer()
		return
	}
	d := s.e.NextDeadline()
	if d == s.timerAt {
		return
	}
	s.clearTimer()
	if d == 0 {
		return
	}
	s.timerAt = d
	s.timer = jsSetTimeout.Invoke(s.onTimer, max(0, d-now()))
}

func (s *Sync) clearTimer() {
	if !s.timer.IsUndefined() {
		jsClearTimeout.Invoke(s.timer)
		s.timer = js.Undefined()
	}
	s.timerAt = 0
}

// watchLifecycle sends pending changes when the page is hidden (it may be
// frozen or discarded next), says goodbye when it is unloaded or put in the
// back-forward cache, and comes back when it is shown again from there.
func (s *Sync) watchLifecycle() {
	if len(s.lifecycle) > 0 {
		return
	}
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer s.recover("lifecycle")
		s.lifecycleEvent(args[0].String(), args[1].Bool())
		return nil
	})
	undo := s.m.lifecycle.Invoke(fn)
	if undo.Type() != js.TypeFunction { // no window or document: a worker
		fn.Release()
		return
	}
	s.lifecycle = append(s.lifecycle, func() { undo.Invoke(); fn.Release() })
}

// lifecycleEvent acts on a page lifecycle event (helpers.js lifecycle):
// flag is whether the page is hidden for visibilitychange, and persisted
// for pageshow.
func (s *Sync) lifecycleEvent(event string, flag bool) {
	switch event {
	case "visibilitychange":
		if s.Active() && flag {
			s.flushLocal()
			s.handle(s.e.Flush(now()))
		}
	case "pagehide":
		if s.Active() {
			s.resumeOnShow = true
			s.stopUnloading()
		}
	case "freeze":
		// A frozen tab runs nothing: a leader would keep its Web Lock
		// until the others take it. The browser says when it freezes a
		// tab (and it may discard it next), so stop, which gives
		// leadership up at once, and start again when it resumes.
		if s.Active() {
			s.resumeOnResume = true
			s.Stop()
		}
	case "resume":
		if s.resumeOnResume {
			s.resumeOnResume = false
			s.Start()
		}
	case "pageshow":
		if flag && s.resumeOnShow {
			s.resumeOnShow = false
			s.Start()
		}
	}
}

// call invokes a user function, turning a throw into an error.
func (s *Sync) call(f js.Value, args ...any) (js.Value, error) {
	return catch(func() js.Value { return f.Invoke(args...) })
}

// catch runs f and returns what JavaScript threw in it, or the panic of a
// syscall/js call on a value of the wrong type, as an error: a
// thrownValue or a *js.ValueError. It does what hack-pad/safejs does,
// which links fmt into the module (about 60 KB gzipped).
func catch(f func() js.Value) (v js.Value, err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case js.Error:
			v, err = js.Undefined(), thrownValue{r.Value}
		case *js.ValueError:
			v, err = js.Undefined(), r
		default:
			panic(r)
		}
	}()
	return f(), nil
}

// thrownValue is what the application's code threw, which need not be an
// Error: js.Error's own Error() panics on a thrown string, number, null or
// undefined (it reads their message property).
type thrownValue struct{ v js.Value }

func (t thrownValue) Error() string {
	if typ := typeOf(t.v); typ == js.TypeObject || typ == js.TypeFunction {
		if m, err := catch(func() js.Value { return t.v.Get("message") }); err == nil && typeOf(m) == js.TypeString {
			return "JavaScript error: " + m.String()
		}
	}
	if s, err := catch(func() js.Value { return jsString.Invoke(t.v) }); err == nil && typeOf(s) == js.TypeString {
		return "JavaScript error: " + s.String()
	}
	return "JavaScript error: a value that cannot be shown"
}

// report hands an error to onError; without one, or when onError itself
// throws, it goes to the console. Nothing is thrown into the application.
func (s *Sync) report(phase, message string, cause any) {
	e := jsObject.New()
	e.Set("phase", phase)
	e.Set("message", message)
	if err, ok := cause.(error); ok {
		// What the application's code threw, so that onError gets its
		// own Error with its stack; otherwise the message (js.ValueOf
		// panics on a Go error).
		if thrown, ok := thrownBy(err); ok {
			cause = thrown.Value
		} else {
			cause = err.Error()
		}
	}
	if cause != nil {
		e.Set("cause", cause)
	}
	e.Set("tabId", s.tab)
	if s.opt.onError.Type() == js.TypeFunction {
		if _, err := s.call(s.opt.onError, e); err == nil {
			return
		} else {
			jsConsole.Call("error", s.prefix+" onError threw: "+err.Error()+"; the error it was given:", e)
			return
		}
	}
	jsConsole.Call("error", s.prefix+" "+phase+": "+message)
}

// stateChange tells onSyncStateChange, reporting a throw.
func (s *Sync) stateChange(state string) {
	if s.opt.debug {
		s.log("State: " + state)
	}
	if s.opt.onSyncStateChange.Type() == js.TypeFunction {
		if _, err := s.call(s.opt.onSyncStateChange, state); err != nil {
			s.report("start", "onSyncStateChange threw: "+err.Error(), err)
		}
	}
}

// log writes a debug line; with debug off it writes nothing. Not inlined:
// each inlined copy costs the wasm module.
//
//go:noinline
func (s *Sync) log(line string) {
	if s.opt.debug {
		jsConsole.Call("log", s.prefix+" "+line)
	}
}

// recover keeps a Go panic from ending the wasm program, which would stop
// every instance on the page: it is reported like any other failure.
func (s *Sync) recover(phase string) {
	s.receiving = false // the export's (export_js.go)
	if r := recover(); r != nil {
		s.report(phase, "internal error (please report it): "+panicText(r), nil)
	}
}

// panicText describes a recovered panic.
func panicText(r any) string {
	switch x := r.(type) {
	case js.Error: // its Error() panics on a thrown non-object
		return thrownValue{x.Value}.Error()
	case error:
		return x.Error()
	case string:
		return x
	}
	return "a panic"
}

// thrownBy finds the JavaScript exception in err's chain (safejs wraps
// it). Not errors.As: that alone links internal/reflectlite into the
// module, about 7 KB gzipped.
func thrownBy(err error) (js.Error, bool) {
	for ; err != nil; err = errors.Unwrap(err) {
		switch e := err.(type) {
		case js.Error:
			return e, true
		case thrownValue:
			return js.Error{Value: e.v}, true
		}
	}
	return js.Error{}, false
}

func short(tab string) string { return tab[max(0, len(tab)-6):] }

// join is strings.Join, which would cost the wasm module 1 KB gzipped.
//
//go:noinline
func join(list []string, sep string) string {
	var b []byte
	for i, s := range list {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, s...)
	}
	return string(b)
}

// quote is gostring.Quote (strconv.Quote without its tables), not
// inlined: inlined at each of its uses it costs the wasm module more than
// the call saves.
//
//go:noinline
func quote(s string) string { return gostring.Quote(s) }

// itoa is strconv.Itoa, not inlined, for the same reason as quote.
//
//go:noinline
func itoa(n int) string { return strconv.Itoa(n) }
