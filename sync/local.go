package sync

import (
	"strconv"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/protocol"
)

// Start begins syncing: it announces the tab, asks the others for their
// state, and sends the local changes made while the engine was stopped.
// state is the store's current state; its synced keys become the engine's
// starting values, with no version, so that any write another tab has made
// wins over them (a new tab never pushes its defaults onto others).
func (e *Engine) Start(now int64, state conflict.Value) Ready {
	var rd Ready
	if e.active {
		return rd
	}
	e.active = true
	if e.started == 0 {
		e.started = now
	}
	if e.m.Kind(state) == conflict.Object {
		for _, k := range e.m.Keys(state) {
			if !e.Synced(k) || e.entries[k] != nil {
				continue
			}
			v := e.m.Get(state, k)
			if e.m.Kind(v) == conflict.Function {
				continue
			}
			e.entries[k] = &entry{value: v}
		}
	}
	e.ping(now, false, &rd)
	if e.el != nil {
		e.lead(e.el.Start(now, e.started), &rd)
	}
	e.request(now, &rd)
	if len(e.pendingKeys) > 0 {
		e.flush(now, &rd)
	}
	return rd
}

// Stop ends syncing at once: pending changes go out, the tab says goodbye,
// and nothing more is sent or received until Start.
func (e *Engine) Stop(now int64) Ready {
	var rd Ready
	if !e.active {
		return rd
	}
	if len(e.pendingKeys) > 0 {
		e.flush(now, &rd)
	}
	if e.el != nil {
		e.lead(e.el.Stop(now), &rd)
	}
	e.ping(now, true, &rd)
	e.active = false
	e.peers = map[string]*peer{}
	e.answers = map[string]answer{}
	e.req, e.reqRetry, e.reqAttempts = "", 0, 0
	e.flushAt = 0
	return rd
}

// LocalChange takes a change of the store from prev to next in which the
// listed top-level keys changed. Synced keys get a new version and are sent
// according to the throttle or debounce. While the engine is stopped the
// change is recorded and sent by the next Start.
func (e *Engine) LocalChange(now int64, prev, next conflict.Value, changed []string) Ready {
	var rd Ready
	var keys []string
	for _, k := range changed {
		if e.Synced(k) && e.m.Kind(e.m.Get(next, k)) != conflict.Function {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return rd
	}
	if e.cfg.ShouldSync != nil {
		ok, err := e.cfg.ShouldSync(prev, next)
		if err != nil {
			rd.Errors = append(rd.Errors, Error{Phase: PhaseSend, Message: "shouldSync failed; the change stays in this tab: " + err.Error(), Cause: err})
			return rd
		}
		if !ok {
			return rd
		}
	}
	for _, k := range keys {
		v := e.m.Get(next, k)
		if n, _ := e.m.Size(v, e.cfg.Limits.MaxBytes, e.cfg.Limits.MaxDepth); n > e.cfg.Limits.MaxBytes {
			rd.Errors = append(rd.Errors, Error{Phase: PhaseSend, Message: "the value of " + gostring.Quote(k) + " is larger than maxMessageBytes (" + strconv.Itoa(e.cfg.Limits.MaxBytes) + "); it stays in this tab"})
			continue
		}
		if w := e.write(now, k, v); w != nil {
			if rd.Patch == nil {
				rd.Patch = &Patch{Source: e.cfg.Tab}
			}
			rd.Patch.Keys = append(rd.Patch.Keys, k)
			rd.Patch.Values = append(rd.Patch.Values, w)
		}
	}
	if !e.active || len(e.pendingKeys) == 0 {
		return rd
	}
	e.schedule(now, &rd)
	return rd
}

// write records a new local version of key and queues it for sending.
// also lists, for a combined write, the remote version it combines.
//
// Under merge and custom, a version's lineage claims every earlier write of
// its own tab (see conflict.Version.Covers). When this tab took a later
// concurrent write over one of its own before anyone combined them
// (entry.unmerged), the new value is combined with that write first, so that
// the claim holds; write then returns the value it recorded, for the caller
// to hand to the store, and nil otherwise.
func (e *Engine) write(now int64, key string, v conflict.Value, also ...conflict.Version) conflict.Value {
	en := e.entries[key]
	if en == nil {
		en = &entry{}
		e.entries[key] = en
	}
	merge := e.cfg.Strategy == conflict.Merge
	clock := e.hlc.Now(now)
	var gone []conflict.Removed // merge: the fields this write removes
	if merge {
		gone = conflict.Removals(e.m, en.value, v, clock)
	}
	var changed conflict.Value
	var unmergedGone []conflict.Removed
	if u := en.unmerged; u != nil {
		en.unmerged = nil
		covered := en.version.Covers(u.version.Clock)
		for _, a := range also {
			covered = covered || a.Covers(u.version.Clock)
		}
		if !covered && merge {
			// (Under custom the tab holding the later write combines the
			// two when this tab's reaches it.) What the new value
			// removed, or the write it is built on, stays removed.
			later := conflict.Entry{Value: v, Version: en.version}
			later.Version.Gone = append(append(gone, en.version.Gone...), goneOf(also)...)
			if w, ok, _ := e.res.CombineEntries(later, conflict.Entry{Value: u.value, Version: u.version}); ok {
				v, changed = w, w
			}
			unmergedGone = u.version.Gone
		}
	}
	base, depth := en.version.Clock, en.version.Depth+1
	if e.pending[key] {
		// Others never saw the unsent versions of this burst: the update
		// that goes out names the version they did see as its base, and
		// is one deeper than that base, however many writes the burst had.
		base, depth = en.version.Base, en.version.Depth
	} else {
		e.pending[key] = true
		e.pendingKeys = append(e.pendingKeys, key)
	}
	held := en.version
	en.value = v
	en.version = conflict.Version{Clock: clock, Base: base, Depth: depth}
	if e.lineage {
		en.version.Lineage = conflict.Descend(e.cfg.Tab, append(also, held)...)
	}
	if merge {
		en.version.Gone = conflict.Gone(e.m, v, now, e.cfg.TombstoneMs, held.Gone, goneOf(also), unmergedGone, gone)
	}
	return changed
}

// goneOf lists the removed fields the versions remember.
func goneOf(vs []conflict.Version) []conflict.Removed {
	var out []conflict.Removed
	for _, v := range vs {
		out = append(out, v.Gone...)
	}
	return out
}

// schedule decides when the pending keys go out.
func (e *Engine) schedule(now int64, rd *Ready) {
	switch {
	case e.cfg.DebounceMs > 0:
		e.flushAt = now + e.cfg.DebounceMs
	case e.cfg.ThrottleMs > 0:
		if now >= e.windowEnd {
			// Leading edge: send now and open a window.
			e.flush(now, rd)
		} else if e.flushAt == 0 {
			// Trailing edge: whatever changed in the window goes at its end.
			e.flushAt = e.windowEnd
		}
	default:
		e.flush(now, rd)
	}
}

// flush sends every pending key: in one STATE_UPDATE, or in several when
// together they would be over the receivers' size limit (a burst of
// changes batched by the throttle or by jsbridge, which hands the engine
// a task's changes at once).
func (e *Engine) flush(now int64, rd *Ready) {
	e.flushAt = 0
	if len(e.pendingKeys) == 0 {
		return
	}
	if e.cfg.ThrottleMs > 0 && e.cfg.DebounceMs <= 0 {
		e.windowEnd = now + e.cfg.ThrottleMs
	}
	entries := make([]protocol.Entry, 0, len(e.pendingKeys))
	for _, k := range e.pendingKeys {
		if en := e.entries[k]; en != nil && e.pending[k] {
			entries = append(entries, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
		}
	}
	e.pending = map[string]bool{}
	e.pendingKeys = e.pendingKeys[:0]
	if len(entries) > 0 {
		for _, c := range e.split(entries) {
			e.send(rd, protocol.Message{Type: protocol.StateUpdate, Entries: c})
		}
		if e.cfg.Persist {
			rd.Persist = append(rd.Persist, entries...)
		}
	}
}

// Flush sends pending changes now, ignoring the throttle or debounce (used
// when the page is being hidden or closed).
func (e *Engine) Flush(now int64) Ready {
	var rd Ready
	if e.active {
		e.flush(now, &rd)
	}
	return rd
}

// BroadcastState sends the current versions of keys (all synced keys when
// keys is empty) to every tab. Values another tab already has change nothing
// there; this is for applications that want to push explicitly.
func (e *Engine) BroadcastState(now int64, keys []string) Ready {
	var rd Ready
	if !e.active {
		return rd
	}
	// Like a response (see respond), a broadcast must not publish a
	// version the burst's next write would replace as if unseen.
	e.flush(now, &rd)
	if len(keys) == 0 {
		keys = e.Keys()
	}
	var entries []protocol.Entry
	for _, k := range keys {
		if en := e.entries[k]; en != nil && e.Synced(k) && !en.version.IsZero() && en.sendable() {
			entries = append(entries, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
		}
	}
	if len(entries) > 0 {
		e.send(&rd, protocol.Message{Type: protocol.StateUpdate, Entries: entries})
	}
	return rd
}

// RequestState asks the other tabs for their state again.
func (e *Engine) RequestState(now int64) Ready {
	var rd Ready
	if e.active {
		e.request(now, &rd)
	}
	return rd
}

func (e *Engine) request(now int64, rd *Ready) {
	e.req = e.newID()
	e.reqAttempts = 1
	e.reqRetry = now + e.cfg.RequestRetryMs
	e.send(rd, protocol.Message{Type: protocol.StateRequest, Req: e.req})
}

// retryRequest repeats an unanswered STATE_REQUEST while peers are known;
// a tab alone on the channel stops asking.
func (e *Engine) retryRequest(now int64, rd *Ready) {
	e.reqRetry = 0
	if e.req == "" || len(e.peers) == 0 || e.reqAttempts >= 3 {
		e.req = ""
		return
	}
	e.reqAttempts++
	e.req = e.newID()
	e.reqRetry = now + e.cfg.RequestRetryMs*int64(e.reqAttempts)
	// Addressed to one known tab, the oldest first: when the first answer
	// is only slow (a busy machine), a retry draws one more answer, not
	// another round from the two first answerers.
	peers := e.Peers()
	to := peers[(e.reqAttempts-2)%len(peers)]
	e.send(rd, protocol.Message{Type: protocol.StateRequest, Req: e.req, To: to})
}
